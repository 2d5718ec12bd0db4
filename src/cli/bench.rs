//! `purse bench transfer -n N --from R --to R [--amount A]`: N transfers on the virtual desk with
//! APDU traffic, card counters (desk `info`), median / p95 times, and the raw PC/SC baselines
//! (see `purse::flows::bench`). Figures go to docs/benchmarks.md.
use clap::{Args, Subcommand};

use purse::card::PurseCard;
use purse::desk::Desk;
use purse::flows::bench::{self, Baselines, Recorder};
use purse::flows::transfer::Secrets;
use purse::proto::types::{format_amount, parse_amount, today};
use purse::transport::Pcsc;

use super::transfer::{read_secret, ENV_APPROVAL, ENV_PIN, ENV_TXKEY};
use super::Cli;

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// N card-to-card transfers, timed, with the raw PC/SC baseline
    Transfer(BenchTransferArgs),
}

#[derive(Args, Debug)]
pub struct BenchTransferArgs {
    /// Number of transfers (each takes one passbook entry on both cards, twice with the raw
    /// relay baseline)
    #[arg(short = 'n', long, default_value_t = 20)]
    pub n: usize,
    /// Reader of the paying card
    #[arg(long, value_name = "R")]
    pub from: String,
    /// Reader of the receiving card
    #[arg(long, value_name = "R")]
    pub to: String,
    /// Amount per transfer (default: the smallest unit)
    #[arg(long)]
    pub amount: Option<String>,
    /// Skip the raw relay baseline (it makes N more real transfers)
    #[arg(long)]
    pub no_relay: bool,
    /// Skip the byte-for-byte replay baseline
    #[arg(long)]
    pub no_replay: bool,
}

const COUNTERS: [&str; 5] = ["apdus", "persistentWrites", "bytesWritten", "transactions", "cryptoOps"];

fn counters(desk: &Option<Desk>, card: &Option<String>) -> Option<serde_json::Value> {
    let (d, c) = (desk.as_ref()?, card.as_ref()?);
    d.info(c).ok().map(|v| v["counters"].clone())
}

fn delta(a: &Option<serde_json::Value>, b: &Option<serde_json::Value>, n: usize) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    if let (Some(a), Some(b)) = (a, b) {
        for k in COUNTERS {
            let x = a[k].as_f64().unwrap_or(0.0);
            let y = b[k].as_f64().unwrap_or(0.0);
            m.insert(k.to_string(), serde_json::json!((y - x) / n as f64));
        }
    }
    serde_json::Value::Object(m)
}

pub fn run(cli: &Cli, cmd: &BenchCmd) -> anyhow::Result<i32> {
    let BenchCmd::Transfer(a) = cmd;
    if a.n == 0 {
        anyhow::bail!("-n must be at least 1");
    }
    let pcsc = Pcsc::establish()?;
    let ra = purse::card::select_reader(&pcsc, Some(&a.from))?;
    let rb = purse::card::select_reader(&pcsc, Some(&a.to))?;
    if ra == rb {
        anyhow::bail!("--from and --to name the same reader ({ra})");
    }
    // The desk card in each reader (for the counters), if these are desk readers.
    let desk = Desk::resolve(cli.desk.as_deref()).ok();
    let card_in = |reader: &str| -> Option<String> {
        let st = desk.as_ref()?.status().ok()?;
        st.slots
            .iter()
            .find(|s| s.slot.reader == reader && s.card_alive)
            .and_then(|s| s.slot.card.clone())
    };
    let (na, nb) = (card_in(&ra), card_in(&rb));
    let mut payer = PurseCard::new(Recorder::new(pcsc.connect(&ra)?));
    payer.reader = ra.clone();
    payer.select()?;
    let mut payee = PurseCard::new(Recorder::new(pcsc.connect(&rb)?));
    payee.reader = rb.clone();
    payee.select()?;
    let ps = payer.get_status()?;
    let qs = payee.get_status()?;
    let dec = ps.currency.decimals;
    let amount = match &a.amount {
        Some(s) => parse_amount(s, dec)?,
        None => 1,
    };
    let per = if a.no_relay { 1 } else { 2 };
    let warm = per; // untimed warm-up transfers
    let free_p = ps.passbook_capacity.saturating_sub(ps.passbook_count) as usize;
    let free_q = qs.passbook_capacity.saturating_sub(qs.passbook_count) as usize;
    let total = a.n * per + warm;
    if total > free_p.min(free_q) {
        anyhow::bail!(
            "-n {} makes {total} transfers (raw relay and warm-up included): they need {total} free passbook entries on each card; the cards have {free_p} and {free_q} (use smaller -n, --no-relay, or fresh cards)",
            a.n
        );
    }
    if (amount as u64) * total as u64 > ps.balance as u64 {
        anyhow::bail!(
            "{total} transfers of {} need {} on the paying card; it holds {}",
            format_amount(amount, dec),
            format_amount(amount.saturating_mul(total as u32), dec),
            format_amount(ps.balance, dec)
        );
    }
    let mut secrets = Secrets::default();
    if amount > ps.min_trans {
        secrets.pin = Some(read_secret(ENV_PIN, "PIN of the paying card")?);
    }
    if amount > ps.max_trans {
        secrets.txkey = Some(read_secret(ENV_TXKEY, "transaction key of the paying card")?);
    }
    if ps.role == purse::proto::consts::Role::Center {
        secrets.approval = Some(read_secret(ENV_APPROVAL, "center approval secret")?);
    }
    let mut snaps: Vec<(String, Option<serde_json::Value>, Option<serde_json::Value>)> = Vec::new();
    let r = bench::run(
        &mut payer,
        &mut payee,
        a.n,
        amount,
        today(),
        &secrets,
        Baselines {
            relay: !a.no_relay,
            replay: !a.no_replay,
        },
        |phase| snaps.push((phase.to_string(), counters(&desk, &na), counters(&desk, &nb))),
    );
    let r = match r {
        Ok(r) => r,
        Err(e) => return Ok(super::transfer::report_error(cli, &e)),
    };
    let get = |p: &str| snaps.iter().find(|s| s.0 == p).cloned();
    // the timed loop made n purse transfers (+ n raw relay transfers: identical card work)
    let (s0, s1) = (get("timed:start"), get("timed:end"));
    let made = a.n * per;
    let (payer_c, payee_c) = match (&s0, &s1) {
        (Some(a0), Some(a1)) => (delta(&a0.1, &a1.1, made), delta(&a0.2, &a1.2, made)),
        _ => (serde_json::json!({}), serde_json::json!({})),
    };
    let after_p = payer.get_status().ok();
    let after_q = payee.get_status().ok();
    let bad_keys = serde_json::json!({
        "payer": [ps.bad_key, after_p.as_ref().map(|s| s.bad_key)],
        "payee": [qs.bad_key, after_q.as_ref().map(|s| s.bad_key)],
    });
    if cli.json {
        super::print_json(&serde_json::json!({
            "bench": r,
            "payer_card": na, "payee_card": nb,
            "per_transfer_counters": { "payer": payer_c, "payee": payee_c },
            "bad_key_before_after": bad_keys,
        }))?;
        return Ok(super::EXIT_OK);
    }
    println!(
        "purse bench transfer: {} transfers of {} {} from {} to {}",
        r.transfers,
        format_amount(amount, dec),
        ps.currency.code(),
        ra,
        rb
    );
    let t = &r.traffic;
    println!(
        "per transfer: {} APDUs, {} bytes sent, {} bytes received (largest command {} B, largest response {} B)",
        t.apdus, t.command_bytes, t.response_bytes, t.largest_command, t.largest_response
    );
    for s in &t.sequence {
        println!("  {s}");
    }
    for (who, name, c) in [("payer", &na, &payer_c), ("payee", &nb, &payee_c)] {
        match name {
            Some(n) if c.as_object().is_some_and(|m| !m.is_empty()) => println!(
                "{who} card {n} per transfer: {} APDUs, {} persistent transactions, {} persistent writes, {} bytes written, {} crypto ops",
                c["apdus"], c["transactions"], c["persistentWrites"], c["bytesWritten"], c["cryptoOps"]
            ),
            _ => println!("{who}: no desk counters (not a desk card, or `desk info` failed)"),
        }
    }
    let line = |label: &str, t: &bench::Timing| {
        println!(
            "{label:<34} median {:>7.2} ms  p95 {:>7.2} ms  min {:>7.2} ms  (n={})",
            t.median_ms, t.p95_ms, t.min_ms, t.n
        )
    };
    line("purse (library flow)", &r.purse);
    if let Some(b) = &r.raw_relay {
        line("raw relay (bare SCardTransmit)", b);
    }
    if let Some(b) = &r.replay {
        line("replay (same bytes, refused pkts)", b);
    }
    if let Some(x) = r.ratio_relay {
        println!("ratio purse / raw relay: {x:.3}");
    }
    if let Some(x) = r.ratio_replay {
        println!("ratio purse / replay:    {x:.3} (replayed packets are refused by state checks before any crypto: a transport floor)");
    }
    println!(
        "BAD_KEY before/after: payer {} -> {:?}, payee {} -> {:?}",
        ps.bad_key,
        after_p.map(|s| s.bad_key),
        qs.bad_key,
        after_q.map(|s| s.bad_key)
    );
    Ok(super::EXIT_OK)
}
