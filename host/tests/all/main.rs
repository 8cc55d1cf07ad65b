//! djx host tests: the real `djx` binary and the real runtime, on real
//! guests built from `tests/guests`.

#[macro_use]
mod support;

mod browser;

mod cache;
mod cluster;
mod determinism;
mod exec;
mod experiments;
mod exports;
mod failures;
mod limits;
mod native_python;
mod postgres;
mod properties;
mod python;
mod python_wasi;
mod remote_content;
mod reproducibility;
mod runtime;
mod sandbox;
mod spec_golden;
mod sweeps;
mod tls;
mod ui;
mod ui_decide;
mod wasi_programs;
mod what_guests_see;

/// Every guest in `tests/guests` must have a test of the same name.
mod every_guest_has_a_test {
    pub use super::determinism::the_portable_profile_changes_no_result_without_nans as forest;
    pub use super::determinism::{nans, nondet};
    pub use super::exec::{bookkeeping, noop, roundtrip};
    pub use super::experiments::firehose;
    pub use super::experiments::sqlite::two_runs_on_one_store_never_run_a_job_twice as steps;
    pub use super::failures::fail;
    pub use super::limits::limits;
    pub use super::reproducibility::flops;
    pub use super::sandbox::sandbox;
    pub use super::sweeps::sqlite::halving_promotes_the_best_configurations as score;
    pub use super::wasi_programs::command;
    pub use super::what_guests_see::sees;

    macro_rules! assert_test_exists {
        ($name:ident) => {
            #[allow(unused_imports)]
            use self::$name as _;
        };
    }
    djx_fixtures::foreach_guest!(assert_test_exists);
}
