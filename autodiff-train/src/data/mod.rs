//! Small tabular classification data: a CSV reader ([`Dataset::from_csv`]), a seeded
//! random generator ([`Rng`]), a stratified train/test split and feature
//! standardisation ([`Standardizer`]).
//!
//! Everything is deterministic: the same seed gives the same shuffle, split and
//! initial weights on every machine.
//!
//! ```
//! use autodiff_train::data::{Dataset, Standardizer};
//!
//! let csv = "6,2,no,yes\n1.0,5.0,0\n2.0,4.0,0\n3.0,3.0,0\n4.0,2.0,1\n5.0,1.0,1\n6.0,0.0,1\n";
//! let data = Dataset::from_csv(csv)?;
//! assert_eq!((data.len(), data.num_features(), data.num_classes()), (6, 2, 2));
//! assert_eq!(data.class_names, ["no", "yes"]);
//!
//! let (train, test) = data.stratified_split(1.0 / 3.0, 42)?;
//! assert_eq!((train.len(), test.len()), (4, 2));
//! assert_eq!(test.class_counts(), [1, 1]); // each class keeps its share
//!
//! let scaler = Standardizer::fit(&train.features);
//! let x = scaler.transform(&train.features)?;
//! assert!(x.column(0).mean().abs() < 1e-12);
//! # Ok::<(), autodiff_train::data::DataError>(())
//! ```

mod csv;
mod rng;
mod standardize;

use std::fmt;

use nalgebra::DMatrix;

pub use rng::Rng;
pub use standardize::Standardizer;

/// Why a data set could not be built, read or split.
#[derive(Debug, Clone, PartialEq)]
pub enum DataError {
    /// A line of the CSV text could not be read.
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The rows, labels or class names do not fit together.
    Invalid(String),
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Parse { line, message } => write!(f, "CSV line {line}: {message}"),
            DataError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DataError {}

/// A classification data set: one row of features per example and its class index.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// `n x d`: one example per row.
    pub features: DMatrix<f64>,
    /// `n` class indices, each `< class_names.len()`.
    pub labels: Vec<usize>,
    /// The name of each class, by index.
    pub class_names: Vec<String>,
}

impl Dataset {
    /// A data set from its parts.
    ///
    /// # Errors
    /// [`DataError::Invalid`] when there is not one label per row or a label is not a
    /// class index.
    pub fn new(
        features: DMatrix<f64>,
        labels: Vec<usize>,
        class_names: Vec<String>,
    ) -> Result<Self, DataError> {
        if labels.len() != features.nrows() {
            return Err(DataError::Invalid(format!(
                "{} labels for {} rows of features; give one label per row",
                labels.len(),
                features.nrows()
            )));
        }
        if let Some((i, &l)) = labels
            .iter()
            .enumerate()
            .find(|(_, &l)| l >= class_names.len())
        {
            return Err(DataError::Invalid(format!(
                "label {l} of row {i} is not a class index; there are {} class names",
                class_names.len()
            )));
        }
        Ok(Dataset {
            features,
            labels,
            class_names,
        })
    }

    /// Reads CSV text with a header line, numeric feature columns, and the class in the
    /// last column. Two headers are understood:
    ///
    /// - scikit-learn's (`data/iris.csv`): `n_samples,n_features,name_0,name_1,...`; the
    ///   last column holds class indices into those names, and the counts are checked;
    /// - column names (`sepal_length,...,species`); the last column holds class names
    ///   (numbered in order of first appearance) or class indices.
    ///
    /// Empty lines are skipped.
    ///
    /// # Errors
    /// [`DataError::Parse`] naming the line of a non-numeric feature, a row with the
    /// wrong number of columns or a count that does not match the header.
    pub fn from_csv(text: &str) -> Result<Self, DataError> {
        csv::parse(text)
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The number of feature columns.
    pub fn num_features(&self) -> usize {
        self.features.ncols()
    }

    /// The number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// How many examples each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &l in &self.labels {
            counts[l] += 1;
        }
        counts
    }

    /// The examples at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            features: self.features.select_rows(indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            class_names: self.class_names.clone(),
        }
    }

    /// The examples in a random order fixed by `seed`.
    pub fn shuffled(&self, seed: u64) -> Dataset {
        let mut order: Vec<usize> = (0..self.len()).collect();
        Rng::new(seed).shuffle(&mut order);
        self.select(&order)
    }

    /// Splits into `(train, test)` with about `test_fraction` of *each class* in the
    /// test set (at least one example of a class with two or more), both shuffled with
    /// `seed`.
    ///
    /// # Errors
    /// [`DataError::Invalid`] unless `0 < test_fraction < 1`.
    pub fn stratified_split(
        &self,
        test_fraction: f64,
        seed: u64,
    ) -> Result<(Dataset, Dataset), DataError> {
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            return Err(DataError::Invalid(format!(
                "test_fraction is {test_fraction}; pass a fraction strictly between 0 and 1"
            )));
        }
        let mut rng = Rng::new(seed);
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for class in 0..self.num_classes() {
            let mut members: Vec<usize> = (0..self.len())
                .filter(|&i| self.labels[i] == class)
                .collect();
            rng.shuffle(&mut members);
            let n = members.len();
            let n_test = if n < 2 {
                0
            } else {
                ((n as f64 * test_fraction).round() as usize).clamp(1, n - 1)
            };
            test.extend_from_slice(&members[..n_test]);
            train.extend_from_slice(&members[n_test..]);
        }
        rng.shuffle(&mut train);
        rng.shuffle(&mut test);
        Ok((self.select(&train), self.select(&test)))
    }

    /// Consecutive mini-batches of at most `batch_size` examples: `(features, labels)`.
    ///
    /// # Panics
    /// If `batch_size` is 0.
    pub fn batches(&self, batch_size: usize) -> Vec<(DMatrix<f64>, Vec<usize>)> {
        assert!(batch_size > 0, "batch_size must be at least 1");
        let indices: Vec<usize> = (0..self.len()).collect();
        indices
            .chunks(batch_size)
            .map(|chunk| {
                let part = self.select(chunk);
                (part.features, part.labels)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Dataset {
        let rows: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let labels = (0..10).map(|i| usize::from(i >= 6)).collect();
        Dataset::new(
            DMatrix::from_row_slice(10, 2, &rows),
            labels,
            vec!["a".into(), "b".into()],
        )
        .unwrap()
    }

    #[test]
    fn the_split_keeps_class_shares_and_loses_nothing() {
        let data = toy();
        let (train, test) = data.stratified_split(0.5, 7).unwrap();
        assert_eq!(test.class_counts(), [3, 2]);
        assert_eq!(train.class_counts(), [3, 2]);
        let mut firsts: Vec<f64> = train
            .features
            .column(0)
            .iter()
            .chain(test.features.column(0).iter())
            .copied()
            .collect();
        firsts.sort_by(f64::total_cmp);
        assert_eq!(firsts, (0..10).map(|i| 2.0 * i as f64).collect::<Vec<_>>());
        // rows keep their labels
        for d in [&train, &test] {
            for (row, &l) in d.features.row_iter().zip(&d.labels) {
                assert_eq!(l, usize::from(row[0] >= 12.0));
            }
        }
        assert_eq!(
            data.stratified_split(0.5, 7).unwrap(),
            (train, test.clone())
        );
        assert_ne!(data.stratified_split(0.5, 8).unwrap().1, test);
    }

    #[test]
    fn bad_inputs_are_errors_that_say_what_to_do() {
        let data = toy();
        let err = data.stratified_split(1.0, 0).unwrap_err();
        assert!(
            err.to_string().contains("strictly between 0 and 1"),
            "{err}"
        );
        let err = Dataset::new(DMatrix::zeros(2, 1), vec![0], vec!["a".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 labels for 2 rows of features; give one label per row"
        );
        let err = Dataset::new(DMatrix::zeros(1, 1), vec![3], vec!["a".into()]).unwrap_err();
        assert!(err.to_string().contains("label 3 of row 0"), "{err}");
    }

    #[test]
    fn batches_cover_the_data_in_order() {
        let data = toy();
        let batches = data.batches(4);
        assert_eq!(batches.len(), 3);
        assert_eq!(batches[2].0.shape(), (2, 2));
        assert_eq!(batches[2].1, [1, 1]);
        assert_eq!(batches[1].0[(0, 0)], 8.0);
        let shuffled = data.shuffled(3);
        assert_eq!(shuffled.class_counts(), data.class_counts());
        assert_ne!(shuffled.labels, data.labels);
    }
}
