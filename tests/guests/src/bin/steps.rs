//! Emits `records` records with `spin` busy iterations before each, then
//! saves a small artifact if `artifact` is set, then saves each dataset
//! named in `save` (artifact name: dataset name) as an artifact, then fails
//! if `fail` is set. Each record names the job's `id` label, so a test can
//! count exactly how often every job's records were kept.

use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    records: u64,
    #[serde(default)]
    spin: u64,
    #[serde(default)]
    fail: bool,
    #[serde(default)]
    artifact: bool,
    #[serde(default)]
    save: std::collections::BTreeMap<String, String>,
}

fn run() -> djx::Result<()> {
    let p: Params = djx::params()?;
    let labels: serde_json::Value = djx::labels()?;
    let mut acc = 0u64;
    for i in 0..p.records {
        for k in 0..p.spin {
            acc = std::hint::black_box(acc.wrapping_mul(31).wrapping_add(k));
        }
        djx::record("step")
            .context("id", &labels["id"])
            .context("i", i)
            .metric("acc", (acc % 1000) as f64)
            .emit()?;
    }
    if p.artifact {
        let bytes = format!("steps job {} acc {acc}", labels["id"]);
        let saved = djx::artifact::save("steps.txt", bytes.as_bytes())?;
        djx::record("saved").artifact("steps.txt", &saved).emit()?;
    }
    for (name, dataset) in &p.save {
        let bytes = std::fs::read(djx::dataset_info(dataset)?.path)?;
        let saved = djx::artifact::save(name, &bytes)?;
        djx::record("saved").artifact(name, &saved).emit()?;
    }
    djx::ensure!(!p.fail, "asked to fail after {} records", p.records);
    Ok(())
}

djx::main!(run);
