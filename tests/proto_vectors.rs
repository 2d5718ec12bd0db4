//! Every test vector of docs/protocol.md section 9, reproduced with the Rust reference crypto
//! (crates aes, des, cmac; crates/purse-proto/src/crypto.rs). The vectors are parsed from protocol.md itself,
//! so a change there without a matching change in the code (or vice versa) fails here.
use purse::proto::consts::PacketType;
use purse::proto::crypto::{self, SessionKeys};
use purse::proto::types::{luhn, Account};

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

/// Value after `label` in the section: the first hex run following it (backticks allowed).
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

#[test]
fn cmac_vectors_9_1() {
    let sec = section(&spec(), "### 9.1");
    let mut n = 0;
    for row in table_rows(&sec).into_iter().skip(1) {
        let key = h(&row[1]);
        let msg = if row[2].starts_with('(') {
            vec![]
        } else {
            h(&row[2])
        };
        let full = crypto::cmac(&key, &msg).unwrap();
        assert_eq!(up(&full), row[3], "CMAC suite {} msg {}", row[0], row[2]);
        assert_eq!(up(&crypto::mac8(&key, &msg).unwrap()), row[4]);
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn cmac_nist_sp800_38b() {
    // NIST SP 800-38B, appendix D.1 (AES-128) example 2 and D.4 (TDEA 3-key) example 6
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
    let sec = section(&spec(), "### 9.2");
    let rows = table_rows(&sec);
    assert_eq!(rows.len(), 5);
    for row in rows.into_iter().skip(1) {
        let d: Vec<u8> = row[0].bytes().map(|c| c - b'0').collect();
        assert_eq!(luhn(&d).to_string(), row[1]);
        let a = Account::from_digits15(&d).unwrap();
        assert_eq!(a.to_string(), row[2]);
        assert_eq!(Account::parse(&row[2]).unwrap(), a);
        assert!(a.is_valid());
    }
    assert!(Account::parse("1000000000000017").is_err());
}

fn suite_vectors(head: &str, tk_ascii: &str) {
    let sec = section(&spec(), head);
    let ak0 = h(&after(&sec, "AK0 (key number 33) ="));
    let ak1 = h(&after(&sec, "AK1 (key number 34) ="));
    let tid = a6(&h(&after(&sec, "TID =")));
    let r1 = a8(&h(&after(&sec, "R1 =")));
    let r2 = a8(&h(&after(&sec, "R2 =")));
    let rp = a8(&h(&after(&sec, "RP =")));
    let app = h(&after(&sec, "APP_ID ="));
    assert_eq!(app, b"PURSEAPP");

    // KDF table
    let rows = table_rows(&sec);
    let check = |name: &str, keys: &SessionKeys, ctx: &[u8]| {
        let row = rows
            .iter()
            .find(|r| r[0].starts_with(name))
            .unwrap_or_else(|| panic!("row {name}"));
        assert_eq!(h(&row[3]), ctx, "{name} context");
        assert_eq!(up(&keys.enc), row[4], "{name} K_ENC");
        assert_eq!(up(&keys.mac), row[5], "{name} K_MAC");
    };
    let hs = crypto::handshake_keys(&ak0, &tid, 0x33, &rp).unwrap();
    check("handshake", &hs, &[&tid[..], &[0x33], &rp].concat());
    let tx = crypto::transfer_keys(&ak1, &r1, &r2, &tid).unwrap();
    check("transfer", &tx, &[&r1[..], &r2, &tid].concat());
    let tk = tk_ascii.as_bytes();
    assert!(crypto::is_dev_transport_key(tk));
    let rh = [0x48u8; 8];
    let rc = [0x43u8; 8];
    let tks = crypto::transport_keys(tk, &rh, &rc).unwrap();
    check("transport", &tks, &[&rh[..], &rc].concat());
    assert_eq!(
        up(&crypto::card_cryptogram(&tks, &rh, &rc).unwrap()),
        after(&sec, "CC =")
    );
    assert_eq!(
        up(&crypto::host_cryptogram(&tks, &rh, &rc).unwrap()),
        after(&sec, "HC =")
    );

    // P1: built from the named fields, sealed, compared, opened back
    let p1_body = h(&after(&sec, "P1 plaintext body (36 bytes):"));
    let mut built = r1.to_vec();
    built.extend_from_slice(&app);
    built.extend_from_slice(b"ALICE   ");
    built.extend_from_slice(&Account::parse("1000000000000016").unwrap().0);
    built.extend_from_slice(&[0x04, 0x00, 0x09, 0x78]);
    assert_eq!(up(&built), up(&p1_body));
    let hdr = crypto::header(PacketType::P1, 0x33, &tid);
    let p1 = crypto::seal(&hs, &hdr, &p1_body).unwrap();
    let p1_spec = after(&sec, "P1 packet (");
    assert_eq!(up(&p1), p1_spec);
    assert_eq!(p1.len(), crypto::packet_len(36, block_len(&hs)));
    let (h2, b2) = crypto::open(&hs, &p1).unwrap();
    assert_eq!((h2, b2), (hdr, p1_body.clone()));

    // P4
    let p4_body = h(&after(&sec, "P4 plaintext body (31 bytes):"));
    let mut built = r2.to_vec();
    built.extend_from_slice(&app);
    built.push(0x02);
    built.extend_from_slice(&1234u32.to_be_bytes());
    built.extend_from_slice(&Account::parse("1000000000000016").unwrap().0);
    built.extend_from_slice(&9500u16.to_be_bytes());
    assert_eq!(up(&built), up(&p4_body));
    let hdr4 = crypto::header(PacketType::P4, 0x33, &tid);
    let p4 = crypto::seal(&tx, &hdr4, &p4_body).unwrap();
    assert_eq!(up(&p4), after(&sec, "P4 packet (48 bytes):"));
    assert_eq!(p4.len(), 48);

    // every single bit flip of P4 is refused by open()
    for i in 0..p4.len() * 8 {
        let mut bad = p4.clone();
        bad[i / 8] ^= 1 << (i % 8);
        assert!(crypto::open(&tx, &bad).is_err(), "bit {i} flipped accepted");
    }
    // a packet under the other key set is refused
    assert!(crypto::open(&hs, &p4).is_err());

    // balance integrity
    let fields: [u8; 17] = h(&after(&sec, "record fields")).try_into().unwrap();
    let account = a8(&h(&after(&sec, "account")));
    let check = crypto::balance_check(&ak1, &fields, &account).unwrap();
    assert_eq!(up(&check), after(&sec, "CHECK ="));
}

fn block_len(k: &SessionKeys) -> usize {
    crypto::BlockKey::new(&k.enc).unwrap().block_len()
}

#[test]
fn aes_vectors_9_3() {
    suite_vectors("### 9.3", "purse-dev-transp");
}

#[test]
fn tdes_vectors_9_4() {
    suite_vectors("### 9.4", "purse-dev-transport-3des");
}

#[test]
fn packet_lengths_table_2_4() {
    // protocol.md 2.4: P1 64/56, P2 64/64, P3.. 48/48, G1 112/112, G2 48/40, I1 176/168 (AES system)
    for (body, aes, tdes) in [
        (36, 64, 56),
        (44, 64, 64),
        (31, 48, 48),
        (95, 112, 112),
        (20, 48, 40),
        (145, 176, 168),
        (177, 208, 200),
    ] {
        assert_eq!(crypto::packet_len(body, 16), aes, "body {body} AES");
        assert_eq!(crypto::packet_len(body, 8), tdes, "body {body} TDES");
    }
}

#[test]
fn open_rejects_bad_padding_and_lengths() {
    let keys = crypto::kdf(&[7u8; 16], crypto::LABEL_TX, b"ctx").unwrap();
    let hdr = crypto::header(PacketType::Ack, 1, &[1, 2, 3, 4, 5, 6]);
    for len in [0usize, 1, 15, 16, 17, 31, 32, 33] {
        let body = vec![0xA5; len];
        let p = crypto::seal(&keys, &hdr, &body).unwrap();
        assert_eq!(p.len(), crypto::packet_len(len, 16));
        assert_eq!(crypto::open(&keys, &p).unwrap().1, body);
        assert!(crypto::open(&keys, &p[..p.len() - 1]).is_err());
    }
    assert!(crypto::open(&keys, &[0u8; 10]).is_err());
}
