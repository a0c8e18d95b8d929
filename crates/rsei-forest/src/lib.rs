//! Random forest regression with the semantics of R's `randomForest` (Liaw & Wiener, after
//! Breiman's Fortran): bootstrap samples, `mtry` predictors tried per node, `nodesize` as R applies
//! it, variance-reduction splits at midpoints, out-of-bag (OOB) predictions, `% Var explained`,
//! permutation importance (%IncMSE, scaled as `importance(scale = TRUE)`) and IncNodePurity.
//!
//! GDAL-free and usable on its own. The pieces:
//! * [`Dataset`] — predictor columns, response, names;
//! * [`ForestParams`] → [`ForestParams::check`] → [`ForestConfig`] — parameters validated before any work;
//! * [`Forest::fit`] → [`FitResult`] — the forest, OOB predictions and error, importances, warnings;
//! * [`Forest::predict`] — prediction of a few rows; [`Forest::compile`] → [`CompiledForest`] —
//!   the fast batch predictor for millions of rows;
//! * [`train_validation_split`] and [`metrics()`] (R², RMSE, MAE) for the validation of the method;
//! * [`rng`] — the seedable generators (SplitMix64, xoshiro256**) used throughout.
//!
//! Results are bit-identical for the same data and seed whatever the number of threads.
//!
//! ```
//! use rsei_forest::{metrics, train_validation_split, Dataset, Forest, ForestParams};
//!
//! // y = x0² + x1 on a 12 × 12 grid, x2 an irrelevant predictor.
//! let (mut a, mut b, mut c, mut y) = (vec![], vec![], vec![], vec![]);
//! for i in 0..12 {
//!     for j in 0..12 {
//!         let (x0, x1) = (i as f64 / 11.0, j as f64 / 11.0);
//!         a.push(x0); b.push(x1); c.push(((i * 5 + j * 3) % 7) as f64);
//!         y.push(x0 * x0 + x1);
//!     }
//! }
//! let data = Dataset::new(vec![a, b, c], y, vec!["x0".into(), "x1".into(), "noise".into()]).unwrap();
//! let (train, valid) = train_validation_split(data.n_rows(), 0.7, 1).unwrap();
//! let (train, valid) = (data.subset(&train).unwrap(), data.subset(&valid).unwrap());
//!
//! let params = ForestParams { ntree: 100, mtry: Some(2), seed: 42, threads: Some(1), ..Default::default() };
//! let fit = Forest::fit(&train, &params).unwrap();
//! assert!(fit.var_explained_pct > 80.0);
//!
//! let yhat = fit.forest.predict_columns(&valid.x).unwrap();
//! let m = metrics(&valid.y, &yhat).unwrap();
//! assert!(m.r2 > 0.8 && m.rmse < 0.2);
//!
//! // The batch predictor gives the same numbers.
//! assert_eq!(fit.forest.compile().predict_columns(&valid.x).unwrap(), yhat);
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod data;
pub mod error;
pub mod forest;
pub mod metrics;
pub mod params;
pub mod predict;
pub mod rng;
pub mod tree;

pub use data::Dataset;
pub use error::{ForestError, Result};
pub use forest::{FitResult, FitWarning, Forest, PermutationImportance, VariableImportance};
pub use metrics::{metrics, train_validation_split, Metrics};
pub use params::{ForestConfig, ForestParams};
pub use predict::CompiledForest;
pub use tree::{Node, Tree};
