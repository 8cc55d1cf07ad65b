//! The iris job: cross-validates smartcore's random forest on the `iris`
//! dataset and records train and test accuracy per fold; with `save`, fits
//! the forest on every row and stores it as the `model` artifact (JSON).

mod data;

use smartcore::api::SupervisedEstimator;
use smartcore::ensemble::random_forest_classifier as rf;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::metrics::accuracy;
use smartcore::model_selection::{KFold, cross_validate};

type Forest = rf::RandomForestClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

fn run() -> djx::Result<()> {
    let p: data::Params = djx::params()?;
    let (x, y, classes) = data::load("iris", &p.dataset_args)?;
    djx::log::info(format!("{} rows, classes {classes:?}", y.len()));
    let (m, cv) = (&p.model_args, &p.cross_val_args);
    let forest = rf::RandomForestClassifierParameters {
        n_trees: m.n_estimators,
        // scikit-learn counts the splits below the root, smartcore the levels.
        max_depth: m.max_depth.map(|d| d.saturating_add(1)),
        min_samples_leaf: m.min_samples_leaf.unwrap_or(1),
        min_samples_split: m.min_samples_split.unwrap_or(2),
        seed: m.random_state,
        ..Default::default()
    };
    let folds = KFold::default()
        .with_n_splits(cv.n_splits)
        .with_shuffle(cv.shuffle)
        .with_seed(Some(cv.random_state));
    let scores = cross_validate(Forest::new(), &x, &y, forest.clone(), &folds, &accuracy)?;

    for (fold, train) in scores.train_score.iter().enumerate() {
        djx::bind("fold", fold);
        for (set, accuracy) in [("train", *train), ("test", scores.test_score[fold])] {
            djx::record("cv fit finished")
                .context("set", set)
                .metric("accuracy", accuracy)
                .emit()?;
        }
    }
    djx::unbind(&["fold"]);
    djx::record("cv finished")
        .metric("mean_test_accuracy", scores.mean_test_score())
        .metric("mean_train_accuracy", scores.mean_train_score())
        .emit()?;

    if p.save {
        let forest = Forest::fit(&x, &y, forest)?;
        let features = &p.dataset_args.feature_columns;
        let model = serde_json::json!({"features": features, "classes": classes, "forest": forest});
        let digest = djx::artifact::save("model", serde_json::to_vec(&model)?)?;
        djx::record("model saved")
            .artifact("model", &digest)
            .emit()?;
    }
    Ok(())
}

djx::main!(run);
