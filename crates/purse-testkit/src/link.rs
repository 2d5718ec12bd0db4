//! Helpers of the remote-link tests (tests/remote.rs, tests/remote_serve.rs): `purse` child
//! processes with live stdout/stderr, two network namespaces joined by a veth pair (or loopback
//! where the machine does not allow it), a frame-aware TCP proxy that cuts or replays the link
//! at a chosen frame, and a snapshot of a card's whole state to prove nothing changed.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::bank::Bank;
use super::desk::{free_ports, purse_bin};

/// A running `purse` with its output collected as it comes.
pub struct Proc {
    pub child: Child,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
    pub what: String,
    pumps: Vec<std::thread::JoinHandle<()>>,
}

pub struct Done {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Done {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
    pub fn no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked") && self.code != 101,
            "purse panicked:\n{}",
            self.stderr
        );
    }
}

fn pump(
    mut r: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
    })
}

impl Proc {
    pub fn spawn(mut c: Command, what: &str) -> Proc {
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let out = Arc::new(Mutex::new(String::new()));
        let err = Arc::new(Mutex::new(String::new()));
        let pumps = vec![
            pump(child.stdout.take().unwrap(), out.clone()),
            pump(child.stderr.take().unwrap(), err.clone()),
        ];
        Proc {
            child,
            out,
            err,
            what: what.into(),
            pumps,
        }
    }

    pub fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }

    /// Wait until stderr contains `pat` (panics after `secs`).
    pub fn wait_err(&mut self, pat: &str, secs: u64) {
        let t = Instant::now();
        while !self.stderr().contains(pat) {
            if let Ok(Some(st)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "{} exited ({st}) before printing {pat:?}:\n{}",
                    self.what,
                    self.stderr()
                );
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "{}: no {pat:?} within {secs} s:\n{}",
                self.what,
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait for the exit; a process still running after `secs` is a hang: killed, test fails.
    pub fn finish(mut self, secs: u64) -> Done {
        let t = Instant::now();
        let st = loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                break st;
            }
            if t.elapsed() > Duration::from_secs(secs) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("{} hung (> {secs} s):\n{}", self.what, self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // the pipes close at exit: wait until both pumps have read everything (under load a
        // fixed pause was not always enough)
        for h in std::mem::take(&mut self.pumps) {
            let _ = h.join();
        }
        let d = Done {
            code: st.code().unwrap_or(-1),
            stdout: self.out.lock().unwrap().clone(),
            stderr: self.err.lock().unwrap().clone(),
        };
        d.no_panic();
        d
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Where the two sides run.
pub struct Net {
    /// (listener namespace, connector namespace) when the veth pair could be made.
    pub ns: Option<(String, String)>,
    pub a_ip: String,
    pub b_ip: String,
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

impl Net {
    /// Two namespaces joined by a veth pair (needs root and `ip`); else loopback.
    fn new() -> Net {
        let pid = std::process::id();
        let (a, b) = (format!("purse{pid}a"), format!("purse{pid}b"));
        let sub = 16 + (pid % 200);
        let (a_ip, b_ip) = (format!("10.231.{sub}.1"), format!("10.231.{sub}.2"));
        let (va, vb) = (format!("pv{pid}a"), format!("pv{pid}b"));
        let ok = ip(&["netns", "add", &a])
            && ip(&["netns", "add", &b])
            && ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb])
            && ip(&["link", "set", &va, "netns", &a])
            && ip(&["link", "set", &vb, "netns", &b])
            && ip(&["-n", &a, "addr", "add", &format!("{a_ip}/24"), "dev", &va])
            && ip(&["-n", &b, "addr", "add", &format!("{b_ip}/24"), "dev", &vb])
            && ip(&["-n", &a, "link", "set", &va, "up"])
            && ip(&["-n", &b, "link", "set", &vb, "up"])
            && ip(&["-n", &a, "link", "set", "lo", "up"])
            && ip(&["-n", &b, "link", "set", "lo", "up"]);
        if ok {
            eprintln!("remote tests: two network namespaces {a} ({a_ip}) and {b} ({b_ip}) joined by a veth pair");
            Net {
                ns: Some((a, b)),
                a_ip,
                b_ip,
            }
        } else {
            let _ = ip(&["netns", "del", &a]);
            let _ = ip(&["netns", "del", &b]);
            eprintln!("remote tests: network namespaces not available here: on loopback");
            Net {
                ns: None,
                a_ip: "127.0.0.1".into(),
                b_ip: "127.0.0.1".into(),
            }
        }
    }

    pub fn cleanup(&self) {
        if let Some((a, b)) = &self.ns {
            let _ = ip(&["netns", "del", a]);
            let _ = ip(&["netns", "del", b]);
        }
    }
}

static NET: OnceLock<Net> = OnceLock::new();

pub fn net() -> &'static Net {
    NET.get_or_init(Net::new)
}

/// Which side a process runs on: the listener (A), the connector (B), or plain loopback.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    A,
    B,
    Loopback,
}

/// `purse --desk D ARGS` on `side`.
pub fn purse(b: &Bank, side: Side, args: &[&str]) -> Command {
    let n = net();
    let mut c = match (&n.ns, side) {
        (Some((a, _)), Side::A) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", a]).arg(purse_bin());
            c
        }
        (Some((_, bb)), Side::B) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", bb]).arg(purse_bin());
            c
        }
        _ => Command::new(purse_bin()),
    };
    c.env_remove("PCSCLITE_CSOCK_NAME")
        .env_remove("PURSE_DESK")
        .env_remove("PURSE_PIN")
        .env_remove("PURSE_TXKEY")
        .env("PURSE_LOG", "warn")
        .arg("--desk")
        .arg(b.desk.path())
        .args(args);
    c
}

/// The address a listener on `side` binds, and the address the other side connects to.
pub fn addrs(side: Side, port: u16) -> (String, String) {
    let n = net();
    match (side, &n.ns) {
        (Side::A, Some(_)) => (format!("{}:{port}", n.a_ip), format!("{}:{port}", n.a_ip)),
        _ => (format!("127.0.0.1:{port}"), format!("127.0.0.1:{port}")),
    }
}

/// A link key file under the desk dir, and its fingerprint.
pub fn key(b: &Bank, name: &str) -> (PathBuf, String) {
    let p = b.desk.path().join(format!("{name}.key"));
    let o = Command::new(purse_bin())
        .args(["--json", "link", "id", "--identity"])
        .arg(&p)
        .output()
        .expect("purse link id");
    assert!(
        o.status.success(),
        "link id: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("link id JSON");
    (p, v["fingerprint"].as_str().unwrap().to_string())
}

pub fn port() -> u16 {
    free_ports(1)
}

/// Everything a card would show if anything had reached it (status incl. counters, pending).
pub fn snapshot(b: &Bank, name: &str) -> String {
    let mut c = b.open(name);
    let s = c.get_status().expect("status");
    let p = c.get_pending().expect("pending");
    format!("{s:?} {p:?}")
}

/// A TCP proxy for one connection that understands the link's framing: the client's first
/// 2 frames and the server's first 1 are the Noise handshake; after that each frame is one
/// message, counted from 1 in the client -> server direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Forward everything.
    None,
    /// Close both sides instead of forwarding client message k.
    Before(usize),
    /// Forward client message k, then close both sides instead of forwarding the answer.
    After(usize),
    /// Forward client message k twice (a replay).
    Replay(usize),
}

fn read_exact_or_end(s: &mut TcpStream, buf: &mut [u8]) -> bool {
    s.read_exact(buf).is_ok()
}

fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut h = [0u8; 2];
    if !read_exact_or_end(s, &mut h) {
        return None;
    }
    let n = u16::from_be_bytes(h) as usize;
    let mut v = vec![0u8; n + 2];
    v[..2].copy_from_slice(&h);
    if !read_exact_or_end(s, &mut v[2..]) {
        return None;
    }
    Some(v)
}

/// Start a proxy to `target`; returns its port. `cut_done` is set once the cut happened.
pub fn proxy(target: String, cut: Cut) -> (u16, Arc<AtomicBool>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
    let port = l.local_addr().unwrap().port();
    let cut_done = Arc::new(AtomicBool::new(false));
    let done = cut_done.clone();
    std::thread::spawn(move || {
        let Ok((client, _)) = l.accept() else { return };
        let Ok(server) = TcpStream::connect(&target) else {
            return;
        };
        let c2 = client.try_clone().unwrap();
        let s2 = server.try_clone().unwrap();
        let kill = {
            let (a, b) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            Arc::new(move || {
                let _ = a.shutdown(Shutdown::Both);
                let _ = b.shutdown(Shutdown::Both);
            })
        };
        let armed = Arc::new(AtomicUsize::new(0));
        // client -> server
        {
            let (mut from, mut to, kill, armed, done) =
                (client, server, kill.clone(), armed.clone(), done.clone());
            std::thread::spawn(move || {
                let mut pre = [0u8; 8];
                if !read_exact_or_end(&mut from, &mut pre) || to.write_all(&pre).is_err() {
                    return;
                }
                let mut i = 0usize;
                while let Some(f) = read_frame(&mut from) {
                    i += 1;
                    let k = i.saturating_sub(2); // message number (0 = handshake)
                    if cut == Cut::Before(k) && k > 0 {
                        done.store(true, Ordering::SeqCst);
                        kill();
                        return;
                    }
                    // armed before the frame leaves: its answer cannot overtake the flag
                    if cut == Cut::After(k) && k > 0 {
                        armed.store(1, Ordering::SeqCst);
                    }
                    if to.write_all(&f).is_err() {
                        return;
                    }
                    if cut == Cut::Replay(k) && k > 0 {
                        done.store(true, Ordering::SeqCst);
                        let _ = to.write_all(&f);
                    }
                }
                let _ = to.shutdown(Shutdown::Write);
            });
        }
        // server -> client
        {
            let (mut from, mut to) = (s2, c2);
            std::thread::spawn(move || {
                let mut pre = [0u8; 8];
                if !read_exact_or_end(&mut from, &mut pre) || to.write_all(&pre).is_err() {
                    return;
                }
                while let Some(f) = read_frame(&mut from) {
                    if armed.load(Ordering::SeqCst) == 1 {
                        done.store(true, Ordering::SeqCst);
                        kill();
                        return;
                    }
                    if to.write_all(&f).is_err() {
                        return;
                    }
                }
                let _ = to.shutdown(Shutdown::Write);
            });
        }
    });
    (port, cut_done)
}
