//! `purse demo [--desk DIR] [--keep] [--port P]`: the whole story on a fresh virtual desk (flows::demo).
//! `--desk DIR` (the global flag) names a fresh, empty directory for the demo's desk; default: a
//! temporary directory removed afterwards. `--keep` leaves the desk directory (stopped, with the
//! ledger) to look around.
use clap::Args;

use super::Cli;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the demo's desk directory (stopped, with its ledger) afterwards
    #[arg(long)]
    pub keep: bool,
    /// First vpcd port of the demo's desk (two ports; default: the first free from 40000), to
    /// run beside other desks; the desk directory is --desk DIR (default: a temporary one)
    #[arg(long)]
    pub port: Option<u16>,
}

pub fn run(cli: &Cli, a: &DemoArgs) -> anyhow::Result<i32> {
    // the demo runs its own desk: never a pcscd the user pointed us at
    std::env::remove_var("PCSCLITE_CSOCK_NAME");
    super::demo_run::run_demo(cli.desk.as_deref(), a.keep, a.port)
        .map_err(|e| anyhow::anyhow!("demo: {e}"))?;
    Ok(super::EXIT_OK)
}
