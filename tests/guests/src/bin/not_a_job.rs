//! A plain WASI command, not a djx job: `djx` must refuse it at load time.

fn main() {
    println!("I am not a djx job");
}
