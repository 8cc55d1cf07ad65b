//! A float-heavy kernel (n-body, from `djx-kernels`) for the determinism
//! profiles: records the energies and a checksum of every final bit.

use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    steps: u64,
}

fn run() -> djx::Result<()> {
    let p: Params = djx::params()?;
    let r = djx_kernels::nbody(p.steps);
    djx::record("nbody")
        .context("steps", p.steps)
        .context("checksum", format!("{:016x}", r.checksum))
        .metric("energy_before", r.energy_before)
        .metric("energy_after", r.energy_after)
        .emit()?;
    Ok(())
}

djx::main!(run);
