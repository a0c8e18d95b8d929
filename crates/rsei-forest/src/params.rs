//! Forest parameters and their validation into a checked configuration.
//!
//! [`ForestParams`] is the plain set of knobs a user fills in (R `randomForest` names and defaults).
//! [`ForestParams::check`] resolves the defaults that depend on the data (`mtry`, `sample_size`) and
//! rejects invalid combinations *before* any work starts, returning a [`ForestConfig`] that the
//! fitting code can trust (the `ParamGuard` pattern of linfa).

use crate::error::{ForestError, Result};

/// User-facing parameters, with R `randomForest` defaults for regression.
///
/// ```
/// use rsei_forest::ForestParams;
/// let p = ForestParams { ntree: 200, seed: 42, ..ForestParams::default() };
/// let cfg = p.check(1000, 10).unwrap();
/// assert_eq!(cfg.mtry, 3);          // max(floor(10/3), 1)
/// assert_eq!(cfg.sample_size, 1000); // n, bootstrap with replacement
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ForestParams {
    /// Number of trees (R `ntree`; default 1000 as in the method, R's own default is 500).
    pub ntree: usize,
    /// Predictors tried at each node (R `mtry`); `None` ⇒ `max(floor(p/3), 1)`.
    pub mtry: Option<usize>,
    /// R `nodesize`: a node holding `nodesize` cases or fewer (bootstrap duplicates counted) is not
    /// split. Terminal nodes can therefore be smaller than `nodesize` (a node of 6 may split 1 + 5),
    /// exactly as in R's `regTree.c`. Default 5.
    pub nodesize: usize,
    /// Cases drawn per tree (R `sampsize`, at most `n`); `None` ⇒ `n` with replacement,
    /// `ceil(0.632·n)` without (R's defaults).
    pub sample_size: Option<usize>,
    /// Draw with replacement (bootstrap, default) or without.
    pub replace: bool,
    /// Master seed; one seed per tree is derived from it before any thread starts.
    pub seed: u64,
    /// Compute permutation importance (%IncMSE). Costs about one extra OOB prediction per
    /// predictor used in a tree. Default `true` (R's default is `FALSE`; the method needs it).
    pub importance: bool,
    /// Worker threads; `None` ⇒ rayon's global pool. Results do not depend on this.
    pub threads: Option<usize>,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            ntree: 1000,
            mtry: None,
            nodesize: 5,
            sample_size: None,
            replace: true,
            seed: 1,
            importance: true,
            threads: None,
        }
    }
}

/// Checked configuration: every default resolved, every constraint verified.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ForestConfig {
    /// Number of trees, ≥ 1.
    pub ntree: usize,
    /// Predictors tried per node, in `1..=p`.
    pub mtry: usize,
    /// R nodesize, ≥ 1.
    pub nodesize: usize,
    /// Cases drawn per tree, > nodesize.
    pub sample_size: usize,
    /// With replacement?
    pub replace: bool,
    /// Master seed.
    pub seed: u64,
    /// Permutation importance requested?
    pub importance: bool,
    /// Threads (`None` = global pool).
    pub threads: Option<usize>,
    /// Maximum number of nodes per tree, R's `nrnodes = 2·trunc(sampsize / max(1, nodesize − 4)) + 1`
    /// (never reached for nodesize ≤ 5; it caps trees for larger nodesize exactly as R does).
    pub max_nodes: usize,
    /// Rows of the training data.
    pub n_rows: usize,
    /// Predictors of the training data.
    pub n_cols: usize,
}

impl ForestParams {
    /// Validates the parameters for a dataset of `n_rows × n_cols`.
    ///
    /// Errors: `ntree = 0`, `nodesize = 0`, `mtry ∉ 1..=p`, fewer than 2 rows, no column,
    /// `sample_size = 0`, `sample_size > n`, `sample_size ≤ nodesize`,
    /// `threads = Some(0)`.
    pub fn check(&self, n_rows: usize, n_cols: usize) -> Result<ForestConfig> {
        if n_cols == 0 {
            return Err(ForestError::NoColumns);
        }
        if n_rows < 2 {
            return Err(ForestError::TooFewRows { n: n_rows });
        }
        if self.ntree == 0 {
            return Err(ForestError::InvalidNtree);
        }
        if self.nodesize == 0 {
            return Err(ForestError::InvalidNodesize);
        }
        let mtry = self.mtry.unwrap_or_else(|| (n_cols / 3).max(1));
        if mtry == 0 || mtry > n_cols {
            return Err(ForestError::InvalidMtry { mtry, p: n_cols });
        }
        let sample_size = match self.sample_size {
            Some(s) => s,
            None if self.replace => n_rows,
            // R: ceiling(.632 * nrow(x))
            None => ((0.632 * n_rows as f64).ceil() as usize).min(n_rows),
        };
        if sample_size == 0 {
            return Err(ForestError::InvalidSampleSize);
        }
        // R: `if (sampsize > nrow(x)) stop("sampsize too large")`, with or without replacement.
        if sample_size > n_rows {
            return Err(ForestError::SampleSizeTooLarge { sample_size, n: n_rows });
        }
        if sample_size <= self.nodesize {
            return Err(ForestError::SampleNotLargerThanNodesize { sample_size, nodesize: self.nodesize });
        }
        if self.threads == Some(0) {
            return Err(ForestError::InvalidThreads);
        }
        let max_nodes = 2 * (sample_size / self.nodesize.saturating_sub(4).max(1)) + 1;
        Ok(ForestConfig {
            ntree: self.ntree,
            mtry,
            nodesize: self.nodesize,
            sample_size,
            replace: self.replace,
            seed: self.seed,
            importance: self.importance,
            threads: self.threads,
            max_nodes,
            n_rows,
            n_cols,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_r() {
        let c = ForestParams::default().check(100, 10).unwrap();
        assert_eq!((c.ntree, c.mtry, c.nodesize, c.sample_size), (1000, 3, 5, 100));
        // nrnodes = 2·trunc(100 / max(1, 5 − 4)) + 1 = 201
        assert_eq!(c.max_nodes, 201);
        let c = ForestParams::default().check(100, 2).unwrap();
        assert_eq!(c.mtry, 1); // max(floor(2/3), 1)
        let c = ForestParams { replace: false, ..Default::default() }.check(100, 2).unwrap();
        assert_eq!(c.sample_size, 64); // ceiling(0.632·100) = ceiling(63.2)
        let c = ForestParams { nodesize: 10, ..Default::default() }.check(100, 2).unwrap();
        assert_eq!(c.max_nodes, 2 * (100 / 6) + 1); // 33
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        let p = ForestParams::default();
        assert_eq!(ForestParams { mtry: Some(11), ..p.clone() }.check(100, 10).unwrap_err(),
                   ForestError::InvalidMtry { mtry: 11, p: 10 });
        assert_eq!(ForestParams { mtry: Some(0), ..p.clone() }.check(100, 10).unwrap_err(),
                   ForestError::InvalidMtry { mtry: 0, p: 10 });
        assert_eq!(ForestParams { ntree: 0, ..p.clone() }.check(100, 10).unwrap_err(), ForestError::InvalidNtree);
        assert_eq!(ForestParams { nodesize: 0, ..p.clone() }.check(100, 10).unwrap_err(),
                   ForestError::InvalidNodesize);
        assert_eq!(p.check(1, 10).unwrap_err(), ForestError::TooFewRows { n: 1 });
        assert_eq!(p.check(5, 10).unwrap_err(),
                   ForestError::SampleNotLargerThanNodesize { sample_size: 5, nodesize: 5 });
        assert_eq!(ForestParams { replace: false, sample_size: Some(101), ..p.clone() }.check(100, 10).unwrap_err(),
                   ForestError::SampleSizeTooLarge { sample_size: 101, n: 100 });
        assert_eq!(ForestParams { sample_size: Some(101), ..p.clone() }.check(100, 10).unwrap_err(),
                   ForestError::SampleSizeTooLarge { sample_size: 101, n: 100 });
        assert_eq!(ForestParams { threads: Some(0), ..p.clone() }.check(100, 10).unwrap_err(),
                   ForestError::InvalidThreads);
        assert_eq!(ForestParams { sample_size: Some(0), ..p }.check(100, 10).unwrap_err(),
                   ForestError::InvalidSampleSize);
    }
}
