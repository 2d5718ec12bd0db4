//! The two engines behind `Ledger`: SQLite (embedded, the default) and PostgreSQL (several
//! hosts writing one ledger). The ledger's SQL is written once, in the dialect both engines
//! share (`INSERT … ON CONFLICT`, `RETURNING`, `CASE`, `EXISTS`), with `?N` placeholders that
//! become `$N` on PostgreSQL. Values cross the boundary as [`Val`] (NULL, 64-bit integer, text,
//! bytes), rows come back as [`Row`]; the few spots where the engines differ ask [`Engine`].
use std::cell::RefCell;
use std::collections::HashMap;

use postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use super::{LedgerError, Result};

/// Which database engine holds the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }

    /// `?N` placeholders become `$N` on PostgreSQL (the ledger's SQL has no `?` elsewhere).
    pub(crate) fn sql(self, sql: &str) -> String {
        match self {
            Engine::Sqlite => sql.to_owned(),
            Engine::Postgres => sql.replace('?', "$"),
        }
    }

    /// Comma-separated list of the ids of a group, ascending.
    pub(crate) fn id_list(self) -> &'static str {
        match self {
            Engine::Sqlite => "GROUP_CONCAT(id)",
            Engine::Postgres => "string_agg(CAST(id AS TEXT), ',' ORDER BY id)",
        }
    }
}

/// One SQL value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(v as i64)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_owned())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<&[u8]> for Val {
    fn from(v: &[u8]) -> Val {
        Val::Blob(v.to_vec())
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map(Into::into).unwrap_or(Val::Null)
    }
}

/// `vals![a, b, ...]`: an array of `Val`s of the arguments.
macro_rules! vals {
    ($($x:expr),* $(,)?) => { [$($crate::db::Val::from($x)),*] };
}
pub(crate) use vals;

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(v) => ValueRef::Integer(*v),
            Val::Text(s) => ValueRef::Text(s.as_bytes()),
            Val::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => Err(format!("integer given for a {ty} parameter").into()),
            },
            Val::Text(s) => s.as_str().to_sql(ty, out),
            Val::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// One result row.
#[derive(Clone, Debug)]
pub(crate) struct Row(pub Vec<Val>);

fn bad(i: usize, want: &str, got: &Val) -> LedgerError {
    LedgerError::Column(format!("column {i}: expected {want}, found {got:?}"))
}

impl Row {
    fn val(&self, i: usize) -> Result<&Val> {
        self.0
            .get(i)
            .ok_or_else(|| LedgerError::Column(format!("no column {i}")))
    }
    pub fn int(&self, i: usize) -> Result<i64> {
        match self.val(i)? {
            Val::Int(v) => Ok(*v),
            v => Err(bad(i, "an integer", v)),
        }
    }
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.val(i)? {
            Val::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }
    pub fn boolean(&self, i: usize) -> Result<bool> {
        Ok(self.int(i)? != 0)
    }
    pub fn text(&self, i: usize) -> Result<String> {
        match self.val(i)? {
            Val::Text(s) => Ok(s.clone()),
            v => Err(bad(i, "text", v)),
        }
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.val(i)? {
            Val::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
    pub fn blob(&self, i: usize) -> Result<Vec<u8>> {
        match self.val(i)? {
            Val::Blob(b) => Ok(b.clone()),
            v => Err(bad(i, "bytes", v)),
        }
    }
}

fn lite_row(r: &rusqlite::Row<'_>, n: usize) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        v.push(match r.get_ref(i)? {
            ValueRef::Null => Val::Null,
            ValueRef::Integer(x) => Val::Int(x),
            ValueRef::Real(x) => Val::Int(x as i64),
            ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Val::Blob(b.to_vec()),
        });
    }
    Ok(Row(v))
}

fn pg_row(r: &postgres::Row) -> Result<Row> {
    let mut v = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let t = c.type_();
        let x = match *t {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Val::Int),
            Type::INT4 => r.try_get::<_, Option<i32>>(i)?.map(|x| Val::Int(x as i64)),
            Type::INT2 => r.try_get::<_, Option<i16>>(i)?.map(|x| Val::Int(x as i64)),
            Type::BOOL => r.try_get::<_, Option<bool>>(i)?.map(|x| Val::Int(x as i64)),
            Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Val::Blob),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                r.try_get::<_, Option<String>>(i)?.map(Val::Text)
            }
            _ => {
                return Err(LedgerError::Column(format!(
                    "column {} has type {t}, which the ledger does not read",
                    c.name()
                )))
            }
        };
        v.push(x.unwrap_or(Val::Null));
    }
    Ok(Row(v))
}

/// A PostgreSQL connection and its prepared statements (one parse per statement text).
pub(crate) struct Pg {
    pub client: postgres::Client,
    stmts: HashMap<String, postgres::Statement>,
}

#[allow(clippy::large_enum_variant)] // one per Ledger
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Pg),
}

/// Something SQL runs on: a connection or a transaction of either engine.
#[allow(clippy::large_enum_variant)] // lives on the stack for one call
pub(crate) enum Ex<'a, 'b> {
    Lite(&'a rusqlite::Connection),
    PgClient(
        &'a mut postgres::Client,
        &'a mut HashMap<String, postgres::Statement>,
    ),
    PgTx(
        &'a mut postgres::Transaction<'b>,
        &'a mut HashMap<String, postgres::Statement>,
    ),
}

fn params(args: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Ex<'_, '_> {
    pub fn engine(&self) -> Engine {
        match self {
            Ex::Lite(_) => Engine::Sqlite,
            _ => Engine::Postgres,
        }
    }

    fn stmt(&mut self, sql: &str) -> Result<postgres::Statement> {
        let cached = match self {
            Ex::Lite(_) => None,
            Ex::PgClient(_, s) | Ex::PgTx(_, s) => s.get(sql).cloned(),
        };
        if let Some(st) = cached {
            return Ok(st);
        }
        let text = Engine::Postgres.sql(sql);
        let (st, stmts) = match self {
            Ex::Lite(_) => unreachable!("PostgreSQL only"),
            Ex::PgClient(c, s) => (c.prepare(&text)?, s),
            Ex::PgTx(t, s) => (t.prepare(&text)?, s),
        };
        // Bulk statements differ only in their row count; keep the cache bounded anyway.
        if stmts.len() > 256 {
            stmts.clear();
        }
        stmts.insert(sql.to_owned(), st.clone());
        Ok(st)
    }

    /// Run a query, all rows.
    pub fn query(&mut self, sql: &str, args: &[Val]) -> Result<Vec<Row>> {
        match self {
            Ex::Lite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let rows = st
                    .query_map(rusqlite::params_from_iter(args), |r| lite_row(r, n))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            }
            _ => {
                let st = self.stmt(sql)?;
                let p = params(args);
                let rows = match self {
                    Ex::PgClient(c, _) => c.query(&st, &p)?,
                    Ex::PgTx(t, _) => t.query(&st, &p)?,
                    Ex::Lite(_) => unreachable!(),
                };
                rows.iter().map(pg_row).collect()
            }
        }
    }

    /// Run a query and hand each row to `f` as it arrives, without collecting them: for the
    /// scans of a whole table (the check at open), in memory of one row.
    pub fn query_each(
        &mut self,
        sql: &str,
        args: &[Val],
        mut f: impl FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        match self {
            Ex::Lite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(args))?;
                while let Some(r) = rows.next()? {
                    f(&lite_row(r, n)?)?;
                }
                Ok(())
            }
            _ => {
                use postgres::fallible_iterator::FallibleIterator;
                let st = self.stmt(sql)?;
                let p = params(args);
                let mut rows = match self {
                    Ex::PgClient(c, _) => c.query_raw(&st, p)?,
                    Ex::PgTx(t, _) => t.query_raw(&st, p)?,
                    Ex::Lite(_) => unreachable!(),
                };
                while let Some(r) = rows.next()? {
                    f(&pg_row(&r)?)?;
                }
                Ok(())
            }
        }
    }

    /// Run a query expected to return at most one row.
    pub fn query_opt(&mut self, sql: &str, args: &[Val]) -> Result<Option<Row>> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// Run a query that returns exactly one row.
    pub fn query_one(&mut self, sql: &str, args: &[Val]) -> Result<Row> {
        self.query_opt(sql, args)?
            .ok_or_else(|| LedgerError::Column(format!("no row from {sql}")))
    }

    /// Run a statement; rows changed.
    pub fn execute(&mut self, sql: &str, args: &[Val]) -> Result<u64> {
        match self {
            Ex::Lite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(args))? as u64),
            _ => {
                let st = self.stmt(sql)?;
                let p = params(args);
                Ok(match self {
                    Ex::PgClient(c, _) => c.execute(&st, &p)?,
                    Ex::PgTx(t, _) => t.execute(&st, &p)?,
                    Ex::Lite(_) => unreachable!(),
                })
            }
        }
    }

    /// Run several statements without arguments (schema).
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Ex::Lite(c) => Ok(c.execute_batch(sql)?),
            Ex::PgClient(c, _) => Ok(c.batch_execute(sql)?),
            Ex::PgTx(t, _) => Ok(t.batch_execute(sql)?),
        }
    }
}

/// The connection of a `Ledger`. Queries borrow it for their duration (PostgreSQL's client
/// needs `&mut` even to read; the ledger's read API takes `&self`).
pub(crate) struct Db {
    conn: RefCell<Conn>,
}

/// PostgreSQL errors that mean "run the transaction again" (serialization failure, deadlock).
fn retryable(e: &LedgerError) -> bool {
    use postgres::error::SqlState;
    match e {
        LedgerError::Postgres(p) => matches!(
            p.code(),
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
        ),
        _ => false,
    }
}

impl Db {
    pub fn sqlite(c: rusqlite::Connection) -> Db {
        Db {
            conn: RefCell::new(Conn::Sqlite(c)),
        }
    }

    pub fn postgres(client: postgres::Client) -> Db {
        Db {
            conn: RefCell::new(Conn::Postgres(Pg {
                client,
                stmts: HashMap::new(),
            })),
        }
    }

    pub fn engine(&self) -> Engine {
        match &*self.conn.borrow() {
            Conn::Sqlite(_) => Engine::Sqlite,
            Conn::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQLite connection, if that is the engine.
    pub fn with_sqlite<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> T) -> Option<T> {
        match &*self.conn.borrow() {
            Conn::Sqlite(c) => Some(f(c)),
            Conn::Postgres(_) => None,
        }
    }

    /// Reads. SQLite: on the connection as it is (each statement sees committed data).
    /// PostgreSQL: in one REPEATABLE READ, READ ONLY transaction, so the several queries of a
    /// report (reconcile, rebuild, flags) see one snapshot while writers go on.
    pub fn read<T>(&self, f: impl FnOnce(&mut Ex<'_, '_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.borrow_mut();
        match &mut *conn {
            Conn::Sqlite(c) => f(&mut Ex::Lite(c)),
            Conn::Postgres(Pg { client, stmts }) => {
                let mut tx = client
                    .build_transaction()
                    .isolation_level(postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()?;
                let v = f(&mut Ex::PgTx(&mut tx, stmts))?;
                tx.commit()?;
                Ok(v)
            }
        }
    }

    /// A write transaction: all of `f` or nothing. SQLite: `BEGIN IMMEDIATE` (writers take
    /// the file's lock up front, waiting up to the busy timeout). PostgreSQL: READ COMMITTED;
    /// the ledger's writes take their row locks in one order (see `store_collection`), and a
    /// transaction the server aborts as a deadlock or serialization failure is run again, up
    /// to 5 times, so `f` must be safe to re-run from the start.
    pub fn write<T>(&self, mut f: impl FnMut(&mut Ex<'_, '_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.borrow_mut();
        match &mut *conn {
            Conn::Sqlite(c) => {
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let v = f(&mut Ex::Lite(&tx))?;
                tx.commit()?;
                Ok(v)
            }
            Conn::Postgres(Pg { client, stmts }) => {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let r = (|| {
                        let mut tx = client.transaction()?;
                        let v = f(&mut Ex::PgTx(&mut tx, stmts))?;
                        tx.commit()?;
                        Ok(v)
                    })();
                    match r {
                        Err(e) if attempt < 5 && retryable(&e) => {
                            tracing::debug!("ledger: transaction retried after {e}");
                            std::thread::sleep(std::time::Duration::from_millis(
                                5 * attempt as u64,
                            ));
                        }
                        r => return r,
                    }
                }
            }
        }
    }

    /// Run outside any transaction (PostgreSQL: autocommit), e.g. for the schema.
    pub fn plain<T>(&self, f: impl FnOnce(&mut Ex<'_, '_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.borrow_mut();
        match &mut *conn {
            Conn::Sqlite(c) => f(&mut Ex::Lite(c)),
            Conn::Postgres(Pg { client, stmts }) => f(&mut Ex::PgClient(client, stmts)),
        }
    }
}
