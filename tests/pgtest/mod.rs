//! The ledger's test fixture for both engines. `Place::new(Kind::Sqlite)` is a file in a temp
//! dir; `Place::new(Kind::Postgres)` is a fresh database on a PostgreSQL server: the one
//! `PURSE_TEST_PG` names (scripts/test starts a private cluster and sets it), else a private
//! cluster this test starts itself (scripts/pg-cluster) and stops when it ends. There is no
//! skipping: without PostgreSQL the PostgreSQL tests fail, saying what to install.
#![allow(dead_code)]
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use purse::ledger::Ledger;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A private cluster started for one test (when PURSE_TEST_PG is not set).
struct Cluster {
    dir: tempfile::TempDir,
    url: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path().join("pg"))
            .status();
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-cluster")
}

fn start_cluster() -> Cluster {
    let dir = tempfile::Builder::new()
        .prefix("purse-pgtest")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let out = Command::new("bash")
        .arg(script())
        .arg("start")
        .arg(dir.path().join("pg"))
        .arg("--fast")
        .output()
        .expect("run scripts/pg-cluster");
    assert!(
        out.status.success(),
        "cannot start a private PostgreSQL cluster (install Debian's postgresql with \
         scripts/prereqs, or set PURSE_TEST_PG to a server URL): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Cluster { dir, url }
}

/// `url` with its database name replaced by `db`.
pub fn with_db(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_at(url.find("://").expect("a URL") + 3);
    let q = rest.find('?').unwrap_or(rest.len());
    let (before_q, query) = rest.split_at(q);
    let host = before_q.split('/').next().unwrap_or("");
    format!("{scheme}{host}/{db}{query}")
}

/// A fresh database on the server, dropped at the end.
struct PgDb {
    admin: String,
    name: String,
    url: String,
    _cluster: Option<Cluster>,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn fresh_db(cluster: &mut Option<Cluster>, tag: &str) -> PgDb {
    let admin = match std::env::var("PURSE_TEST_PG") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            if cluster.is_none() {
                *cluster = Some(start_cluster());
            }
            cluster.as_ref().map(|c| c.url.clone()).unwrap()
        }
    };
    let name = format!(
        "purse_t{}_{}_{tag}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    );
    let mut c = postgres::Client::connect(&admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("PostgreSQL server {admin}: {e}"));
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    PgDb {
        url: with_db(&admin, &name),
        admin,
        name,
        _cluster: None,
    }
}

/// Where one test keeps its ledger(s).
pub struct Place {
    pub kind: Kind,
    pub dir: tempfile::TempDir,
    dbs: Vec<PgDb>,
    cluster: Option<Cluster>,
    main: String,
}

impl Place {
    pub fn new(kind: Kind) -> Place {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = Place {
            kind,
            dir,
            dbs: Vec::new(),
            cluster: None,
            main: String::new(),
        };
        p.main = p.another("ledger");
        p
    }

    /// The test's ledger: a file path or a PostgreSQL URL.
    pub fn location(&self) -> &str {
        &self.main
    }

    /// Another, empty ledger location of the same kind (not created yet for SQLite).
    pub fn another(&mut self, name: &str) -> String {
        match self.kind {
            Kind::Sqlite => self
                .dir
                .path()
                .join(format!("{name}/l.sqlite"))
                .to_string_lossy()
                .into_owned(),
            Kind::Postgres => {
                let db = fresh_db(&mut self.cluster, name);
                let url = db.url.clone();
                self.dbs.push(db);
                url
            }
        }
    }

    pub fn open(&self) -> Ledger {
        Ledger::open(self.location()).expect("open ledger")
    }

    /// Run SQL on a separate connection to the ledger (fault injection, tampering): the
    /// statement for SQLite or for PostgreSQL, whichever this place is.
    pub fn sql(&self, sqlite: &str, postgres: &str) {
        match self.kind {
            Kind::Sqlite => rusqlite::Connection::open(self.location())
                .expect("sqlite")
                .execute_batch(sqlite)
                .expect("sqlite sql"),
            Kind::Postgres => postgres::Client::connect(self.location(), postgres::NoTls)
                .expect("postgres")
                .batch_execute(postgres)
                .expect("postgres sql"),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        // Databases before the cluster they live on.
        self.dbs.clear();
    }
}

/// `engine_tests!(a, b, ...)`: each `fn a(kind: Kind)` runs as `sqlite::a` and `postgres::a`.
#[macro_export]
macro_rules! engine_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name($crate::pgtest::Kind::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name($crate::pgtest::Kind::Postgres) } )*
        }
    };
}

/// Run `case` with the desk tests' ledger on a fresh PostgreSQL database: `set` moves the
/// ledger there (tests/syncing, tests/bankops `use_ledger`) and back to the desk's file after,
/// even if the case panics. For the ledger-specific cases of the desk tests, which run once
/// on each engine.
pub fn on_postgres<B>(b: &mut B, set: fn(Option<String>), case: fn(&mut B)) {
    let p = Place::new(Kind::Postgres);
    set(Some(p.location().to_owned()));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(b)));
    set(None);
    drop(p);
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}
