//! `purse transfer --from R --to R AMOUNT`: FIG. 3 set-up (both holders confirm amount and
//! direction, the payer's secrets are typed) then the FIG. 4 + ACK flow of protocol.md 6.1,
//! both cards held for the whole flow.
use std::io::{BufRead, Write};

use clap::Args;

use purse::flows::transfer::{self as xfer, RunOptions, Secrets, TransferError};
use purse::proto::types::{format_amount, parse_amount, parse_date, today, Account};
use purse::transport::Pcsc;

use super::common::{open_card, secret, ENV_APPROVAL, ENV_PIN, ENV_TXKEY};
use super::{usage, Cli};

#[derive(Args, Debug)]
pub struct TransferArgs {
    /// Reader of the paying card (index as listed by `purse readers`, or a name substring)
    #[arg(long, value_name = "R")]
    pub from: String,
    /// Reader of the receiving card
    #[arg(long, value_name = "R")]
    pub to: String,
    /// Amount in the cards' currency, e.g. 12.50
    pub amount: String,
    /// Do not ask the two holders to confirm (scripts). Secrets still come from PURSE_PIN,
    /// PURSE_TXKEY, PURSE_APPROVAL_SECRET or a prompt.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Date written in both passbooks (YYYY-MM-DD; default: today, UTC)
    #[arg(long)]
    pub date: Option<String>,
    /// Abort unless the receiving card has this account number
    #[arg(long, value_name = "ACCOUNT")]
    pub expect_account: Option<String>,
    /// After a failure, do not finish the transfer automatically (leave it to `purse resume`)
    #[arg(long)]
    pub no_resume: bool,
    /// Skip the host's early checks and let the cards refuse (for testing the cards)
    #[arg(long, hide = true)]
    pub no_precheck: bool,
}

/// One holder states the amount (FIG. 3): returns true if it equals `amount`.
fn confirm(
    input: &mut dyn BufRead,
    who: &str,
    text: &str,
    amount: u32,
    decimals: u8,
) -> anyhow::Result<bool> {
    eprint!("{who}: {text}\n  type the amount to confirm (empty = cancel): ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        anyhow::bail!("{who} did not confirm (no input); scripts pass --yes");
    }
    let line = line.trim();
    if line.is_empty() {
        return Ok(false);
    }
    match parse_amount(line, decimals) {
        Ok(v) if v == amount => Ok(true),
        Ok(v) => {
            eprintln!(
                "  {who} typed {}, not {}",
                format_amount(v, decimals),
                format_amount(amount, decimals)
            );
            Ok(false)
        }
        Err(e) => {
            eprintln!("  {e}");
            Ok(false)
        }
    }
}

pub fn run(cli: &Cli, a: &TransferArgs) -> anyhow::Result<i32> {
    let date = match &a.date {
        Some(d) => parse_date(d)?,
        None => today(),
    };
    let expect = a
        .expect_account
        .as_deref()
        .map(Account::parse)
        .transpose()?;
    let pcsc = Pcsc::establish()?;
    let mut payer = open_card(&pcsc, Some(&a.from))?;
    let mut payee = open_card(&pcsc, Some(&a.to))?;
    if payer.reader == payee.reader {
        return Err(usage(format!(
            "--from and --to name the same reader ({})",
            payer.reader
        )));
    }
    // Status of both (public), to parse the amount in the cards' currency and show the holders
    // who pays whom. No money command yet.
    let st = payer
        .get_status()
        .map_err(|e| anyhow::Error::new(e).context(payer.reader.clone()))?;
    let amount = parse_amount(&a.amount, st.currency.decimals)?;
    let plan = xfer::plan_with_payer_status(st, &mut payee, amount, date)?;
    if !a.no_precheck {
        let probs = plan.problems();
        if !probs.is_empty() {
            return Err(TransferError::Precheck(probs).into());
        }
    }
    let amt = plan.amount_str();
    let (p, q) = (&plan.payer, &plan.payee);
    // FIG. 3: both holders state the amount and direction before any card is asked to move money.
    if !a.yes {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let dec = p.currency.decimals;
        let payer_ok = confirm(
            &mut input,
            &format!("PAYER {} ({}, {})", p.name, p.account, payer.reader),
            &format!("you PAY {amt} to {} ({})", q.name, q.account),
            amount,
            dec,
        )?;
        if !payer_ok {
            return Err(
                TransferError::NotConfirmed("the payer's holder did not confirm".into()).into(),
            );
        }
        let payee_ok = confirm(
            &mut input,
            &format!("PAYEE {} ({}, {})", q.name, q.account, payee.reader),
            &format!("you RECEIVE {amt} from {} ({})", p.name, p.account),
            amount,
            dec,
        )?;
        if !payee_ok {
            return Err(TransferError::NotConfirmed(
                "the payee's holder did not confirm the same amount".into(),
            )
            .into());
        }
    }
    let secrets = plan_secrets(&plan)?;
    let opts = RunOptions {
        auto_resume: !a.no_resume,
        expect_payee: expect,
    };
    match xfer::execute(&mut payer, &mut payee, &plan, &secrets, &opts) {
        Ok(r) => {
            if cli.json {
                super::print_json(&serde_json::json!({
                    "transfer": report_json(&r, plan.payer.currency.decimals)
                }))?;
            } else {
                let dec = plan.payer.currency.decimals;
                let cur = plan.payer.currency.code();
                println!(
                    "transferred {} from {} ({}) to {} ({}), transfer {}",
                    r.amount_str,
                    r.payer_name,
                    r.payer_account,
                    r.payee_name,
                    r.payee_account,
                    hex::encode_upper(r.tid)
                );
                println!(
                    "balances: {} {} {cur}, {} {} {cur}",
                    r.payer_name,
                    format_amount(r.payer_balance, dec),
                    r.payee_name,
                    format_amount(r.payee_balance, dec)
                );
            }
            Ok(super::EXIT_OK)
        }
        Err(e) => Err(e.into()),
    }
}

/// A completed transfer as JSON: amounts as a decimal string plus `_minor` units.
pub(crate) fn report_json(r: &xfer::TransferReport, decimals: u8) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("tid".into(), hex::encode_upper(r.tid).into());
    super::report::amount(&mut m, "amount", Some(r.amount), decimals);
    m.insert("payer_account".into(), serde_json::json!(r.payer_account));
    m.insert("payer_name".into(), r.payer_name.clone().into());
    super::report::amount(&mut m, "payer_balance", Some(r.payer_balance), decimals);
    m.insert("payee_account".into(), serde_json::json!(r.payee_account));
    m.insert("payee_name".into(), r.payee_name.clone().into());
    super::report::amount(&mut m, "payee_balance", Some(r.payee_balance), decimals);
    m.insert("keynum".into(), r.keynum.into());
    serde_json::Value::Object(m)
}

/// The payer holder's secrets that `plan` needs (PIN above MIN_TRANS, transaction key above
/// MAX_TRANS, approval for a center payout): from the environment or typed without echo.
pub(crate) fn plan_secrets(plan: &xfer::Plan) -> anyhow::Result<Secrets> {
    let p = &plan.payer;
    let mut secrets = Secrets::default();
    if plan.needs_pin {
        secrets.pin = Some(secret(
            ENV_PIN,
            &format!(
                "PIN of the paying card {} (amount above {})",
                p.name,
                p.amount(p.min_trans)
            ),
        )?);
    }
    if plan.needs_txkey {
        secrets.txkey = Some(secret(
            ENV_TXKEY,
            &format!(
                "transaction key of {} (amount above {})",
                p.name,
                p.amount(p.max_trans)
            ),
        )?);
    }
    if plan.needs_approval {
        secrets.approval = Some(secret(ENV_APPROVAL, "center approval secret")?);
    }
    Ok(secrets)
}
