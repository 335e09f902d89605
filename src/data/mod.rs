//! Data sets: what the networks are trained and tested on.
//!
//! A [`Dataset`] is a feature matrix `(n, d)` with one row per sample, a [`Target`] (class
//! labels for classification, a value matrix for regression) and the feature names. They come
//! from three places:
//!
//! - [`generators`] — small synthetic 2-D problems (XOR, circles, moons, spirals, blobs) whose
//!   decision boundaries can be drawn; every generator takes an explicit, seeded RNG.
//! - [`load_csv`] — a CSV file with a header, one column of which is the label
//!   (e.g. `data/iris.csv`, `data/digits.csv`, a Kaggle-style `mnist_train.csv`).
//! - [`load_idx`] — the MNIST IDX (`*-ubyte`, optionally gzipped) image and label files.
//!
//! Before training, a data set is [split](Dataset::split) into train and test parts
//! (shuffled with the run's RNG, stratified by class) and its features
//! [standardized](Standardizer) with statistics of the training part only, so that no
//! information from the test set leaks into training.
//!
//! Loaders never panic on bad input: they return a [`DataError`] whose message names the
//! file, line, column and value at fault and what was expected.
//!
//! ```
//! use initlab::data::{LabelColumn, Standardizer, TaskKind, generators, load_csv};
//! use rand::SeedableRng;
//! use rand_chacha::ChaCha8Rng;
//!
//! let mut rng = ChaCha8Rng::seed_from_u64(42);
//! let moons = generators::moons(200, 0.1, &mut rng);
//! assert_eq!((moons.len(), moons.n_features(), moons.n_outputs()), (200, 2, 2));
//!
//! let iris = load_csv(
//!     std::path::Path::new("data/iris.csv"),
//!     &LabelColumn::default(),
//!     TaskKind::Classification,
//! )?;
//! let (mut train, test) = iris.split(0.2, &mut rng);
//! let mut test = test.expect("test_fraction > 0");
//! let scaler = Standardizer::fit(&train); // training statistics only
//! scaler.apply(&mut train);
//! scaler.apply(&mut test);
//! assert_eq!((train.len(), test.len()), (120, 30));
//! # Ok::<(), initlab::data::DataError>(())
//! ```

pub mod csv;
pub mod error;
pub mod generators;
pub mod idx;
mod source;

pub use self::csv::{CsvData, CsvOptions, LabelColumn, TaskKind, load_csv, load_csv_with};
pub use self::error::DataError;
pub use self::generators::{blobs, circles, moons, spiral, xor};
pub use self::idx::load_idx;

use ndarray::{Array1, Array2, Axis};
use rand::Rng;
use rand::seq::SliceRandom;

/// A data set held in memory: features, targets and feature names.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Feature matrix `(n, d)`, one row per sample.
    pub features: Array2<f64>,
    /// What the network should predict for each row.
    pub target: Target,
    /// Names of the `d` feature columns (from the CSV header, or `x1`, `x2`, `pixel0`, ...).
    pub feature_names: Vec<String>,
}

/// The targets of a [`Dataset`], one per sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Classification: a class index per sample.
    Classes {
        /// Class index of each sample, each in `0..n_classes`.
        labels: Vec<usize>,
        /// Number of classes (the network's output width).
        n_classes: usize,
    },
    /// Regression: a row of `k` real-valued targets per sample, shape `(n, k)`, for MSE.
    Values(Array2<f64>),
}

impl Target {
    /// Number of samples the target covers.
    pub fn len(&self) -> usize {
        match self {
            Target::Classes { labels, .. } => labels.len(),
            Target::Values(v) => v.nrows(),
        }
    }

    /// Whether the target covers no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The targets of the given rows, in the given order.
    fn select(&self, rows: &[usize]) -> Target {
        match self {
            Target::Classes { labels, n_classes } => Target::Classes {
                labels: rows.iter().map(|&r| labels[r]).collect(),
                n_classes: *n_classes,
            },
            Target::Values(v) => Target::Values(v.select(Axis(0), rows)),
        }
    }
}

impl Dataset {
    /// Number of samples (rows).
    pub fn len(&self) -> usize {
        self.features.nrows()
    }

    /// Whether the data set has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of features per sample (the network's input width).
    pub fn n_features(&self) -> usize {
        self.features.ncols()
    }

    /// The network's output width: the number of classes for [`Target::Classes`] (two
    /// classes give 2, they are not special-cased to a single logit), or the number of target
    /// columns `k` for [`Target::Values`].
    pub fn n_outputs(&self) -> usize {
        match &self.target {
            Target::Classes { n_classes, .. } => *n_classes,
            Target::Values(v) => v.ncols(),
        }
    }

    /// A new data set made of the given rows, in the given order (rows may repeat).
    ///
    /// # Panics
    /// If a row index is `>= self.len()` (a programming error).
    pub fn select(&self, rows: &[usize]) -> Dataset {
        let n = self.len();
        if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
            panic!("Dataset::select: row index {bad} out of range for a data set of {n} rows");
        }
        Dataset {
            features: self.features.select(Axis(0), rows),
            target: self.target.select(rows),
            feature_names: self.feature_names.clone(),
        }
    }

    /// Splits into a training set and a test set, shuffled with `rng` (so the same RNG state
    /// always gives the same split).
    ///
    /// The test set holds `round(test_fraction * len)` samples, but at least one when
    /// `test_fraction > 0` and at most `len - 1`, so the training set is never empty. For
    /// [`Target::Classes`] the split is *stratified*: each class is shared between train and
    /// test in (as near as possible) the proportions of the whole set, so rare classes are
    /// not lost from either side. Within each part, the order of the samples is shuffled.
    ///
    /// Returns `(train, None)` when `test_fraction == 0` or when the test set would be empty
    /// (a data set of one sample).
    ///
    /// # Panics
    /// If `test_fraction` is not in `[0, 1)` (validate user input before calling).
    pub fn split<R: Rng + ?Sized>(
        &self,
        test_fraction: f64,
        rng: &mut R,
    ) -> (Dataset, Option<Dataset>) {
        assert!(
            (0.0..1.0).contains(&test_fraction),
            "Dataset::split: test_fraction must be in [0, 1), got {test_fraction}"
        );
        let n = self.len();
        let n_test = test_count(n, test_fraction);
        if n_test == 0 {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(rng);
            return (self.select(&order), None);
        }
        let (mut train, mut test) = match &self.target {
            Target::Classes { labels, n_classes } => {
                stratified_indices(labels, *n_classes, n_test, rng)
            }
            Target::Values(_) => {
                let mut order: Vec<usize> = (0..n).collect();
                order.shuffle(rng);
                let train = order.split_off(n_test);
                (train, order)
            }
        };
        train.shuffle(rng);
        test.shuffle(rng);
        (self.select(&train), Some(self.select(&test)))
    }
}

/// Number of test samples for a split of `n` samples: the rounded fraction, clamped so that
/// both parts are non-empty when `fraction > 0` and `n >= 2`.
pub fn test_count(n: usize, fraction: f64) -> usize {
    if fraction <= 0.0 || n < 2 {
        return 0;
    }
    let wanted = (fraction * n as f64).round() as usize;
    wanted.clamp(1, n - 1)
}

/// Stratified split of indices: `n_test` test indices shared among the classes by the
/// largest-remainder method, so each class contributes in proportion to its size.
fn stratified_indices<R: Rng + ?Sized>(
    labels: &[usize],
    n_classes: usize,
    n_test: usize,
    rng: &mut R,
) -> (Vec<usize>, Vec<usize>) {
    let n = labels.len();
    let width = n_classes.max(labels.iter().map(|&l| l + 1).max().unwrap_or(0));
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); width];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l].push(i);
    }
    // Ideal share of each class; floor it, then hand the remaining test slots to the classes
    // with the largest fractional parts (ties to the lower class index, for determinism).
    let fraction = n_test as f64 / n as f64;
    let ideal: Vec<f64> = by_class.iter().map(|c| c.len() as f64 * fraction).collect();
    let mut quota: Vec<usize> = ideal.iter().map(|q| q.floor() as usize).collect();
    let assigned: usize = quota.iter().sum();
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by(|&a, &b| {
        let ra = ideal[a] - ideal[a].floor();
        let rb = ideal[b] - ideal[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let mut remaining = n_test.saturating_sub(assigned);
    for &c in order.iter().cycle().take(width * 2) {
        if remaining == 0 {
            break;
        }
        if quota[c] < by_class[c].len() {
            quota[c] += 1;
            remaining -= 1;
        }
    }
    let mut train = Vec::with_capacity(n - n_test);
    let mut test = Vec::with_capacity(n_test);
    for (members, &q) in by_class.iter_mut().zip(&quota) {
        members.shuffle(rng);
        test.extend_from_slice(&members[..q]);
        train.extend_from_slice(&members[q..]);
    }
    (train, test)
}

/// Per-feature standardization `x' = (x - mean) / std`, fitted on the training set only and
/// then applied unchanged to the training and the test set.
///
/// `std` is the population standard deviation (divide by `n`), so the fitted set has mean 0
/// and standard deviation 1 in every non-constant column. A constant column has `std` 0,
/// which is stored as 1 so it is only centred, never divided by zero. Only features are
/// changed; regression targets are left as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    /// Mean of each feature over the fitted set.
    pub mean: Array1<f64>,
    /// Standard deviation of each feature over the fitted set (1 where it was 0).
    pub std: Array1<f64>,
}

impl Standardizer {
    /// Computes each feature's mean and standard deviation over `ds` (the training set).
    ///
    /// # Panics
    /// If `ds` is empty.
    pub fn fit(ds: &Dataset) -> Self {
        assert!(
            !ds.is_empty(),
            "Standardizer::fit: cannot fit on an empty data set"
        );
        let mean = ds
            .features
            .mean_axis(Axis(0))
            .expect("non-empty data set has a mean");
        let std = ds
            .features
            .std_axis(Axis(0), 0.0)
            .mapv(|s| if s > 0.0 && s.is_finite() { s } else { 1.0 });
        Standardizer { mean, std }
    }

    /// Standardizes the features of `ds` in place with the fitted statistics.
    ///
    /// # Panics
    /// If `ds` has a different number of features from the fitted set.
    pub fn apply(&self, ds: &mut Dataset) {
        assert_eq!(
            ds.n_features(),
            self.mean.len(),
            "Standardizer::apply: data set has {} features, the standardizer was fitted on {}",
            ds.n_features(),
            self.mean.len()
        );
        for mut row in ds.features.rows_mut() {
            row -= &self.mean;
            row /= &self.std;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn toy(labels: Vec<usize>, n_classes: usize) -> Dataset {
        let n = labels.len();
        Dataset {
            features: Array2::from_shape_fn((n, 2), |(i, j)| (i * 2 + j) as f64),
            target: Target::Classes { labels, n_classes },
            feature_names: vec!["a".into(), "b".into()],
        }
    }

    #[test]
    fn test_count_clamps() {
        assert_eq!(test_count(10, 0.0), 0);
        assert_eq!(test_count(10, 0.25), 3);
        assert_eq!(test_count(10, 0.01), 1);
        assert_eq!(test_count(10, 0.99), 9);
        assert_eq!(test_count(1, 0.5), 0);
    }

    #[test]
    fn select_keeps_order_and_repeats() {
        let ds = toy(vec![0, 1, 2], 3);
        let s = ds.select(&[2, 0, 2]);
        assert_eq!(s.features, array![[4.0, 5.0], [0.0, 1.0], [4.0, 5.0]]);
        assert_eq!(
            s.target,
            Target::Classes {
                labels: vec![2, 0, 2],
                n_classes: 3
            }
        );
    }

    #[test]
    fn stratified_quota_sums_to_n_test() {
        let labels: Vec<usize> = (0..23).map(|i| i % 3).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for n_test in 1..23 {
            let (train, test) = stratified_indices(&labels, 3, n_test, &mut rng);
            assert_eq!(test.len(), n_test);
            assert_eq!(train.len() + test.len(), 23);
        }
    }

    #[test]
    fn split_one_sample_has_no_test() {
        let ds = toy(vec![0], 1);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (train, test) = ds.split(0.5, &mut rng);
        assert_eq!(train.len(), 1);
        assert!(test.is_none());
    }

    #[test]
    #[should_panic(expected = "test_fraction must be in [0, 1)")]
    fn split_rejects_fraction_one() {
        let ds = toy(vec![0, 1], 2);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let _ = ds.split(1.0, &mut rng);
    }

    #[test]
    fn standardizer_constant_column_is_centred() {
        let mut ds = Dataset {
            features: array![[1.0, 3.0], [3.0, 3.0]],
            target: Target::Values(array![[0.0], [1.0]]),
            feature_names: vec!["a".into(), "b".into()],
        };
        let s = Standardizer::fit(&ds);
        assert_eq!(s.std, array![1.0, 1.0]);
        s.apply(&mut ds);
        assert_eq!(ds.features, array![[-1.0, 0.0], [1.0, 0.0]]);
    }
}
