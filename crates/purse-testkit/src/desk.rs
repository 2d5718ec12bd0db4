//! A private virtual desk per test (own temp dir, own ports, own pcscd), so tests run in
//! parallel under nextest and never touch a pcscd the user runs; the purse binary run against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

pub const HELLO_AID: &str = "F07075727365FF";
pub const SELECT_HELLO: &str = "00A4040007F07075727365FF00";
/// Hello applet (applet/src/org/purse/hello/Hello.java): CLA 80, COUNT 10, READ 12, ECHO 20.
pub const HELLO_COUNT: &str = "80100000";
pub const HELLO_READ: &str = "80120000";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The repository root (this crate is crates/purse-testkit in it): the desk jar, docs and
/// vectors the tests read are found from here.
/// The environment variables purse reads secrets from.
pub const SECRET_VARS: [&str; 7] = [
    "PURSE_PIN",
    "PURSE_TXKEY",
    "PURSE_CREATION_SECRET",
    "PURSE_APPROVAL_SECRET",
    "PURSE_NEW_PIN",
    "PURSE_NEW_TXKEY",
    "PURSE_TRANSPORT_KEY",
];

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `purse` binary under test. Cargo builds it before the root package's integration tests:
/// `CARGO_BIN_EXE_purse` when the runner sets it at run time (nextest does), else the `purse`
/// next to the running test binary's directory (target/PROFILE/deps/.. = target/PROFILE).
pub fn purse_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("CARGO_BIN_EXE_purse") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let p = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("purse"))
        .expect("target directory");
    assert!(
        p.is_file(),
        "the purse binary is not at {} (the root package's integration tests build it: cargo test / cargo nextest run)",
        p.display()
    );
    p
}

/// The desk jar, found as the binary finds it; a missing jar fails the test loudly.
pub fn require_jar() -> PathBuf {
    let p = match std::env::var_os("PURSE_DESK_JAR") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join("applet/build/purse-desk.jar"),
    };
    assert!(
        p.is_file(),
        "desk jar missing at {}: build it with `ant -f applet/build.xml desk` (scripts/test does this)",
        p.display()
    );
    p
}

/// A run of `n` free ports, spread by process id so parallel test processes rarely collide.
pub fn free_ports(n: u32) -> u16 {
    let pid = std::process::id();
    for attempt in 0..500u32 {
        let k = NEXT.fetch_add(1, Ordering::SeqCst);
        // 20000..32000: below Linux's ephemeral range (32768..), so an outgoing connection
        // never takes a port between our probe and pcscd's bind
        let spread = pid.wrapping_mul(37).wrapping_add((k + attempt) * 8) % 12000;
        let base = 20000 + spread / 2 * 2;
        if (0..n).all(|i| purse_desk::port_free((base + i) as usize)) {
            return base as u16;
        }
    }
    panic!("no {n} free ports found");
}

pub struct TestDesk {
    pub dir: tempfile::TempDir,
    pub base_port: u16,
    pub slots: u32,
    running: bool,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

impl TestDesk {
    /// A started desk with `slots` slots on free ports (retries if ports were taken meanwhile).
    pub fn start(slots: u32) -> Self {
        require_jar();
        let mut last = String::new();
        for _ in 0..5 {
            let base_port = free_ports(slots.div_ceil(2) * 2);
            let dir = tempfile::Builder::new()
                .prefix("purse-desk-")
                .tempdir()
                .expect("temp dir");
            let mut d = TestDesk {
                dir,
                base_port,
                slots,
                running: false,
            };
            let r = d.purse(&[
                "desk",
                "start",
                "--slots",
                &slots.to_string(),
                "--port",
                &base_port.to_string(),
            ]);
            if r.code == 0 {
                d.running = true;
                return d;
            }
            last = format!("{}{}", r.stdout, r.stderr);
        }
        panic!("desk start failed 5 times; last: {last}");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn socket(&self) -> PathBuf {
        self.path().join("run/pcscd.comm")
    }

    /// The purse binary with this desk, no PCSCLITE_CSOCK_NAME inherited from the user.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(purse_bin());
        c.env_remove("PCSCLITE_CSOCK_NAME")
            .env_remove("PURSE_DESK")
            .arg("--desk")
            .arg(self.path());
        c
    }

    /// Run purse with exactly the secrets in `env`: none of [`SECRET_VARS`] is inherited from the
    /// test's environment, and stdin is empty (a missing secret fails instead of prompting).
    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        let mut c = self.cmd();
        for k in SECRET_VARS {
            c.env_remove(k);
        }
        c.envs(env.iter().copied())
            .stdin(std::process::Stdio::null());
        Run::from(c.args(args).output().expect("run purse"))
    }

    pub fn purse(&self, args: &[&str]) -> Run {
        Run::from(self.cmd().args(args).output().expect("run purse"))
    }

    /// Run purse, assert exit 0, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.purse(args);
        assert_eq!(
            r.code, 0,
            "purse {args:?} failed ({}):\n{}{}",
            r.code, r.stdout, r.stderr
        );
        r.stdout
    }

    /// A foreign PC/SC program pointed at this desk's pcscd.
    pub fn foreign(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("PCSCLITE_CSOCK_NAME", self.socket());
        c
    }

    /// A card with the desk's test applet (hello); `desk new` alone makes a purse card.
    pub fn new_card(&self, name: &str) {
        self.ok(&[
            "desk",
            "new",
            name,
            "--applet",
            "org.purse.hello.Hello",
            "--aid",
            HELLO_AID,
        ]);
    }

    /// Insert; returns the insert JSON (slot, reader, millis).
    pub fn insert(&self, name: &str, slot: Option<usize>, t0: bool) -> serde_json::Value {
        let mut args = vec![
            "--json".to_string(),
            "desk".into(),
            "insert".into(),
            name.into(),
        ];
        if let Some(s) = slot {
            args.push("--slot".into());
            args.push(s.to_string());
        }
        if t0 {
            args.push("--t0".into());
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        serde_json::from_str(&self.ok(&a)).expect("insert JSON")
    }

    pub fn pull(&self, target: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["--json", "desk", "pull", target])).expect("pull JSON")
    }

    /// `purse readers --json`
    pub fn readers(&self) -> Vec<serde_json::Value> {
        let v: serde_json::Value =
            serde_json::from_str(&self.ok(&["--json", "readers"])).expect("readers JSON");
        v["readers"].as_array().cloned().expect("readers array")
    }

    /// Send APDUs to reader `reader`; returns (data, sw) of each exchange.
    pub fn apdu(&self, reader: &str, apdus: &[&str]) -> Vec<(String, String)> {
        let mut args = vec!["--json", "--reader", reader, "apdu"];
        args.extend_from_slice(apdus);
        let out = self.ok(&args);
        let v: serde_json::Value = serde_json::from_str(&out).expect("apdu JSON");
        v["exchanges"]
            .as_array()
            .expect("exchanges")
            .iter()
            .map(|e| {
                (
                    e["data"].as_str().unwrap_or("").to_string(),
                    e["sw"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    pub fn stop(&mut self) {
        if self.running {
            self.running = false;
            let r = self.purse(&["desk", "stop"]);
            assert_eq!(r.code, 0, "desk stop: {}{}", r.stdout, r.stderr);
        }
    }
}

impl Drop for TestDesk {
    fn drop(&mut self) {
        if self.running {
            self.running = false;
            let _ = self.purse(&["desk", "stop"]);
        }
    }
}
