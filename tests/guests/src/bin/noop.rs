//! Does nothing: the cost of the sandbox itself.

fn run() -> djx::Result<()> {
    Ok(())
}

djx::main!(run);
