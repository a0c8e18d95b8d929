//! Training data: predictor columns, a response and column names.
//!
//! The forest works column by column (it sorts every predictor once), so the natural layout is
//! column-major. [`Dataset::new`] takes the columns as vectors, [`Dataset::from_column_major`] a
//! single buffer of `n_cols` consecutive columns of `n_rows` values. Shapes are checked here; values
//! (NaN/inf) are checked when a fit is requested, with an error naming the column and the row.

use crate::error::{ForestError, Result};

/// Predictors (`x[j][i]` = predictor `j` of row `i`), response `y` and one name per predictor.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dataset {
    /// Predictor columns, all of length `y.len()`.
    pub x: Vec<Vec<f64>>,
    /// Response, one value per row.
    pub y: Vec<f64>,
    /// One name per column.
    pub names: Vec<String>,
}

impl Dataset {
    /// Builds a dataset from columns. An empty `names` gives the names `x1`, `x2`, … (as R does for
    /// an unnamed matrix it numbers the columns).
    ///
    /// Errors: no column, a column whose length differs from `y`, or a name count that differs
    /// from the column count.
    ///
    /// ```
    /// use rsei_forest::Dataset;
    /// let d = Dataset::new(vec![vec![1.0, 2.0, 3.0]], vec![0.5, 0.1, 0.9], vec![]).unwrap();
    /// assert_eq!(d.names, vec!["x1".to_string()]);
    /// assert_eq!((d.n_rows(), d.n_cols()), (3, 1));
    /// ```
    pub fn new(x: Vec<Vec<f64>>, y: Vec<f64>, names: Vec<String>) -> Result<Self> {
        if x.is_empty() {
            return Err(ForestError::NoColumns);
        }
        let names = if names.is_empty() {
            (1..=x.len()).map(|j| format!("x{j}")).collect()
        } else {
            names
        };
        if names.len() != x.len() {
            return Err(ForestError::NameCount { names: names.len(), cols: x.len() });
        }
        for (col, c) in x.iter().enumerate() {
            if c.len() != y.len() {
                return Err(ForestError::ColumnLength {
                    name: names[col].clone(),
                    col,
                    len: c.len(),
                    n: y.len(),
                });
            }
        }
        Ok(Dataset { x, y, names })
    }

    /// Builds a dataset from a column-major buffer: column `j` is `data[j·n .. (j+1)·n]` with
    /// `n = y.len()`; the number of columns is `names.len()`.
    ///
    /// ```
    /// use rsei_forest::Dataset;
    /// let d = Dataset::from_column_major(&[1.0, 2.0, 10.0, 20.0], vec![0.0, 1.0],
    ///                                    vec!["a".into(), "b".into()]).unwrap();
    /// assert_eq!(d.x[1], vec![10.0, 20.0]);
    /// ```
    pub fn from_column_major(data: &[f64], y: Vec<f64>, names: Vec<String>) -> Result<Self> {
        let n = y.len();
        let p = names.len();
        if p == 0 {
            return Err(ForestError::NoColumns);
        }
        if data.len() != n * p {
            return Err(ForestError::BufferLength { len: data.len(), n_rows: n, n_cols: p });
        }
        let x = if n == 0 {
            vec![Vec::new(); p]
        } else {
            data.chunks(n).map(<[f64]>::to_vec).collect()
        };
        Dataset::new(x, y, names)
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.y.len()
    }

    /// Number of predictor columns.
    pub fn n_cols(&self) -> usize {
        self.x.len()
    }

    /// A new dataset with the given rows, in the given order (e.g. the training part of a
    /// [`crate::train_validation_split`]). Errors if an index is `>= n_rows()`.
    pub fn subset(&self, rows: &[usize]) -> Result<Dataset> {
        if let Some(&index) = rows.iter().find(|&&r| r >= self.n_rows()) {
            return Err(ForestError::RowIndex { index, n: self.n_rows() });
        }
        Ok(Dataset {
            x: self.x.iter().map(|c| rows.iter().map(|&r| c[r]).collect()).collect(),
            y: rows.iter().map(|&r| self.y[r]).collect(),
            names: self.names.clone(),
        })
    }

    /// Row `i` as a vector of predictor values (row-major order used by [`crate::Forest::predict`]).
    pub fn row(&self, i: usize) -> Option<Vec<f64>> {
        if i >= self.n_rows() {
            return None;
        }
        Some(self.x.iter().map(|c| c[i]).collect())
    }

    /// All predictors as one row-major buffer (`n_rows × n_cols`).
    pub fn to_row_major(&self) -> Vec<f64> {
        let (n, p) = (self.n_rows(), self.n_cols());
        let mut out = vec![0.0; n * p];
        for (j, c) in self.x.iter().enumerate() {
            for (i, &v) in c.iter().enumerate() {
                out[i * p + j] = v;
            }
        }
        out
    }

    /// Checks that every value is finite; the error names the first offending column and row
    /// (columns are scanned in order, rows within a column in order; the response last).
    pub fn check_finite(&self) -> Result<()> {
        for (col, c) in self.x.iter().enumerate() {
            if let Some((row, &value)) = c.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(ForestError::NonFiniteX { name: self.names[col].clone(), col, row, value });
            }
        }
        if let Some((row, &value)) = self.y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ForestError::NonFiniteY { row, value });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_errors_name_the_column() {
        let e = Dataset::new(vec![vec![1.0, 2.0], vec![1.0]], vec![0.0, 1.0], vec!["a".into(), "b".into()])
            .unwrap_err();
        assert_eq!(e, ForestError::ColumnLength { name: "b".into(), col: 1, len: 1, n: 2 });
        assert!(e.to_string().contains("`b`"));
        let e = Dataset::new(vec![vec![1.0]], vec![0.0], vec!["a".into(), "b".into()]).unwrap_err();
        assert_eq!(e, ForestError::NameCount { names: 2, cols: 1 });
        assert_eq!(Dataset::new(vec![], vec![1.0], vec![]).unwrap_err(), ForestError::NoColumns);
        let e = Dataset::from_column_major(&[1.0, 2.0, 3.0], vec![0.0, 1.0], vec!["a".into(), "b".into()])
            .unwrap_err();
        assert_eq!(e, ForestError::BufferLength { len: 3, n_rows: 2, n_cols: 2 });
    }

    #[test]
    fn non_finite_names_column_and_row() {
        let d = Dataset::new(
            vec![vec![1.0, 2.0, 3.0], vec![1.0, f64::NAN, 2.0]],
            vec![0.0, 1.0, 2.0],
            vec!["dem".into(), "slope".into()],
        )
        .unwrap();
        match d.check_finite().unwrap_err() {
            ForestError::NonFiniteX { name, col, row, value } => {
                assert_eq!((name.as_str(), col, row), ("slope", 1, 1));
                assert!(value.is_nan());
            }
            other => panic!("unexpected {other:?}"),
        }
        let d = Dataset::new(vec![vec![1.0, 2.0]], vec![0.0, f64::INFINITY], vec![]).unwrap();
        assert_eq!(d.check_finite().unwrap_err(), ForestError::NonFiniteY { row: 1, value: f64::INFINITY });
    }

    #[test]
    fn layouts_and_subset() {
        let names = vec!["a".to_string(), "b".to_string()];
        let d = Dataset::from_column_major(&[1.0, 2.0, 3.0, 10.0, 20.0, 30.0], vec![5.0, 6.0, 7.0], names).unwrap();
        assert_eq!(Dataset::from_column_major(&[1.0], vec![1.0], vec![]).unwrap_err(), ForestError::NoColumns);
        assert_eq!(d.to_row_major(), vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
        assert_eq!(d.row(2), Some(vec![3.0, 30.0]));
        assert_eq!(d.row(3), None);
        let s = d.subset(&[2, 0]).unwrap();
        assert_eq!(d.subset(&[3]).unwrap_err(), ForestError::RowIndex { index: 3, n: 3 });
        assert_eq!(s.x, vec![vec![3.0, 1.0], vec![30.0, 10.0]]);
        assert_eq!(s.y, vec![7.0, 5.0]);
    }
}
