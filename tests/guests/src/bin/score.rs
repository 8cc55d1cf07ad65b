//! A job for successive-halving tests: records its metric (`score`, or the
//! name `metric` gives) three times, the last value `-(x - 0.3)^2 +
//! budget / 1000 + offset`, so the configurations closest to 0.3 rank
//! first, and a larger budget scores more. With `fail_above` it fails when
//! `x` is above it, and with `silent` it records nothing.

use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    x: f64,
    #[serde(default)]
    budget: f64,
    #[serde(default)]
    offset: f64,
    #[serde(default)]
    fail_above: Option<f64>,
    #[serde(default)]
    silent: bool,
    #[serde(default = "score")]
    metric: String,
}

fn score() -> String {
    "score".into()
}

fn run() -> djx::Result<()> {
    let p: Params = djx::params()?;
    if let Some(limit) = p.fail_above {
        djx::ensure!(p.x <= limit, "x = {} is above {limit}", p.x);
    }
    if p.silent {
        return Ok(());
    }
    let value = -(p.x - 0.3) * (p.x - 0.3) + p.budget / 1000.0 + p.offset;
    // Earlier values are worse: only the last counts.
    for step in [2.0, 1.0, 0.0] {
        djx::record("step").metric(&p.metric, value - step).emit()?;
    }
    Ok(())
}

djx::main!(run);
