//! Exercises every interface: params, labels, datasets, bind/unbind,
//! records, all three ways to store artifacts, logging, stdout and stderr.

use std::io::Write;

use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    greeting: String,
    repeat: usize,
    nested: Nested,
}

#[derive(Deserialize)]
struct Nested {
    scale: f64,
}

fn run() -> djx::Result<()> {
    let p: Params = djx::params()?;
    let labels: serde_json::Value = djx::labels()?;
    println!("hello from stdout: {}", p.greeting);
    eprintln!("hello from stderr");
    djx::log::info(format!("repeat={}", p.repeat));

    let iris = djx::dataset_info("iris")?;
    let text = std::fs::read_to_string(&iris.path)?;
    let rows = text.lines().skip(1).filter(|l| !l.is_empty()).count();
    djx::record("dataset read")
        .context("path", iris.path.to_string_lossy())
        .context("digest", &iris.digest)
        .context("datasets", djx::datasets().len())
        .context("labels", labels)
        .metric("rows", rows as f64)
        .emit()?;

    djx::bind("phase", "train");
    djx::bind("model", "demo");
    for i in 0..p.repeat {
        djx::record("step")
            .context("i", i)
            .metric("value", p.nested.scale * i as f64)
            .emit()?;
    }
    djx::unbind(&["phase"]);

    let whole = djx::artifact::save("whole", p.greeting.as_bytes())?;
    std::fs::write("/tmp/scratch.bin", [1u8, 2, 3, 4])?;
    let from_file = djx::artifact::save_file("from-file", "/tmp/scratch.bin")?;
    let mut writer = djx::artifact::Writer::new("streamed");
    for chunk in 0..4u8 {
        writer.write_all(&[chunk; 1000])?;
    }
    let streamed = writer.finish()?;
    djx::record("artifacts saved")
        .context("phase", "save")
        .artifact("whole", &whole)
        .artifact("from-file", &from_file)
        .artifact("streamed", &streamed)
        .emit()?;
    Ok(())
}

djx::main!(run);
