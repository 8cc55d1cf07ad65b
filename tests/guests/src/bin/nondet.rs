//! Reads everything that could differ between runs: HashMap order, both
//! clocks, WASI random, the scratch dir's state, and file metadata (of a
//! file it writes, and of the `data` dataset if the job has one). Under djx
//! they are all pinned, so two runs must record the same bytes.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn run() -> djx::Result<()> {
    let map: HashMap<u32, u32> = (0..64).map(|i| (i, i * i)).collect();
    let order: Vec<u32> = map.keys().copied().collect();
    let hash = RandomState::new().hash_one("djx");
    let wall = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let start = Instant::now();
    let mut spin = 0u64;
    for i in 0..1000 {
        spin = spin.wrapping_add(std::hint::black_box(i));
    }
    let elapsed = start.elapsed().as_nanos();
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| djx::Error::msg(e.to_string()))?;
    let tmp_entries = std::fs::read_dir("/tmp")?.count();
    std::fs::write("/tmp/stamp", b"x")?;
    let written = metadata_text("/tmp/stamp")?;
    let dataset = match djx::datasets().iter().find(|d| d.name == "data") {
        Some(d) => metadata_text(&d.path.display().to_string())?,
        None => String::new(),
    };
    djx::record("observed")
        .context("hashmap_order", order)
        .context("hash", hash.to_string())
        .context("wall_nanos", wall.to_string())
        .context("elapsed_nanos", elapsed.to_string())
        .context("random", format!("{bytes:02x?}"))
        .context("tmp_entries", tmp_entries)
        .context("written_metadata", written)
        .context("dataset_metadata", dataset)
        .metric("spin", spin as f64)
        .emit()?;
    let artifact = djx::artifact::save("random", bytes)?;
    djx::record("saved").artifact("random", &artifact).emit()?;
    Ok(())
}

/// Times and size of a file, as a guest sees them.
fn metadata_text(path: &str) -> djx::Result<String> {
    let m = std::fs::metadata(path)?;
    let secs = |t: std::io::Result<SystemTime>| match t {
        Ok(t) => t
            .duration_since(UNIX_EPOCH)
            .map_or("before 1970".to_owned(), |d| d.as_nanos().to_string()),
        Err(e) => format!("({e})"),
    };
    Ok(format!(
        "atim={} mtim={} ctim={} size={}",
        secs(m.accessed()),
        secs(m.modified()),
        secs(m.created()),
        m.len()
    ))
}

djx::main!(run);
