//! Breaks the limit named by the `break` parameter.

use std::io::Write;

use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    #[serde(rename = "break")]
    limit: String,
}

#[inline(never)]
#[allow(unconditional_recursion)] // on purpose: it must overflow the stack
fn recurse(depth: u64, pad: &mut [u8; 64]) -> u64 {
    pad[(depth % 64) as usize] = depth as u8;
    // black_box keeps the recursion from being turned into a loop.
    1 + recurse(std::hint::black_box(depth + 1), std::hint::black_box(pad))
}

fn run() -> djx::Result<()> {
    let p: Params = djx::params()?;
    match p.limit.as_str() {
        "timeout" => {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "memory" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 16 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "stack" => {
            let mut pad = [0u8; 64];
            let depth = recurse(0, &mut pad);
            djx::bail!("recursion ended at depth {depth}");
        }
        "records" => loop {
            djx::record("flood").metric("x", 1.0).emit()?;
        },
        "record-size" => {
            let big = "x".repeat(4 << 20);
            djx::record("huge").context("blob", big).emit()?;
        }
        "artifacts" => loop {
            djx::artifact::save("flood", vec![7u8; 1 << 20])?;
        },
        "artifact-stream" => {
            let mut w = djx::artifact::Writer::new("stream");
            loop {
                w.write_all(&[9u8; 1 << 20])?;
            }
        }
        "stdout" => loop {
            println!("{}", "flood ".repeat(1000));
        },
        "log" => loop {
            djx::log::info("flood ".repeat(1000));
        },
        other => djx::bail!("unknown limit {other:?}"),
    }
    Ok(())
}

djx::main!(run);
