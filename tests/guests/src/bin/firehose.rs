//! The metric firehose: `points` records of one `loss` metric with a `step`
//! context, as a training loop logs them. Optionally, `spikes` (steps whose
//! loss is 100 times higher, or, negated, 100 below zero) and `period` (the
//! step restarts from 0 every `period` records, as a loop over epochs that
//! logs its inner step would).

use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    points: u64,
    #[serde(default)]
    spikes: Vec<i64>,
    #[serde(default)]
    period: Option<u64>,
}

fn run() -> djx::Result<()> {
    let p: Params = djx::params()?;
    djx::bind("phase", "train");
    for i in 0..p.points {
        let step = p.period.map_or(i, |period| i % period.max(1));
        let mut loss = 1.0 / (1.0 + step as f64);
        if p.spikes.contains(&(i as i64)) {
            loss *= 100.0;
        } else if p.spikes.contains(&-(i as i64)) {
            loss -= 100.0;
        }
        djx::record("step")
            .context("step", step)
            .metric("loss", loss)
            .emit()?;
    }
    Ok(())
}

djx::main!(run);
