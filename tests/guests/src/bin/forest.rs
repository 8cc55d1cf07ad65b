//! The tuned random forest of `djx-kernels` (P3's iris job), run exactly as
//! the iris example ran it before the example moved to smartcore:
//! cross-validates the forest on the `iris` dataset and records train and
//! test accuracy per fold; with `save`, fits the forest on every row and
//! stores it as the `model` artifact (JSON).

use djx::Context;
use djx_kernels::forest as iris;

fn run() -> djx::Result<()> {
    let params: iris::Params = djx::params()?;
    let path = djx::dataset("iris")?;
    let text = std::fs::read_to_string(&path).context(format!("reading {}", path.display()))?;
    let data = iris::load_dataset(&text, &params.dataset_args).context("loading the iris CSV")?;
    djx::log::info(format!(
        "{} rows, {} features, classes {:?}",
        data.len(),
        params.dataset_args.feature_columns.len(),
        data.classes
    ));

    let scores = iris::cross_validate(&data, &params).context("cross-validation")?;
    for (fold, &(train, test)) in scores.iter().enumerate() {
        djx::bind("fold", fold);
        djx::record("cv fit finished")
            .context("set", "train")
            .metric("accuracy", train)
            .emit()?;
        djx::record("cv fit finished")
            .context("set", "test")
            .metric("accuracy", test)
            .emit()?;
    }
    djx::unbind(&["fold"]);
    djx::record("cv finished")
        .metric("mean_test_accuracy", iris::mean(scores.iter().map(|s| s.1)))
        .metric(
            "mean_train_accuracy",
            iris::mean(scores.iter().map(|s| s.0)),
        )
        .emit()?;

    if params.save {
        let model = iris::fit_model(&data, &params).context("fitting the final model")?;
        let digest = djx::artifact::save("model", serde_json::to_vec(&model)?)?;
        djx::record("model saved")
            .artifact("model", &digest)
            .emit()?;
    }
    Ok(())
}

djx::main!(run);
