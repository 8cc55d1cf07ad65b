//! A plain WASI command, with no djx SDK: a `wasi:cli/command` component
//! that speaks djx's job protocol (README, "Any language: the job
//! protocol") through the standard library alone.
//!
//! Parameters: `greeting` (a string, recorded back), `tcp` (an address
//! it tries to connect to, to show that the sandbox refuses it), and
//! `noop` (true: exit right after reading the parameters; benchmark P4).

use std::io::Write as _;

fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("no {name}"));
    let params: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(var("DJX_PARAMS")).expect("params"))
            .expect("params are JSON");
    if params["noop"] == true {
        return;
    }
    let datasets: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(var("DJX_DATASETS")).expect("datasets"))
            .expect("datasets are JSON");
    let mut records = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(var("DJX_RECORDS"))
        .expect("records file");
    let mut record = |line: serde_json::Value| {
        writeln!(records, "{line}").expect("record");
    };
    let argv: Vec<String> = std::env::args().collect();
    let env: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    record(serde_json::json!({
        "event": "hello",
        "context": {
            "greeting": params["greeting"],
            "argv": argv,
            "env": env,
            "datasets": datasets,
            "protocol": var("DJX_PROTOCOL"),
        },
        "metrics": {"answer": 42, "nan": "NaN"},
    }));
    if let Some(address) = params["tcp"].as_str() {
        let outcome = match std::net::TcpStream::connect(address) {
            Ok(_) => "allowed".to_owned(),
            Err(e) => format!("refused: {e}"),
        };
        record(serde_json::json!({"event": "tcp", "context": {"outcome": outcome}}));
    }
    let artifacts = std::path::PathBuf::from(var("DJX_ARTIFACTS"));
    std::fs::write(artifacts.join("note.txt"), "written by a WASI command\n").expect("artifact");
    println!("I am a WASI command, run as a djx job");
}
