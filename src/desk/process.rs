//! Small helpers for the desk's child processes (pcscd, virtual cards).
use std::path::Path;
use std::time::{Duration, Instant};

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

pub fn signal(pid: u32, sig: i32) -> bool {
    let Ok(p) = i32::try_from(pid) else {
        return false;
    };
    if p <= 0 {
        return false;
    }
    // SAFETY: kill(2) with a positive pid has no memory-safety implications.
    unsafe { libc::kill(p, sig) == 0 }
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
    signal(pid, libc::SIGTERM);
    if wait_gone(pid, needle, grace) {
        return true;
    }
    signal(pid, libc::SIGKILL);
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
    // SAFETY: geteuid never fails and touches no memory.
    unsafe { libc::geteuid() == 0 }
}
