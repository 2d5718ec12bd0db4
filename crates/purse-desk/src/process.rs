//! Small helpers for the desk's child processes (pcscd, virtual cards).
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid, Signal};

/// Is `pid` a live (not zombie) process whose command line contains `needle`?
/// The check on the command line guards against pid reuse after a reboot or a crash.
pub fn alive(pid: u32, needle: &str) -> bool {
    if pid == 0 {
        return false;
    }
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s,
        Err(_) => return false,
    };
    // state is the field after the parenthesised command name
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    if matches!(state, Some('Z') | Some('X') | None) {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(b) => {
            let cmd = String::from_utf8_lossy(&b).replace('\0', " ");
            needle.is_empty() || cmd.contains(needle)
        }
        Err(_) => false,
    }
}

fn signal(pid: u32, sig: Signal) -> bool {
    let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return false;
    };
    kill_process(p, sig).is_ok()
}

/// SIGKILL `pid` (a pulled card: no goodbye). True if the signal was sent.
pub fn kill(pid: u32) -> bool {
    signal(pid, Signal::KILL)
}

/// Wait until `pid` is gone (or a zombie); true if it went within `timeout`.
pub fn wait_gone(pid: u32, needle: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !alive(pid, needle) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Stop a process: SIGTERM, then SIGKILL after `grace`.
pub fn terminate(pid: u32, needle: &str, grace: Duration) -> bool {
    if !alive(pid, needle) {
        return true;
    }
    signal(pid, Signal::TERM);
    if wait_gone(pid, needle, grace) {
        return true;
    }
    signal(pid, Signal::KILL);
    wait_gone(pid, needle, Duration::from_secs(2))
}

/// The last `n` lines of a log file (for error messages).
pub fn log_tail(path: &Path, n: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(s) => {
            let lines: Vec<&str> = s.lines().collect();
            let start = lines.len().saturating_sub(n);
            lines[start..].join("\n")
        }
        Err(_) => String::new(),
    }
}

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}
