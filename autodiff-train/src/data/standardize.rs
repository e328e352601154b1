//! [`Standardizer`]: zero mean and unit variance per feature column, fitted on the
//! training set and applied unchanged to the test set.

use nalgebra::{DMatrix, RowDVector};

use super::DataError;

/// Per-column mean and standard deviation, as scikit-learn's `StandardScaler`
/// (population standard deviation; a constant column is left centred, not divided).
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    /// The mean of each column of the fitted data.
    pub mean: RowDVector<f64>,
    /// The standard deviation of each column (1 where it was 0).
    pub std: RowDVector<f64>,
}

impl Standardizer {
    /// Measures the columns of `x` (one example per row).
    pub fn fit(x: &DMatrix<f64>) -> Self {
        let n = x.nrows().max(1) as f64;
        let mean = RowDVector::from_fn(x.ncols(), |_, j| x.column(j).sum() / n);
        let std = RowDVector::from_fn(x.ncols(), |_, j| {
            let var = x
                .column(j)
                .iter()
                .map(|v| (v - mean[j]).powi(2))
                .sum::<f64>()
                / n;
            if var > 0.0 {
                var.sqrt()
            } else {
                1.0
            }
        });
        Standardizer { mean, std }
    }

    /// `(x - mean) / std`, column by column.
    ///
    /// # Errors
    /// [`DataError::Invalid`] when `x` has another number of columns than the fitted data.
    pub fn transform(&self, x: &DMatrix<f64>) -> Result<DMatrix<f64>, DataError> {
        if x.ncols() != self.mean.len() {
            return Err(DataError::Invalid(format!(
                "the standardizer was fitted on {} columns but got a {}x{} matrix; \
                 transform data with the columns it was fitted on",
                self.mean.len(),
                x.nrows(),
                x.ncols()
            )));
        }
        let mut out = x.clone();
        for (j, mut col) in out.column_iter_mut().enumerate() {
            col.apply(|v| *v = (*v - self.mean[j]) / self.std[j]);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_get_zero_mean_and_unit_variance() {
        let x = DMatrix::from_row_slice(4, 2, &[1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 6.0, 5.0]);
        let s = Standardizer::fit(&x);
        assert_eq!(s.mean.as_slice(), [3.0, 5.0]);
        // population variance of 1, 2, 3, 6: (4 + 1 + 0 + 9) / 4
        assert_eq!(s.std[0], 3.5_f64.sqrt());
        assert_eq!(s.std[1], 1.0);
        let z = s.transform(&x).unwrap();
        assert!(z.column(0).mean().abs() < 1e-15);
        assert!((z.column(0).variance() - 1.0).abs() < 1e-12);
        assert!(z.column(1).iter().all(|&v| v == 0.0));
        let err = s.transform(&DMatrix::zeros(2, 3)).unwrap_err();
        assert!(err
            .to_string()
            .contains("fitted on 2 columns but got a 2x3 matrix"));
    }
}
