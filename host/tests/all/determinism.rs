//! The same guest with the same params gives byte-identical records and
//! artifacts in separate processes, even when it reads HashMap order, the
//! clocks and random.

use crate::support::*;

fn run_nondet(t: &TestDir, params: &str, out_dir: &str) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let out = run(t
        .djx()
        .arg("exec")
        .arg(djx_fixtures::NONDET)
        .args(["--params", params, "--out", out_dir]));
    assert_exit(&out, 0);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(t.path().join(out_dir))
        .expect("out dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.sort();
    (out.stdout, files)
}

#[test]
pub fn nondet() {
    let t = TestDir::new();
    let first = run_nondet(&t, "{}", "a");
    let second = run_nondet(&t, "{}", "b");
    assert_eq!(
        String::from_utf8_lossy(&first.0),
        String::from_utf8_lossy(&second.0),
        "records are byte-identical"
    );
    assert_eq!(first.1, second.1, "artifacts are byte-identical");
    assert!(!first.1.is_empty());

    // The seed comes from the job, not a constant: other params, other random.
    let other = run_nondet(&t, r#"{"nonce": 1}"#, "c");
    let random = |stdout: &[u8]| -> serde_json::Value {
        let first = String::from_utf8_lossy(stdout)
            .lines()
            .next()
            .map(str::to_owned)
            .unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&first).expect("json")["context"]["random"]
            .clone()
    };
    assert_ne!(random(&first.0), random(&other.0));
}

#[test]
fn roundtrip_is_identical_across_processes() {
    let t = TestDir::new();
    let data = t.iris_dir("data");
    let go = || {
        let out = run(t
            .djx()
            .arg("exec")
            .arg(djx_fixtures::ROUNDTRIP)
            .args([
                "--params",
                r#"{"greeting": "x", "repeat": 5, "nested": {"scale": 0.1}}"#,
            ])
            .arg(format!("--data=iris={}", data.join("iris.csv").display())));
        assert_exit(&out, 0);
        out.stdout
    };
    assert_eq!(go(), go());
}

/// File metadata a guest reads (times, link count) does not depend on the
/// host: touching a dataset or hard-linking it changes nothing the guest
/// sees.
#[test]
fn file_metadata_is_pinned() {
    let t = TestDir::new();
    let data = t.path().join("data.csv");
    std::fs::write(&data, "a,b\n1,2\n").expect("write");
    let go = |out_dir: &str| {
        let out = run(t
            .djx()
            .arg("exec")
            .arg(djx_fixtures::NONDET)
            .args(["--out", out_dir])
            .arg(format!("--data=data={}", data.display())));
        assert_exit(&out, 0);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = go("a");
    assert!(first.contains("size=8"), "{first}");
    assert!(first.contains("mtim=946684800000000000"), "{first}");
    // Another modification time and another link: the host's view changes.
    let file = std::fs::File::options()
        .write(true)
        .open(&data)
        .expect("open");
    file.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(12345))
        .expect("set mtime");
    std::fs::hard_link(&data, t.path().join("link.csv")).expect("link");
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(go("b"), first, "the guest sees the same metadata");
}
