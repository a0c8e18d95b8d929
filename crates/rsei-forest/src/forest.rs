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
//!   `δ_tj = 0` if `t` does not split on `j` (R skips it) or has no OOB case (R would divide by
//!   zero). Only cases whose path meets a split on `j` can change, so only they are re-predicted,
//!   from that split down; the sum `Σ (e'² − e²)` over them equals R's difference of sums up to
//!   rounding. Then `imp_j = mean_t δ_tj`,
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

/// A fitted random forest (serde-serialisable, so it can be saved with the results; use a format
/// that round-trips `f64` exactly, e.g. `serde_json` with its `float_roundtrip` feature, so that
/// split points and leaf values come back bit for bit).
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
    perm: Vec<f64>,
    /// Squared error of each OOB case with the original predictors.
    err2: Vec<f64>,
    /// `first[k·p + j]`: first node on case k's path that splits on predictor j (`NONE` if none).
    first: Vec<u32>,
}

const NONE: u32 = u32::MAX;

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
        if !rows.len().is_multiple_of(p) {
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
                || {
                    let ob = OobBuffers {
                        rows: Vec::new(),
                        xo: Vec::new(),
                        saved: Vec::new(),
                        perm: Vec::new(),
                        err2: Vec::new(),
                        first: Vec::new(),
                    };
                    (GrowBuffers::new(n, p), ob)
                },
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
    // Original predictions; on the way down, note where each predictor is first used.
    let nodes = tree.nodes();
    ob.err2.clear();
    ob.first.clear();
    ob.first.resize(n_oob * p, NONE);
    for (k, &r) in ob.rows.iter().enumerate() {
        let x = &ob.xo[k * p..(k + 1) * p];
        let first = &mut ob.first[k * p..(k + 1) * p];
        let mut i = 0usize;
        while !nodes[i].is_leaf() {
            let nd = nodes[i];
            let v = nd.var as usize;
            if first[v] == NONE {
                first[v] = i as u32;
            }
            i = nd.left as usize + usize::from(x[v] > nd.value);
        }
        let pred = nodes[i].value;
        out.oob_sum[r as usize] += pred;
        out.oob_count[r as usize] += 1;
        let e = pred - train.y[r as usize];
        ob.err2.push(e * e);
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
        ob.perm.clear();
        ob.perm.extend_from_slice(&ob.saved);
        for last in (1..=n_oob).rev() {
            let k = rng.below(last);
            ob.perm.swap(last - 1, k);
        }
        for (k, &v) in ob.perm.iter().enumerate() {
            ob.xo[k * p + j] = v;
        }
        // Only cases whose path meets a split on j can change, and only from that split down:
        // Σ_k (e'_k² − e_k²) over those cases equals R's Σ e'² − Σ e² over all OOB cases.
        let mut increase = 0.0;
        for (k, &r) in ob.rows.iter().enumerate() {
            let start = ob.first[k * p + j];
            if start == NONE {
                continue;
            }
            let pred = tree.predict_from(start as usize, &ob.xo[k * p..(k + 1) * p]);
            let e = pred - train.y[r as usize];
            increase += e * e - ob.err2[k];
        }
        for (k, &v) in ob.saved.iter().enumerate() {
            ob.xo[k * p + j] = v;
        }
        delta[j] = increase / n_oob as f64;
    }
    delta
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{draw_sample, GrowBuffers};

    fn tiny() -> Dataset {
        // 12 rows, y = step in x0 plus a little structure in x1.
        let x0: Vec<f64> = (0..12).map(|i| i as f64).collect();
        let x1: Vec<f64> = (0..12).map(|i| ((i * 5) % 7) as f64).collect();
        let y: Vec<f64> = (0..12).map(|i| if i < 6 { 1.0 + (i % 3) as f64 } else { 10.0 + (i % 2) as f64 }).collect();
        Dataset::new(vec![x0, x1], y, vec!["a".into(), "b".into()]).unwrap()
    }

    #[test]
    fn oob_bookkeeping_on_a_tiny_forest() {
        let data = tiny();
        let params = ForestParams { ntree: 7, mtry: Some(2), nodesize: 2, seed: 11, threads: Some(1), ..Default::default() };
        let fit = Forest::fit(&data, &params).unwrap();
        let cfg = fit.forest.config().clone();
        let n = data.n_rows();
        // Recompute every tree's bootstrap from its seed (the sample is the first use of a tree's
        // generator) and the OOB quantities from scratch.
        let seeds = derive_seeds(cfg.seed, cfg.ntree);
        let mut sum = vec![0.0; n];
        let mut times = vec![0u32; n];
        let mut buf = GrowBuffers::new(n, 2);
        for (t, tree) in fit.forest.trees().iter().enumerate() {
            let mut rng = Xoshiro256StarStar::seed_from_u64(seeds[t]);
            draw_sample(&cfg, n, &mut rng, &mut buf);
            assert_eq!(buf.counts.iter().map(|&c| c as usize).sum::<usize>(), n); // bootstrap of size n
            for i in 0..n {
                if buf.counts[i] == 0 {
                    times[i] += 1;
                    sum[i] += tree.predict_row(&data.row(i).unwrap());
                }
            }
        }
        assert_eq!(fit.oob_times, times);
        let mut sse = 0.0;
        let mut k = 0;
        for i in 0..n {
            if times[i] == 0 {
                assert!(fit.oob_predictions[i].is_nan());
            } else {
                let p = sum[i] / times[i] as f64;
                assert!((fit.oob_predictions[i] - p).abs() < 1e-12);
                sse += (data.y[i] - p) * (data.y[i] - p);
                k += 1;
            }
        }
        assert!(k > 0);
        assert!((fit.oob_mse - sse / k as f64).abs() < 1e-12);
        // var_pop(y): mean 6.25 … computed directly.
        let m = data.y.iter().sum::<f64>() / n as f64;
        let var_pop = data.y.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
        assert!((fit.var_explained_pct - 100.0 * (1.0 - fit.oob_mse / var_pop)).abs() < 1e-9);
        let never = times.iter().filter(|&&t| t == 0).count();
        assert_eq!(
            fit.warnings.iter().any(|w| matches!(w, FitWarning::NeverOutOfBag { rows } if *rows == never)),
            never > 0
        );
    }

    #[test]
    fn importance_scaling_on_hand_made_deltas() {
        // δ = (1, 2, 3, 6): imp = 12/4 = 3; mean δ² = (1 + 4 + 9 + 36)/4 = 12.5;
        // SD = √((12.5 − 9)/4) = √0.875 = 0.935414…; %IncMSE = 3 / 0.935414 = 3.207135…
        let pi = scale_importance(12.0, 50.0, 4);
        assert_eq!(pi.mean_decrease, 3.0);
        assert!((pi.sd - 0.875f64.sqrt()).abs() < 1e-15);
        assert!((pi.inc_mse - 3.0 / 0.875f64.sqrt()).abs() < 1e-12);
        // All δ equal (2, 2, 2): SD = 0 < ε, so R divides by 1: %IncMSE = imp = 2.
        let pi = scale_importance(6.0, 12.0, 3);
        assert_eq!((pi.mean_decrease, pi.sd, pi.inc_mse), (2.0, 0.0, 2.0));
        // Negative importance keeps its sign: δ = (−1, −3): imp = −2, SD = √((5 − 4)/2).
        let pi = scale_importance(-4.0, 10.0, 2);
        assert!((pi.inc_mse + 2.0 / 0.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn fit_errors_are_clear() {
        let five = Dataset::new(vec![vec![1.0, 2.0, 3.0, 4.0, 5.0]], vec![1.0, 2.0, 3.0, 4.0, 6.0], vec![]).unwrap();
        let e = Forest::fit(&five, &ForestParams::default()).unwrap_err();
        assert_eq!(e, ForestError::SampleNotLargerThanNodesize { sample_size: 5, nodesize: 5 });
        assert!(e.to_string().contains("nodesize 5"));

        let mut d = tiny();
        d.x[1][7] = f64::NAN;
        let e = Forest::fit(&d, &ForestParams::default()).unwrap_err();
        assert!(matches!(e, ForestError::NonFiniteX { ref name, col: 1, row: 7, .. } if name == "b"), "{e}");
        assert!(e.to_string().contains("`b`") && e.to_string().contains("row 7"));

        let e = Forest::fit(&tiny(), &ForestParams { mtry: Some(3), ..Default::default() }).unwrap_err();
        assert_eq!(e, ForestError::InvalidMtry { mtry: 3, p: 2 });

        let mut d = tiny();
        d.y = vec![4.0; 12];
        assert_eq!(Forest::fit(&d, &ForestParams::default()).unwrap_err(), ForestError::ConstantResponse { value: 4.0, n: 12 });

        let fit = Forest::fit(&tiny(), &ForestParams { ntree: 3, ..Default::default() }).unwrap();
        assert_eq!(fit.forest.predict(&[1.0, 2.0, 3.0]).unwrap_err(), ForestError::RowLength { len: 3, p: 2 });
        assert_eq!(fit.forest.predict_columns(&[vec![1.0]]).unwrap_err(), ForestError::ColumnCount { got: 1, expected: 2 });
        assert_eq!(
            fit.forest.predict_columns(&[vec![1.0], vec![1.0, 2.0]]).unwrap_err(),
            ForestError::RaggedColumns { col: 1, len: 2, expected: 1 }
        );
    }

    #[test]
    fn constant_column_is_reported_and_never_used() {
        let mut d = tiny();
        d.x.push(vec![3.0; 12]);
        d.names.push("flat".into());
        let fit = Forest::fit(&d, &ForestParams { ntree: 20, mtry: Some(3), nodesize: 2, seed: 2, ..Default::default() }).unwrap();
        assert!(fit.warnings.contains(&FitWarning::ConstantColumn { name: "flat".into(), col: 2 }));
        assert!(fit.forest.trees().iter().all(|t| t.nodes().iter().all(|n| n.is_leaf() || n.var != 2)));
        let flat = &fit.importance[2];
        assert_eq!(flat.inc_node_purity, 0.0);
        assert_eq!(flat.permutation.map(|p| p.mean_decrease), Some(0.0));
    }

    #[test]
    fn predictions_with_nan_are_nodata() {
        let fit = Forest::fit(&tiny(), &ForestParams { ntree: 5, ..Default::default() }).unwrap();
        let p = fit.forest.predict(&[1.0, f64::NAN, 3.0, 4.0]).unwrap();
        assert!(p[0].is_nan());
        assert!(p[1].is_finite());
    }
}
