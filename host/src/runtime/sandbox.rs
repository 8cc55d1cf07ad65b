//! The WASI context of a job: deny by default.
//!
//! A job gets its datasets preopened read-only at `/data/<name>`, a private
//! writable scratch directory at `/tmp`, deterministic clocks and random
//! sources seeded from the job, and stdout/stderr captured into its log.
//! It gets no network (TCP, UDP and name lookup are all off), no
//! environment variables, no arguments and no stdin. A WASI program gets
//! the job protocol's directories, its `DJX_*` variables and the argument
//! list `["job"]` as well ([`protocol`](super::protocol)), then the
//! arguments and variables of its experiment's
//! [`Invocation`](crate::runtime::Invocation). Its read-only files are
//! preopened where their names say, as datasets are under `/data`.

use std::path::Path;

use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use crate::runtime::clock::{DeterministicMonotonicClock, DeterministicWallClock};
use crate::runtime::job::JobInput;
use crate::runtime::log::{JobLog, Stream};
use crate::runtime::protocol::{self, ProtocolDirs};
use crate::runtime::random::SeededRandom;

/// Most bytes one `get-random-bytes` call may ask for.
const MAX_RANDOM_BYTES: u64 = 1 << 20;

/// Builds the WASI context for `input`, with `scratch` as `/tmp`, and the
/// job protocol's directories for a WASI program.
pub fn wasi_ctx(
    input: &JobInput,
    scratch: &Path,
    protocol: Option<&ProtocolDirs<'_>>,
    log: &JobLog,
) -> wasmtime::Result<WasiCtx> {
    let mut builder = WasiCtxBuilder::new();
    // Blocking file I/O on the job's own thread: about half the per-job cost
    // of going through tokio's spawn_blocking. It must be set before the
    // preopens, which capture it.
    builder.allow_blocking_current_thread(true);
    builder
        .stdout(log.pipe(Stream::Stdout))
        .stderr(log.pipe(Stream::Stderr))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(DeterministicWallClock::default())
        .monotonic_clock(DeterministicMonotonicClock::default())
        .secure_random(SeededRandom::new(&input.seed, "djx wasi random v1"))
        .insecure_random(SeededRandom::new(
            &input.seed,
            "djx wasi insecure-random v1",
        ))
        .insecure_random_seed(SeededRandom::derive_u128(
            &input.seed,
            "djx wasi insecure-seed v1",
        ))
        .max_random_size(MAX_RANDOM_BYTES);
    // Every socket address is refused, whatever the flags above allow.
    builder.socket_addr_check(|_, _| Box::pin(async { false }));
    for dataset in &input.datasets {
        builder
            .preopened_dir(&dataset.host_dir, dataset.guest_dir(), FsPerms::ReadOnly)
            .map_err(|e| {
                e.context(format!(
                    "preopening dataset {:?} from {}",
                    dataset.name,
                    dataset.host_dir.display()
                ))
            })?;
    }
    builder
        .preopened_dir(scratch, "/tmp", FsPerms::ReadWrite)
        .map_err(|e| e.context("preopening the scratch directory"))?;
    if let Some(dirs) = protocol {
        builder
            .preopened_dir(dirs.input(), protocol::IN_DIR, FsPerms::ReadOnly)
            .map_err(|e| e.context("preopening the job protocol's inputs"))?
            .preopened_dir(dirs.output(), protocol::OUT_DIR, FsPerms::ReadWrite)
            .map_err(|e| e.context("preopening the job protocol's outputs"))?
            .preopened_dir(
                dirs.artifacts(),
                format!("{}/{}", protocol::OUT_DIR, protocol::ARTIFACTS_DIR),
                FsPerms::ReadWrite,
            )
            .map_err(|e| e.context("preopening the job protocol's artifacts"))?
            .envs(&ProtocolDirs::env())
            .envs(&input.invocation.env.iter().collect::<Vec<_>>())
            .arg("job")
            .args(&input.invocation.args);
    }
    Ok(builder.build())
}
