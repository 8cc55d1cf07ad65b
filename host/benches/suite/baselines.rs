//! What the same work costs without djx, measured in the same run, so a row
//! says how close djx is to the limit on whatever machine runs the suite.

use std::path::Path;
use std::time::Instant;

use djx_host::runtime::{Determinism, JobEngine};
use rusqlite::{Connection, TransactionBehavior};
use wasmtime::Store;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Records per chunk, as djx's writer commits them (16,384 per chunk).
const CHUNK: usize = 16_384;

/// Rows per INSERT statement, as djx's SQLite store batches them.
const BATCH: usize = 64;

/// P2's limit: the records a djx run stored (in `djx_db`), inserted again
/// by a bare rusqlite loop into a fresh database with the same schema,
/// pragmas (WAL, `synchronous=NORMAL`, no foreign-key checks, as djx's
/// record writer), statements (64 rows each) and transactions (one per
/// 16,384 records). Returns records per second.
pub fn sqlite_records_per_s(djx_db: &Path, scratch: &Path) -> f64 {
    let source = Connection::open(djx_db).expect("open djx's database");
    let schema: Vec<String> = source
        .prepare(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL \
             AND type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'",
        )
        .expect("schema")
        .query_map([], |row| row.get(0))
        .expect("schema")
        .collect::<Result<_, _>>()
        .expect("schema");
    type Row = (i64, i64, i64, String, String, String, String);
    let rows: Vec<Row> = source
        .prepare(
            "SELECT job_id, attempt, seq, event, context, metrics, artifacts FROM record \
             ORDER BY job_id, attempt, seq",
        )
        .expect("records")
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .expect("records")
        .collect::<Result<_, _>>()
        .expect("records");
    drop(source);

    let path = scratch.join("baseline.db");
    let _ = std::fs::remove_file(&path);
    let mut conn = Connection::open(&path).expect("baseline database");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("sync");
    conn.pragma_update(None, "foreign_keys", "OFF").expect("fk");
    for sql in &schema {
        conn.execute_batch(sql).expect("schema statement");
    }
    let insert = |rows: usize| {
        let row = "(?,?,?,?,?,?,?)";
        format!(
            "INSERT INTO record (job_id, attempt, seq, event, context, metrics, artifacts) VALUES {}",
            vec![row; rows].join(",")
        )
    };
    let started = Instant::now();
    for chunk in rows.chunks(CHUNK) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        {
            let mut batch = tx.prepare_cached(&insert(BATCH)).expect("prepare");
            let mut single = tx.prepare_cached(&insert(1)).expect("prepare");
            let exec = |statement: &mut rusqlite::CachedStatement<'_>, rows: &[Row]| {
                for (i, r) in rows.iter().enumerate() {
                    let at = i * 7;
                    statement.raw_bind_parameter(at + 1, r.0).expect("bind");
                    statement.raw_bind_parameter(at + 2, r.1).expect("bind");
                    statement.raw_bind_parameter(at + 3, r.2).expect("bind");
                    statement.raw_bind_parameter(at + 4, &r.3).expect("bind");
                    statement.raw_bind_parameter(at + 5, &r.4).expect("bind");
                    statement.raw_bind_parameter(at + 6, &r.5).expect("bind");
                    statement.raw_bind_parameter(at + 7, &r.6).expect("bind");
                }
                statement.raw_execute().expect("insert");
            };
            for group in chunk.chunks(BATCH) {
                if group.len() == BATCH {
                    exec(&mut batch, group);
                } else {
                    for r in group {
                        exec(&mut single, std::slice::from_ref(r));
                    }
                }
            }
        }
        tx.commit().expect("commit");
    }
    let elapsed = started.elapsed().as_secs_f64();
    drop(conn);
    let _ = std::fs::remove_file(&path);
    rows.len() as f64 / elapsed
}

/// The state of a bare wasmtime store: WASI only.
struct Bare {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Bare {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// P4's limit: bare wasmtime instantiating the same no-op component from
/// an `InstancePre` with an empty WASI context, and calling its `run`. The
/// engine is configured as djx's (so the compiled code is the same, epoch
/// checks included), but the store has no deadline callback, no memory
/// limiter, no scratch directory, no log, no records; djx's imports are
/// defined as traps (the no-op job calls none). Returns the median of
/// `calls`, in microseconds.
pub fn wasmtime_noop_us(component: &Path, calls: usize) -> f64 {
    let djx_engine = JobEngine::new(Determinism::Native).expect("djx's engine configuration");
    let engine = djx_engine.engine().clone();
    let component = Component::from_file(&engine, component).expect("compile the no-op job");
    let mut linker = Linker::<Bare>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("wasi");
    linker
        .define_unknown_imports_as_traps(&component)
        .expect("djx's imports");
    let pre = linker.instantiate_pre(&component).expect("instantiate_pre");
    let mut samples: Vec<f64> = (0..calls)
        .map(|_| {
            let started = Instant::now();
            let mut store = Store::new(
                &engine,
                Bare {
                    wasi: WasiCtx::builder().build(),
                    table: ResourceTable::new(),
                },
            );
            store.set_epoch_deadline(u64::MAX / 2);
            let instance = pre.instantiate(&mut store).expect("instantiate");
            let run = instance
                .get_typed_func::<(), (Result<(), String>,)>(&mut store, "run")
                .expect("the run export");
            let (result,) = run.call(&mut store, ()).expect("call");
            result.expect("the no-op job succeeds");
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
