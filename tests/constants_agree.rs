//! Constants.java (applet) and crates/purse-proto/src/consts.rs (host) agree, name for name and value for
//! value, with no constant missing on either side; the typed enums agree with both; and the INS
//! and status word tables of docs/protocol.md (which wins) agree with the enums.
use std::collections::BTreeMap;

use purse::proto::consts::{self, EntryType, Ins, Life, PacketType, Role, SecretRef, Suite, Sw};

fn java() -> BTreeMap<String, u32> {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/applet/src/org/purse/applet/Constants.java"
    );
    let src = std::fs::read_to_string(p).expect("Constants.java");
    let mut m = BTreeMap::new();
    for line in src.lines() {
        let l = line.split("//").next().unwrap().trim();
        if !l.starts_with("public static final") {
            continue;
        }
        // public static final <type> NAME = [(cast)] VALUE;
        let rest = l.trim_start_matches("public static final").trim();
        let (ty, rest) = rest.split_once(' ').expect("type");
        let (name, rest) = rest
            .split_once('=')
            .unwrap_or_else(|| panic!("no '=' in {l}"));
        let mut v = rest.trim().trim_end_matches(';').trim();
        for cast in ["(byte)", "(short)"] {
            v = v.trim_start_matches(cast).trim();
        }
        let v = v.split("//").next().unwrap().trim();
        let (neg, v) = match v.strip_prefix('-') {
            Some(x) => (true, x),
            None => (false, v),
        };
        let mut n: i64 = if let Some(x) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
            i64::from_str_radix(x, 16).unwrap_or_else(|e| panic!("{l}: {e}"))
        } else {
            v.parse().unwrap_or_else(|e| panic!("{l}: {e}"))
        };
        if neg {
            n = -n;
        }
        let mask = match ty {
            "byte" => 0xFF,
            "short" => 0xFFFF,
            "int" => 0xFFFF_FFFF,
            other => panic!("unexpected constant type {other} in {l}"),
        };
        let prev = m.insert(name.trim().to_string(), (n & mask) as u32);
        assert!(
            prev.is_none(),
            "{} defined twice in Constants.java",
            name.trim()
        );
    }
    assert!(m.len() > 300, "parsed only {} constants", m.len());
    m
}

fn rust() -> BTreeMap<String, u32> {
    let mut m = BTreeMap::new();
    for (n, v) in consts::ALL {
        assert!(
            m.insert(n.to_string(), *v).is_none(),
            "{n} twice in consts.rs"
        );
    }
    m
}

#[test]
fn every_java_constant_equals_the_rust_one_and_vice_versa() {
    let j = java();
    let r = rust();
    let mut problems = Vec::new();
    for (n, v) in &j {
        match r.get(n) {
            None => problems.push(format!(
                "{n} = 0x{v:X} is in Constants.java but not in consts.rs"
            )),
            Some(rv) if rv != v => problems.push(format!("{n}: Java 0x{v:X}, Rust 0x{rv:X}")),
            _ => {}
        }
    }
    for (n, v) in &r {
        if !j.contains_key(n) {
            problems.push(format!(
                "{n} = 0x{v:X} is in consts.rs but not in Constants.java"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "constants disagree:\n{}",
        problems.join("\n")
    );
}

/// CamelCase enum variant → SCREAMING_SNAKE (AuthInit → AUTH_INIT, XferPayerP2P3 → XFER_PAYER_P2P3).
fn screaming(v: &str) -> String {
    let mut s = String::new();
    let cs: Vec<char> = v.chars().collect();
    for (i, c) in cs.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 && cs[i - 1].is_ascii_lowercase() {
            s.push('_');
        }
        s.push(c.to_ascii_uppercase());
    }
    s
}

fn check_enum(prefix: &str, names: &[(&str, u32)], rename: &[(&str, &str)]) {
    let j = java();
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for (var, code) in names {
        let jn = rename
            .iter()
            .find(|(v, _)| v == var)
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|| format!("{prefix}{}", screaming(var)));
        seen.push(jn.clone());
        match j.get(&jn) {
            None => problems.push(format!("{var}: no {jn} in Constants.java")),
            Some(v) if v != code => problems.push(format!("{var} = {code:X}, {jn} = {v:X}")),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{prefix}: {}", problems.join("; "));
}

fn widen8(n: &[(&'static str, u8)]) -> Vec<(&'static str, u32)> {
    n.iter().map(|(a, b)| (*a, *b as u32)).collect()
}

#[test]
fn enums_agree_with_constants() {
    check_enum(
        "INS_",
        &widen8(Ins::NAMES),
        &[
            ("ChangeRef", "INS_CHANGE_REF"),
            ("XferPayerP2P3", "INS_XFER_PAYER_P2P3"),
            ("XferPayeeP1", "INS_XFER_PAYEE_P1"),
            ("XferPayeeP4", "INS_XFER_PAYEE_P4"),
            ("SyncCardS1", "INS_SYNC_CARD_S1"),
            ("SyncBankP5", "INS_SYNC_BANK_P5"),
            ("SyncCardP6", "INS_SYNC_CARD_P6"),
            ("ResumeGetP4", "INS_RESUME_GET_P4"),
        ],
    );
    check_enum("ROLE_", &widen8(Role::NAMES), &[]);
    check_enum("LIFE_", &widen8(Life::NAMES), &[]);
    check_enum(
        "SUITE_",
        &widen8(Suite::NAMES),
        &[("Aes128", "SUITE_AES128"), ("Tdes3", "SUITE_TDES3")],
    );
    check_enum(
        "PT_",
        &widen8(PacketType::NAMES),
        &[
            ("G1", "PT_G1"),
            ("G2", "PT_G2"),
            ("I1", "PT_I1"),
            ("I2", "PT_I2"),
            ("P1", "PT_P1"),
            ("P2", "PT_P2"),
            ("P3", "PT_P3"),
            ("P4", "PT_P4"),
            ("P5", "PT_P5"),
            ("P6", "PT_P6"),
            ("S1", "PT_S1"),
            ("S2", "PT_S2"),
            ("A1", "PT_A1"),
            ("A2", "PT_A2"),
            ("A3", "PT_A3"),
            ("A4", "PT_A4"),
            ("A5", "PT_A5"),
            ("A6", "PT_A6"),
        ],
    );
    check_enum("PB_TYPE_", &widen8(EntryType::NAMES), &[]);
    check_enum("REF_", &widen8(SecretRef::NAMES), &[("TxKey", "REF_TXKEY")]);
    // every INS_ constant has an enum variant
    for (n, v) in java().iter().filter(|(n, _)| n.starts_with("INS_")) {
        assert!(
            !matches!(Ins::from_code(*v as u8), Ins::Other(_)),
            "{n} has no Ins variant"
        );
    }
    // status words: every SW_ constant is a named Sw with the same spec name, and back
    let j = java();
    for (n, v) in j.iter().filter(|(n, _)| n.starts_with("SW_")) {
        let sw = Sw::from_u16(*v as u16);
        assert!(
            !matches!(sw, Sw::Other(_)),
            "{n} = {v:04X} has no Sw variant"
        );
        if n != "SW_VERIFY_FAILED" {
            assert_eq!(format!("SW_{}", sw.spec_name()), *n);
        }
    }
    for sw in Sw::all_named() {
        let jn = format!("SW_{}", sw.spec_name());
        if sw == Sw::NoPreciseDiagnosis {
            assert!(
                !j.contains_key(&jn),
                "6F00 must never be a constant the applet throws"
            );
            continue;
        }
        assert_eq!(j.get(&jn).copied(), Some(sw.code() as u32), "{jn}");
        assert_eq!(Sw::from_u16(sw.code()), sw);
    }
    assert_eq!(Sw::from_u16(0x63C2), Sw::VerifyFailed(2));
    assert_eq!(Sw::VerifyFailed(2).code(), 0x63C2);
}

fn spec() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/protocol.md")).unwrap()
}

fn rows_between(spec: &str, start: &str, end: &str) -> Vec<Vec<String>> {
    let s = spec.find(start).unwrap_or_else(|| panic!("no {start}"));
    let e = s + spec[s..].find(end).unwrap_or_else(|| panic!("no {end}"));
    spec[s..e]
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn status_word_table_of_protocol_md_agrees() {
    let rows = rows_between(&spec(), "### 4.2 Status words", "Error precedence");
    let mut n = 0;
    for r in rows.iter().skip(1) {
        let (code, name) = (r[0].as_str(), r[1].trim_matches('*').trim());
        if code.len() != 4
            || !code.chars().all(|c| c.is_ascii_hexdigit())
            || name.is_empty()
            || name == "—"
        {
            continue; // 63Cx, 9D20-9D2F ranges, 6F00 "—"
        }
        let v = u16::from_str_radix(code, 16).unwrap();
        let sw = Sw::from_u16(v);
        assert_eq!(sw.spec_name(), name, "{code}");
        n += 1;
    }
    assert!(n >= 35, "only {n} status words parsed from protocol.md 4.2");
    // the reserved issue-4 row names its codes inline
    for (code, name) in [
        (0x9D20u16, "LISTED_BAD_CARD"),
        (0x9D21, "ACCOUNT_OUT_OF_RANGE"),
        (0x9D22, "DATE_BACKWARDS"),
        (0x9D23, "BAD_CARD_LIST_FULL"),
        (0x9D24, "NOT_LISTED"),
        (0x9D25, "KEYS_TOO_OLD"),
        (0x9D27, "PASSBOOK_NOT_FED"),
    ] {
        assert!(
            spec().contains(&format!("{code:04X} {name}")),
            "{code:04X} {name} not in protocol.md"
        );
        assert_eq!(Sw::from_u16(code).spec_name(), name);
    }
}

#[test]
fn ins_table_of_protocol_md_agrees() {
    let rows = rows_between(&spec(), "### 4.1 Command table", "Reserved (no command)");
    let mut n = 0;
    for r in rows.iter().skip(1) {
        let code = r[0].as_str();
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_hexdigit()) {
            continue; // 70-7E, 80-8A ranges
        }
        let v = u8::from_str_radix(code, 16).unwrap();
        let ins = Ins::from_code(v);
        assert!(
            !matches!(ins, Ins::Other(_)),
            "INS {code} ({}) has no Ins variant",
            r[1]
        );
        let want = r[1]
            .replace(' ', "_")
            .replace("CHANGE_REFERENCE_DATA", "CHANGE_REF")
            .replace("_(CLA_00)", "");
        let got = format!("{ins:?}");
        let got_s: String = {
            let mut s = String::new();
            for (i, c) in got.chars().enumerate() {
                if c.is_ascii_uppercase()
                    && i > 0
                    && !got.as_bytes()[i - 1].is_ascii_uppercase()
                    && !got.as_bytes()[i - 1].is_ascii_digit()
                {
                    s.push('_');
                }
                s.push(c.to_ascii_uppercase());
            }
            s
        };
        assert_eq!(got_s, want, "INS {code}");
        assert_eq!(v % 2, 0, "INS {code} odd");
        assert!(
            !(0x60..=0x6F).contains(&v) && !(0x90..=0x9F).contains(&v),
            "INS {code} in 6x/9x"
        );
        n += 1;
    }
    assert!(n >= 22, "only {n} INS rows");
    // issue 4 table (12.1)
    let rows = rows_between(&spec(), "### 12.1 Codes reserved", "Packet types reserved");
    for r in rows.iter().skip(1) {
        if let Ok(v) = u8::from_str_radix(&r[0], 16) {
            assert!(
                !matches!(Ins::from_code(v), Ins::Other(_)),
                "reserved INS {} missing",
                r[0]
            );
        }
    }
}

#[test]
fn misc_values_of_protocol_md() {
    assert_eq!(
        consts::PURSE_AID.to_vec(),
        hex::decode("F0707572736501").unwrap()
    );
    assert_eq!(
        &consts::DEV_TK_AES[..],
        hex::decode("70757273652D6465762D7472616E7370").unwrap()
    );
    assert_eq!(consts::DEV_TK_TDES.len(), 24);
    assert!(Role::User.may_pay(Role::User));
    assert!(Role::Center.may_pay(Role::Region));
    assert!(!Role::User.may_pay(Role::Region));
    assert!(!Role::Admin.may_pay(Role::User));
    let allowed = [
        Role::Center,
        Role::Region,
        Role::Branch,
        Role::User,
        Role::Admin,
    ]
    .iter()
    .flat_map(|a| {
        [
            Role::Center,
            Role::Region,
            Role::Branch,
            Role::User,
            Role::Admin,
        ]
        .map(|b| (*a, b))
    })
    .filter(|(a, b)| a.may_pay(*b))
    .count();
    assert_eq!(allowed, 7, "FIG. 2 has 7 allowed pairs");
}

/// SYNC_CARD_S1's P1 forms (whole, first half, second half) and the card's W_P5 session state:
/// the values of protocol.md 4.1 (row 74) and 12.1 (session states).
#[test]
fn sync_card_s1_forms_of_protocol_md() {
    let rows = rows_between(&spec(), "### 4.1 Command table", "Reserved (no command)");
    let r = rows.iter().find(|r| r[0] == "74").expect("row 74 in 4.1");
    let p1: Vec<u8> = r[2]
        .split_whitespace()
        .next()
        .unwrap()
        .split('/')
        .map(|v| u8::from_str_radix(v, 16).unwrap())
        .collect();
    assert_eq!(
        p1,
        [consts::S1_WHOLE, consts::S1_DIGEST, consts::S1_P5],
        "{r:?}"
    );
    let spec = spec();
    let want = format!("{:02X} card W_P5", consts::SESSION_SYNC_CARD_W_P5);
    assert!(spec.contains(&want), "12.1 names session state {want}");
    // a state of its own among the sync and admin sessions (04 .. 0B)
    let others = [
        consts::SESSION_SYNC_CARD_W_S1,
        consts::SESSION_SYNC_BANK_W_P5,
        consts::SESSION_ADMIN_W_A1,
        consts::SESSION_BANK_W_A2,
        consts::SESSION_ADMIN_W_A4,
        consts::SESSION_BANK_W_A5,
        consts::SESSION_ADMIN_W_A6,
        consts::SESSION_PAYEE_W_P1,
        consts::SESSION_PAYER_W_P2P3,
        consts::SESSION_IDLE,
    ];
    assert!(!others.contains(&consts::SESSION_SYNC_CARD_W_P5));
}
