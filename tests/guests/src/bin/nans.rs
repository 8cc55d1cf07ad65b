//! NaNs made every way a program can make them, and their bits seen every
//! way a program can see them, for the `portable` profile's promise: every
//! NaN bit the program can observe is the same on every architecture, and
//! NaNs the program only copies keep their payload.
//!
//! Records one `nans` record whose context maps each case to the bits seen,
//! in hex. The inputs come from the parameters so that nothing folds at
//! compile time.

use std::hint::black_box;

use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    /// 0.0
    zero: f64,
    /// The bits of a NaN with a payload (R's NA is 0x7ff00000000007a2).
    payload: u64,
    /// Loop trips for the loop-carried case.
    steps: u32,
}

/// Computed out of line: the NaN leaves a function as its result.
#[inline(never)]
fn divide(a: f64, b: f64) -> f64 {
    a / b
}

/// The NaN crosses a call as an argument and is observed by the callee.
#[inline(never)]
fn bits_of(x: f64) -> u64 {
    x.to_bits()
}

#[cfg(target_arch = "wasm32")]
fn simd(a: f64, b: f64) -> (u64, u64, u64) {
    use std::arch::wasm32::*;
    let v = f64x2(a, b);
    let w = f64x2_add(v, f64x2_splat(1.0));
    // Lanes moved whole, then seen through an integer lane.
    let swapped = i64x2_shuffle::<1, 0>(w, w);
    let added = f64x2_mul(swapped, f64x2_splat(black_box(2.0)));
    (
        i64x2_extract_lane::<0>(added) as u64,
        i64x2_extract_lane::<1>(added) as u64,
        // A float lane extracted, then seen as bits.
        f64x2_extract_lane::<0>(w).to_bits(),
    )
}

#[cfg(not(target_arch = "wasm32"))]
fn simd(_: f64, _: f64) -> (u64, u64, u64) {
    (0, 0, 0)
}

fn run() -> djx::Result<()> {
    let p: Params = djx::params()?;
    // Two zeros: 0/0 makes the NaN, and the compiler cannot fold it.
    let (zero, nought) = (black_box(p.zero), black_box(p.zero));
    let payload = black_box(f64::from_bits(p.payload));
    let (zero32, nought32) = (black_box(p.zero as f32), black_box(p.zero as f32));

    // Loop-carried: the accumulator is dirty after the first trip.
    let mut acc = black_box(1.0f64);
    for i in 0..black_box(p.steps) {
        acc = if i % 2 == 0 {
            acc * zero / nought
        } else {
            acc + 1.0
        };
    }
    let stored = [black_box(zero / nought), black_box(payload)];
    let (simd_lane0, simd_lane1, simd_extract) = simd(zero / nought, payload);

    let hex = |b: u64| format!("{b:016x}");
    djx::record("nans")
        .context("div", hex((zero / nought).to_bits()))
        .context("neg_div", hex((-(zero / nought)).to_bits()))
        .context("propagate", hex((payload + 1.0).to_bits()))
        .context("copied", hex(payload.to_bits()))
        .context("copied_through_memory", hex(black_box(stored)[1].to_bits()))
        .context("stored", hex(black_box(stored)[0].to_bits()))
        .context("f32_div", format!("{:08x}", (zero32 / nought32).to_bits()))
        .context("copysign", hex(1.0f64.copysign(zero / nought).to_bits()))
        .context("returned", hex(divide(zero, zero).to_bits()))
        .context("argument", hex(bits_of(zero / nought)))
        .context("loop", hex(acc.to_bits()))
        .context("sqrt", hex((zero - 1.0).sqrt().to_bits()))
        .context("simd_lane0", hex(simd_lane0))
        .context("simd_lane1", hex(simd_lane1))
        .context("simd_extract", hex(simd_extract))
        .emit()?;
    Ok(())
}

djx::main!(run);
