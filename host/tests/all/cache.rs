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
        djx_host::content::artifacts::ArtifactStore::open(cache.path().join("a")).expect("store");
    let outcome = rt.run(
        &module,
        &crate::runtime::input(&module, serde_json::json!({})),
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

/// Every new working directory compiled its guest again into its own
/// `.djx/cache`; the cache is now the user's, shared by every store.
#[test]
fn a_new_store_uses_the_users_compile_cache() {
    let home = tempfile::tempdir().expect("tempdir");
    let xdg = home.path().join("xdg");
    for store in ["one", "two"] {
        let t = crate::support::TestDir::new();
        let yml = crate::support::steps_experiment(&t, store, 2, 1, 0, "");
        let out = crate::support::run(
            t.djx()
                .env_remove("DJX_CACHE_DIR")
                .env("XDG_CACHE_HOME", &xdg)
                .arg("run")
                .arg(&yml),
        );
        crate::support::assert_exit(&out, 0);
        assert!(!t.path().join(".djx/cache").exists(), "no cache per store");
    }
    let cache = djx_host::runtime::compile_cache::CompileCache::new(xdg.join("djx/modules"));
    let entries = cache.entries().expect("entries");
    assert_eq!(entries.len(), 1, "one compilation for both stores");
    let t = crate::support::TestDir::new();
    let djx = |args: &[&str]| {
        let out = crate::support::run(
            t.djx()
                .env_remove("DJX_CACHE_DIR")
                .env("XDG_CACHE_HOME", &xdg)
                .args(args),
        );
        crate::support::assert_exit(&out, 0);
        crate::support::stdout(&out)
    };
    assert!(djx(&["cache"]).contains(": 1 compiled modules, "));
    assert!(djx(&["cache", "prune"]).contains("removed 0 compiled modules"));
    assert!(djx(&["cache", "prune", "--keep", "0"]).contains("removed 1 compiled modules"));
    assert!(cache.entries().expect("entries").is_empty());
}

#[test]
fn prune_removes_the_entries_unused_longest() {
    let cache = tempfile::tempdir().expect("tempdir");
    let native = runtime(Determinism::Native, cache.path());
    native.load_file(djx_fixtures::NOOP.as_ref()).expect("load");
    std::thread::sleep(std::time::Duration::from_millis(20));
    native
        .load_file(djx_fixtures::STEPS.as_ref())
        .expect("load");
    std::thread::sleep(std::time::Duration::from_millis(20));
    // Loading noop again makes steps the one unused longest.
    let again = runtime(Determinism::Native, cache.path())
        .load_file(djx_fixtures::NOOP.as_ref())
        .expect("load");
    assert!(again.cache_hit);
    let compile_cache = djx_host::runtime::compile_cache::CompileCache::new(cache.path());
    let entries = compile_cache.entries().expect("entries");
    assert_eq!(entries.len(), 2);
    let newest = entries[0].bytes;
    let (removed, freed) = compile_cache.prune(newest).expect("prune");
    assert_eq!((removed, freed), (1, entries[1].bytes));
    let left = runtime(Determinism::Native, cache.path());
    assert!(
        left.load_file(djx_fixtures::NOOP.as_ref())
            .expect("load")
            .cache_hit
    );
    assert!(
        !left
            .load_file(djx_fixtures::STEPS.as_ref())
            .expect("load")
            .cache_hit
    );
    assert_eq!(
        compile_cache.prune(0).expect("prune").0,
        2,
        "--keep 0 empties it"
    );
}
