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

use super::common::{secret as read_secret, ENV_APPROVAL, ENV_PIN, ENV_TXKEY};
use super::Cli;

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// N card-to-card transfers, timed, with the raw PC/SC baseline
    Transfer(BenchTransferArgs),
    /// Run one purse command on the desk and estimate its time on real cards
    ///
    /// Counts every APDU the command sends to every desk card (its SELECTs and GET_STATUS
    /// included) and prices the counted card operations with the per-chip table of
    /// docs/cost-profiles.json. Example: `purse bench run -- transfer --from R1 --to R0 0.01 --yes`
    Run(BenchRunArgs),
}

#[derive(Args, Debug)]
pub struct BenchRunArgs {
    /// Name of the flow in the output (default: the command line)
    #[arg(long)]
    pub label: Option<String>,
    /// Times to run the command (the estimate is per run; the desk time is the median)
    #[arg(short = 'n', long, default_value_t = 1)]
    pub n: usize,
    /// The purse command and its arguments (after `--`)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
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

const COUNTERS: [&str; 5] = [
    "apdus",
    "persistentWrites",
    "bytesWritten",
    "transactions",
    "cryptoOps",
];

fn counters(desk: &Option<Desk>, card: &Option<String>) -> Option<serde_json::Value> {
    let (d, c) = (desk.as_ref()?, card.as_ref()?);
    d.info(c).ok().map(|v| v["counters"].clone())
}

fn delta(
    a: &Option<serde_json::Value>,
    b: &Option<serde_json::Value>,
    n: usize,
) -> serde_json::Value {
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
    let a = match cmd {
        BenchCmd::Transfer(a) => a,
        BenchCmd::Run(r) => return run_cost(cli, r),
    };
    if a.n == 0 {
        return Err(super::usage("-n must be at least 1"));
    }
    let pcsc = Pcsc::establish()?;
    let ra = purse::card::select_reader(&pcsc, Some(&a.from))?;
    let rb = purse::card::select_reader(&pcsc, Some(&a.to))?;
    if ra == rb {
        return Err(super::usage(format!(
            "--from and --to name the same reader ({ra})"
        )));
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
        secrets.txkey = Some(read_secret(
            ENV_TXKEY,
            "transaction key of the paying card",
        )?);
    }
    if ps.role == purse::proto::consts::Role::Center {
        secrets.approval = Some(read_secret(ENV_APPROVAL, "center approval secret")?);
    }
    let mut snaps: Vec<(String, Option<serde_json::Value>, Option<serde_json::Value>)> = Vec::new();
    // the recorded transfer's per-APDU card operations, for the real-card estimate
    let mut ops_log: Option<purse::flows::cost::OpsLog> = None;
    let mut recorded_ops: Option<Vec<purse::flows::cost::ApduOps>> = None;
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
        |phase| match phase {
            "record:start" => {
                ops_log = desk
                    .as_ref()
                    .and_then(|d| purse::flows::cost::OpsLog::start(d).ok())
            }
            "record:end" => recorded_ops = ops_log.take().and_then(|l| l.take().ok()),
            _ => snaps.push((
                phase.to_string(),
                counters(&desk, &na),
                counters(&desk, &nb),
            )),
        },
    );
    let profiles = purse::flows::cost::Profiles::builtin()?;
    let estimates: Vec<purse::flows::cost::ChipEstimate> = match &recorded_ops {
        Some(ops) if !ops.is_empty() => profiles
            .chips
            .iter()
            .map(|c| purse::flows::cost::estimate(&profiles, c, ops))
            .collect(),
        _ => Vec::new(),
    };
    let r = r?;
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
            "real_card_estimate": estimates,
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
    for e in &estimates {
        println!(
            "estimated on {} (library flow, one transfer; transport {} ms/APDU + {} ms/B): {:.0} ms (range {:.0} .. {:.0} ms){}",
            e.chip,
            profiles.transport.apdu_ms,
            profiles.transport.byte_ms,
            e.total_ms,
            e.range_ms.0,
            e.range_ms.1,
            e.largest
                .as_ref()
                .map(|l| format!("; largest APDU: INS {} {:.0} ms", l.ins, l.total_ms))
                .unwrap_or_default()
        );
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

fn run_cost(cli: &Cli, a: &BenchRunArgs) -> anyhow::Result<i32> {
    use purse::flows::cost::{self, OpsLog, Profiles};
    if a.n == 0 {
        return Err(super::usage("-n must be at least 1"));
    }
    if a.args.first().is_some_and(|c| c == "bench") {
        return Err(super::usage("`purse bench run` cannot measure itself"));
    }
    let profiles = Profiles::builtin()?;
    let desk = Desk::resolve(cli.desk.as_deref())?;
    let exe = std::env::current_exe()?;
    let label = a.label.clone().unwrap_or_else(|| {
        a.args
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    });
    let mut times = Vec::new();
    let mut apdus = Vec::new();
    let mut outputs = Vec::new();
    let mut code = 0;
    for _ in 0..a.n {
        let log = OpsLog::start(&desk)?;
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("--desk").arg(desk.dir());
        if cli.system_pcscd {
            cmd.arg("--system-pcscd");
        }
        if let Some(r) = &cli.reader {
            cmd.arg("--reader").arg(r);
        }
        cmd.args(&a.args);
        let t0 = std::time::Instant::now();
        let out = cmd.stdin(std::process::Stdio::inherit()).output()?;
        times.push(t0.elapsed());
        apdus.extend(log.take()?);
        code = out.status.code().unwrap_or(1);
        outputs.push(out);
        if code != 0 {
            break;
        }
    }
    let runs = times.len();
    let timing = bench::Timing::of(times);
    // per run: the counts and estimates are of all runs divided by the runs
    let est: Vec<cost::ChipEstimate> = profiles
        .chips
        .iter()
        .map(|c| cost::estimate(&profiles, c, &apdus))
        .collect();
    let counts = cost::counts(&apdus);
    let per = runs as f64;
    if cli.json {
        let doc = serde_json::json!({
            "version": 1,
            "flow": label,
            "command": a.args,
            "runs": runs,
            "exit_code": code,
            "desk_ms": timing,
            "transport": { "default": profiles.transport, "fast": profiles.fast, "slow": profiles.slow },
            "per_run": runs == 1,
            "counts": counts,
            "estimates": est,
        });
        if code != 0 {
            // the measured command failed: its exit code, passed through
            use purse::error::Kind;
            let kind = match code {
                2 => Kind::Invalid,
                3 => Kind::NoCard,
                4 => Kind::Refused,
                _ => Kind::Other,
            };
            let mut r = super::report::Report::new(
                kind,
                format!("the measured command exited with {code}"),
            );
            r.exit = code;
            return super::report::print_failed_report(true, &doc, r);
        }
        super::print_json(&doc)?;
        return Ok(super::EXIT_OK);
    }
    if let Some(o) = outputs.last() {
        let so = String::from_utf8_lossy(&o.stdout);
        let se = String::from_utf8_lossy(&o.stderr);
        for l in so.lines().chain(se.lines()) {
            println!("  | {l}");
        }
    }
    println!(
        "purse bench run ({label}): `purse {}` x{runs}, exit {code}, desk wall clock median {:.1} ms (process start, PC/SC connect and the desk cards' work)",
        if a.args.len() > 12 {
            format!("{} ... ({} arguments)", a.args[..12].join(" "), a.args.len())
        } else {
            a.args.join(" ")
        },
        timing.median_ms
    );
    println!(
        "counted on the desk cards{}:",
        if runs > 1 { " (all runs)" } else { "" }
    );
    println!(
        "  {:<10} {:>5} {:>6} {:>6} {:>6} {:>5} {:>7} {:>7} {:>5} {:>6} {:>7} {:>3} {:>4}",
        "card",
        "APDUs",
        "in B",
        "out B",
        "setKey",
        "init",
        "doFinal",
        "blocks",
        "rand",
        "writes",
        "bytes",
        "tx",
        "cmp"
    );
    for c in &counts {
        println!(
            "  {:<10} {:>5} {:>6} {:>6} {:>6} {:>5} {:>7} {:>7} {:>5} {:>6} {:>7} {:>3} {:>4}",
            c.card,
            c.apdus,
            c.bytes_in,
            c.bytes_out,
            c.set_key,
            c.cipher_init,
            c.cipher_calls,
            c.cipher_blocks,
            c.random_calls,
            c.writes,
            c.bytes_written,
            c.transactions,
            c.array_compare
        );
    }
    if runs == 1 {
        for c in &counts {
            let seq: Vec<&str> = apdus
                .iter()
                .filter(|x| x.card == c.card)
                .map(|x| x.ins.as_str())
                .collect();
            if seq.len() <= 40 {
                println!("  {} INS: {}", c.card, seq.join(" "));
            }
        }
    }
    let t = profiles.transport;
    println!(
        "estimated on real cards, per run (transport {} ms/APDU + {} ms/B; range {} ms + {} ms/B .. {} ms + {} ms/B):",
        t.apdu_ms, t.byte_ms, profiles.fast.apdu_ms, profiles.fast.byte_ms, profiles.slow.apdu_ms, profiles.slow.byte_ms
    );
    println!(
        "  {:<7} {:<10} {:>5} {:>8} {:>7} {:>7} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>6} {:>9}",
        "chip",
        "card",
        "APDUs",
        "transp",
        "bytes",
        "setKey",
        "init",
        "cipher",
        "digest",
        "random",
        "writes",
        "commit",
        "cmp",
        "total ms"
    );
    let row = |chip: &str, card: &str, n: f64, x: &cost::Terms| {
        println!(
            "  {:<7} {:<10} {:>5.0} {:>8.1} {:>7.1} {:>7.1} {:>8.1} {:>8.1} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>6.1} {:>9.1}",
            chip, card, n / per, x.transport_ms / per, x.bytes_ms / per, x.set_key_ms / per, x.init_ms / per,
            x.cipher_ms / per, x.digest_ms / per, x.random_ms / per, x.write_ms / per, x.commit_ms / per, x.compare_ms / per,
            x.total() / per
        )
    };
    for e in &est {
        for c in &e.cards {
            row(&e.chip, &c.card, c.apdus as f64, &c.terms);
        }
        row(
            &e.chip,
            "all",
            e.cards.iter().map(|c| c.apdus).sum::<usize>() as f64,
            &e.terms,
        );
    }
    for e in &est {
        print!(
            "  {}: {:.0} ms per run (range {:.0} .. {:.0} ms)",
            e.chip,
            e.total_ms / per,
            e.range_ms.0 / per,
            e.range_ms.1 / per
        );
        if let Some(l) = &e.largest {
            print!(
                "; largest APDU: {} INS {} ({} B in, {} B out) {:.0} ms",
                l.card, l.ins, l.bytes_in, l.bytes_out, l.total_ms
            );
        }
        if e.uncosted_ops > 0 {
            print!("; {} MAC/digest calls not costed", e.uncosted_ops);
        }
        println!();
    }
    Ok(if code == 0 { super::EXIT_OK } else { code })
}
