//! The real-card cost model through the real path (docs/benchmarks.md "Real-card estimate"):
//! a desk card running the purse applet counts its operations per APDU (`purse desk info`,
//! the IMAGE.ops log), and `purse bench run` prices exactly what it counted. Not a timed test:
//! it checks the counts and that the estimate is the sum of its terms and of its APDUs.
use purse_testkit as kit;

use kit::TestDesk;
use purse::flows::cost::{apdu_terms, ApduOps, Profiles};
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn bench_run_counts_and_prices_what_the_card_did() {
    let d = TestDesk::start(1);
    d.ok(&[
        "desk",
        "new",
        "c",
        "--applet",
        "org.purse.applet.Purse",
        "--aid",
        "F0707572736501",
    ]);
    let reader = d.insert("c", Some(0), false)["reader"]
        .as_str()
        .unwrap()
        .to_string();
    // genesis through bench run: every APDU of the CLI command, counted on the card
    let mut g = d.cmd();
    g.envs([
        ("PURSE_PIN", "1234"),
        ("PURSE_TXKEY", "tx-key-1"),
        ("PURSE_CREATION_SECRET", "create-money"),
        ("PURSE_APPROVAL_SECRET", "approve-it"),
    ]);
    g.args([
        "--json", "bench", "run", "--label", "genesis", "--", "--reader", &reader,
    ]);
    g.args([
        "genesis",
        "--name",
        "BANK",
        "--currency",
        "EUR",
        "--decimals",
        "2",
    ]);
    let o = g.output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "genesis: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["flow"], "genesis");
    let counts = v["counts"].as_array().unwrap();
    assert_eq!(counts.len(), 1, "{v}");
    let c = &counts[0];
    assert_eq!(c["card"], "c");
    assert!(
        c["apdus"].as_u64().unwrap() >= 3,
        "SELECT, GET_STATUS, auth: {v}"
    );
    for k in [
        "set_key",
        "cipher_init",
        "cipher_calls",
        "cipher_blocks",
        "random_calls",
        "writes",
    ] {
        assert!(c[k].as_u64().unwrap() >= 1, "{k}: {v}");
    }
    assert_eq!(
        c["transactions"], 1,
        "genesis personalises in one transaction: {v}"
    );
    // the ops logs are gone afterwards
    let cards: Value = serde_json::from_str::<Value>(&d.ok(&["--json", "desk", "cards"])).unwrap()
        ["cards"]
        .clone();
    let img = cards[0]["image"].as_str().unwrap();
    assert!(!std::path::Path::new(&format!("{img}.ops")).exists());

    // desk info: the cumulative counters carry the per-operation counts
    let info: Value = serde_json::from_str(&d.ok(&["desk", "info", "c"])).unwrap();
    let ops = &info["counters"]["ops"];
    assert!(
        ops["cipher.init.AES_CBC"].as_u64().unwrap_or(0) > 0,
        "{info}"
    );
    assert!(ops["random.bytes"].as_u64().unwrap_or(0) >= 16, "{info}");
    assert!(
        info["counters"]["bytesIn"].as_u64().unwrap_or(0) > 0,
        "{info}"
    );
    // RAM budget of a card (issue: <= 1 KB incl. transient keys): the suite in use only
    let ram = info["transientBytes"].as_u64().unwrap_or(0);
    eprintln!("transient RAM after genesis: {ram} bytes");
    assert!(ram > 0 && ram <= 1024, "transient RAM {ram} B: {info}");

    let p = Profiles::builtin().unwrap();
    for e in v["estimates"].as_array().unwrap() {
        let t = &e["terms"];
        let sum: f64 = [
            "transport_ms",
            "bytes_ms",
            "set_key_ms",
            "init_ms",
            "cipher_ms",
            "random_ms",
            "write_ms",
            "commit_ms",
            "compare_ms",
        ]
        .iter()
        .map(|k| f(&t[*k]))
        .sum();
        assert!((sum - f(&e["total_ms"])).abs() < 1e-6, "terms add up: {e}");
        assert!(
            (f(&t["transport_ms"]) - c["apdus"].as_u64().unwrap() as f64 * p.transport.apdu_ms)
                .abs()
                < 1e-9,
            "{e}"
        );
        let bytes = c["bytes_in"].as_u64().unwrap() + c["bytes_out"].as_u64().unwrap();
        assert!(
            (f(&t["bytes_ms"]) - bytes as f64 * p.transport.byte_ms).abs() < 1e-9,
            "{e}"
        );
        let card_sum: f64 = e["cards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| f(&x["total_ms"]))
            .sum();
        assert!((card_sum - f(&e["total_ms"])).abs() < 1e-6, "{e}");
        assert!(f(&e["largest"]["total_ms"]) <= f(&e["total_ms"]));
        assert!(
            f(&e["range_ms"][0]) <= f(&e["total_ms"]) && f(&e["total_ms"]) <= f(&e["range_ms"][1])
        );
        // an APDU priced by the library from counts of the same shape gives the same figure
        let chip = p
            .chips
            .iter()
            .find(|x| x.id == e["chip"].as_str().unwrap())
            .unwrap();
        let a = ApduOps::from_counters("c", "30", "9000", &serde_json::json!({"bytesIn": 5}));
        assert!(
            (apdu_terms(chip, p.transport, &a).total()
                - (p.transport.apdu_ms + 5.0 * p.transport.byte_ms))
                .abs()
                < 1e-9
        );
    }
}
