//! The metric firehose: `points` records of one `loss` metric with a `step`
//! context, as a training loop logs them.

use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    points: u64,
}

fn run() -> djx::Result<()> {
    let p: Params = djx::params()?;
    djx::bind("phase", "train");
    for step in 0..p.points {
        djx::record("step")
            .context("step", step)
            .metric("loss", 1.0 / (1.0 + step as f64))
            .emit()?;
    }
    Ok(())
}

djx::main!(run);
