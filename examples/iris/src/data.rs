//! What the iris job reads: its parameters (the original djx's, named as in
//! scikit-learn) and the `iris` CSV.

use djx::Context;
use serde::Deserialize;
use smartcore::linalg::basic::matrix::DenseMatrix;

/// The job's parameters, as `iris.yml` writes them.
#[derive(Deserialize)]
pub struct Params {
    pub cross_val_args: CrossValArgs,
    pub model_args: ModelArgs,
    pub dataset_args: DatasetArgs,
    #[serde(default)]
    pub save: bool,
}

/// Like scikit-learn's `KFold` arguments.
#[derive(Deserialize)]
pub struct CrossValArgs {
    pub n_splits: usize,
    pub shuffle: bool,
    pub random_state: u64,
}

/// Like scikit-learn's `RandomForestClassifier` arguments.
#[derive(Deserialize)]
pub struct ModelArgs {
    pub n_estimators: u16,
    pub max_depth: Option<u16>,
    pub min_samples_leaf: Option<usize>,
    pub min_samples_split: Option<usize>,
    pub random_state: u64,
}

/// Which columns of the CSV to use.
#[derive(Deserialize)]
pub struct DatasetArgs {
    pub target_column: String,
    pub feature_columns: Vec<String>,
}

/// The dataset `name` as a feature matrix, each row's class (an index into
/// the class names) and the class names, sorted.
pub fn load(
    name: &str,
    args: &DatasetArgs,
) -> djx::Result<(DenseMatrix<f64>, Vec<u32>, Vec<String>)> {
    let mut csv = csv::Reader::from_path(djx::dataset(name)?)?;
    let header = csv.headers()?.clone();
    let column = |name: &String| {
        header
            .iter()
            .position(|h| h == name)
            .context(format!("no column {name:?}"))
    };
    let target = column(&args.target_column)?;
    let features: Vec<usize> = args
        .feature_columns
        .iter()
        .map(column)
        .collect::<djx::Result<_>>()?;
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    for row in csv.records() {
        let row = row?;
        x.push(
            features
                .iter()
                .map(|&c| row[c].parse())
                .collect::<Result<Vec<f64>, _>>()?,
        );
        labels.push(row[target].to_owned());
    }
    let mut classes = labels.clone();
    classes.sort();
    classes.dedup();
    let y = labels
        .iter()
        .map(|l| classes.partition_point(|c| c < l) as u32)
        .collect();
    Ok((DenseMatrix::from_2d_vec(&x)?, y, classes))
}
