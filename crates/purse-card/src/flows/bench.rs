//! `purse bench transfer`: N transfers through the library flow (what `purse transfer` runs once
//! its two cards are open), with the APDUs of one transfer recorded, against two raw PC/SC
//! baselines of the same exchange (docs/benchmarks.md):
//!
//! - **raw relay**: the recorded command APDUs sent with bare `SCardTransmit` calls, the packets
//!   of the new transfer spliced in (no parsing, checks, tracing or status mapping): a real
//!   transfer, so the cards do exactly the same work. Timed interleaved with the purse
//!   transfers (same JIT and cache state on the card JVMs); the host's own cost is the
//!   difference.
//! - **replay**: the recorded APDUs of one transfer sent again byte for byte, status words
//!   ignored. The cards refuse replayed packets; two XFER_ABORT 00 (4 bytes each) after the
//!   replayed 42 and SELECT make each packet refused by a state check (6985 / 9D0C / 9D0B: no BAD_KEY,
//!   no state change). Refused packets skip the card's crypto: this is the transport floor for
//!   identical-size APDUs, not a card-work-equivalent baseline.
//!
//! Two untimed transfers (one purse, one raw relay) warm up first.
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::card::PurseCard;
use crate::proto::consts::Ins;
use crate::transport::CardIo;

use super::transfer::{self as xfer, RunOptions, Secrets, TransferError};

/// One recorded exchange.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub command: Vec<u8>,
    pub response_len: usize,
}

/// A [`CardIo`] that records every exchange while `on`.
pub struct Recorder<T: CardIo> {
    pub inner: T,
    pub log: Vec<Exchange>,
    pub on: bool,
}

impl<T: CardIo> Recorder<T> {
    pub fn new(inner: T) -> Self {
        Recorder {
            inner,
            log: Vec::new(),
            on: false,
        }
    }
}

impl<T: CardIo> CardIo for Recorder<T> {
    fn transmit(&mut self, apdu: &[u8]) -> crate::Result<Vec<u8>> {
        let r = self.inner.transmit(apdu)?;
        if self.on {
            self.log.push(Exchange {
                command: apdu.to_vec(),
                response_len: r.len(),
            });
        }
        Ok(r)
    }
}

/// Timing summary of one mode.
#[derive(Clone, Debug, Serialize)]
pub struct Timing {
    pub n: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub min_ms: f64,
    pub mean_ms: f64,
}

impl Timing {
    pub fn of(mut v: Vec<Duration>) -> Timing {
        v.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let n = v.len();
        if n == 0 {
            return Timing {
                n,
                median_ms: 0.0,
                p95_ms: 0.0,
                min_ms: 0.0,
                mean_ms: 0.0,
            };
        }
        let idx95 = ((n as f64 * 0.95).ceil() as usize).clamp(1, n) - 1;
        Timing {
            n,
            median_ms: ms(v[n / 2]),
            p95_ms: ms(v[idx95]),
            min_ms: ms(v[0]),
            mean_ms: v.iter().map(|d| ms(*d)).sum::<f64>() / n as f64,
        }
    }
}

/// APDU traffic of one transfer, as recorded.
#[derive(Clone, Debug, Serialize)]
pub struct Traffic {
    pub apdus: usize,
    pub command_bytes: usize,
    pub response_bytes: usize,
    /// Largest command APDU (header + Lc + data + Le).
    pub largest_command: usize,
    pub largest_response: usize,
    /// One line per APDU: card, INS, command length, response length.
    pub sequence: Vec<String>,
}

/// Results of [`run`].
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    pub transfers: usize,
    pub amount: u32,
    pub traffic: Traffic,
    pub purse: Timing,
    pub raw_relay: Option<Timing>,
    pub replay: Option<Timing>,
    /// purse median / raw relay median.
    pub ratio_relay: Option<f64>,
    /// purse median / replay median.
    pub ratio_replay: Option<f64>,
}

/// Which baselines to run.
#[derive(Clone, Copy, Debug)]
pub struct Baselines {
    pub relay: bool,
    pub replay: bool,
}

fn ins_of(cmd: &[u8]) -> u8 {
    cmd.get(1).copied().unwrap_or(0)
}

fn data_of(cmd: &[u8]) -> &[u8] {
    if cmd.len() > 5 {
        let lc = cmd[4] as usize;
        &cmd[5..(5 + lc).min(cmd.len())]
    } else {
        &[]
    }
}

fn with_data(cmd: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = cmd[..4].to_vec();
    v.push(data.len() as u8);
    v.extend_from_slice(data);
    v.push(0x00);
    v
}

/// Run `n` transfers of `amount` from `payer` to `payee` through the library flow, then the
/// baselines. `secrets` must hold what the amount needs (the bench verifies on every transfer,
/// as `purse transfer` does). The caller reads the card counters around the purse phase.
#[allow(clippy::too_many_arguments)]
pub fn run<A: CardIo, B: CardIo>(
    payer: &mut PurseCard<Recorder<A>>,
    payee: &mut PurseCard<Recorder<B>>,
    n: usize,
    amount: u32,
    date: u16,
    secrets: &Secrets,
    baselines: Baselines,
    mut between_phases: impl FnMut(&str),
) -> Result<BenchResult, TransferError> {
    let opts = RunOptions {
        auto_resume: false,
        expect_payee: None,
    };
    // 1. Record one transfer (also the first warm-up of both card JVMs); the caller may count
    //    the cards' operations of this one transfer between "record:start" and "record:end".
    between_phases("record:start");
    payer.channel().io().on = true;
    payee.channel().io().on = true;
    let recorded = xfer::transfer(payer, payee, amount, date, secrets, true, &opts);
    payer.channel().io().on = false;
    payee.channel().io().on = false;
    between_phases("record:end");
    recorded?;
    let la = std::mem::take(&mut payer.channel().io().log);
    let lb = std::mem::take(&mut payee.channel().io().log);
    // Rebuild the interleaved order of the flow: status payer, status / SELECT payee, VERIFYs on
    // payer, then 42 (payer), 44 (payee), 46 (payer), 48 (payee), 4A (payer).
    let seq = interleave(&la, &lb);
    let traffic = Traffic {
        apdus: seq.len(),
        command_bytes: seq.iter().map(|(_, e)| e.command.len()).sum(),
        response_bytes: seq.iter().map(|(_, e)| e.response_len).sum(),
        largest_command: seq.iter().map(|(_, e)| e.command.len()).max().unwrap_or(0),
        largest_response: seq.iter().map(|(_, e)| e.response_len).max().unwrap_or(0),
        sequence: seq
            .iter()
            .map(|(side, e)| {
                format!(
                    "{} INS {:02X}: command {} bytes, response {} bytes",
                    if *side == 'A' { "payer" } else { "payee" },
                    ins_of(&e.command),
                    e.command.len(),
                    e.response_len
                )
            })
            .collect(),
    };
    let relay_err = |e: String| TransferError::Card {
        step: xfer::Step::Setup,
        side: xfer::Side::Payer,
        err: crate::card::CardError::Invalid(format!("raw relay baseline failed: {e}")),
        money: xfer::MoneyState::Untouched,
        tid: None,
        resumed: None,
    };
    // 2. One more warm-up of each kind (untimed).
    xfer::transfer(payer, payee, amount, date, secrets, true, &opts)?;
    if baselines.relay {
        relay_once(payer, payee, &seq).map_err(relay_err)?;
    }
    // 3. Timed: purse and raw relay interleaved (same card work, same JIT state), counters
    //    read around this loop by the caller.
    let mut times = Vec::with_capacity(n);
    let mut relay_t = Vec::with_capacity(n);
    between_phases("timed:start");
    for _ in 0..n {
        let t = Instant::now();
        xfer::transfer(payer, payee, amount, date, secrets, true, &opts)?;
        times.push(t.elapsed());
        if baselines.relay {
            let start = Instant::now();
            let ok = relay_once(payer, payee, &seq);
            relay_t.push(start.elapsed());
            ok.map_err(relay_err)?;
        }
    }
    between_phases("timed:end");
    let raw_relay = if baselines.relay {
        Some(Timing::of(relay_t))
    } else {
        None
    };
    // 4. Replay: the recorded bytes again, SW ignored. Two XFER_ABORT 00 close the sessions
    //    the replayed INITs open, so that no replayed packet reaches a MAC check (no BAD_KEY).
    let mut replay = None;
    if baselines.replay {
        let order = replay_order(&seq);
        let mut t = Vec::with_capacity(n);
        for _ in 0..n {
            let start = Instant::now();
            for (side, cmd) in &order {
                let _ = if *side == 'A' {
                    payer.channel().io().inner.transmit(cmd)
                } else {
                    payee.channel().io().inner.transmit(cmd)
                };
            }
            t.push(start.elapsed());
        }
        replay = Some(Timing::of(t));
    }
    let purse = Timing::of(times);
    let ratio = |b: &Option<Timing>| b.as_ref().map(|b| purse.median_ms / b.median_ms);
    Ok(BenchResult {
        transfers: n,
        amount,
        traffic,
        ratio_relay: ratio(&raw_relay),
        ratio_replay: ratio(&replay),
        purse,
        raw_relay,
        replay,
    })
}

/// The flow's order: GET_STATUS payer, the payee's status (GET_STATUS or SELECT, if any), then
/// the payer's VERIFYs, then the five packet steps alternating payer/payee. Derived from the two
/// per-card logs (each in order).
fn interleave(la: &[Exchange], lb: &[Exchange]) -> Vec<(char, Exchange)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    // payer's GET_STATUS first, then the payee's
    let take_until = |log: &[Exchange],
                      k: &mut usize,
                      out: &mut Vec<(char, Exchange)>,
                      side: char,
                      stop: &[u8]| {
        while *k < log.len() && !stop.contains(&ins_of(&log[*k].command)) {
            out.push((side, log[*k].clone()));
            *k += 1;
        }
    };
    // payer: everything before 42 except VERIFY handled after the payee's status
    if i < la.len() && ins_of(&la[i].command) == Ins::GetStatus.code() {
        out.push(('A', la[i].clone()));
        i += 1;
    }
    take_until(lb, &mut j, &mut out, 'B', &[Ins::XferPayeeP1.code()]);
    take_until(la, &mut i, &mut out, 'A', &[Ins::XferPayerInit.code()]);
    // now alternate: payer 42, payee 44, payer 46, payee 48, payer 4A
    loop {
        let mut moved = false;
        if i < la.len() {
            out.push(('A', la[i].clone()));
            i += 1;
            moved = true;
        }
        if j < lb.len() {
            out.push(('B', lb[j].clone()));
            j += 1;
            moved = true;
        }
        if !moved {
            break;
        }
    }
    out
}

/// One transfer through bare transmits: the recorded commands, relayed packets spliced in.
fn relay_once<A: CardIo, B: CardIo>(
    payer: &mut PurseCard<Recorder<A>>,
    payee: &mut PurseCard<Recorder<B>>,
    seq: &[(char, Exchange)],
) -> Result<(), String> {
    let mut last: Vec<u8> = Vec::new();
    let mut hello: Vec<u8> = Vec::new();
    let mut sws = Vec::with_capacity(seq.len());
    // the payee's hello comes from its SELECT answer: a relay without one selects first
    let payee_selects = seq
        .iter()
        .any(|(s, e)| *s == 'B' && ins_of(&e.command) == Ins::Select.code());
    if !payee_selects {
        let sel = payee
            .channel()
            .io()
            .inner
            .transmit(
                &crate::apdu::Command::select(&crate::proto::consts::PURSE_AID)
                    .to_bytes()
                    .map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
        hello = sel;
    }
    let sel_len = crate::proto::consts::SELECT_RESP_LEN as usize;
    let oldest = crate::proto::consts::SEL_OLDEST as usize;
    for (side, e) in seq {
        let ins = ins_of(&e.command);
        let cmd = if ins == 0x44 {
            // AMOUNT | DATE as recorded, then the P1 just made
            let d = data_of(&e.command);
            let mut v = d[..d.len().min(6)].to_vec();
            v.extend_from_slice(&last[..last.len().saturating_sub(2)]);
            with_data(&e.command, &v)
        } else if [0x46u8, 0x48, 0x4A].contains(&ins) {
            with_data(&e.command, &last[..last.len().saturating_sub(2)])
        } else if ins == 0x42 {
            // peer SUITE | oldest | RP from the payee's SELECT answer
            let mut d = data_of(&e.command).to_vec();
            if d.len() == 16 && hello.len() >= sel_len {
                d[6] = hello[crate::proto::consts::ST_SUITE as usize];
                d[7..16].copy_from_slice(&hello[oldest..sel_len]);
            }
            with_data(&e.command, &d)
        } else {
            e.command.clone()
        };
        let r = if *side == 'A' {
            payer.channel().io().inner.transmit(&cmd)
        } else {
            payee.channel().io().inner.transmit(&cmd)
        }
        .map_err(|e| e.to_string())?;
        sws.push((ins, r.len()));
        if *side == 'B' && ins == Ins::Select.code() {
            hello = r.clone();
        }
        last = r;
    }
    // checked after timing-relevant work is done (cheap)
    if last.len() < 2 || last[last.len() - 2..] != [0x90, 0x00] {
        return Err(format!(
            "last answer {} (sequence {:?})",
            hex::encode_upper(&last),
            sws
        ));
    }
    Ok(())
}

/// Replay order (see module docs): the non-packet commands in flow order (SELECT or status,
/// VERIFY, 42), XFER_ABORT 00 on both cards, then the four packets in flow order: each is refused
/// by a state check (44/46: 6985 no session; 48: 9D0C already credited; 4A: 9D0B nothing pending).
fn replay_order(seq: &[(char, Exchange)]) -> Vec<(char, Vec<u8>)> {
    let packets = [0x44u8, 0x46, 0x48, 0x4A];
    let mut v: Vec<(char, Vec<u8>)> = seq
        .iter()
        .filter(|(_, e)| !packets.contains(&ins_of(&e.command)))
        .map(|(s, e)| (*s, e.command.clone()))
        .collect();
    let abort = vec![0x80, 0x4C, 0x00, 0x00];
    v.push(('B', abort.clone()));
    v.push(('A', abort));
    v.extend(
        seq.iter()
            .filter(|(_, e)| packets.contains(&ins_of(&e.command)))
            .map(|(s, e)| (*s, e.command.clone())),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(ins: u8) -> Exchange {
        Exchange {
            command: vec![0x80, ins, 0, 0],
            response_len: 2,
        }
    }

    #[test]
    fn interleave_follows_the_flow() {
        let la = vec![ex(0x30), ex(0x20), ex(0x42), ex(0x46), ex(0x4A)];
        let lb = vec![ex(0xA4), ex(0x44), ex(0x48)];
        let s: Vec<(char, u8)> = interleave(&la, &lb)
            .iter()
            .map(|(c, e)| (*c, ins_of(&e.command)))
            .collect();
        assert_eq!(
            s,
            vec![
                ('A', 0x30),
                ('B', 0xA4),
                ('A', 0x20),
                ('A', 0x42),
                ('B', 0x44),
                ('A', 0x46),
                ('B', 0x48),
                ('A', 0x4A)
            ]
        );
        let r: Vec<u8> = replay_order(&interleave(&la, &lb))
            .iter()
            .map(|(_, c)| c[1])
            .collect();
        assert_eq!(
            r,
            vec![0x30, 0xA4, 0x20, 0x42, 0x4C, 0x4C, 0x44, 0x46, 0x48, 0x4A]
        );
    }

    #[test]
    fn timing_percentiles() {
        let v: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        let t = Timing::of(v);
        assert_eq!(t.median_ms, 11.0);
        assert_eq!(t.p95_ms, 19.0);
    }
}
