//! The bookkeeping benchmark's job: no compute, one record with 10 metrics,
//! and one 1 KiB artifact. What it costs is what djx costs.

fn run() -> djx::Result<()> {
    let labels: serde_json::Value = djx::labels()?;
    let id = labels["id"].as_u64().unwrap_or(0);
    let mut payload = [0u8; 1024];
    payload[..8].copy_from_slice(&id.to_le_bytes());
    let model = djx::artifact::save("model", payload)?;
    djx::record("fit")
        .context("fold", 0)
        .metrics((0..10).map(|i| (format!("m{i}"), (id + i) as f64 / 7.0)))
        .artifact("model", &model)
        .emit()?;
    Ok(())
}

djx::main!(run);
