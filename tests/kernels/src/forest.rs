//! A hand-tuned random forest classifier, cross-validated: the P3 benchmark
//! kernel (it was the iris example's job before that example moved to
//! smartcore), run by the `forest` test guest and natively by the benchmarks.
//!
//! Everything here is plain Rust with no platform dependencies, so the same
//! code runs natively (tests, benchmarks) and inside the djx guest
//! (`wasm32-wasip2`). Results are bit-reproducible across platforms: the
//! random numbers come from an integer-only [`SplitMix64`] generator, the
//! split search compares Gini scores exactly in integer arithmetic, and every
//! tie is broken by a fixed rule.
//!
//! The pieces:
//!
//! - [`load_csv`] reads a CSV text with a header row into a [`Dataset`];
//! - [`kfold`] splits row indices like scikit-learn's `KFold`;
//! - [`RandomForest`] is a forest of CART trees (Gini impurity, bootstrap
//!   samples, `sqrt(n_features)` candidate features per split);
//! - [`cross_validate`] ties them together from the job's [`Params`].

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------

/// The job's parameters, as in the original Python djx experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// How to split the rows into folds.
    pub cross_val_args: CrossValArgs,
    /// The random forest's hyper-parameters.
    pub model_args: ModelArgs,
    /// Which columns of the CSV to use.
    pub dataset_args: DatasetArgs,
    /// Whether to fit a final model on all rows and save it as an artifact.
    #[serde(default)]
    pub save: bool,
}

/// Cross-validation settings, like scikit-learn's `KFold` arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossValArgs {
    /// The number of folds (at least 2, at most the number of rows).
    pub n_splits: usize,
    /// Whether to shuffle the rows before splitting them into folds.
    #[serde(default)]
    pub shuffle: bool,
    /// The seed of the shuffle (ignored without `shuffle`).
    #[serde(default)]
    pub random_state: u64,
}

/// Random forest hyper-parameters, like scikit-learn's
/// `RandomForestClassifier` arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelArgs {
    /// The number of trees (at least 1).
    pub n_estimators: usize,
    /// The maximum depth of a tree (at least 1); `None` means unlimited.
    pub max_depth: Option<usize>,
    /// The minimum number of samples in a leaf (at least 1; default 1).
    #[serde(default = "default_min_samples_leaf")]
    pub min_samples_leaf: usize,
    /// The minimum number of samples a node needs to be split (at least 2;
    /// default 2).
    #[serde(default = "default_min_samples_split")]
    pub min_samples_split: usize,
    /// The seed of the bootstrap samples and feature choices.
    #[serde(default)]
    pub random_state: u64,
}

fn default_min_samples_leaf() -> usize {
    1
}

fn default_min_samples_split() -> usize {
    2
}

/// Which columns of the CSV are the target and the features.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetArgs {
    /// The column holding the class label.
    pub target_column: String,
    /// The numeric feature columns, in the order the model uses them.
    pub feature_columns: Vec<String>,
}

impl CrossValArgs {
    /// Checks the settings against a data set of `n_rows` rows.
    pub fn validate(&self, n_rows: usize) -> Result<(), String> {
        if self.n_splits < 2 {
            return Err(format!(
                "cross_val_args.n_splits must be at least 2, got {}",
                self.n_splits
            ));
        }
        if self.n_splits > n_rows {
            return Err(format!(
                "cross_val_args.n_splits ({}) is more than the number of rows ({n_rows})",
                self.n_splits
            ));
        }
        Ok(())
    }
}

impl ModelArgs {
    /// Checks the hyper-parameters.
    pub fn validate(&self) -> Result<(), String> {
        if self.n_estimators < 1 {
            return Err("model_args.n_estimators must be at least 1, got 0".to_owned());
        }
        if self.max_depth == Some(0) {
            return Err("model_args.max_depth must be at least 1 (or null), got 0".to_owned());
        }
        if self.min_samples_leaf < 1 {
            return Err("model_args.min_samples_leaf must be at least 1, got 0".to_owned());
        }
        if self.min_samples_split < 2 {
            return Err(format!(
                "model_args.min_samples_split must be at least 2, got {}",
                self.min_samples_split
            ));
        }
        Ok(())
    }
}

impl DatasetArgs {
    /// Checks that there is at least one feature column and that the target
    /// is not also a feature.
    pub fn validate(&self) -> Result<(), String> {
        if self.feature_columns.is_empty() {
            return Err("dataset_args.feature_columns is empty".to_owned());
        }
        if self.feature_columns.contains(&self.target_column) {
            return Err(format!(
                "dataset_args.target_column {:?} is also a feature column",
                self.target_column
            ));
        }
        Ok(())
    }
}

impl Params {
    /// Checks every part of the parameters against a data set of `n_rows`
    /// rows.
    pub fn validate(&self, n_rows: usize) -> Result<(), String> {
        self.dataset_args.validate()?;
        self.cross_val_args.validate(n_rows)?;
        self.model_args.validate()
    }
}

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

/// A classification data set: numeric features and class indices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// One row of feature values per sample, in `feature_columns` order.
    pub x: Vec<Vec<f64>>,
    /// The class of each sample, an index into `classes`.
    pub y: Vec<usize>,
    /// The class names, in the order they first appear in the file.
    pub classes: Vec<String>,
}

impl Dataset {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether the data set has no rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The rows at `indices`, as a new data set with the same classes.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        Dataset {
            x: indices.iter().map(|&i| self.x[i].clone()).collect(),
            y: indices.iter().map(|&i| self.y[i]).collect(),
            classes: self.classes.clone(),
        }
    }
}

/// Splits a CSV line into trimmed fields, dropping surrounding double quotes.
/// Quoted fields containing commas are not supported.
fn csv_fields(line: &str) -> Vec<&str> {
    line.split(',')
        .map(|f| {
            let f = f.trim();
            f.strip_prefix('"')
                .and_then(|f| f.strip_suffix('"'))
                .unwrap_or(f)
        })
        .collect()
}

/// Reads a CSV text whose first line is a header. `target_column` holds the
/// class labels (any text); `feature_columns` must hold finite numbers.
/// Blank lines are skipped. Errors name the column, the value and the
/// (1-based) line number.
pub fn load_csv(
    text: &str,
    target_column: &str,
    feature_columns: &[String],
) -> Result<Dataset, String> {
    if feature_columns.is_empty() {
        return Err("no feature columns given".to_owned());
    }
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err("the CSV is empty (no header row)".to_owned());
    };
    let header = csv_fields(header);
    let column = |name: &str| -> Result<usize, String> {
        header.iter().position(|h| *h == name).ok_or_else(|| {
            format!(
                "line {header_line}: column {name:?} is not in the header (columns: {})",
                header.join(", ")
            )
        })
    };
    let target = column(target_column)?;
    let features = feature_columns
        .iter()
        .map(|c| column(c))
        .collect::<Result<Vec<_>, _>>()?;

    let mut data = Dataset {
        x: Vec::new(),
        y: Vec::new(),
        classes: Vec::new(),
    };
    for (line_no, line) in lines {
        let fields = csv_fields(line);
        if fields.len() != header.len() {
            return Err(format!(
                "line {line_no}: expected {} fields like the header, found {}",
                header.len(),
                fields.len()
            ));
        }
        let row = features
            .iter()
            .zip(feature_columns)
            .map(|(&col, name)| {
                let raw = fields[col];
                match raw.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(v),
                    _ => Err(format!(
                        "line {line_no}: column {name:?}: {raw:?} is not a finite number"
                    )),
                }
            })
            .collect::<Result<Vec<f64>, String>>()?;
        let label = fields[target];
        if label.is_empty() {
            return Err(format!(
                "line {line_no}: column {target_column:?}: the class label is empty"
            ));
        }
        let class = match data.classes.iter().position(|c| c == label) {
            Some(c) => c,
            None => {
                data.classes.push(label.to_owned());
                data.classes.len() - 1
            }
        };
        data.x.push(row);
        data.y.push(class);
    }
    if data.is_empty() {
        return Err("the CSV has a header but no data rows".to_owned());
    }
    Ok(data)
}

// ---------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------

/// The SplitMix64 pseudo-random generator (Steele, Lea and Flood, 2014).
/// Integer-only, so its output is identical on every platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..bound` (Lemire's method, without bias).
    /// `bound` must not be 0.
    pub fn below(&mut self, bound: usize) -> usize {
        assert!(bound > 0, "SplitMix64::below(0)");
        let bound = bound as u64;
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(bound);
            if (m as u64) >= threshold {
                return (m >> 64) as usize;
            }
        }
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------
// Cross-validation
// ---------------------------------------------------------------------------

/// The train and test row indices of one fold, both ascending.
pub type Fold = (Vec<usize>, Vec<usize>);

/// Splits the rows `0..n` into `n_splits` folds like scikit-learn's
/// `KFold(n_splits, shuffle, random_state)`: the indices, shuffled with
/// [`SplitMix64`] seeded by `random_state` if `shuffle`, are cut into
/// `n_splits` contiguous test folds, the first `n % n_splits` of which get
/// one extra row. Each fold's train set is every other row. Both index lists
/// are returned in ascending order.
pub fn kfold(
    n: usize,
    n_splits: usize,
    shuffle: bool,
    random_state: u64,
) -> Result<Vec<Fold>, String> {
    if n_splits < 2 {
        return Err(format!("n_splits must be at least 2, got {n_splits}"));
    }
    if n_splits > n {
        return Err(format!(
            "n_splits ({n_splits}) is more than the number of rows ({n})"
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        SplitMix64::new(random_state).shuffle(&mut order);
    }
    let mut folds = Vec::with_capacity(n_splits);
    let mut start = 0;
    for k in 0..n_splits {
        let size = n / n_splits + usize::from(k < n % n_splits);
        let mut in_test = vec![false; n];
        for &i in &order[start..start + size] {
            in_test[i] = true;
        }
        let (test, train): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| in_test[i]);
        folds.push((train, test));
        start += size;
    }
    Ok(folds)
}

/// The fraction of predictions equal to the truth; 0 for no predictions.
/// Both slices must have the same length.
pub fn accuracy(pred: &[usize], truth: &[usize]) -> f64 {
    assert_eq!(pred.len(), truth.len(), "accuracy: length mismatch");
    if pred.is_empty() {
        return 0.0;
    }
    let right = pred.iter().zip(truth).filter(|(p, t)| p == t).count();
    right as f64 / pred.len() as f64
}

// ---------------------------------------------------------------------------
// Decision trees
// ---------------------------------------------------------------------------

/// One node of a [`Tree`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// A leaf predicting a class index.
    Leaf {
        /// The majority class of the leaf's training samples.
        class: usize,
    },
    /// An internal node: samples with `x[feature] <= threshold` go to
    /// `left`, the others to `right` (indices into [`Tree::nodes`]).
    Split {
        /// The feature tested.
        feature: usize,
        /// The threshold, a midpoint between two training values.
        threshold: f64,
        /// The node for `x[feature] <= threshold`.
        left: usize,
        /// The node for `x[feature] > threshold`.
        right: usize,
    },
}

/// A CART decision tree; the root is `nodes[0]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// The nodes, in the order they were created (depth first, left first).
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The class the tree predicts for the feature row `x`.
    pub fn predict_one(&self, x: &[f64]) -> usize {
        let mut at = 0;
        loop {
            match self.nodes[at] {
                Node::Leaf { class } => return class,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => at = if x[feature] <= threshold { left } else { right },
            }
        }
    }
}

/// The index of the largest count; ties go to the lowest index.
fn argmax(counts: &[usize]) -> usize {
    let mut best = 0;
    for (i, &c) in counts.iter().enumerate() {
        if c > counts[best] {
            best = i;
        }
    }
    best
}

/// The Gini purity score of a split as an exact fraction `num / den`:
/// `sum(l_c^2) / n_l + sum(r_c^2) / n_r`. Higher is better; maximising it
/// minimises the weighted Gini impurity of the children.
#[derive(Clone, Copy, Debug)]
struct Score {
    num: u128,
    den: u128,
}

impl Score {
    /// The score of `n_left` rows whose class counts square-sum to
    /// `sq_left` against `n_right` rows with `sq_right`.
    fn new(sq_left: u128, n_left: usize, sq_right: u128, n_right: usize) -> Score {
        let (nl, nr) = (n_left as u128, n_right as u128);
        Score {
            num: mul(sq_left, nr) + mul(sq_right, nl),
            den: mul(nl, nr),
        }
    }

    fn cmp(&self, other: &Score) -> Ordering {
        mul(self.num, other.den).cmp(&mul(other.num, self.den))
    }
}

/// `a * b`: one 64x64->128-bit multiply when both fit in 64 bits (any
/// node of up to a few thousand rows), the full 128-bit product otherwise.
/// Compilers keep the full product for `u128` operands even when their
/// high halves are zero: three multiplies instead of one.
fn mul(a: u128, b: u128) -> u128 {
    match (u64::try_from(a), u64::try_from(b)) {
        (Ok(a), Ok(b)) => u128::from(a) * u128::from(b),
        _ => a * b,
    }
}

/// The best split found at a node.
struct Best {
    score: Score,
    feature: usize,
    threshold: f64,
}

/// Builds one tree from the training rows `samples` (with repeats, from the
/// bootstrap).
struct Builder<'a> {
    /// The training values by feature: `columns[f][row]`.
    columns: &'a [Vec<f64>],
    y: &'a [usize],
    n_classes: usize,
    max_features: usize,
    args: &'a ModelArgs,
    rng: SplitMix64,
    nodes: Vec<Node>,
    scratch: Scratch,
}

/// Buffers the tree building reuses from node to node: allocating them per
/// node cost more than the split search itself in WebAssembly, whose
/// allocator is slower than the native one.
#[derive(Default)]
struct Scratch {
    /// The class counts of a node's samples.
    counts: Vec<usize>,
    /// The candidate features, in the order they are tried.
    features: Vec<usize>,
    /// Class counts left and right of a threshold.
    left: Vec<usize>,
    right: Vec<usize>,
    /// `(value, row)` for each sample, sorted by one feature.
    keyed: Vec<(f64, usize)>,
    /// The rows going right while a node's rows are partitioned.
    spill: Vec<usize>,
}

impl Builder<'_> {
    /// Builds the subtree of `samples` at `depth`; returns its node index.
    /// Reorders `samples` (left rows first).
    fn build(&mut self, samples: &mut [usize], depth: usize) -> usize {
        // Slices held in locals, here and in the loops below: a store
        // through one could otherwise change the `Vec` or `self` it came
        // from, so its bounds would be reloaded on every iteration.
        let (y, counts) = (self.y, &mut self.scratch.counts);
        counts.clear();
        counts.resize(self.n_classes, 0);
        let counts_slice = &mut counts[..];
        for &s in samples.iter() {
            counts_slice[y[s]] += 1;
        }
        let at = self.nodes.len();
        self.nodes.push(Node::Leaf {
            class: argmax(counts),
        });
        let pure = counts.iter().filter(|&&c| c > 0).count() <= 1;
        let deep = self.args.max_depth.is_some_and(|d| depth >= d);
        if pure || deep || samples.len() < self.args.min_samples_split {
            return at;
        }
        let Some(best) = self.best_split(samples) else {
            return at;
        };
        // Stable partition in place: left rows first, each side keeping its
        // order.
        let column = &self.columns[best.feature];
        let spill = &mut self.scratch.spill;
        spill.clear();
        let mut n_left = 0;
        for i in 0..samples.len() {
            let s = samples[i];
            if column[s] <= best.threshold {
                samples[n_left] = s;
                n_left += 1;
            } else {
                spill.push(s);
            }
        }
        samples[n_left..].copy_from_slice(spill);
        let (left, right) = samples.split_at_mut(n_left);
        let left_at = self.build(left, depth + 1);
        let right_at = self.build(right, depth + 1);
        self.nodes[at] = Node::Split {
            feature: best.feature,
            threshold: best.threshold,
            left: left_at,
            right: right_at,
        };
        at
    }

    /// The best split of `samples` over `max_features` randomly chosen
    /// non-constant features (like scikit-learn, constant features do not
    /// count towards `max_features`). Ties go to the lowest feature index,
    /// then the lowest threshold.
    /// Uses the node's class counts from the scratch buffers.
    fn best_split(&mut self, samples: &[usize]) -> Option<Best> {
        let Scratch {
            counts,
            features,
            left,
            right,
            keyed,
            ..
        } = &mut self.scratch;
        features.clear();
        features.extend(0..self.columns.len());
        self.rng.shuffle(features);
        left.resize(self.n_classes, 0);
        right.resize(self.n_classes, 0);
        let (counts, left, right) = (&counts[..], &mut left[..], &mut right[..]);
        let y = self.y;
        let min_leaf = self.args.min_samples_leaf;
        let n = samples.len();
        let mut best: Option<Best> = None;
        let mut visited = 0;
        for &f in features.iter() {
            if visited == self.max_features {
                break;
            }
            // The rows in order of this feature's value (ties by row, so the
            // order is total and the same on every platform), each with its
            // value at hand rather than behind two indirections.
            keyed.clear();
            let column = &self.columns[f];
            keyed.extend(samples.iter().map(|&s| (column[s], s)));
            keyed.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            if keyed[0].0 == keyed[n - 1].0 {
                continue; // constant here: does not count
            }
            visited += 1;
            left.fill(0);
            right.copy_from_slice(counts);
            // The sums of the squared class counts on each side, kept up to
            // date as rows move left: (k+1)^2 = k^2 + 2k + 1.
            let square = |k: usize| (k as u128) * (k as u128);
            let mut sq_left = 0;
            let mut sq_right = counts.iter().map(|&k| square(k)).sum::<u128>();
            for (i, pair) in keyed.windows(2).enumerate() {
                let ((lo, row), hi) = (pair[0], pair[1].0);
                let class = y[row];
                sq_left += 2 * left[class] as u128 + 1;
                sq_right -= 2 * right[class] as u128 - 1;
                left[class] += 1;
                right[class] -= 1;
                let n_left = i + 1;
                if lo == hi || n_left < min_leaf || n - n_left < min_leaf {
                    continue;
                }
                let score = Score::new(sq_left, n_left, sq_right, n - n_left);
                let mut threshold = lo / 2.0 + hi / 2.0;
                if threshold >= hi || !threshold.is_finite() {
                    threshold = lo; // lo and hi are adjacent floats
                }
                let better = match &best {
                    None => true,
                    Some(b) => match score.cmp(&b.score) {
                        Ordering::Greater => true,
                        Ordering::Less => false,
                        Ordering::Equal => {
                            f < b.feature || (f == b.feature && threshold < b.threshold)
                        }
                    },
                };
                if better {
                    best = Some(Best {
                        score,
                        feature: f,
                        threshold,
                    });
                }
            }
        }
        best
    }
}

/// A fitted random forest classifier: bootstrap-sampled CART trees voting
/// by majority.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForest {
    /// The number of classes the forest predicts (class indices
    /// `0..n_classes`).
    pub n_classes: usize,
    /// The number of features each row must have.
    pub n_features: usize,
    /// The trees.
    pub trees: Vec<Tree>,
}

impl RandomForest {
    /// Fits a forest to the rows `x` with classes `y` (indices below
    /// `n_classes`). Tree `t` draws its bootstrap sample and its candidate
    /// features from a [`SplitMix64`] seeded by the `t`-th output of a
    /// generator seeded with `args.random_state`. Each split considers
    /// `max(1, floor(sqrt(n_features)))` features.
    pub fn fit(
        x: &[Vec<f64>],
        y: &[usize],
        n_classes: usize,
        args: &ModelArgs,
    ) -> Result<RandomForest, String> {
        args.validate()?;
        if x.is_empty() {
            return Err("cannot fit a forest to no rows".to_owned());
        }
        if x.len() != y.len() {
            return Err(format!("{} feature rows but {} classes", x.len(), y.len()));
        }
        let n_features = x[0].len();
        if n_features == 0 {
            return Err("cannot fit a forest to rows with no features".to_owned());
        }
        if let Some(i) = x.iter().position(|r| r.len() != n_features) {
            return Err(format!(
                "row {i} has {} features, row 0 has {n_features}",
                x[i].len()
            ));
        }
        if let Some(i) = y.iter().position(|&c| c >= n_classes) {
            return Err(format!(
                "row {i} has class {} but there are {n_classes} classes",
                y[i]
            ));
        }
        let max_features = (n_features.isqrt()).max(1);
        // Column by column: the split search reads one feature of many rows.
        let columns: Vec<Vec<f64>> = (0..n_features)
            .map(|f| x.iter().map(|row| row[f]).collect())
            .collect();
        let mut seeds = SplitMix64::new(args.random_state);
        let mut trees = Vec::with_capacity(args.n_estimators);
        for _ in 0..args.n_estimators {
            let mut rng = SplitMix64::new(seeds.next_u64());
            let mut samples: Vec<usize> = (0..x.len()).map(|_| rng.below(x.len())).collect();
            let mut builder = Builder {
                columns: &columns,
                y,
                n_classes,
                max_features,
                args,
                rng,
                nodes: Vec::new(),
                scratch: Scratch::default(),
            };
            builder.build(&mut samples, 0);
            trees.push(Tree {
                nodes: builder.nodes,
            });
        }
        Ok(RandomForest {
            n_classes,
            n_features,
            trees,
        })
    }

    /// The majority vote of the trees for one row; ties go to the lowest
    /// class index.
    pub fn predict_one(&self, x: &[f64]) -> usize {
        let mut votes = vec![0; self.n_classes];
        for tree in &self.trees {
            votes[tree.predict_one(x)] += 1;
        }
        argmax(&votes)
    }

    /// The predicted class of each row. Every row must have `n_features`
    /// values.
    pub fn predict(&self, x: &[Vec<f64>]) -> Vec<usize> {
        x.iter().map(|row| self.predict_one(row)).collect()
    }
}

// ---------------------------------------------------------------------------
// The job's pipeline
// ---------------------------------------------------------------------------

/// A forest with the names it was trained with: what the job saves as its
/// `model` artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The feature columns, in the order the forest reads them.
    pub feature_columns: Vec<String>,
    /// The class names; the forest predicts indices into this list.
    pub classes: Vec<String>,
    /// The fitted forest.
    pub forest: RandomForest,
}

/// Reads the CSV text with the columns named in `args` (see [`load_csv`]).
pub fn load_dataset(text: &str, args: &DatasetArgs) -> Result<Dataset, String> {
    args.validate()?;
    load_csv(text, &args.target_column, &args.feature_columns)
}

/// Cross-validates a forest with `params.model_args` over the folds of
/// `params.cross_val_args`; returns `(train_accuracy, test_accuracy)` for
/// each fold, in fold order.
pub fn cross_validate(data: &Dataset, params: &Params) -> Result<Vec<(f64, f64)>, String> {
    params.validate(data.len())?;
    let cv = &params.cross_val_args;
    let folds = kfold(data.len(), cv.n_splits, cv.shuffle, cv.random_state)?;
    let n_classes = data.classes.len();
    folds
        .iter()
        .map(|(train_idx, test_idx)| {
            let train = data.subset(train_idx);
            let test = data.subset(test_idx);
            let forest = RandomForest::fit(&train.x, &train.y, n_classes, &params.model_args)?;
            Ok((
                accuracy(&forest.predict(&train.x), &train.y),
                accuracy(&forest.predict(&test.x), &test.y),
            ))
        })
        .collect()
}

/// Fits a forest with `params.model_args` on every row of `data`.
pub fn fit_model(data: &Dataset, params: &Params) -> Result<Model, String> {
    params.validate(data.len())?;
    Ok(Model {
        feature_columns: params.dataset_args.feature_columns.clone(),
        classes: data.classes.clone(),
        forest: RandomForest::fit(&data.x, &data.y, data.classes.len(), &params.model_args)?,
    })
}

/// The mean of `values`; 0 for none.
pub fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    const IRIS: &str = include_str!("../../../examples/iris/data/iris.csv");

    fn features() -> Vec<String> {
        ["sepal_length", "sepal_width", "petal_length", "petal_width"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn iris() -> Dataset {
        load_csv(IRIS, "species", &features()).expect("iris.csv loads")
    }

    fn params(max_depth: Option<usize>) -> Params {
        serde_json::from_value(serde_json::json!({
            "cross_val_args": {"n_splits": 3, "shuffle": true, "random_state": 0},
            "model_args": {"n_estimators": 100, "max_depth": max_depth, "random_state": 0},
            "dataset_args": {"target_column": "species", "feature_columns": features()},
        }))
        .expect("params parse")
    }

    #[test]
    fn loads_iris() {
        let d = iris();
        assert_eq!(d.len(), 150);
        assert_eq!(d.x[0], vec![5.1, 3.5, 1.4, 0.2]);
        assert_eq!(d.classes, ["setosa", "versicolor", "virginica"]);
        for c in 0..3 {
            assert_eq!(d.y.iter().filter(|&&y| y == c).count(), 50);
        }
    }

    #[test]
    fn csv_errors_name_column_and_line() {
        let err = load_csv(IRIS, "kind", &features()).expect_err("no such column");
        assert!(err.contains("\"kind\"") && err.contains("line 1"), "{err}");
        let text = "a,b,t\n1,2,x\n\n3,oops,y\n";
        let err = load_csv(text, "t", &["a".into(), "b".into()]).expect_err("bad value");
        assert!(
            err.contains("line 4") && err.contains("\"b\"") && err.contains("oops"),
            "{err}"
        );
        let err = load_csv("a,t\n1,x\n2\n", "t", &["a".into()]).expect_err("short row");
        assert!(err.contains("line 3"), "{err}");
        let err = load_csv("a,t\nNaN,x\n", "t", &["a".into()]).expect_err("NaN");
        assert!(err.contains("line 2"), "{err}");
        assert!(load_csv("a,t\n", "t", &["a".into()]).is_err());
        assert!(load_csv("", "t", &["a".into()]).is_err());
    }

    #[test]
    fn params_defaults_and_validation() {
        let p = params(None);
        assert_eq!(p.model_args.min_samples_leaf, 1);
        assert_eq!(p.model_args.min_samples_split, 2);
        assert!(!p.save);
        assert!(p.validate(150).is_ok());
        let mut bad = p.clone();
        bad.cross_val_args.n_splits = 1;
        assert!(
            bad.validate(150)
                .expect_err("n_splits")
                .contains("n_splits")
        );
        bad.cross_val_args.n_splits = 151;
        assert!(bad.validate(150).expect_err("n_splits").contains("151"));
        let mut bad = p.clone();
        bad.model_args.n_estimators = 0;
        assert!(
            bad.validate(150)
                .expect_err("n_est")
                .contains("n_estimators")
        );
        let mut bad = p.clone();
        bad.model_args.max_depth = Some(0);
        assert!(bad.validate(150).is_err());
        let mut bad = p;
        bad.dataset_args.feature_columns.clear();
        assert!(bad.validate(150).is_err());
    }

    #[test]
    fn rng_is_reproducible() {
        // Reference values of SplitMix64 seeded with 0.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let mut r = SplitMix64::new(7);
        for bound in 1..50 {
            assert!(r.below(bound) < bound);
        }
    }

    #[test]
    fn kfold_sizes_coverage_disjointness() {
        for (n, k, shuffle) in [(150, 3, true), (10, 3, false), (11, 4, true), (5, 5, true)] {
            let folds = kfold(n, k, shuffle, 42).expect("kfold");
            assert_eq!(folds.len(), k);
            let mut seen = vec![0; n];
            for (i, (train, test)) in folds.iter().enumerate() {
                let want = n / k + usize::from(i < n % k);
                assert_eq!(test.len(), want, "fold {i} of {n}/{k}");
                assert_eq!(train.len() + test.len(), n);
                assert!(train.windows(2).all(|w| w[0] < w[1]));
                assert!(test.windows(2).all(|w| w[0] < w[1]));
                assert!(test.iter().all(|t| train.binary_search(t).is_err()));
                for &t in test {
                    seen[t] += 1;
                }
            }
            assert!(seen.iter().all(|&s| s == 1), "each row tested once");
        }
        // Without shuffling the test folds are contiguous, in order.
        let folds = kfold(10, 3, false, 0).expect("kfold");
        assert_eq!(folds[0].1, [0, 1, 2, 3]);
        assert_eq!(folds[1].1, [4, 5, 6]);
        assert_eq!(folds[2].1, [7, 8, 9]);
        assert_eq!(folds[2].0, [0, 1, 2, 3, 4, 5, 6]);
        // Shuffling depends on the seed only.
        assert_eq!(kfold(150, 3, true, 1), kfold(150, 3, true, 1));
        assert_ne!(kfold(150, 3, true, 1), kfold(150, 3, true, 2));
        assert!(kfold(5, 1, false, 0).is_err());
        assert!(kfold(5, 6, false, 0).is_err());
    }

    #[test]
    fn forest_is_deterministic() {
        let d = iris();
        let args = params(None).model_args;
        let a = RandomForest::fit(&d.x, &d.y, 3, &args).expect("fit");
        let b = RandomForest::fit(&d.x, &d.y, 3, &args).expect("fit");
        let ja = serde_json::to_string(&a).expect("json");
        assert_eq!(ja, serde_json::to_string(&b).expect("json"));
        let back: RandomForest = serde_json::from_str(&ja).expect("parse");
        assert_eq!(back.predict(&d.x), a.predict(&d.x));
        let other = ModelArgs {
            random_state: 1,
            ..args
        };
        let c = RandomForest::fit(&d.x, &d.y, 3, &other).expect("fit");
        assert_ne!(ja, serde_json::to_string(&c).expect("json"));
    }

    #[test]
    fn forest_respects_limits() {
        let d = iris();
        let depth = |t: &Tree| {
            fn go(t: &Tree, at: usize) -> usize {
                match t.nodes[at] {
                    Node::Leaf { .. } => 0,
                    Node::Split { left, right, .. } => 1 + go(t, left).max(go(t, right)),
                }
            }
            go(t, 0)
        };
        let mut args = params(Some(2)).model_args;
        args.n_estimators = 10;
        let f = RandomForest::fit(&d.x, &d.y, 3, &args).expect("fit");
        assert!(f.trees.iter().all(|t| depth(t) <= 2));
        args.max_depth = None;
        let f = RandomForest::fit(&d.x, &d.y, 3, &args).expect("fit");
        assert!(f.trees.iter().any(|t| depth(t) > 2));
    }

    #[test]
    fn cross_validation_accuracy_on_iris() {
        let d = iris();
        for depth in 2..=6 {
            let scores = cross_validate(&d, &params(Some(depth))).expect("cv");
            assert_eq!(scores.len(), 3);
            let test = mean(scores.iter().map(|s| s.1));
            let train = mean(scores.iter().map(|s| s.0));
            eprintln!("max_depth={depth}: mean train {train:.4}, mean test {test:.4}");
            assert!(test >= 0.9, "max_depth={depth}: mean test accuracy {test}");
            assert!(train >= test - 0.05, "max_depth={depth}: train {train}");
        }
    }

    #[test]
    fn perfect_split_on_separable_data() {
        let x = vec![vec![0.0], vec![1.0], vec![2.0], vec![3.0]];
        let y = vec![0, 0, 1, 1];
        let args = ModelArgs {
            n_estimators: 25,
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            random_state: 3,
        };
        let f = RandomForest::fit(&x, &y, 2, &args).expect("fit");
        assert_eq!(
            f.predict(&[vec![-5.0], vec![0.9], vec![2.1], vec![9.0]]),
            [0, 0, 1, 1]
        );
    }

    #[test]
    fn accuracy_counts_matches() {
        assert_eq!(accuracy(&[0, 1, 2, 2], &[0, 1, 1, 2]), 0.75);
        assert_eq!(accuracy(&[], &[]), 0.0);
    }
}
