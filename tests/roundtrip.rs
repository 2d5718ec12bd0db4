//! Library-level figures through pcscd: APDU round trip (median of 200 SELECTs through
//! `Channel::send`), insert and pull times. One test in this binary: the PC/SC client library
//! reads PCSCLITE_CSOCK_NAME once per process.
use purse_testkit as kit;

use std::time::{Duration, Instant};

use kit::*;
use purse::apdu::{Channel, Command, Sw};
use purse::transport::Pcsc;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
fn apdu_round_trip_and_insert_pull_times() {
    let desk = TestDesk::start(2);
    desk.new_card("rt");
    let mut inserts = Vec::new();
    let mut pulls = Vec::new();
    for _ in 0..3 {
        inserts.push(
            desk.insert("rt", Some(0), false)["millis"]
                .as_u64()
                .expect("millis"),
        );
        pulls.push(desk.pull("0")["millis"].as_u64().expect("millis"));
    }
    desk.insert("rt", Some(0), false);

    std::env::set_var("PCSCLITE_CSOCK_NAME", desk.socket());
    let pcsc = Pcsc::establish().expect("establish");
    let reader = pcsc.select_reader(Some("0")).expect("reader");
    let mut ch = Channel::new(pcsc.connect(&reader).expect("connect"));
    let aid = hex::decode(HELLO_AID).unwrap();
    let select = Command::select(&aid);
    for _ in 0..20 {
        ch.send(&select).expect("warm-up");
    }
    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let r = ch.send(&select).expect("SELECT");
        times.push(t.elapsed());
        assert_eq!(r.sw, Sw::Ok);
    }
    let count = Command::new(0x80, 0x10, 0, 0);
    let mut ctimes = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let r = ch.send(&count).expect("COUNT");
        ctimes.push(t.elapsed());
        assert_eq!(r.sw, Sw::Ok);
    }
    let med = median(times.clone());
    let max = times.iter().max().copied().unwrap_or_default();
    println!("FIGURES insert ms {inserts:?}, pull ms {pulls:?}");
    println!("FIGURES SELECT round trip through pcscd: median {med:?}, max {max:?} (n=200)");
    println!(
        "FIGURES COUNT (persistent write + image save) median {:?} (n=50)",
        median(ctimes)
    );
    // figures, not a timing test (the FIGURES lines above; docs/benchmarks.md): the bounds only
    // catch a hang or a desk that stopped answering
    assert!(
        inserts.iter().chain(pulls.iter()).all(|&m| m < 10_000),
        "insert/pull hung: {inserts:?} {pulls:?}"
    );
    assert!(med < Duration::from_secs(1), "median round trip {med:?}");
}
