//! The compile cache: a module compiles once per engine configuration.

use std::path::Path;

use djx_host::runtime::{Determinism, Runtime};

fn runtime(determinism: Determinism, cache: &Path) -> Runtime {
    Runtime::new(determinism, cache.to_path_buf(), std::env::temp_dir()).expect("runtime")
}

#[test]
fn compiles_once_per_engine_configuration() {
    let cache = tempfile::tempdir().expect("tempdir");
    let native = runtime(Determinism::Native, cache.path());
    let module = native.load_file(djx_fixtures::NOOP.as_ref()).expect("load");
    assert!(!module.cache_hit, "first load compiles");
    let again = runtime(Determinism::Native, cache.path())
        .load_file(djx_fixtures::NOOP.as_ref())
        .expect("load");
    assert!(
        again.cache_hit,
        "a new runtime loads the cached compilation"
    );
    assert_eq!(again.digest, module.digest);

    let portable = runtime(Determinism::Portable, cache.path());
    assert_ne!(
        portable.engine().fingerprint(),
        native.engine().fingerprint()
    );
    let other = portable
        .load_file(djx_fixtures::NOOP.as_ref())
        .expect("load");
    assert!(
        !other.cache_hit,
        "another engine configuration gets its own entry"
    );
}

#[test]
fn a_corrupt_cache_entry_is_recompiled() {
    let cache = tempfile::tempdir().expect("tempdir");
    runtime(Determinism::Native, cache.path())
        .load_file(djx_fixtures::NOOP.as_ref())
        .expect("load");
    for entry in std::fs::read_dir(cache.path()).expect("cache dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "cwasm") {
            let mut bytes = std::fs::read(&path).expect("read");
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0xff;
            std::fs::write(&path, bytes).expect("corrupt");
        }
    }
    let rt = runtime(Determinism::Native, cache.path());
    let module = rt.load_file(djx_fixtures::NOOP.as_ref()).expect("load");
    assert!(!module.cache_hit, "the corrupt entry was not loaded");
    let store =
        djx_host::artifact_store::ArtifactStore::open(cache.path().join("a")).expect("store");
    let outcome = rt.run(
        &module,
        &crate::runtime::spec(&module, serde_json::json!({})),
        &store,
    );
    assert!(outcome.is_finished(), "{:?}", outcome.failure);
}

#[test]
fn the_wasmtime_version_constant_matches_cargo_lock() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("lock");
    let expected = format!(
        "name = \"wasmtime\"\nversion = \"{}\"",
        djx_host::runtime::engine::WASMTIME_VERSION
    );
    assert!(
        lock.contains(&expected),
        "update WASMTIME_VERSION to the locked wasmtime"
    );
}
