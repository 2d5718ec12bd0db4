//! `purse desk ...`
use clap::Subcommand;

use purse::desk::{Desk, StartOptions, KNOWN_APPLETS};

use super::Cli;

#[derive(Subcommand, Debug)]
pub enum DeskCmd {
    /// Start the desk's own pcscd with virtual reader slots (isolated from USB readers)
    Start {
        /// Number of reader slots (rounded up to even: each vpcd entry gives two)
        #[arg(long)]
        slots: Option<usize>,
        /// First vpcd port (default: first free from 40000)
        #[arg(long)]
        port: Option<u16>,
    },
    /// Pull every card and stop the desk's pcscd (card images stay)
    Stop,
    /// pcscd pid, socket, and the card in each slot
    Status,
    /// Create a blank virtual card with the purse applet installed (or another applet)
    New {
        name: String,
        /// Applet: `purse` (the default, the money applet), `purse-user` (the user-card applet:
        /// user cards only, no bank-role code, as purse-user.cap), `hello` (the desk's test
        /// applet), or a class name (then give --aid)
        #[arg(long, default_value = "purse", value_name = "CLASS")]
        applet: String,
        /// Applet instance AID (hex; default: the AID of `purse` / `purse-user` / `hello`)
        #[arg(long)]
        aid: Option<String>,
        /// Install parameters (hex)
        #[arg(long)]
        params: Option<String>,
    },
    /// Insert a card into a slot (first free slot by default)
    Insert {
        name: String,
        #[arg(long)]
        slot: Option<usize>,
        /// The card answers T=0 style (61xx / 6Cxx)
        #[arg(long)]
        t0: bool,
    },
    /// Pull the card out of a slot (by slot number or card name)
    Pull { target: String },
    /// List card images and where they are
    Cards,
    /// Arm power loss at the K-th persistent write the card makes from now on (the next command
    /// that writes), optionally counting only APDUs of one instruction; stays armed until it
    /// fires (see `desk info NAME` / `desk cards`: where it fired); K = 0 disarms
    Tear {
        name: String,
        k: u32,
        /// Count only the writes of APDUs with this instruction byte (hex, e.g. 46)
        #[arg(long, value_name = "HEX", value_parser = parse_ins)]
        ins: Option<u8>,
    },
    /// The card's counters and applets (JSON, from the desk jar)
    Info { name: String },
    /// Print reader.conf entries to add the desk's slots to a system pcscd
    Conf,
}

pub fn run(cli: &Cli, desk: &Desk, cmd: &DeskCmd) -> anyhow::Result<i32> {
    let json = cli.json;
    match cmd {
        DeskCmd::Start { slots, port } => {
            let st = desk.start(&StartOptions {
                slots: *slots,
                port: *port,
            })?;
            if json {
                super::print_json(&st)?;
            } else {
                println!(
                    "desk started in {} (pcscd pid {})",
                    desk.dir().display(),
                    st.pcscd_pid
                );
                println!("socket: {}", st.socket.display());
                for s in &st.slots {
                    println!("slot {}: {} (port {})", s.index, s.reader, s.port);
                }
                println!(
                    "other PC/SC programs: export PCSCLITE_CSOCK_NAME={}",
                    st.socket.display()
                );
            }
        }
        DeskCmd::Stop => {
            let was = desk.stop()?;
            if json {
                super::print_json(&serde_json::json!({ "stopped": was }))?;
            } else if was {
                println!("desk stopped");
            } else {
                println!("no desk was running in {}", desk.dir().display());
            }
        }
        DeskCmd::Status => {
            let st = desk.status()?;
            if json {
                super::print_json(&st)?;
            } else if !st.running {
                println!("desk {}: not running", st.dir.display());
            } else {
                println!(
                    "desk {}: running, pcscd pid {}",
                    st.dir.display(),
                    st.pcscd_pid.unwrap_or(0)
                );
                if let Some(s) = &st.socket {
                    println!("socket: {}", s.display());
                }
                for s in &st.slots {
                    let card = match (&s.slot.card, s.card_alive) {
                        (Some(c), true) => format!("card {c} (pid {})", s.slot.pid.unwrap_or(0)),
                        (Some(c), false) => format!("card {c} (process gone)"),
                        (None, _) => "empty".to_string(),
                    };
                    println!(
                        "slot {}: {:<20} port {}  {card}{}",
                        s.slot.index,
                        s.slot.reader,
                        s.slot.port,
                        if s.slot.t0 { " T=0" } else { "" }
                    );
                }
            }
        }
        DeskCmd::New {
            name,
            applet,
            aid,
            params,
        } => {
            let (applet, aid, variant) = applet_spec(applet, aid.as_deref())?;
            let (applet, aid) = (&applet, &aid);
            let fresh = !desk.dir().exists();
            let img = desk.new_card_variant(name, applet, aid, params.as_deref(), variant)?;
            if fresh && !json {
                println!(
                    "created the desk directory {} (start its readers: `purse desk start`)",
                    desk.dir().display()
                );
            }
            if json {
                super::print_json(&serde_json::json!({
                    "card": name, "image": img, "applet": applet, "aid": aid, "variant": variant
                }))?;
            } else {
                println!(
                    "card {name} created: {} ({applet}{}, AID {aid})",
                    img.display(),
                    variant_text(variant)
                );
            }
        }
        DeskCmd::Insert { name, slot, t0 } => {
            let r = desk.insert(name, *slot, *t0)?;
            if json {
                super::print_json(&r)?;
            } else {
                println!(
                    "card {} inserted in slot {} ({}) in {} ms",
                    r.card, r.slot, r.reader, r.millis
                );
            }
        }
        DeskCmd::Pull { target } => {
            let r = desk.pull(target)?;
            if json {
                super::print_json(&r)?;
            } else {
                println!(
                    "card {} pulled from slot {} ({}) in {} ms",
                    r.card, r.slot, r.reader, r.millis
                );
            }
        }
        DeskCmd::Cards => {
            let cards = desk.cards()?;
            if json {
                super::print_json(&serde_json::json!({ "cards": cards }))?;
            } else if cards.is_empty() {
                println!("no cards in {}", desk.cards_dir().display());
            } else {
                for c in &cards {
                    let place = c
                        .slot
                        .map(|s| format!("slot {s}"))
                        .unwrap_or_else(|| "out".into());
                    let tear = match (&c.tear, &c.tear_fired) {
                        (Some(k), _) => format!("  tear armed at write {k}"),
                        (None, Some(f)) => format!(
                            "  tear fired at write {} of APDU {} (header {})",
                            f["k"],
                            f["apdu_number"],
                            f["apdu_header"].as_str().unwrap_or("?")
                        ),
                        (None, None) => String::new(),
                    };
                    println!(
                        "{:<20} {place}{}{tear}",
                        c.name,
                        variant_text(c.variant.as_deref())
                    );
                }
            }
        }
        DeskCmd::Tear { name, k, ins } => {
            let p = desk.tear(name, *k, *ins)?;
            let ins_hex = ins.map(|i| format!("{i:02X}"));
            if json {
                super::print_json(
                    &serde_json::json!({ "card": name, "k": k, "ins": ins_hex, "file": p }),
                )?;
            } else if *k == 0 {
                println!("card {name}: tear disarmed");
            } else {
                println!(
                    "card {name} loses power at persistent write {k}{} from now on; armed until \
                     it fires (`purse desk info {name}` says where)",
                    ins_hex
                        .map(|i| format!(" of APDUs with INS {i}"))
                        .unwrap_or_default(),
                );
            }
        }
        DeskCmd::Info { name } => {
            let v = desk.info(name)?;
            super::print_json(&v)?;
        }
        DeskCmd::Conf => {
            if desk.load_state()?.is_none() {
                eprintln!(
                    "purse: note: the desk in {} was never started: these entries use the \
                     default ports {}..{} (`purse desk start --port P` picks others; run \
                     `purse desk conf` again after it)",
                    desk.dir().display(),
                    purse::desk::DEFAULT_BASE_PORT,
                    purse::desk::DEFAULT_BASE_PORT as usize + purse::desk::DEFAULT_SLOTS - 1
                );
            }
            print!("{}", desk.conf()?);
        }
    }
    Ok(super::EXIT_OK)
}

/// `--applet` / `--aid` of `desk new`: the short names and the known classes get their AID
/// (and the build of their classes: `purse-user`).
fn applet_spec(
    applet: &str,
    aid: Option<&str>,
) -> anyhow::Result<(String, String, Option<&'static str>)> {
    let known = KNOWN_APPLETS.into_iter().find(|s| {
        applet.eq_ignore_ascii_case(s.name) || (applet == s.class && s.variant.is_none())
    });
    match (known, aid) {
        (Some(s), None) => Ok((s.class.to_string(), s.aid.to_string(), s.variant)),
        (Some(s), Some(a)) => Ok((s.class.to_string(), a.to_string(), s.variant)),
        (None, Some(a)) => Ok((applet.to_string(), a.to_string(), None)),
        (None, None) => Err(super::usage(format!(
            "applet {applet:?} is not `purse`, `purse-user` or `hello`: give its instance AID with --aid HEX"
        ))),
    }
}

/// ", user-card applet" for a card of the `user` build (desk new, desk cards).
fn variant_text(variant: Option<&str>) -> String {
    match variant {
        None => String::new(),
        Some("user") => ", user-card applet (purse-user)".to_string(),
        Some(v) => format!(", applet build {v}"),
    }
}

fn parse_ins(s: &str) -> Result<u8, String> {
    let t = s.trim_start_matches("0x").trim_start_matches("0X");
    u8::from_str_radix(t, 16)
        .map_err(|_| format!("{s:?} is not an instruction byte (hex, e.g. 46)"))
}
