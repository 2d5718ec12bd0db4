//! Real-card cost model (docs/benchmarks.md, "Real-card estimate"): the desk cards count every
//! operation a real card pays for (per APDU: setKey, Cipher.init, doFinal/update calls and blocks,
//! RandomData, persistent writes and commits, Util.arrayCompare, APDU bytes; docs/runtime.md);
//! this module prices those counts with the per-operation timings of real chips in
//! docs/cost-profiles.json (every figure with its source) plus a transport term per APDU.
//!
//! The estimate is a sum: the host relays one APDU at a time, so a flow's time is the sum of its
//! APDUs' times over all cards.
use std::collections::BTreeMap;

use serde::Serialize;

use purse_card::error::{Error, Result};

/// The cost table, as committed (docs/cost-profiles.json).
pub const PROFILES_JSON: &str = include_str!("../../../docs/cost-profiles.json");

/// Transport cost of one APDU exchange: fixed per exchange plus per byte (command + response).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Transport {
    pub apdu_ms: f64,
    pub byte_ms: f64,
}

/// One chip's figures (ms), by the names of docs/cost-profiles.json.
#[derive(Clone, Debug, Serialize)]
pub struct Chip {
    pub id: String,
    pub name: String,
    pub ms: BTreeMap<String, f64>,
}

impl Chip {
    fn f(&self, k: &str) -> f64 {
        self.ms.get(k).copied().unwrap_or(0.0)
    }
}

/// The parsed cost table.
#[derive(Clone, Debug, Serialize)]
pub struct Profiles {
    pub transport: Transport,
    pub fast: Transport,
    pub slow: Transport,
    pub chips: Vec<Chip>,
}

fn bad(m: &str) -> Error {
    Error::Desk(format!("cost table docs/cost-profiles.json: {m}"))
}

fn transport(v: &serde_json::Value, k: &str) -> Result<Transport> {
    let t = &v["transport"][k];
    Ok(Transport {
        apdu_ms: t["apdu_ms"]
            .as_f64()
            .ok_or_else(|| bad(&format!("transport.{k}.apdu_ms")))?,
        byte_ms: t["byte_ms"]
            .as_f64()
            .ok_or_else(|| bad(&format!("transport.{k}.byte_ms")))?,
    })
}

impl Profiles {
    /// The committed table.
    pub fn builtin() -> Result<Profiles> {
        Self::parse(PROFILES_JSON)
    }

    /// Parses a table; every chip figure must be `[ms, "source"]` with a non-empty source.
    pub fn parse(text: &str) -> Result<Profiles> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(&format!("not JSON: {e}")))?;
        let mut chips = Vec::new();
        for c in v["chips"].as_array().ok_or_else(|| bad("no chips"))? {
            let id = c["id"].as_str().ok_or_else(|| bad("chip without id"))?;
            let mut ms = BTreeMap::new();
            for (k, f) in c["ms"].as_object().ok_or_else(|| bad("chip without ms"))? {
                let x = f[0]
                    .as_f64()
                    .ok_or_else(|| bad(&format!("{id} {k}: no number")))?;
                let src = f[1].as_str().unwrap_or("");
                if src.trim().is_empty() {
                    return Err(bad(&format!("{id} {k}: no source")));
                }
                ms.insert(k.clone(), x);
            }
            chips.push(Chip {
                id: id.to_string(),
                name: c["name"].as_str().unwrap_or(id).to_string(),
                ms,
            });
        }
        Ok(Profiles {
            transport: transport(&v, "default")?,
            fast: transport(&v, "fast")?,
            slow: transport(&v, "slow")?,
            chips,
        })
    }
}

/// What one card counted for one APDU (a line of the desk's IMAGE.ops log).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ApduOps {
    pub card: String,
    pub ins: String,
    pub sw: String,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub writes: u64,
    pub bytes_written: u64,
    pub transactions: u64,
    pub ops: BTreeMap<String, u64>,
}

impl ApduOps {
    /// Parses one line of the ops log: `{"ins":"44","sw":"9000","c":{counters}}`.
    pub fn parse_line(card: &str, line: &str) -> Result<ApduOps> {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| Error::Desk(format!("ops log of {card}: bad line ({e}): {line}")))?;
        Ok(Self::from_counters(
            card,
            v["ins"].as_str().unwrap_or("??"),
            v["sw"].as_str().unwrap_or("????"),
            &v["c"],
        ))
    }

    /// From a counters object as `purse desk info` prints it (`counters` / `lastApdu`).
    pub fn from_counters(card: &str, ins: &str, sw: &str, c: &serde_json::Value) -> ApduOps {
        let n = |k: &str| c[k].as_u64().unwrap_or(0);
        let mut ops = BTreeMap::new();
        if let Some(m) = c["ops"].as_object() {
            for (k, x) in m {
                ops.insert(k.clone(), x.as_u64().unwrap_or(0));
            }
        }
        ApduOps {
            card: card.to_string(),
            ins: ins.to_string(),
            sw: sw.to_string(),
            bytes_in: n("bytesIn"),
            bytes_out: n("bytesOut"),
            writes: n("persistentWrites"),
            bytes_written: n("bytesWritten"),
            transactions: n("transactions"),
            ops,
        }
    }

    pub fn op(&self, k: &str) -> u64 {
        self.ops.get(k).copied().unwrap_or(0)
    }

    fn sum_prefix(&self, p: &str) -> u64 {
        self.ops
            .iter()
            .filter(|(k, _)| k.starts_with(p))
            .map(|(_, v)| v)
            .sum()
    }

    /// Adds another record's counts into this one (bytes, writes, every operation).
    pub fn add(&mut self, o: &ApduOps) {
        self.bytes_in += o.bytes_in;
        self.bytes_out += o.bytes_out;
        self.writes += o.writes;
        self.bytes_written += o.bytes_written;
        self.transactions += o.transactions;
        for (k, v) in &o.ops {
            *self.ops.entry(k.clone()).or_insert(0) += v;
        }
    }
}

/// Estimated milliseconds, by cost term.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Terms {
    pub transport_ms: f64,
    pub bytes_ms: f64,
    pub set_key_ms: f64,
    pub init_ms: f64,
    pub cipher_ms: f64,
    /// MessageDigest update / doFinal (SHA-256: the passbook digest).
    pub digest_ms: f64,
    pub random_ms: f64,
    pub write_ms: f64,
    pub commit_ms: f64,
    pub compare_ms: f64,
}

impl Terms {
    pub fn total(&self) -> f64 {
        self.transport_ms
            + self.bytes_ms
            + self.set_key_ms
            + self.init_ms
            + self.cipher_ms
            + self.digest_ms
            + self.random_ms
            + self.write_ms
            + self.commit_ms
            + self.compare_ms
    }

    fn add(&mut self, o: &Terms) {
        self.transport_ms += o.transport_ms;
        self.bytes_ms += o.bytes_ms;
        self.set_key_ms += o.set_key_ms;
        self.init_ms += o.init_ms;
        self.cipher_ms += o.cipher_ms;
        self.digest_ms += o.digest_ms;
        self.random_ms += o.random_ms;
        self.write_ms += o.write_ms;
        self.commit_ms += o.commit_ms;
        self.compare_ms += o.compare_ms;
    }
}

/// Block-cipher modes the runtime counts (`cipher.*.X`).
pub const MODES: [&str; 4] = ["AES_ECB", "AES_CBC", "DES_ECB", "DES_CBC"];

/// (a, b) of one mode: a call of n blocks costs a + b * (n - 1).
fn call_cost(chip: &Chip, mode: &str) -> (f64, f64) {
    let aes_b =
        |m: &str| (chip.f(&format!("doFinal512.{m}")) - chip.f(&format!("doFinal16.{m}"))) / 31.0;
    match mode {
        "AES_ECB" | "AES_CBC" => (chip.f(&format!("doFinal16.{mode}")), aes_b(mode)),
        // TDES: only the 16 B figure is published; see the table's "model" notes
        _ => (chip.f("doFinal16.DES_ECB"), aes_b("AES_ECB")),
    }
}

/// Prices one APDU's counts on one chip.
pub fn apdu_terms(chip: &Chip, t: Transport, a: &ApduOps) -> Terms {
    let mut x = Terms {
        transport_ms: t.apdu_ms,
        bytes_ms: (a.bytes_in + a.bytes_out) as f64 * t.byte_ms,
        ..Terms::default()
    };
    x.set_key_ms = a.op("setKey.AES") as f64 * chip.f("setKey.AES")
        + a.op("setKey.DES") as f64 * chip.f("setKey.DES");
    for m in MODES {
        let fam = if m.starts_with("AES") {
            "init.AES"
        } else {
            "init.DES"
        };
        x.init_ms += a.op(&format!("cipher.init.{m}")) as f64 * chip.f(fam);
        let calls = a.op(&format!("cipher.doFinal.{m}")) + a.op(&format!("cipher.update.{m}"));
        let blocks = a.op(&format!("cipher.blocks.{m}"));
        let (ca, cb) = call_cost(chip, m);
        x.cipher_ms += calls as f64 * ca + blocks.saturating_sub(calls) as f64 * cb;
    }
    // SHA-256: per call the 256-byte figure (no smaller one is published), a longer call in
    // proportion (assumed linear); update and doFinal apart
    let (uc, ub) = (
        a.op("digest.updates.SHA256"),
        a.op("digest.updateBytes.SHA256"),
    );
    let (fc, fb) = (
        a.op("digest.calls.SHA256"),
        a.op("digest.bytes.SHA256").saturating_sub(ub),
    );
    x.digest_ms = chip.f("digestUpdate256.SHA256") * (uc as f64).max(ub as f64 / 256.0)
        + chip.f("digestFinal256.SHA256") * (fc as f64).max(fb as f64 / 256.0);
    let (rc, rb) = (a.op("random.calls"), a.op("random.bytes"));
    x.random_ms = chip.f("random16") * (rc as f64).max(rb as f64 / 16.0);
    x.write_ms = chip.f("write256") * (a.writes.max(a.bytes_written.div_ceil(256))) as f64;
    x.commit_ms = chip.f("write256") * a.transactions as f64;
    x.compare_ms = chip.f("compare256") * a.op("arrayCompare.bytes") as f64 / 256.0;
    x
}

/// Counted operations the table has no figure for (Signature/MAC, MessageDigest but SHA-256).
pub fn uncosted(a: &ApduOps) -> u64 {
    a.sum_prefix("mac.final.") + a.sum_prefix("digest.calls.") - a.op("digest.calls.SHA256")
}

/// One card's share of a flow on one chip.
#[derive(Clone, Debug, Serialize)]
pub struct CardEstimate {
    pub card: String,
    pub apdus: usize,
    pub terms: Terms,
    pub total_ms: f64,
}

/// The most expensive single APDU of a flow on one chip.
#[derive(Clone, Debug, Serialize)]
pub struct Largest {
    pub card: String,
    pub ins: String,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub terms: Terms,
    pub total_ms: f64,
}

/// A flow on one chip: per card, total (default transport), and the transport range.
#[derive(Clone, Debug, Serialize)]
pub struct ChipEstimate {
    pub chip: String,
    pub cards: Vec<CardEstimate>,
    pub terms: Terms,
    pub total_ms: f64,
    /// Totals with the fastest and slowest transport of the table.
    pub range_ms: (f64, f64),
    pub largest: Option<Largest>,
    pub uncosted_ops: u64,
}

/// Prices a flow (its APDUs, in any order) on one chip.
pub fn estimate(p: &Profiles, chip: &Chip, apdus: &[ApduOps]) -> ChipEstimate {
    let mut cards: Vec<CardEstimate> = Vec::new();
    let mut all = Terms::default();
    let (mut lo, mut hi) = (0.0, 0.0);
    let mut largest: Option<Largest> = None;
    let mut unc = 0;
    for a in apdus {
        let t = apdu_terms(chip, p.transport, a);
        lo += apdu_terms(chip, p.fast, a).total();
        hi += apdu_terms(chip, p.slow, a).total();
        unc += uncosted(a);
        all.add(&t);
        match cards.iter_mut().find(|c| c.card == a.card) {
            Some(c) => {
                c.apdus += 1;
                c.terms.add(&t);
            }
            None => cards.push(CardEstimate {
                card: a.card.clone(),
                apdus: 1,
                terms: t,
                total_ms: 0.0,
            }),
        }
        if largest.as_ref().map_or(true, |l| t.total() > l.total_ms) {
            largest = Some(Largest {
                card: a.card.clone(),
                ins: a.ins.clone(),
                bytes_in: a.bytes_in,
                bytes_out: a.bytes_out,
                terms: t,
                total_ms: t.total(),
            });
        }
    }
    for c in &mut cards {
        c.total_ms = c.terms.total();
    }
    ChipEstimate {
        chip: chip.id.clone(),
        cards,
        terms: all,
        total_ms: all.total(),
        range_ms: (lo, hi),
        largest,
        uncosted_ops: unc,
    }
}

/// Operation totals of one card over a flow (what `purse bench` prints as counts).
#[derive(Clone, Debug, Serialize)]
pub struct CardCounts {
    pub card: String,
    pub apdus: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub set_key: u64,
    pub cipher_init: u64,
    pub cipher_calls: u64,
    pub cipher_blocks: u64,
    pub random_calls: u64,
    pub random_bytes: u64,
    pub writes: u64,
    pub bytes_written: u64,
    pub transactions: u64,
    pub array_compare: u64,
    pub uncosted: u64,
}

/// Sums the records of each card.
pub fn counts(apdus: &[ApduOps]) -> Vec<CardCounts> {
    let mut per: Vec<(ApduOps, usize)> = Vec::new();
    for a in apdus {
        match per.iter_mut().find(|(p, _)| p.card == a.card) {
            Some((p, n)) => {
                p.add(a);
                *n += 1;
            }
            None => per.push((a.clone(), 1)),
        }
    }
    per.into_iter()
        .map(|(a, n)| CardCounts {
            card: a.card.clone(),
            apdus: n,
            bytes_in: a.bytes_in,
            bytes_out: a.bytes_out,
            set_key: a.sum_prefix("setKey."),
            cipher_init: a.sum_prefix("cipher.init."),
            cipher_calls: a.sum_prefix("cipher.doFinal.") + a.sum_prefix("cipher.update."),
            cipher_blocks: a.sum_prefix("cipher.blocks."),
            random_calls: a.op("random.calls"),
            random_bytes: a.op("random.bytes"),
            writes: a.writes,
            bytes_written: a.bytes_written,
            transactions: a.transactions,
            array_compare: a.op("arrayCompare.calls"),
            uncosted: uncosted(&a),
        })
        .collect()
}

/// The desk's per-APDU ops logs (docs/runtime.md): an existing file `IMAGE.ops` makes the card
/// append one line per APDU. [`OpsLog::start`] creates (truncates) it for every card of the desk,
/// [`OpsLog::take`] reads and removes them.
pub struct OpsLog {
    files: Vec<(String, std::path::PathBuf)>,
}

impl OpsLog {
    pub fn start(desk: &crate::Desk) -> Result<OpsLog> {
        let mut files = Vec::new();
        for c in desk.cards()? {
            let mut p = c.image.clone().into_os_string();
            p.push(".ops");
            let p = std::path::PathBuf::from(p);
            std::fs::write(&p, b"").map_err(|e| Error::io("start ops log", &p, e))?;
            files.push((c.name, p));
        }
        Ok(OpsLog { files })
    }

    /// Every APDU counted since [`OpsLog::start`], card by card; removes the logs.
    pub fn take(mut self) -> Result<Vec<ApduOps>> {
        let files = std::mem::take(&mut self.files);
        let mut texts = Vec::new();
        for (name, p) in &files {
            let t = std::fs::read_to_string(p).map_err(|e| Error::io("read ops log", p, e));
            let _ = std::fs::remove_file(p);
            texts.push((name, t));
        }
        let mut out = Vec::new();
        for (name, t) in texts {
            for line in t?.lines().filter(|l| !l.trim().is_empty()) {
                out.push(ApduOps::parse_line(name, line)?);
            }
        }
        Ok(out)
    }
}

impl Drop for OpsLog {
    fn drop(&mut self) {
        for (_, p) in &self.files {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chip() -> Chip {
        let mut ms = BTreeMap::new();
        for (k, v) in [
            ("setKey.AES", 3.0),
            ("setKey.DES", 5.0),
            ("init.AES", 7.0),
            ("init.DES", 11.0),
            ("doFinal16.AES_ECB", 2.0),
            ("doFinal512.AES_ECB", 2.0 + 31.0 * 0.5),
            ("doFinal16.AES_CBC", 4.0),
            ("doFinal512.AES_CBC", 4.0 + 31.0 * 0.25),
            ("doFinal16.DES_ECB", 6.0),
            ("random16", 1.0),
            ("write256", 10.0),
            ("compare256", 2.56),
            ("digestUpdate256.SHA256", 6.0),
            ("digestFinal256.SHA256", 8.0),
        ] {
            ms.insert(k.to_string(), v);
        }
        Chip {
            id: "T".into(),
            name: "test".into(),
            ms,
        }
    }

    fn apdu(card: &str, ops: &[(&str, u64)]) -> ApduOps {
        ApduOps {
            card: card.into(),
            ins: "44".into(),
            bytes_in: 60,
            bytes_out: 40,
            writes: 3,
            bytes_written: 600,
            transactions: 2,
            ops: ops.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            ..ApduOps::default()
        }
    }

    #[test]
    fn estimator_adds_up_the_counted_operations() {
        let t = Transport {
            apdu_ms: 20.0,
            byte_ms: 0.1,
        };
        let a = apdu(
            "alice",
            &[
                ("setKey.AES", 2),
                ("setKey.DES", 1),
                ("cipher.init.AES_ECB", 3),
                ("cipher.init.AES_CBC", 1),
                ("cipher.init.DES_CBC", 1),
                ("cipher.doFinal.AES_ECB", 4),
                ("cipher.blocks.AES_ECB", 10),
                ("cipher.doFinal.AES_CBC", 1),
                ("cipher.update.AES_CBC", 1),
                ("cipher.blocks.AES_CBC", 6),
                ("cipher.doFinal.DES_ECB", 2),
                ("cipher.blocks.DES_ECB", 2),
                ("random.calls", 2),
                ("random.bytes", 64),
                ("arrayCompare.calls", 1),
                ("arrayCompare.bytes", 100),
                ("mac.final.AES_MAC", 1),
                ("digest.updates.SHA256", 2),
                ("digest.updateBytes.SHA256", 1024),
                ("digest.calls.SHA256", 1),
                ("digest.bytes.SHA256", 1024 + 100),
            ],
        );
        let x = apdu_terms(&chip(), t, &a);
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} != {b}");
        close(x.transport_ms, 20.0);
        close(x.bytes_ms, 100.0 * 0.1);
        close(x.set_key_ms, 2.0 * 3.0 + 5.0);
        close(x.init_ms, 4.0 * 7.0 + 11.0);
        // ECB: 4 calls * 2 + 6 extra blocks * 0.5; CBC: 2 calls * 4 + 4 extra * 0.25; DES: 2 * 6
        close(x.cipher_ms, 8.0 + 3.0 + 8.0 + 1.0 + 12.0);
        close(x.random_ms, 64.0 / 16.0); // 64 bytes = 4 * 16 B > 2 calls
        close(x.write_ms, 10.0 * 3.0); // 3 writes > ceil(600 / 256)
        close(x.commit_ms, 20.0);
        close(x.compare_ms, 1.0);
        // 2 updates of 1024 B: 4 x 256 B > 2 calls; one doFinal of 100 B: one call
        close(x.digest_ms, 4.0 * 6.0 + 8.0);
        close(
            x.total(),
            20.0 + 10.0 + 11.0 + 39.0 + 32.0 + 32.0 + 4.0 + 30.0 + 20.0 + 1.0,
        );
        assert_eq!(uncosted(&a), 1, "the MAC; SHA-256 has figures");

        let p = Profiles {
            transport: t,
            fast: t,
            slow: Transport {
                apdu_ms: 40.0,
                byte_ms: 1.0,
            },
            chips: vec![chip()],
        };
        let b = apdu("bob", &[("setKey.AES", 1)]);
        let e = estimate(&p, &p.chips[0], &[a.clone(), b.clone(), b.clone()]);
        assert_eq!(e.cards.len(), 2);
        assert_eq!(e.cards[1].apdus, 2);
        let xb = apdu_terms(&chip(), t, &b).total();
        close(e.total_ms, x.total() + 2.0 * xb);
        close(e.cards.iter().map(|c| c.total_ms).sum::<f64>(), e.total_ms);
        close(e.range_ms.1 - e.range_ms.0, 3.0 * 20.0 + 3.0 * 100.0 * 0.9);
        let l = e.largest.unwrap();
        assert_eq!(l.card, "alice");
        close(l.total_ms, x.total());
        assert_eq!(e.uncosted_ops, 1);
        let c = counts(&[a, b.clone(), b]);
        assert_eq!(c[1].set_key, 2);
        assert_eq!(c[0].cipher_calls, 8);
        assert_eq!(c[0].cipher_blocks, 18);
    }

    #[test]
    fn builtin_table_has_both_chips_with_sources() {
        let p = Profiles::builtin().unwrap();
        assert_eq!(
            p.transport,
            Transport {
                apdu_ms: 20.0,
                byte_ms: 0.088
            }
        );
        for id in ["J3R180", "J3H145"] {
            let c = p.chips.iter().find(|c| c.id == id).unwrap();
            for k in [
                "setKey.AES",
                "init.AES",
                "doFinal16.AES_ECB",
                "doFinal512.AES_CBC",
                "write256",
            ] {
                assert!(c.f(k) > 0.0, "{id} {k}");
            }
        }
        assert!(Profiles::parse(r#"{"transport":{"default":{"apdu_ms":1,"byte_ms":1},"fast":{"apdu_ms":1,"byte_ms":1},"slow":{"apdu_ms":1,"byte_ms":1}},"chips":[{"id":"X","ms":{"init.AES":[1.0,""]}}]}"#).is_err());
    }
}
