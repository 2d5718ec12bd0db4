//! The `purse` binary: all of it is in `cli`.
mod cli;

fn main() {
    let code = match cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("purse: error: {e:#}");
            cli::exit_code(&e)
        }
    };
    std::process::exit(code);
}
