//! Compute kernels, built both for wasm32-wasip2 (in the `flops` and
//! `forest` test guests) and natively (in the benchmarks), so that "wasm vs
//! native" and "portable vs native determinism" compare the same code: an
//! n-body simulation ([`nbody`]) and a random forest ([`forest`]).

// Vector arithmetic over x, y, z reads best, and compiles the same, as
// indexed loops.
#![allow(clippy::needless_range_loop)]

pub mod forest;

/// One body of the n-body simulation.
#[derive(Clone, Copy, Debug)]
struct Body {
    pos: [f64; 3],
    vel: [f64; 3],
    mass: f64,
}

const PI: f64 = std::f64::consts::PI;
const SOLAR_MASS: f64 = 4.0 * PI * PI;
const DAYS_PER_YEAR: f64 = 365.24;

/// The Jovian planets and the sun, as in the Computer Language Benchmarks
/// Game's n-body.
fn bodies() -> [Body; 5] {
    let planet = |pos: [f64; 3], vel: [f64; 3], mass: f64| Body {
        pos,
        vel: vel.map(|v| v * DAYS_PER_YEAR),
        mass: mass * SOLAR_MASS,
    };
    let mut b = [
        Body {
            pos: [0.0; 3],
            vel: [0.0; 3],
            mass: SOLAR_MASS,
        },
        planet(
            [
                4.841_431_442_464_72,
                -1.160_320_044_027_428_4,
                -0.103_622_044_471_123_1,
            ],
            [
                1.660_076_642_744_037e-3,
                7.699_011_184_197_404e-3,
                -6.904_600_169_720_63e-5,
            ],
            9.547_919_384_243_266e-4,
        ),
        planet(
            [
                8.343_366_718_244_58,
                4.124_798_564_124_305,
                -4.035_234_171_143_214e-1,
            ],
            [
                -2.767_425_107_268_624e-3,
                4.998_528_012_349_172e-3,
                2.304_172_975_737_639_3e-5,
            ],
            2.858_859_806_661_308e-4,
        ),
        planet(
            [
                1.289_436_956_213_913_1e1,
                -1.511_115_140_169_863_1e1,
                -2.233_075_788_926_557_3e-1,
            ],
            [
                2.964_601_375_647_616e-3,
                2.378_471_739_594_809_5e-3,
                -2.965_895_685_402_375_6e-5,
            ],
            4.366_244_043_351_563e-5,
        ),
        planet(
            [
                1.537_969_711_485_091_1e1,
                -2.591_931_460_998_796_4e1,
                1.792_587_729_503_711_8e-1,
            ],
            [
                2.680_677_724_903_893_2e-3,
                1.628_241_700_382_423e-3,
                -9.515_922_545_197_159e-5,
            ],
            5.151_389_020_466_114_5e-5,
        ),
    ];
    // Offset the sun's momentum so the system's is zero.
    let mut p = [0.0; 3];
    for body in &b {
        for k in 0..3 {
            p[k] += body.vel[k] * body.mass;
        }
    }
    for k in 0..3 {
        b[0].vel[k] = -p[k] / SOLAR_MASS;
    }
    b
}

fn energy(b: &[Body; 5]) -> f64 {
    let mut e = 0.0;
    for i in 0..b.len() {
        let v2: f64 = b[i].vel.iter().map(|v| v * v).sum();
        e += 0.5 * b[i].mass * v2;
        for j in i + 1..b.len() {
            let d2: f64 = (0..3).map(|k| (b[i].pos[k] - b[j].pos[k]).powi(2)).sum();
            e -= b[i].mass * b[j].mass / d2.sqrt();
        }
    }
    e
}

fn advance(b: &mut [Body; 5], dt: f64) {
    for i in 0..b.len() {
        for j in i + 1..b.len() {
            let d: [f64; 3] = std::array::from_fn(|k| b[i].pos[k] - b[j].pos[k]);
            let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let mag = dt / (d2 * d2.sqrt());
            let (mi, mj) = (b[i].mass, b[j].mass);
            for k in 0..3 {
                b[i].vel[k] -= d[k] * mj * mag;
                b[j].vel[k] += d[k] * mi * mag;
            }
        }
    }
    for body in b.iter_mut() {
        for k in 0..3 {
            body.pos[k] += dt * body.vel[k];
        }
    }
}

/// What an n-body run computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NBody {
    /// The energy before the first step.
    pub energy_before: f64,
    /// The energy after the last step.
    pub energy_after: f64,
    /// blake3-free bit checksum: the xor of every final coordinate's bits,
    /// so any one-bit difference anywhere shows.
    pub checksum: u64,
}

/// Simulates the five bodies for `steps` steps of 0.01 days.
pub fn nbody(steps: u64) -> NBody {
    let mut b = bodies();
    let energy_before = energy(&b);
    for _ in 0..steps {
        advance(&mut b, 0.01);
    }
    let checksum = b
        .iter()
        .flat_map(|body| body.pos.iter().chain(body.vel.iter()))
        .fold(0u64, |acc, x| acc.rotate_left(7) ^ x.to_bits());
    NBody {
        energy_before,
        energy_after: energy(&b),
        checksum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_benchmarks_game() {
        // The published outputs for 1,000 steps, to 9 decimals.
        let r = nbody(1000);
        assert_eq!(format!("{:.9}", r.energy_before), "-0.169075164");
        assert_eq!(format!("{:.9}", r.energy_after), "-0.169087605");
    }
}
