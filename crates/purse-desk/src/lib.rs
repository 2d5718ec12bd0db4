//! The virtual desk: an isolated pcscd with vpcd reader slots, and virtual cards (the applet
//! running on our JavaCard runtime in a JVM, see docs/architecture.md) inserted into them.
//! Layout and commands: docs/desk.md.
#![forbid(unsafe_code)]
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use purse_card::error::{Error, Result};
use purse_pcsc::Pcsc;

pub mod cost;
pub mod jar;
pub mod process;

/// The applet a new card gets unless told otherwise: the money applet, so that the first
/// command a user tries on a new card (`purse genesis`) finds it.
pub const DEFAULT_APPLET: AppletSpec = PURSE_APPLET;
pub const PURSE_APPLET: AppletSpec = AppletSpec {
    name: "purse",
    class: "org.purse.applet.Purse",
    aid: "F0707572736501",
    variant: None,
};
/// The user-card applet (purse-user.cap on a real card): the same AIDs and classes, with the
/// bank-only ones replaced by stubs (applet/src-user); the desk jar carries it as variant `user`.
/// It pays, gets paid and syncs; it refuses to become a bank card (6A81).
pub const PURSE_USER_APPLET: AppletSpec = AppletSpec {
    name: "purse-user",
    class: "org.purse.applet.Purse",
    aid: "F0707572736501",
    variant: Some("user"),
};
/// The test applet (COUNT/READ/ECHO), for the desk's own tests.
pub const HELLO_APPLET: AppletSpec = AppletSpec {
    name: "hello",
    class: "org.purse.hello.Hello",
    aid: "F07075727365FF",
    variant: None,
};
/// The applets `desk new --applet NAME` knows by name.
pub const KNOWN_APPLETS: [AppletSpec; 3] = [PURSE_APPLET, PURSE_USER_APPLET, HELLO_APPLET];

/// Default first vpcd port. Not vpcd's own default 35963, which a user's vpcd may be using.
pub const DEFAULT_BASE_PORT: u16 = 40000;
pub const DEFAULT_SLOTS: usize = 2;
pub const MAX_SLOTS: usize = 32;
pub const READER_FRIENDLY_NAME: &str = "Purse Desk";
/// The variable pcsc-lite's client library reads, once, at a process's first PC/SC call, to
/// find its pcscd. The desk never sets it (a library must not change its process's
/// environment): the program does, before any PC/SC call, to `Desk::socket()`.
pub const SOCKET_ENV: &str = "PCSCLITE_CSOCK_NAME";
pub const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";

/// Reader name and driver path of reader.conf entry `e` (two slots each); see [`Desk::reader_conf`].
fn entry_name_and_driver(e: usize, drivers: &Path) -> (String, String) {
    if e == 0 {
        (READER_FRIENDLY_NAME.to_string(), VPCD_DRIVER.to_string())
    } else {
        let letter = (b'A' + (e % 26) as u8) as char;
        (
            format!("{READER_FRIENDLY_NAME} {letter}"),
            drivers.join(format!("vpcd-{e}.so")).display().to_string(),
        )
    }
}
/// The USB (CCID) driver bundle that the desk's pcscd must not see.
pub const CCID_BUNDLE: &str = "/usr/lib/pcsc/drivers/ifd-ccid.bundle";

const START_TIMEOUT: Duration = Duration::from_secs(10);
const CARD_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub struct AppletSpec {
    /// What `desk new --applet` calls it.
    pub name: &'static str,
    pub class: &'static str,
    pub aid: &'static str,
    /// The desk jar's build of the classes (`variants/VARIANT/`), None: the normal classes.
    pub variant: Option<&'static str>,
}

/// The applet build a card image runs (its header, written by the desk jar: `PURSEJCV`, a length
/// byte and the variant name): None for the normal classes or an unreadable image.
pub fn image_variant(image: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = [0u8; 8 + 1 + 32];
    let mut f = File::open(image).ok()?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return None,
        }
    }
    let head = &head[..n];
    if head.len() < 9 || &head[..8] != b"PURSEJCV" {
        return None;
    }
    let len = usize::from(head[8]);
    let v = head.get(9..9 + len)?;
    std::str::from_utf8(v).ok().map(str::to_string)
}

/// One reader slot of the desk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Slot {
    pub index: usize,
    pub port: u16,
    pub reader: String,
    pub card: Option<String>,
    pub pid: Option<u32>,
    #[serde(default)]
    pub t0: bool,
}

/// `DESK/state.json`: what is running and which card is in which slot.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeskState {
    pub pcscd_pid: u32,
    pub base_port: u16,
    pub socket: PathBuf,
    pub slots: Vec<Slot>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SlotStatus {
    #[serde(flatten)]
    pub slot: Slot,
    /// The virtual card process is alive.
    pub card_alive: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct DeskStatus {
    pub dir: PathBuf,
    pub running: bool,
    pub pcscd_pid: Option<u32>,
    pub socket: Option<PathBuf>,
    pub slots: Vec<SlotStatus>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CardEntry {
    pub name: String,
    pub image: PathBuf,
    pub slot: Option<usize>,
    /// The armed tear (`K` or `K ins=XX`), until it fires.
    pub tear: Option<String>,
    /// Where the last armed tear fired (JSON written by the card: k, ins, apdu_header,
    /// apdu_length, apdu_number since arming, write_in_apdu, unix_ms).
    pub tear_fired: Option<serde_json::Value>,
    /// The applet build the card runs: None the normal classes, `user` the user-card applet.
    pub variant: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Inserted {
    pub card: String,
    pub slot: usize,
    pub reader: String,
    pub port: u16,
    pub pid: u32,
    pub millis: u128,
}

#[derive(Clone, Debug, Serialize)]
pub struct Pulled {
    pub card: String,
    pub slot: usize,
    pub reader: String,
    pub millis: u128,
}

/// Options of `desk start`.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    pub slots: Option<usize>,
    /// First port; all ports must be free. `None`: the first free run from 40000.
    pub port: Option<u16>,
}

/// A desk directory.
pub struct Desk {
    dir: PathBuf,
}

/// Holds the desk's lock file (flock) for the duration of one operation.
struct Lock(#[allow(dead_code)] File);

impl Desk {
    /// `dir` if given, else `$PURSE_DESK`, else `~/.purse/desk`.
    pub fn resolve(dir: Option<&Path>) -> Result<Self> {
        if let Some(d) = dir {
            return Ok(Desk::at(d));
        }
        if let Some(d) = std::env::var_os("PURSE_DESK") {
            if !d.is_empty() {
                return Ok(Desk::at(Path::new(&d)));
            }
        }
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                Error::Desk("HOME is not set; give --desk DIR or set PURSE_DESK".into())
            })?;
        Ok(Desk::at(&PathBuf::from(home).join(".purse/desk")))
    }

    pub fn at(dir: &Path) -> Self {
        let dir = if dir.is_absolute() {
            dir.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|c| c.join(dir))
                .unwrap_or_else(|_| dir.to_path_buf())
        };
        Desk { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn cards_dir(&self) -> PathBuf {
        self.dir.join("cards")
    }
    pub fn conf_dir(&self) -> PathBuf {
        self.dir.join("conf")
    }
    pub fn run_dir(&self) -> PathBuf {
        self.dir.join("run")
    }
    pub fn logs_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }
    pub fn empty_dir(&self) -> PathBuf {
        self.dir.join("empty")
    }
    pub fn socket(&self) -> PathBuf {
        self.run_dir().join("pcscd.comm")
    }
    fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    pub fn image(&self, name: &str) -> PathBuf {
        self.cards_dir().join(format!("{name}.img"))
    }

    fn lock(&self) -> Result<Lock> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io("create desk dir", &self.dir, e))?;
        let p = self.dir.join("lock");
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| Error::io("open lock", &p, e))?;
        rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| Error::io("lock", &p, e.into()))?;
        Ok(Lock(f))
    }

    pub fn load_state(&self) -> Result<Option<DeskState>> {
        let p = self.state_path();
        match fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| Error::Desk(format!("{}: corrupt desk state: {e}", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read desk state", p, e)),
        }
    }

    fn save_state(&self, st: &DeskState) -> Result<()> {
        let p = self.state_path();
        let tmp = self.dir.join("state.json.tmp");
        let body = serde_json::to_vec_pretty(st)
            .map_err(|e| Error::Desk(format!("serialize state: {e}")))?;
        fs::write(&tmp, body).map_err(|e| Error::io("write desk state", &tmp, e))?;
        fs::rename(&tmp, &p).map_err(|e| Error::io("write desk state", &p, e))
    }

    /// The state of a running desk (pcscd alive), else None.
    pub fn running(&self) -> Result<Option<DeskState>> {
        Ok(self
            .load_state()?
            .filter(|st| process::alive(st.pcscd_pid, "pcscd")))
    }

    fn require_running(&self) -> Result<DeskState> {
        self.running()?.ok_or_else(|| {
            Error::Desk(format!(
                "no desk running in {} (start one with `purse desk start`)",
                self.dir.display()
            ))
        })
    }

    fn pcsc(&self) -> Result<Pcsc> {
        let want = self.socket();
        match std::env::var_os("PCSCLITE_CSOCK_NAME") {
            Some(s) if Path::new(&s) == want => Pcsc::establish(),
            _ => Err(Error::Desk(format!(
                "this process does not talk to the desk's pcscd: set {SOCKET_ENV}={} before any PC/SC call",
                want.display()
            ))),
        }
    }

    /// The reader.conf entries of a desk with `slots` slots from `base` (two slots per entry).
    ///
    /// vpcd's driver keeps its sockets in globals, so two entries loading the same file
    /// overwrite each other (measured: the first entry's ports go dead). Entry 0 loads the
    /// system driver; entry e >= 1 loads its own copy `drivers/vpcd-e.so` (see
    /// [`Desk::install_driver_copies`]) and gets its own name ("Purse Desk B", ...), since
    /// pcscd would otherwise give both entries the same reader names.
    pub fn reader_conf(base: u16, slots: usize, drivers: &Path) -> String {
        let mut s = String::new();
        for e in 0..slots.div_ceil(2) {
            let port = base as usize + 2 * e;
            let (name, lib) = entry_name_and_driver(e, drivers);
            s.push_str(&format!(
                "# slots on ports {port} and {}\nFRIENDLYNAME \"{name}\"\nDEVICENAME /dev/null:0x{port:X}\nLIBPATH {lib}\nCHANNELID 0x{port:X}\n\n",
                port + 1
            ));
        }
        s
    }

    /// Copies of the vpcd driver for entries 1.. (one private copy per reader.conf entry).
    fn install_driver_copies(&self, slots: usize) -> Result<()> {
        let dir = self.drivers_dir();
        fs::create_dir_all(&dir).map_err(|e| Error::io("create desk dir", &dir, e))?;
        for e in 1..slots.div_ceil(2) {
            let (_, lib) = entry_name_and_driver(e, &dir);
            if !Path::new(&lib).exists() {
                fs::copy(VPCD_DRIVER, &lib)
                    .map_err(|err| Error::io("copy vpcd driver", &lib, err))?;
            }
        }
        Ok(())
    }

    pub fn drivers_dir(&self) -> PathBuf {
        self.dir.join("drivers")
    }

    /// Start the desk's own pcscd (isolated: private socket, no USB drivers).
    pub fn start(&self, opts: &StartOptions) -> Result<DeskState> {
        let _lock = self.lock()?;
        if let Some(st) = self.running()? {
            return Err(Error::Desk(format!(
                "a desk is already running in {} (pcscd pid {}); `purse desk stop` first",
                self.dir.display(),
                st.pcscd_pid
            )));
        }
        // A stale state (pcscd died): its card processes would otherwise reconnect to our new slots.
        if let Some(stale) = self.load_state()? {
            for s in &stale.slots {
                if let (Some(pid), Some(card)) = (s.pid, s.card.as_ref()) {
                    process::terminate(
                        pid,
                        &self.image(card).to_string_lossy(),
                        Duration::from_secs(2),
                    );
                }
            }
        }
        let wanted = opts.slots.unwrap_or(DEFAULT_SLOTS);
        if wanted == 0 || wanted > MAX_SLOTS {
            return Err(Error::Desk(format!("--slots must be 1..={MAX_SLOTS}")));
        }
        let nslots = wanted.div_ceil(2) * 2; // each vpcd entry gives two slots
        for d in [
            self.cards_dir(),
            self.conf_dir(),
            self.run_dir(),
            self.logs_dir(),
            self.empty_dir(),
        ] {
            fs::create_dir_all(&d).map_err(|e| Error::io("create desk dir", &d, e))?;
        }
        let base = match opts.port {
            Some(p) => {
                if let Some(busy) = (0..nslots).map(|i| p as usize + i).find(|&q| !port_free(q)) {
                    return Err(Error::Desk(format!(
                        "port {busy} is in use; choose another --port"
                    )));
                }
                p
            }
            None => find_free_ports(DEFAULT_BASE_PORT, nslots)?,
        };
        let conf = self.conf_dir().join("reader.conf");
        self.install_driver_copies(nslots)?;
        fs::write(&conf, Self::reader_conf(base, nslots, &self.drivers_dir()))
            .map_err(|e| Error::io("write reader.conf", &conf, e))?;
        let sock = self.socket();
        let _ = fs::remove_file(&sock);
        let _ = fs::remove_file(self.run_dir().join("pcscd.pid"));

        let logp = self.logs_dir().join("pcscd.log");
        let (log, log2) = open_log(&logp)?;
        let mut cmd = pcscd_command(&self.run_dir(), &self.empty_dir(), &self.conf_dir())?;
        cmd.stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::Desk(format!("cannot start pcscd via unshare: {e}")))?;
        let pid = child.id();
        tracing::debug!(
            "desk pcscd pid {pid}, ports {base}..{}",
            base as usize + nslots - 1
        );

        // Wait for the socket and for every slot to appear.
        let deadline = Instant::now() + START_TIMEOUT;
        let fail = |why: String| {
            Error::Desk(format!(
                "{why}\n--- {} ---\n{}",
                logp.display(),
                process::log_tail(&logp, 20)
            ))
        };
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(fail(format!("pcscd exited at start ({status})")));
            }
            if sock.exists() {
                break;
            }
            if Instant::now() >= deadline {
                process::terminate(pid, "", Duration::from_secs(1));
                return Err(fail("pcscd did not create its socket in time".into()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let pcsc = loop {
            match self.pcsc() {
                Ok(p) => break p,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(e) => {
                    process::terminate(pid, "", Duration::from_secs(1));
                    return Err(fail(format!("cannot reach the desk's pcscd: {e}")));
                }
            }
        };
        let names = loop {
            let names = pcsc.reader_names().unwrap_or_default();
            if names.len() >= nslots {
                break names;
            }
            if Instant::now() >= deadline {
                process::terminate(pid, "", Duration::from_secs(1));
                return Err(fail(format!(
                    "pcscd shows {} of {nslots} reader slots (ports busy?)",
                    names.len()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut names: Vec<String> = names
            .iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        names.sort();
        let slots = names
            .into_iter()
            .take(nslots)
            .enumerate()
            .map(|(i, reader)| Slot {
                index: i,
                port: base + i as u16,
                reader,
                card: None,
                pid: None,
                t0: false,
            })
            .collect();
        let st = DeskState {
            pcscd_pid: pid,
            base_port: base,
            socket: sock,
            slots,
        };
        self.save_state(&st)?;
        // The child is not waited for: pcscd outlives this process. Dropping `child` doesn't kill it.
        drop(child);
        Ok(st)
    }

    /// Pull every card and stop pcscd. Card images stay.
    pub fn stop(&self) -> Result<bool> {
        let _lock = self.lock()?;
        let Some(mut st) = self.load_state()? else {
            return Ok(false);
        };
        for s in st.slots.iter_mut() {
            if let (Some(pid), Some(card)) = (s.pid, s.card.as_ref()) {
                let img = self.image(card);
                process::terminate(pid, &img.to_string_lossy(), Duration::from_secs(2));
            }
            s.pid = None;
            s.card = None;
        }
        let was = process::alive(st.pcscd_pid, "pcscd");
        if !process::terminate(st.pcscd_pid, "pcscd", Duration::from_secs(3)) {
            return Err(Error::Desk(format!(
                "pcscd (pid {}) does not stop",
                st.pcscd_pid
            )));
        }
        let _ = fs::remove_file(self.socket());
        let p = self.state_path();
        fs::remove_file(&p).map_err(|e| Error::io("remove desk state", &p, e))?;
        Ok(was)
    }

    pub fn status(&self) -> Result<DeskStatus> {
        let st = self.load_state()?;
        let running = st
            .as_ref()
            .is_some_and(|s| process::alive(s.pcscd_pid, "pcscd"));
        let slots = st
            .as_ref()
            .map(|s| {
                s.slots
                    .iter()
                    .map(|sl| SlotStatus {
                        slot: sl.clone(),
                        card_alive: match (sl.pid, &sl.card) {
                            (Some(pid), Some(c)) => {
                                process::alive(pid, &self.image(c).to_string_lossy())
                            }
                            _ => false,
                        },
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(DeskStatus {
            dir: self.dir.clone(),
            running,
            pcscd_pid: st.as_ref().filter(|_| running).map(|s| s.pcscd_pid),
            socket: st.filter(|_| running).map(|s| s.socket),
            slots,
        })
    }

    /// Create a blank card with `applet` installed (install parameters `params`).
    pub fn new_card(
        &self,
        name: &str,
        class: &str,
        aid: &str,
        params: Option<&str>,
    ) -> Result<PathBuf> {
        self.new_card_variant(name, class, aid, params, None)
    }

    /// [`Desk::new_card`] with the desk jar's build `variant` of the applet classes (`user`: the
    /// user-card applet); the image records it.
    pub fn new_card_variant(
        &self,
        name: &str,
        class: &str,
        aid: &str,
        params: Option<&str>,
        variant: Option<&str>,
    ) -> Result<PathBuf> {
        check_name(name)?;
        check_hex("AID", aid)?;
        if let Some(p) = params {
            check_hex("params", p)?;
        }
        let _lock = self.lock()?;
        let dir = self.cards_dir();
        fs::create_dir_all(&dir).map_err(|e| Error::io("create cards dir", &dir, e))?;
        let img = self.image(name);
        if img.exists() {
            return Err(Error::Desk(format!(
                "card {name:?} already exists ({})",
                img.display()
            )));
        }
        let mut cmd = jar::java_jar()?;
        cmd.arg("create")
            .arg("--image")
            .arg(&img)
            .args(["--applet", class, "--aid", aid]);
        if let Some(p) = params {
            cmd.args(["--params", p]);
        }
        if let Some(v) = variant {
            cmd.args(["--variant", v]);
        }
        run_jar(cmd, "create")?;
        if !img.exists() {
            return Err(Error::Desk(format!(
                "the desk jar made no image at {}",
                img.display()
            )));
        }
        Ok(img)
    }

    /// The card images in cards/, with the slot each is in.
    pub fn cards(&self) -> Result<Vec<CardEntry>> {
        let st = self.load_state()?;
        let dir = self.cards_dir();
        let rd = match fs::read_dir(&dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list cards", dir, e)),
        };
        let mut v = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|e| Error::io("list cards", &dir, e))?;
            let fname = ent.file_name().to_string_lossy().into_owned();
            let Some(name) = fname.strip_suffix(".img") else {
                continue;
            };
            let slot = st.as_ref().and_then(|s| {
                s.slots
                    .iter()
                    .find(|sl| {
                        sl.card.as_deref() == Some(name)
                            && sl.pid.is_some_and(|p| process::alive(p, &fname))
                    })
                    .map(|sl| sl.index)
            });
            let (tear, tear_fired) = self.tear_state(name);
            v.push(CardEntry {
                name: name.to_string(),
                variant: image_variant(&ent.path()),
                image: ent.path(),
                slot,
                tear,
                tear_fired,
            });
        }
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    /// Insert card `name` into `slot` (first free slot if None); returns when pcscd shows it.
    pub fn insert(&self, name: &str, slot: Option<usize>, t0: bool) -> Result<Inserted> {
        let t_start = Instant::now();
        check_name(name)?;
        let _lock = self.lock()?;
        let mut st = self.require_running()?;
        let img = self.image(name);
        if !img.is_file() {
            return Err(Error::Desk(format!(
                "no card {name:?} (create it: `purse desk new {name}`)"
            )));
        }
        let img_s = img.to_string_lossy().into_owned();
        if let Some(s) = st.slots.iter().find(|s| {
            s.card.as_deref() == Some(name) && s.pid.is_some_and(|p| process::alive(p, &img_s))
        }) {
            return Err(Error::Desk(format!(
                "card {name:?} is already in slot {} ({})",
                s.index, s.reader
            )));
        }
        let occupied = |s: &Slot| match (s.pid, &s.card) {
            (Some(pid), Some(c)) => process::alive(pid, &self.image(c).to_string_lossy()),
            _ => false,
        };
        let idx = match slot {
            Some(i) => {
                let s = st.slots.get(i).ok_or_else(|| {
                    Error::Desk(format!("no slot {i} (the desk has {})", st.slots.len()))
                })?;
                if occupied(s) {
                    return Err(Error::Desk(format!(
                        "slot {i} holds card {:?}; pull it first",
                        s.card.as_deref().unwrap_or("?")
                    )));
                }
                i
            }
            None => st
                .slots
                .iter()
                .position(|s| !occupied(s))
                .ok_or_else(|| Error::Desk("every slot holds a card".into()))?,
        };
        let (port, reader) = (st.slots[idx].port, st.slots[idx].reader.clone());
        let logp = self.logs_dir().join(format!("{name}.log"));
        let (log, log2) = open_log(&logp)?;
        let mut cmd = jar::java_jar()?;
        cmd.arg("run").arg("--image").arg(&img).args([
            "--port",
            &port.to_string(),
            "--host",
            "127.0.0.1",
        ]);
        if t0 {
            cmd.arg("--t0");
        }
        cmd.stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(0);
        let pcsc = self.pcsc()?;
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::Desk(format!("cannot start the virtual card (java): {e}")))?;
        let pid = child.id();
        let deadline = Instant::now() + CARD_TIMEOUT;
        loop {
            match pcsc.wait_card(&reader, true, Duration::from_millis(50)) {
                Ok(()) => break,
                Err(Error::Timeout(_)) => {}
                Err(e) => {
                    let _ = child.kill();
                    return Err(e);
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(Error::Desk(format!(
                    "virtual card {name:?} exited ({status})\n--- {} ---\n{}",
                    logp.display(),
                    process::log_tail(&logp, 20)
                )));
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Timeout(format!(
                    "card {name:?} did not appear in {reader:?}; see {}",
                    logp.display()
                )));
            }
        }
        let s = &mut st.slots[idx];
        s.card = Some(name.to_string());
        s.pid = Some(pid);
        s.t0 = t0;
        self.save_state(&st)?;
        drop(child);
        Ok(Inserted {
            card: name.into(),
            slot: idx,
            reader,
            port,
            pid,
            millis: t_start.elapsed().as_millis(),
        })
    }

    /// Pull the card in slot `target` (a number) or the card named `target`.
    pub fn pull(&self, target: &str) -> Result<Pulled> {
        let t_start = Instant::now();
        let _lock = self.lock()?;
        let mut st = self.require_running()?;
        let idx = match target.parse::<usize>() {
            Ok(i) if i < st.slots.len() => i,
            _ => st
                .slots
                .iter()
                .position(|s| s.card.as_deref() == Some(target))
                .ok_or_else(|| Error::Desk(format!("no slot or inserted card {target:?}")))?,
        };
        let (card, pid) = match (st.slots[idx].card.clone(), st.slots[idx].pid) {
            (Some(c), Some(p)) => (c, p),
            _ => return Err(Error::Desk(format!("slot {idx} is empty"))),
        };
        let reader = st.slots[idx].reader.clone();
        let needle = self.image(&card).to_string_lossy().into_owned();
        if process::alive(pid, &needle) {
            // A pull is sudden: SIGKILL, no goodbye. The image on disk is always consistent.
            process::kill(pid);
        }
        let pcsc = self.pcsc()?;
        pcsc.wait_card(&reader, false, CARD_TIMEOUT)?;
        let s = &mut st.slots[idx];
        s.card = None;
        s.pid = None;
        s.t0 = false;
        self.save_state(&st)?;
        Ok(Pulled {
            card,
            slot: idx,
            reader,
            millis: t_start.elapsed().as_millis(),
        })
    }

    /// Arm power loss at the `k`-th persistent write the card makes from now on, counting only
    /// APDUs with instruction `ins` if given (so the SELECT and reads before a command do not
    /// use it up). It stays armed, across APDUs and re-insertions, until it fires; then the card
    /// records where in `NAME.img.tear.fired` (see [`Desk::tear_state`]). `k` = 0 disarms.
    pub fn tear(&self, name: &str, k: u32, ins: Option<u8>) -> Result<PathBuf> {
        check_name(name)?;
        let img = self.image(name);
        if !img.is_file() {
            return Err(Error::Desk(format!("no card {name:?}")));
        }
        let p = self.cards_dir().join(format!("{name}.img.tear"));
        let fired = self.cards_dir().join(format!("{name}.img.tear.fired"));
        if k == 0 {
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove tear file", &p, e)),
            }
            return Ok(p);
        }
        match fs::remove_file(&fired) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove old tear report", &fired, e)),
        }
        let tmp = self.cards_dir().join(format!(".{name}.img.tear.tmp"));
        let mut f = File::create(&tmp).map_err(|e| Error::io("write tear file", &tmp, e))?;
        match ins {
            Some(i) => writeln!(f, "{k} ins={i:02X}"),
            None => writeln!(f, "{k}"),
        }
        .map_err(|e| Error::io("write tear file", &tmp, e))?;
        drop(f);
        fs::rename(&tmp, &p).map_err(|e| Error::io("write tear file", &p, e))?;
        Ok(p)
    }

    /// (armed tear text, report of the last fired tear) of card `name`.
    pub fn tear_state(&self, name: &str) -> (Option<String>, Option<serde_json::Value>) {
        let dir = self.cards_dir();
        let armed = fs::read_to_string(dir.join(format!("{name}.img.tear")))
            .ok()
            .map(|s| s.trim().to_string());
        let fired = fs::read_to_string(dir.join(format!("{name}.img.tear.fired")))
            .ok()
            .and_then(|s| serde_json::from_str(s.trim()).ok());
        (armed, fired)
    }

    /// `java -jar JAR info --image ...`: the card's JSON (applets, counters).
    pub fn info(&self, name: &str) -> Result<serde_json::Value> {
        check_name(name)?;
        let img = self.image(name);
        if !img.is_file() {
            return Err(Error::Desk(format!("no card {name:?}")));
        }
        let mut cmd = jar::java_jar()?;
        cmd.arg("info").arg("--image").arg(&img);
        let out = run_jar(cmd, "info")?;
        let mut v: serde_json::Value = serde_json::from_str(out.trim())
            .map_err(|e| Error::Desk(format!("desk jar info printed no JSON ({e}): {out}")))?;
        let (armed, fired) = self.tear_state(name);
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "tear".into(),
                serde_json::json!({ "armed": armed, "fired": fired }),
            );
        }
        Ok(v)
    }

    /// reader.conf entries of the running desk (or of a default desk), for a system pcscd.
    pub fn conf(&self) -> Result<String> {
        match self.load_state()? {
            Some(st) => Ok(Self::reader_conf(
                st.base_port,
                st.slots.len(),
                &self.drivers_dir(),
            )),
            None => Ok(Self::reader_conf(
                DEFAULT_BASE_PORT,
                DEFAULT_SLOTS,
                &self.drivers_dir(),
            )),
        }
    }
}

/// A process's log file, appended to, as its stdout and its stderr.
fn open_log(p: &Path) -> Result<(File, File)> {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .map_err(|e| Error::io("open log", p, e))?;
    let log2 = log.try_clone().map_err(|e| Error::io("open log", p, e))?;
    Ok((log, log2))
}

fn run_jar(mut cmd: Command, what: &str) -> Result<String> {
    tracing::debug!("running {cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Desk(format!("cannot run java for `{what}`: {e}")))?;
    if !out.status.success() {
        return Err(Error::Desk(format!(
            "desk jar `{what}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::Desk(format!(
            "bad card name {name:?}: use 1-64 of A-Z a-z 0-9 - _ . (not starting with .)"
        )))
    }
}

fn check_hex(what: &str, s: &str) -> Result<()> {
    match hex::decode(s) {
        Ok(b) if what != "AID" || (5..=16).contains(&b.len()) => Ok(()),
        Ok(b) => Err(Error::Desk(format!(
            "{what} must be 5..16 bytes, got {}",
            b.len()
        ))),
        Err(e) => Err(Error::Desk(format!("{what} {s:?} is not hex: {e}"))),
    }
}

/// vpcd listens on all interfaces; a port is free if we can bind it there (also what the tests
/// use to pick their desks' ports).
pub fn port_free(port: usize) -> bool {
    u16::try_from(port).is_ok_and(|p| TcpListener::bind(("0.0.0.0", p)).is_ok())
}

fn find_free_ports(from: u16, n: usize) -> Result<u16> {
    let mut base = from as usize;
    while base + n < 65000 && base < from as usize + 2000 {
        if (0..n).all(|i| port_free(base + i)) {
            return Ok(base as u16);
        }
        base += 2;
    }
    Err(Error::Desk(format!(
        "no {n} free consecutive ports from {from}"
    )))
}

fn pcscd_program() -> PathBuf {
    if let Some(p) = std::env::var_os("PURSE_PCSCD") {
        return PathBuf::from(p);
    }
    for p in ["/usr/sbin/pcscd", "/usr/local/sbin/pcscd"] {
        if Path::new(p).is_file() {
            return PathBuf::from(p);
        }
    }
    PathBuf::from("pcscd")
}

/// `unshare` a mount namespace in which /run/pcscd is the desk's run/ and the USB drivers are
/// hidden, then exec `pcscd -f -c CONF`. As root: a plain mount namespace. Otherwise: a user
/// namespace too (`unshare -rm`), with a private tmpfs on /run when /run/pcscd does not exist.
fn pcscd_command(run: &Path, empty: &Path, conf: &Path) -> Result<Command> {
    let hide_ccid = Path::new(CCID_BUNDLE).is_dir();
    let mut script = String::from("set -e\n");
    let mut c = Command::new("unshare");
    if process::is_root() {
        fs::create_dir_all("/run/pcscd").map_err(|e| Error::io("create", "/run/pcscd", e))?;
        c.arg("-m");
    } else {
        c.arg("-rm");
        if !Path::new("/run/pcscd").is_dir() {
            script.push_str("mount -t tmpfs tmpfs /run\nmkdir -p /run/pcscd\n");
        }
    }
    script.push_str("mount --bind \"$1\" /run/pcscd\n");
    if hide_ccid {
        script.push_str(&format!("mount --bind \"$2\" {CCID_BUNDLE}\n"));
    }
    script.push_str("exec \"$4\" -f -c \"$3\"\n");
    c.args(["sh", "-c", &script, "purse-desk-pcscd"])
        .arg(run)
        .arg(empty)
        .arg(conf)
        .arg(pcscd_program());
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_conf_has_one_entry_per_two_slots() {
        let c = Desk::reader_conf(40000, 3, Path::new("/d"));
        assert_eq!(c.matches("FRIENDLYNAME \"Purse Desk").count(), 2);
        assert!(c.contains("FRIENDLYNAME \"Purse Desk B\""));
        assert!(c.contains("LIBPATH /d/vpcd-1.so"));
        assert!(c.contains("DEVICENAME /dev/null:0x9C40"));
        assert!(c.contains("CHANNELID 0x9C42"));
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("alice-1.b_2").is_ok());
        for bad in ["", ".x", "a/b", "a b", "../x"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_hex("AID", "F07075727365FF").is_ok());
        assert!(check_hex("AID", "F070").is_err());
        assert!(check_hex("params", "zz").is_err());
    }

    #[test]
    fn tear_writes_k() {
        let d = tempfile::tempdir().unwrap();
        let desk = Desk::at(d.path());
        fs::create_dir_all(desk.cards_dir()).unwrap();
        fs::write(desk.image("a"), b"x").unwrap();
        let p = desk.tear("a", 3, None).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "3\n");
        desk.tear("a", 2, Some(0x46)).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "2 ins=46\n");
        assert_eq!(desk.tear_state("a").0.as_deref(), Some("2 ins=46"));
        desk.tear("a", 0, None).unwrap();
        assert!(!p.exists(), "k = 0 disarms");
        assert!(desk.tear("nope", 1, None).is_err());
    }
}
