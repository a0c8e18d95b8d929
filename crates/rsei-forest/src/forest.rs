//! The forest: fitting with out-of-bag (OOB) bookkeeping and permutation importance, prediction.
//!
//! # What a fit computes (R `regrf.c` / `randomForest.default.R` / `importance.R`)
//! * **OOB prediction** of row `i`: mean of the predictions of the trees for which `i` was out of
//!   bag; NaN if `i` was in bag in every tree (R reports NA).
//! * **OOB MSE**: mean of `(yᵢ − ŷᵢ)²` over the rows with at least one OOB prediction.
//! * **% Var explained** = `100 · (1 − MSE_OOB / var_pop(y))`, `var_pop(y) = Σ(yᵢ − ȳ)²/n` — R's
//!   `rsq = 1 − mse / (var(y)·(n−1)/n)`.
//! * **Permutation importance**: for tree `t` with OOB cases `O_t` and predictor `j` used by `t`,
//!   `δ_tj = (Σ_{i∈O_t} (y_i − ŷ_t(x_i with x_j permuted among O_t))² − Σ_{i∈O_t} (y_i − ŷ_t(x_i))²) / |O_t|`;
//!   `δ_tj = 0` if `t` does not split on `j` (R skips it). Then `imp_j = mean_t δ_tj`,
//!   `SD_j = √((mean_t δ_tj² − imp_j²) / ntree)` and **%IncMSE** `= imp_j / SD_j`, with `SD_j`
//!   replaced by 1 when it is below machine epsilon (R's `importance(scale = TRUE)`).
//! * **IncNodePurity**: per predictor, the decrease of the residual sum of squares over all splits on
//!   it, summed over a tree and averaged over trees (R divides by `ntree`).
//!
//! # Determinism
//! One seed per tree is derived from the master seed before any thread starts; tree `t` uses only
//! its own generator (bootstrap, predictor draws, ties, permutations). Trees are grown in fixed
//! chunks of [`TREES_PER_CHUNK`]; per-row OOB sums are accumulated inside a chunk in tree order and
//! merged chunk by chunk in chunk order, and per-tree importances are summed in tree order. The
//! chunking does not depend on the number of threads, so every result is bit-identical whatever
//! the thread count.

use rayon::prelude::*;

use crate::data::Dataset;
use crate::error::{ForestError, Result};
use crate::params::{ForestConfig, ForestParams};
use crate::rng::{derive_seeds, Xoshiro256StarStar};
use crate::tree::{grow_tree, GrowBuffers, GrownTree, TrainData, Tree};

/// Trees grown one after another by a worker before its partial results are merged.
pub const TREES_PER_CHUNK: usize = 8;
/// Rows per block in [`Forest::predict`].
const PREDICT_BLOCK: usize = 256;
/// Chunks whose partial results are held in memory at once.
const CHUNKS_PER_WAVE: usize = 32;

/// A fitted random forest (serde-serialisable, so it can be saved with the results).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Forest {
    trees: Vec<Tree>,
    names: Vec<String>,
    config: ForestConfig,
}

/// Permutation importance of one predictor.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PermutationImportance {
    /// %IncMSE: `mean_decrease / sd` (`sd` < ε ⇒ divided by 1), R's `importance(rf, scale = TRUE)`.
    pub inc_mse: f64,
    /// Raw mean increase of the OOB MSE over trees, `imp_j` (R's `rf$importance[, "%IncMSE"]`),
    /// in squared response units.
    pub mean_decrease: f64,
    /// Its standard error `SD_j` (R's `rf$importanceSD`).
    pub sd: f64,
}

/// Importance measures of one predictor.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VariableImportance {
    /// Predictor name.
    pub name: String,
    /// Permutation importance; `None` when it was not requested.
    pub permutation: Option<PermutationImportance>,
    /// IncNodePurity: mean over trees of the RSS decrease from splits on this predictor
    /// (squared response units).
    pub inc_node_purity: f64,
}

/// Something worth knowing about a fit that did not prevent it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum FitWarning {
    /// A predictor with a single value: it can never be split on (still drawn among the `mtry`).
    ConstantColumn {
        /// Column name.
        name: String,
        /// 0-based column index.
        col: usize,
    },
    /// Rows that were in bag in every tree and therefore have no OOB prediction.
    NeverOutOfBag {
        /// How many rows.
        rows: usize,
    },
    /// The response has five or fewer distinct values (R asks whether regression is meant).
    FewResponseValues {
        /// Distinct values.
        distinct: usize,
    },
}

impl std::fmt::Display for FitWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitWarning::ConstantColumn { name, col } => {
                write!(f, "predictor `{name}` (column {col}) is constant and is never used in a split")
            }
            FitWarning::NeverOutOfBag { rows } => {
                write!(f, "{rows} rows were never out of bag: no OOB prediction for them (grow more trees)")
            }
            FitWarning::FewResponseValues { distinct } => write!(
                f,
                "the response has only {distinct} distinct values: is regression really intended?"
            ),
        }
    }
}

/// Everything a fit produces.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FitResult {
    /// The forest.
    pub forest: Forest,
    /// OOB prediction per training row; NaN where the row was never out of bag.
    pub oob_predictions: Vec<f64>,
    /// Number of trees for which each row was out of bag (R's `oob.times`).
    pub oob_times: Vec<u32>,
    /// Mean squared OOB error over the rows with at least one OOB prediction (NaN if none).
    pub oob_mse: f64,
    /// `100 · (1 − oob_mse / var_pop(y))`, in percent (R's `% Var explained`).
    pub var_explained_pct: f64,
    /// One entry per predictor, in column order.
    pub importance: Vec<VariableImportance>,
    /// Non-fatal findings.
    pub warnings: Vec<FitWarning>,
}

impl FitResult {
    /// Predictor indices ordered by decreasing %IncMSE (ties by column order); empty when
    /// permutation importance was not computed.
    pub fn ranking_by_inc_mse(&self) -> Vec<usize> {
        let mut idx: Vec<(usize, f64)> = self
            .importance
            .iter()
            .enumerate()
            .filter_map(|(j, v)| v.permutation.map(|p| (j, p.inc_mse)))
            .collect();
        idx.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        idx.into_iter().map(|(j, _)| j).collect()
    }
}

/// Partial results of one chunk of consecutive trees.
struct ChunkResult {
    trees: Vec<Tree>,
    /// Per tree, per predictor: δ_tj (empty if importance is off).
    deltas: Vec<Vec<f64>>,
    /// Per tree, per predictor: RSS decrease.
    purity: Vec<Vec<f64>>,
    oob_sum: Vec<f64>,
    oob_count: Vec<u32>,
}

/// Buffers for the OOB part of one tree.
struct OobBuffers {
    rows: Vec<u32>,
    /// OOB cases gathered row-major (`rows.len() × p`).
    xo: Vec<f64>,
    saved: Vec<f64>,
}

impl Forest {
    /// Fits a forest (see the module documentation for every quantity computed).
    ///
    /// Errors: invalid parameters (see [`ForestParams::check`]), a non-finite predictor or response
    /// value (naming column and row), a constant response, or a thread pool that cannot be built.
    ///
    /// ```
    /// use rsei_forest::{Dataset, Forest, ForestParams};
    /// // y = 2·x0 on 40 rows; x1 is noise.
    /// let x0: Vec<f64> = (0..40).map(|i| i as f64).collect();
    /// let x1: Vec<f64> = (0..40).map(|i| ((i * 7) % 11) as f64).collect();
    /// let y: Vec<f64> = x0.iter().map(|v| 2.0 * v).collect();
    /// let data = Dataset::new(vec![x0, x1], y, vec!["x0".into(), "x1".into()]).unwrap();
    /// let params = ForestParams { ntree: 50, mtry: Some(2), seed: 7, ..ForestParams::default() };
    /// let fit = Forest::fit(&data, &params).unwrap();
    /// assert!(fit.var_explained_pct > 90.0);
    /// let pred = fit.forest.predict(&[20.0, 3.0]).unwrap();
    /// assert!((pred[0] - 40.0).abs() < 5.0);
    /// assert_eq!(fit.ranking_by_inc_mse()[0], 0);
    /// ```
    pub fn fit(data: &Dataset, params: &ForestParams) -> Result<FitResult> {
        let cfg = params.check(data.n_rows(), data.n_cols())?;
        data.check_finite()?;
        let first = data.y[0];
        if data.y.iter().all(|&v| v == first) {
            return Err(ForestError::ConstantResponse { value: first, n: data.n_rows() });
        }
        match cfg.threads {
            None => Ok(fit_in_pool(data, cfg)),
            Some(t) => {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .map_err(|e| ForestError::ThreadPool { threads: t, message: e.to_string() })?;
                Ok(pool.install(|| fit_in_pool(data, cfg)))
            }
        }
    }

    /// The trees, in growing order.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Predictor names, in column order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of predictors.
    pub fn n_features(&self) -> usize {
        self.names.len()
    }

    /// The checked configuration the forest was grown with.
    pub fn config(&self) -> &ForestConfig {
        &self.config
    }

    /// Predicts row-major input: `rows[i·p .. (i+1)·p]` are the `p` predictors of case `i`, in the
    /// training column order. The prediction is the mean over trees (summed in tree order). A case
    /// with any NaN predictor is nodata and predicts NaN (±inf are valid values and follow the splits).
    ///
    /// Errors if the length is not a multiple of `p`. For millions of rows use [`Forest::compile`].
    pub fn predict(&self, rows: &[f64]) -> Result<Vec<f64>> {
        let p = self.n_features();
        if rows.len() % p != 0 {
            return Err(ForestError::RowLength { len: rows.len(), p });
        }
        let n = rows.len() / p;
        let ntree = self.trees.len() as f64;
        let mut out = vec![0.0; n];
        // Tree-major over blocks of rows: a tree stays in cache while it predicts a whole block.
        // Each row still sums its trees in tree order, starting from 0.
        for (b, acc) in out.chunks_mut(PREDICT_BLOCK).enumerate() {
            let block = &rows[b * PREDICT_BLOCK * p..(b * PREDICT_BLOCK + acc.len()) * p];
            for t in &self.trees {
                for (a, row) in acc.iter_mut().zip(block.chunks(p)) {
                    *a += t.predict_row(row);
                }
            }
            for (a, row) in acc.iter_mut().zip(block.chunks(p)) {
                *a = if row.iter().any(|v| v.is_nan()) { f64::NAN } else { *a / ntree };
            }
        }
        Ok(out)
    }

    /// Predicts column-major input (`cols[j][i]` = predictor `j` of case `i`), e.g. the columns of
    /// a [`Dataset`]. Same semantics as [`Forest::predict`].
    pub fn predict_columns(&self, cols: &[Vec<f64>]) -> Result<Vec<f64>> {
        let rows = columns_to_rows(cols, self.n_features())?;
        self.predict(&rows)
    }
}

/// Validates column-major input and turns it into row-major.
pub(crate) fn columns_to_rows(cols: &[Vec<f64>], p: usize) -> Result<Vec<f64>> {
    if cols.len() != p {
        return Err(ForestError::ColumnCount { got: cols.len(), expected: p });
    }
    let n = cols[0].len();
    if let Some((col, c)) = cols.iter().enumerate().find(|(_, c)| c.len() != n) {
        return Err(ForestError::RaggedColumns { col, len: c.len(), expected: n });
    }
    let mut rows = vec![0.0; n * p];
    for (j, c) in cols.iter().enumerate() {
        for (i, &v) in c.iter().enumerate() {
            rows[i * p + j] = v;
        }
    }
    Ok(rows)
}

fn fit_in_pool(data: &Dataset, cfg: ForestConfig) -> FitResult {
    let train = TrainData::new(&data.x, &data.y);
    let (n, p) = (train.n, train.p);
    let seeds = derive_seeds(cfg.seed, cfg.ntree);
    let chunk_starts: Vec<usize> = (0..cfg.ntree).step_by(TREES_PER_CHUNK).collect();

    let mut trees = Vec::with_capacity(cfg.ntree);
    let mut deltas: Vec<Vec<f64>> = Vec::with_capacity(cfg.ntree);
    let mut purities: Vec<Vec<f64>> = Vec::with_capacity(cfg.ntree);
    let mut oob_sum = vec![0.0; n];
    let mut oob_count = vec![0u32; n];

    for wave in chunk_starts.chunks(CHUNKS_PER_WAVE) {
        let results: Vec<ChunkResult> = wave
            .par_iter()
            .map_init(
                || (GrowBuffers::new(n, p), OobBuffers { rows: Vec::new(), xo: Vec::new(), saved: Vec::new() }),
                |(gb, ob), &start| {
                    let end = (start + TREES_PER_CHUNK).min(cfg.ntree);
                    grow_chunk(&train, &cfg, &seeds[start..end], gb, ob)
                },
            )
            .collect();
        for r in results {
            for (s, v) in oob_sum.iter_mut().zip(&r.oob_sum) {
                *s += v;
            }
            for (c, v) in oob_count.iter_mut().zip(&r.oob_count) {
                *c += v;
            }
            trees.extend(r.trees);
            deltas.extend(r.deltas);
            purities.extend(r.purity);
        }
    }

    // OOB predictions, MSE and % variance explained.
    let oob_predictions: Vec<f64> = oob_sum
        .iter()
        .zip(&oob_count)
        .map(|(&s, &c)| if c > 0 { s / c as f64 } else { f64::NAN })
        .collect();
    let (mut sse, mut n_oob) = (0.0, 0usize);
    for (i, &pred) in oob_predictions.iter().enumerate() {
        if oob_count[i] > 0 {
            let r = data.y[i] - pred;
            sse += r * r;
            n_oob += 1;
        }
    }
    let oob_mse = if n_oob > 0 { sse / n_oob as f64 } else { f64::NAN };
    let var_pop = {
        let m = train.y_mean;
        data.y.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64
    };
    let var_explained_pct = 100.0 * (1.0 - oob_mse / var_pop);

    // Importances, summed in tree order.
    let ntree = cfg.ntree as f64;
    let importance = (0..p)
        .map(|j| {
            let inc_node_purity = purities.iter().map(|t| t[j]).sum::<f64>() / ntree;
            let permutation = cfg.importance.then(|| {
                let (s, s2) = deltas.iter().fold((0.0, 0.0), |(s, s2), d| (s + d[j], s2 + d[j] * d[j]));
                scale_importance(s, s2, cfg.ntree)
            });
            VariableImportance { name: data.names[j].clone(), permutation, inc_node_purity }
        })
        .collect();

    // Warnings.
    let mut warnings = Vec::new();
    for (col, c) in data.x.iter().enumerate() {
        if c.iter().all(|&v| v == c[0]) {
            warnings.push(FitWarning::ConstantColumn { name: data.names[col].clone(), col });
        }
    }
    let never = n - n_oob;
    if never > 0 {
        warnings.push(FitWarning::NeverOutOfBag { rows: never });
    }
    let distinct = {
        let mut v = data.y.clone();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v.len()
    };
    if distinct <= 5 {
        warnings.push(FitWarning::FewResponseValues { distinct });
    }

    FitResult {
        forest: Forest { trees, names: data.names.clone(), config: cfg },
        oob_predictions,
        oob_times: oob_count,
        oob_mse,
        var_explained_pct,
        importance,
        warnings,
    }
}

/// R's scaling of permutation importance from `Σ_t δ_t` and `Σ_t δ_t²` over `ntree` trees:
/// `imp = Σδ/ntree`, `SD = √((Σδ²/ntree − imp²)/ntree)` (a negative radicand from rounding is
/// taken as 0), `%IncMSE = imp / SD`, with SD < ε (machine epsilon) replaced by 1.
///
/// ```
/// use rsei_forest::forest::scale_importance;
/// // δ = (1, 3): imp = 2, mean δ² = 5, SD = √((5 − 4)/2) = √0.5, %IncMSE = 2/√0.5 = 2√2.
/// let pi = scale_importance(4.0, 10.0, 2);
/// assert_eq!(pi.mean_decrease, 2.0);
/// assert!((pi.inc_mse - 2.0 * 2f64.sqrt()).abs() < 1e-12);
/// ```
pub fn scale_importance(sum_delta: f64, sum_delta_sq: f64, ntree: usize) -> PermutationImportance {
    let nt = ntree as f64;
    let imp = sum_delta / nt;
    let var = (sum_delta_sq / nt - imp * imp) / nt;
    let sd = if var > 0.0 { var.sqrt() } else { 0.0 };
    let inc_mse = imp / if sd < f64::EPSILON { 1.0 } else { sd };
    PermutationImportance { inc_mse, mean_decrease: imp, sd }
}

fn grow_chunk(
    train: &TrainData<'_>,
    cfg: &ForestConfig,
    seeds: &[u64],
    gb: &mut GrowBuffers,
    ob: &mut OobBuffers,
) -> ChunkResult {
    let n = train.n;
    let mut out = ChunkResult {
        trees: Vec::with_capacity(seeds.len()),
        deltas: Vec::with_capacity(seeds.len()),
        purity: Vec::with_capacity(seeds.len()),
        oob_sum: vec![0.0; n],
        oob_count: vec![0; n],
    };
    for &seed in seeds {
        let mut rng = Xoshiro256StarStar::seed_from_u64(seed);
        let GrownTree { tree, purity, used } = grow_tree(train, cfg, &mut rng, gb);
        let delta = oob_and_importance(train, cfg, &tree, &used, &gb.counts, &mut rng, ob, &mut out);
        out.trees.push(tree);
        out.purity.push(purity);
        if cfg.importance {
            out.deltas.push(delta);
        }
    }
    out
}

/// OOB predictions of one tree (added to the chunk sums) and its δ_tj per predictor.
#[allow(clippy::too_many_arguments)]
fn oob_and_importance(
    train: &TrainData<'_>,
    cfg: &ForestConfig,
    tree: &Tree,
    used: &[bool],
    counts: &[u32],
    rng: &mut Xoshiro256StarStar,
    ob: &mut OobBuffers,
    out: &mut ChunkResult,
) -> Vec<f64> {
    let (n, p) = (train.n, train.p);
    ob.rows.clear();
    ob.rows.extend((0..n as u32).filter(|&r| counts[r as usize] == 0));
    let n_oob = ob.rows.len();
    ob.xo.resize(n_oob * p, 0.0);
    for (j, col) in train.x.iter().enumerate() {
        for (k, &r) in ob.rows.iter().enumerate() {
            ob.xo[k * p + j] = col[r as usize];
        }
    }
    let mut ooberr = 0.0;
    for (k, &r) in ob.rows.iter().enumerate() {
        let pred = tree.predict_row(&ob.xo[k * p..(k + 1) * p]);
        out.oob_sum[r as usize] += pred;
        out.oob_count[r as usize] += 1;
        let e = pred - train.y[r as usize];
        ooberr += e * e;
    }
    let mut delta = vec![0.0; p];
    if !cfg.importance || n_oob == 0 {
        return delta;
    }
    for j in 0..p {
        if !used[j] {
            continue;
        }
        // Permute predictor j among the OOB cases (R's permuteOOB: Fisher–Yates from the end).
        ob.saved.clear();
        ob.saved.extend((0..n_oob).map(|k| ob.xo[k * p + j]));
        let mut perm = ob.saved.clone();
        for last in (1..=n_oob).rev() {
            let k = rng.below(last);
            perm.swap(last - 1, k);
        }
        for (k, &v) in perm.iter().enumerate() {
            ob.xo[k * p + j] = v;
        }
        let mut err_perm = 0.0;
        for (k, &r) in ob.rows.iter().enumerate() {
            let e = tree.predict_row(&ob.xo[k * p..(k + 1) * p]) - train.y[r as usize];
            err_perm += e * e;
        }
        for (k, &v) in ob.saved.iter().enumerate() {
            ob.xo[k * p + j] = v;
        }
        delta[j] = (err_perm - ooberr) / n_oob as f64;
    }
    delta
}
