//! Fails in the way named by the `how` parameter.

use serde::Deserialize;

#[derive(Deserialize)]
struct Params {
    how: String,
}

fn run() -> djx::Result<()> {
    let p: Params = djx::params()?;
    djx::record("before failing").emit()?;
    match p.how.as_str() {
        "error" => djx::bail!("the model did not converge after 3 iterations"),
        "panic" => panic!("index out of range in fold 2"),
        "bad-context" => {
            djx::bind_json("not an object")?;
            Ok(())
        }
        "unknown-artifact" => {
            let fake: djx::Digest = djx::artifact::save("x", b"x")?;
            let _ = fake;
            // A digest this job never stored:
            let other = djx::Digest::from_hex(&"ab".repeat(32));
            djx::record("bad ref").artifact("model", &other).emit()?;
            Ok(())
        }
        "missing-dataset" => djx::dataset("nope").map(|_| ()),
        other => djx::bail!("unknown failure {other:?}"),
    }
}

djx::main!(run);
