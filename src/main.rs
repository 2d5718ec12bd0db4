//! The `purse` binary: all of it is in `cli`.
mod cli;

fn main() {
    std::process::exit(cli::main());
}
