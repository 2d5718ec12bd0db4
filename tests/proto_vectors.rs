//! Every protocol test vector, reproduced with the Rust reference crypto (crates aes, des, cmac;
//! crates/purse-proto/src/crypto.rs). The vectors are one data file, tests/vectors/protocol.json, written by
//! the independent Python reference (scripts/protocol_vectors.py) and read by the applet's JUnit
//! CryptoSuiteTest too; docs/protocol.md section 9 shows the same values, and
//! `doc_section_9_matches_the_data_file` checks that the doc says what the file says.
use purse::proto::consts::{self as c, PacketType};
use purse::proto::crypto::{self, SessionKeys};
use purse::proto::types::{luhn, Account};
use purse::proto::wire::Layout;
use serde::Deserialize;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap_or_else(|e| panic!("hex {s}: {e}"))
}
fn up(b: &[u8]) -> String {
    hex::encode_upper(b)
}
fn a6(b: &[u8]) -> [u8; 6] {
    b.try_into().unwrap()
}
fn a8(b: &[u8]) -> [u8; 8] {
    b.try_into().unwrap()
}

// ------------------------------------------------------------ the data file

#[derive(Deserialize)]
struct Vectors {
    nist_cmac: Vec<Cmac>,
    cmac: Vec<Cmac>,
    luhn: Vec<Luhn>,
    suites: Vec<Suite>,
    packet_lengths: Vec<PacketLen>,
}
#[derive(Deserialize)]
struct Cmac {
    suite: String,
    key: String,
    msg: String,
    cmac: String,
    mac8: Option<String>,
}
#[derive(Deserialize)]
struct Luhn {
    digits15: String,
    check: String,
    account: String,
}
#[derive(Deserialize)]
struct Suite {
    suite: String,
    section: String,
    ak0: String,
    ak1: String,
    keynum: String,
    tid: String,
    r1: String,
    r2: String,
    rp: String,
    rh: String,
    rc: String,
    app_id: String,
    dev_tk: String,
    derivations: Vec<Derivation>,
    cc: String,
    hc: String,
    packets: Vec<Packet>,
    balance: Balance,
    digest: Digest,
}
#[derive(Deserialize)]
struct Digest {
    entries: usize,
    exceptions: usize,
    sid: String,
    passbook: String,
    exception_log: String,
    d: String,
    d_private: String,
}
#[derive(Deserialize)]
struct Derivation {
    name: String,
    ki: String,
    kdf: String,
    label: String,
    context: String,
    k_enc: String,
    k_mac: String,
}
#[derive(Deserialize)]
struct Packet {
    name: String,
    #[serde(rename = "type")]
    ptype: String,
    keynum: String,
    sid: String,
    keys: String,
    body: String,
    packet: String,
}
#[derive(Deserialize)]
struct Balance {
    key: String,
    fields: String,
    account: String,
    check: String,
}
#[derive(Deserialize)]
struct PacketLen {
    body: usize,
    aes: usize,
    tdes: usize,
}

fn vectors() -> Vectors {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/protocol.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn suite<'a>(v: &'a Vectors, code: &str) -> &'a Suite {
    v.suites
        .iter()
        .find(|s| s.suite == code)
        .unwrap_or_else(|| panic!("no suite {code} in the vectors"))
}

// ------------------------------------------------------------ the doc's section 9

fn spec() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/protocol.md")).unwrap()
}

/// The text of section "### 9.x" up to the next "### ".
fn section(spec: &str, head: &str) -> String {
    let start = spec
        .find(head)
        .unwrap_or_else(|| panic!("no {head} in protocol.md"));
    let rest = &spec[start + head.len()..];
    let end = rest
        .find("\n### ")
        .or_else(|| rest.find("\n## "))
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

/// Value after `label` in the section: the first backticked run following it.
fn after(sec: &str, label: &str) -> String {
    let i = sec.find(label).unwrap_or_else(|| panic!("no {label:?}"));
    let tail = &sec[i + label.len()..];
    let start = tail.find('`').unwrap() + 1;
    let end = start + tail[start..].find('`').unwrap();
    tail[start..end].to_string()
}

fn table_rows(sec: &str) -> Vec<Vec<String>> {
    sec.lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| ---"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect()
}

// ------------------------------------------------------------ tests

#[test]
fn doc_section_9_matches_the_data_file() {
    let v = vectors();
    let spec = spec();
    let rows = table_rows(&section(&spec, "### 9.1"));
    assert_eq!(rows.len() - 1, v.cmac.len(), "9.1 rows");
    for (row, c) in rows.iter().skip(1).zip(&v.cmac) {
        let msg = if c.msg.is_empty() { "(empty)" } else { &c.msg };
        let want = [&c.suite, &c.key, msg, &c.cmac, c.mac8.as_deref().unwrap()];
        assert_eq!(row, &want.map(String::from), "9.1 row");
    }
    let rows = table_rows(&section(&spec, "### 9.2"));
    assert_eq!(rows.len() - 1, v.luhn.len(), "9.2 rows");
    for (row, l) in rows.iter().skip(1).zip(&v.luhn) {
        assert_eq!(
            row,
            &[&l.digits15, &l.check, &l.account].map(String::from),
            "9.2 row"
        );
    }
    for s in &v.suites {
        let head = format!("### {} ", s.section);
        let sec = section(&spec, &head);
        let k = u8::from_str_radix(&s.keynum, 16).unwrap();
        assert_eq!(after(&sec, &format!("AK0 (key number {k:02X}) =")), s.ak0);
        assert_eq!(
            after(&sec, &format!("AK1 (key number {:02X}) =", k + 1)),
            s.ak1
        );
        for (label, val) in [
            ("TID =", &s.tid),
            ("R1 =", &s.r1),
            ("R2 =", &s.r2),
            ("RP =", &s.rp),
            ("APP_ID =", &s.app_id),
            ("CC =", &s.cc),
            ("HC =", &s.hc),
            ("record fields", &s.balance.fields),
            ("account", &s.balance.account),
            ("CHECK =", &s.balance.check),
        ] {
            assert_eq!(&after(&sec, label), val, "{head}{label}");
        }
        let rows = table_rows(&sec);
        assert_eq!(rows.len() - 1, s.derivations.len(), "{head} derivations");
        for (row, d) in rows.iter().skip(1).zip(&s.derivations) {
            assert!(row[0].starts_with(&d.name), "{head} row {}", row[0]);
            let kdf = match d.kdf.as_str() {
                "cbc" => "one CBC pass",
                "sp800-108" => "SP 800-108",
                other => panic!("{head} {}: KDF {other}", d.name),
            };
            let mac = if d.k_mac == d.k_enc {
                "= K_ENC (the session's one key K_S)"
            } else {
                &d.k_mac
            };
            let want = [&d.ki, kdf, &d.label, &d.context, &d.k_enc, mac].map(String::from);
            assert_eq!(&row[1..], &want, "{head} {}", d.name);
        }
        assert!(sec.contains(&format!("dev TK `{}`", s.dev_tk)), "{head} TK");
        for p in &s.packets {
            let n = p.body.len() / 2;
            let body = after(&sec, &format!("{} plaintext body ({n} bytes):", p.name));
            assert_eq!(body, p.body, "{head}{} body", p.name);
            let n = p.packet.len() / 2;
            let pkt = after(&sec, &format!("{} packet ({n} bytes):", p.name));
            assert_eq!(pkt, p.packet, "{head}{} packet", p.name);
        }
    }
}

#[test]
fn cmac_vectors_9_1() {
    let v = vectors();
    for c in &v.cmac {
        let key = h(&c.key);
        let msg = h(&c.msg);
        let full = crypto::cmac(&key, &msg).unwrap();
        assert_eq!(up(&full), c.cmac, "CMAC suite {} msg {}", c.suite, c.msg);
        let mac8 = c.mac8.as_deref().unwrap();
        assert_eq!(up(&crypto::mac8(&key, &msg).unwrap()), mac8);
    }
    assert_eq!(v.cmac.len(), 4);
}

#[test]
fn cmac_nist_sp800_38b() {
    // NIST SP 800-38B, appendix D.1 (AES-128) examples 1-4 and D.4 (TDEA 3-key), from the file
    let v = vectors();
    for c in &v.nist_cmac {
        let full = crypto::cmac(&h(&c.key), &h(&c.msg)).unwrap();
        assert_eq!(up(&full), c.cmac, "NIST suite {} msg {}", c.suite, c.msg);
    }
    assert_eq!(v.nist_cmac.len(), 5);
    // and the two the test always held, in case the file loses them
    let k = h("2b7e151628aed2a6abf7158809cf4f3c");
    assert_eq!(
        up(&crypto::cmac(&k, &h("6bc1bee22e409f96e93d7e117393172a")).unwrap()),
        "070A16B46B4D4144F79BDD9DD04A287C"
    );
    let k3 = h("8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5");
    assert_eq!(up(&crypto::cmac(&k3, &[]).unwrap()), "B7A688E122FFAF95");
}

#[test]
fn luhn_vectors_9_2() {
    let v = vectors();
    assert_eq!(v.luhn.len(), 4);
    for l in &v.luhn {
        let d: Vec<u8> = l.digits15.bytes().map(|c| c - b'0').collect();
        assert_eq!(luhn(&d).to_string(), l.check);
        let a = Account::from_digits15(&d).unwrap();
        assert_eq!(a.to_string(), l.account);
        assert_eq!(Account::parse(&l.account).unwrap(), a);
        assert!(a.is_valid());
    }
    assert!(Account::parse("1000000000000017").is_err());
}

fn suite_vectors(code: &str, tk_ascii: &str) {
    let v = vectors();
    let s = suite(&v, code);
    let ak0 = h(&s.ak0);
    let ak1 = h(&s.ak1);
    let tid = a6(&h(&s.tid));
    let r1 = a8(&h(&s.r1));
    let r2 = a8(&h(&s.r2));
    let rp = a8(&h(&s.rp));
    let app = h(&s.app_id);
    assert_eq!(app, b"PURSEAPP");
    assert_eq!(s.keynum, "33");
    assert_eq!(s.dev_tk, tk_ascii);

    // KDF table
    let check = |name: &str, keys: &SessionKeys, ctx: &[u8]| {
        let row = s
            .derivations
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("row {name}"));
        assert_eq!(h(&row.context), ctx, "{name} context");
        assert_eq!(up(&keys.enc), row.k_enc, "{name} K_ENC");
        assert_eq!(up(&keys.mac), row.k_mac, "{name} K_MAC");
    };
    let labels: Vec<(&str, &str, String)> = s
        .derivations
        .iter()
        .map(|d| (d.name.as_str(), d.kdf.as_str(), d.label.clone()))
        .collect();
    let tag = |t: u8| format!("{t:02X}");
    assert_eq!(
        labels,
        [
            ("transfer", "cbc", tag(c::KS_TX)),
            ("sync", "cbc", tag(c::KS_SY)),
            ("admin", "cbc", tag(c::KS_AD)),
            (
                "transport",
                "sp800-108",
                std::str::from_utf8(crypto::LABEL_TK).unwrap().to_string()
            ),
        ]
    );
    // one key per session, from AK1 (protocol.md 2.3): it seals and opens (ENC = MAC = K_S)
    let s_ctx = [&tid[..], &[0x33], &rp].concat();
    let tx = crypto::session_keys(&ak1, c::KS_TX, &tid, 0x33, &rp).unwrap();
    check("transfer", &tx, &s_ctx);
    let sy = crypto::session_keys(&ak1, c::KS_SY, &tid, 0x33, &rp).unwrap();
    check("sync", &sy, &s_ctx);
    let ad = crypto::session_keys(&ak1, c::KS_AD, &tid, 0x33, &rp).unwrap();
    check("admin", &ad, &s_ctx);
    for k in [&tx, &sy, &ad] {
        assert_eq!(k.enc, k.mac);
    }
    // the key is the tail of one CBC pass over D = tag | SID | k | RP | 00.. (the first
    // output block is CBC-MAC(D)), written out here from the block cipher alone
    {
        let key = crypto::BlockKey::new(&ak1).unwrap();
        let b = key.block_len();
        let kl = ak1.len();
        let mut x = vec![0u8; b];
        let mut d = [&[c::KS_TX][..], &s_ctx].concat();
        d.resize(16 + kl - b, 0);
        let mut out = Vec::new();
        for blk in d.chunks(b) {
            for (xi, di) in x.iter_mut().zip(blk) {
                *xi ^= di;
            }
            key.ecb_encrypt(&mut x);
            out.extend_from_slice(&x);
        }
        assert_eq!(out[out.len() - kl..], tx.enc[..]);
    }
    // AK0 (key k) keys nothing: a card that stopped at key k derives no key of the pair's sessions
    let of_ak0 = crypto::session_keys(&ak0, c::KS_TX, &tid, 0x33, &rp).unwrap();
    assert_ne!(of_ak0.enc, tx.enc);
    assert_ne!(of_ak0.mac, tx.mac);
    let tk = tk_ascii.as_bytes();
    assert!(crypto::is_dev_transport_key(tk));
    let rh = a8(&h(&s.rh));
    let rc = a8(&h(&s.rc));
    assert_eq!((rh, rc), ([0x48u8; 8], [0x43u8; 8]));
    let tks = crypto::transport_keys(tk, &rh, &rc).unwrap();
    check("transport", &tks, &[&rh[..], &rc].concat());
    assert_eq!(up(&crypto::card_cryptogram(&tks, &rh, &rc).unwrap()), s.cc);
    assert_eq!(up(&crypto::host_cryptogram(&tks, &rh, &rc).unwrap()), s.hc);

    let packet = |name: &str| {
        s.packets
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("packet {name}"))
    };
    // P1: built from the named fields, sealed, compared, opened back
    let v1 = packet("P1");
    assert_eq!((v1.ptype.as_str(), v1.keynum.as_str()), ("41", "33"));
    assert_eq!(v1.keys, "transfer");
    let p1_body = h(&v1.body);
    assert_eq!(p1_body.len(), 36);
    // protocol.md 6.3: R1 | APP | NAME | ACCOUNT | ROLE | FLAGS | CURRENCY
    let mut built = Layout::new(c::BODY_P1);
    built
        .put(c::P1_R1, &r1)
        .put(c::P1_APP, &app)
        .put(c::P1_NAME, b"ALICE   ")
        .put(
            c::P1_ACCOUNT,
            &Account::parse("1000000000000016").unwrap().0,
        )
        .u8(c::P1_ROLE, c::ROLE_USER)
        .u8(c::P1_FLAGS, 0)
        .put(c::P1_CURRENCY, &[0x09, 0x78]);
    let built = built.into_vec();
    assert_eq!(&built[c::P1_ROLE as usize..], &[0x04, 0x00, 0x09, 0x78]);
    assert_eq!(up(&built), up(&p1_body));
    let hdr = crypto::header(PacketType::P1, 0x33, &tid);
    let p1 = crypto::seal(&tx, &hdr, &p1_body).unwrap();
    assert_eq!(up(&p1), v1.packet);
    assert_eq!(p1.len(), crypto::packet_len(36, block_len(&tx)));
    let (h2, b2) = crypto::open(&tx, &p1).unwrap();
    assert_eq!((h2, b2), (hdr, p1_body.clone()));

    // P4
    let v4 = packet("P4");
    assert_eq!((v4.ptype.as_str(), v4.keynum.as_str()), ("44", "33"));
    assert_eq!(v4.keys, "transfer");
    let p4_body = h(&v4.body);
    assert_eq!(p4_body.len(), 31);
    // protocol.md 6.3 short body: R2 | APP | CODE CREDIT | AMOUNT | payer ACCOUNT | DATE
    let mut built = Layout::new(c::BODY_SHORT);
    built
        .put(c::PS_RANDOM, &r2)
        .put(c::PS_APP, &app)
        .u8(c::PS_CODE, c::CODE_CREDIT)
        .u32(c::PS_AMOUNT, 1234)
        .put(
            c::PS_ACCOUNT,
            &Account::parse("1000000000000016").unwrap().0,
        )
        .u16(c::PS_DATE, 9500);
    let built = built.into_vec();
    assert_eq!(built[c::PS_CODE as usize], 0x02);
    assert_eq!(up(&built), up(&p4_body));
    let hdr4 = crypto::header(PacketType::P4, 0x33, &tid);
    let p4 = crypto::seal(&tx, &hdr4, &p4_body).unwrap();
    assert_eq!(up(&p4), v4.packet);
    assert_eq!(p4.len(), 48);

    // every single bit flip of P4 is refused by open()
    for i in 0..p4.len() * 8 {
        let mut bad = p4.clone();
        bad[i / 8] ^= 1 << (i % 8);
        assert!(crypto::open(&tx, &bad).is_err(), "bit {i} flipped accepted");
    }
    // a packet under another session kind's keys (same AK1, SID, k, RP) is refused
    assert!(crypto::open(&sy, &p4).is_err());
    assert!(crypto::open(&ad, &p4).is_err());

    // G2: the transport channel (5.2), two keys: K_ENC keys the keystream, K_MAC the MAC and the
    // IV mask (the packet mask of K_MAC: AES K1, TDES K2, 2.4); KEYNUM 00, SID = RC[0..6)
    let vg = packet("G2");
    assert_eq!((vg.ptype.as_str(), vg.keynum.as_str()), ("12", "00"));
    assert_eq!(
        (vg.keys.as_str(), vg.sid.as_str()),
        ("transport", "434343434343")
    );
    assert_ne!(tks.enc, tks.mac);
    let g2_body = h(&vg.body);
    // the genesis answer: RESULT 00 | ACCOUNT | ROLE center | CURRENT | APP | SUITE
    let mut built = Layout::new(c::BODY_G2);
    built
        .u8(c::G2_RESULT, 0)
        .put(
            c::G2_ACCOUNT,
            &Account::parse("1000000000000016").unwrap().0,
        )
        .u8(c::G2_ROLE, c::ROLE_CENTER)
        .u8(c::G2_CURRENT, 0x33)
        .put(c::G2_APP, &app)
        .u8(c::G2_SUITE, h(&s.suite)[0]);
    assert_eq!(up(&built.into_vec()), up(&g2_body));
    let sid6: [u8; 6] = rc[..6].try_into().unwrap();
    let hdrg = crypto::header(PacketType::G2, 0x00, &sid6);
    let g2 = crypto::seal(&tks, &hdrg, &g2_body).unwrap();
    assert_eq!(up(&g2), vg.packet);
    assert_eq!(crypto::open(&tks, &g2).unwrap(), (hdrg, g2_body));
    // the keys swapped (the mask and keystream of the other key) open nothing
    let swapped = crypto::SessionKeys {
        enc: tks.mac.clone(),
        mac: tks.enc.clone(),
    };
    assert!(crypto::open(&swapped, &g2).is_err());

    // balance integrity
    assert_eq!(s.balance.key, "AK1");
    let fields: [u8; 17] = h(&s.balance.fields).try_into().unwrap();
    let account = a8(&h(&s.balance.account));
    let check = crypto::balance_check(&ak1, &fields, &account).unwrap();
    assert_eq!(up(&check), s.balance.check);
    // a fixed-length CBC-MAC over the padded 32 bytes, not the CMAC of the 25
    let m = [&fields[..], &account].concat();
    assert_ne!(crypto::mac8(&ak1, &m).unwrap(), check);
    assert_eq!(crypto::mac8_fixed(&ak1, &m).unwrap(), check);
    assert!(crypto::mac8_fixed(&ak1, &[0u8; 32]).is_err());

    // passbook digest (12.5.3): SHA-256, bound to the sync's SID
    let (pb, exc) = (h(&s.digest.passbook), h(&s.digest.exception_log));
    assert_eq!(pb.len(), 42 * s.digest.entries);
    assert_eq!(exc.len(), 24 * s.digest.exceptions);
    let sid: [u8; 6] = h(&s.digest.sid).try_into().expect("6-byte SID");
    let d = purse::proto::sync::digest_of(&sid, &pb, &exc, false);
    assert_eq!(up(&d), s.digest.d);
    let d = purse::proto::sync::digest_of(&sid, &pb, &exc, true);
    assert_eq!(up(&d), s.digest.d_private);
}

fn block_len(k: &SessionKeys) -> usize {
    crypto::BlockKey::new(&k.enc).unwrap().block_len()
}

#[test]
fn aes_vectors_9_3() {
    suite_vectors("01", "purse-dev-transp");
}

#[test]
fn tdes_vectors_9_4() {
    suite_vectors("02", "purse-dev-transport-3des");
}

#[test]
fn packet_lengths_table_2_4() {
    // protocol.md 2.4: P1 64/56, a transfer's P2 80/72, P5 96/96, A2 96/88, P4.. 48/48,
    // G1 112/112, G2 48/40, I1 176/168 (AES system)
    let want = [
        (36, 64, 56),
        (48, 80, 72),
        (74, 96, 96),
        (64, 96, 88),
        (31, 48, 48),
        (95, 112, 112),
        (20, 48, 40),
        (145, 176, 168),
        (177, 208, 200),
    ];
    let v = vectors();
    let file: Vec<(usize, usize, usize)> = v
        .packet_lengths
        .iter()
        .map(|p| (p.body, p.aes, p.tdes))
        .collect();
    assert_eq!(file, want, "tests/vectors/protocol.json packet_lengths");
    assert_eq!(
        (c::PKT_P2_TX_AES as usize, c::PKT_P2_TX_TDES as usize),
        (want[1].1, want[1].2),
        "a transfer's P2"
    );
    assert_eq!(
        (c::BODY_P5 as usize, c::PKT_P5 as usize, c::PKT_P5 as usize),
        want[2],
        "P5"
    );
    assert_eq!(
        (
            c::BODY_A2 as usize,
            c::PKT_A2_AES as usize,
            c::PKT_A2_TDES as usize
        ),
        want[3],
        "A2"
    );
    for (body, aes, tdes) in want {
        assert_eq!(crypto::packet_len(body, 16), aes, "body {body} AES");
        assert_eq!(crypto::packet_len(body, 8), tdes, "body {body} TDES");
    }
}

#[test]
fn open_rejects_bad_padding_and_lengths() {
    let keys = crypto::session_keys(&[7u8; 16], c::KS_TX, &[1; 6], 2, &[3; 8]).unwrap();
    let hdr = crypto::header(PacketType::Ack, 1, &[1, 2, 3, 4, 5, 6]);
    for len in [0usize, 1, 15, 16, 17, 31, 32, 33] {
        let body = vec![0xA5; len];
        let p = crypto::seal(&keys, &hdr, &body).unwrap();
        assert_eq!(p.len(), crypto::packet_len(len, 16));
        assert_eq!(crypto::open(&keys, &p).unwrap().1, body);
        assert!(crypto::open(&keys, &p[..p.len() - 1]).is_err());
    }
    assert!(crypto::open(&keys, &[0u8; 10]).is_err());
    // a genuine MAC over a plaintext without the ISO 9797-1 padding: the padding check refuses it
    for p in [
        vec![0xA5; 16],
        vec![0u8; 32],
        [vec![0x11; 16], vec![0u8; 16]].concat(),
    ] {
        let mut pkt = hdr.to_vec();
        pkt.extend_from_slice(&p);
        let t = crypto::mac8(&keys.mac, &pkt).unwrap();
        crypto::BlockKey::new(&keys.enc)
            .unwrap()
            .ofb_xor(&crypto::packet_iv(&keys.mac, &t).unwrap(), &mut pkt[8..]);
        pkt.extend_from_slice(&t);
        assert_eq!(
            crypto::open(&keys, &pkt),
            Err(crypto::CryptoError::BadPacket("padding"))
        );
    }
}

#[test]
fn packet_iv_is_t_masked_by_the_subkey_no_packet_mac_uses() {
    // SP 800-38B D.1: AES-128 key 2B7E..3C has K1 = FBEED618357133667C85E08F7236A8DE
    let key = h("2B7E151628AED2A6ABF7158809CF4F3C");
    assert_eq!(
        up(&crypto::cmac_k1(&key).unwrap()),
        "FBEED618357133667C85E08F7236A8DE"
    );
    // AES: (T | 00..) XOR K1 (every AES packet MAC ends with K2). T = 0 gives K1 itself, never
    // E(0) = L nor another chosen input
    assert_eq!(
        up(&crypto::packet_iv(&key, &[0u8; 8]).unwrap()),
        "FBEED618357133667C85E08F7236A8DE"
    );
    assert_eq!(
        up(&crypto::packet_iv(&key, &h("FBEED61835713366")).unwrap()),
        "00000000000000007C85E08F7236A8DE"
    );
    // SP 800-38B D.4: three-key TDEA 8AA8..A8B5 has K1 = 9198E9D314E6535F, K2 = 2331D3A629CCA6A5.
    // TDES: T XOR K2 (every TDES packet MAC ends with K1, which would cancel a K1 mask)
    let tdes = h("8AA83BF8CBDA10620BC1BF19FBB6CD58BC313D4A371CA8B5");
    assert_eq!(up(&crypto::cmac_k1(&tdes).unwrap()), "9198E9D314E6535F");
    assert_eq!(up(&crypto::packet_mask(&tdes).unwrap()), "2331D3A629CCA6A5");
    assert_eq!(
        up(&crypto::packet_iv(&tdes, &h("2331D3A600000000")).unwrap()),
        "0000000029CCA6A5"
    );
}

#[test]
fn ofb_nist_sp800_38a() {
    // NIST SP 800-38A F.4.1 OFB-AES128.Encrypt, the first two blocks (protocol.md 2.4 uses OFB)
    let k = crypto::BlockKey::new(&h("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
    let mut buf = h("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51");
    k.ofb_xor(&h("000102030405060708090A0B0C0D0E0F"), &mut buf);
    assert_eq!(
        up(&buf),
        "3B3FD92EB72DAD20333449F8E83CFB4A7789508D16918F03F53C52DAC54ED825"
    );
    // and back: OFB decrypts with the same keystream
    k.ofb_xor(&h("000102030405060708090A0B0C0D0E0F"), &mut buf);
    assert_eq!(
        up(&buf),
        "6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51"
    );
}
