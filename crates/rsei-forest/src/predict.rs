//! Fast batch prediction: the forest compiled into compact arrays and applied, a pass of trees at a
//! time, to blocks of rows.
//!
//! # How
//! 1. **Binning (exact).** Every split point of predictor `j` anywhere in the forest is collected
//!    into a sorted list `T_j` of distinct values, and a value `x` is replaced by its bin
//!    `b(x) = #{t ∈ T_j : t < x}`. For a split point `t = T_j[k]`, `x <= t ⟺ b(x) <= k`, so the
//!    nodes compare small integers and take *exactly* the decisions of the original tree.
//!    Bins are found with a bucket index over `T_j` (a short scan instead of a binary search).
//! 2. **Blocks × passes.** Rows are processed in blocks (up to [`BLOCK_ROWS`] rows): the block's
//!    bins are computed once, its rows are ordered by their leaf in the first tree (similar rows
//!    side by side), then the block goes through the forest in passes of eight trees, group of
//!    rows after group of rows, while the pass's nodes are hot in cache.
//! 3. **Kernels.**
//!    * *chunked (x86-64 with AVX-512 F/BW/VL, ≤ 16 predictors):* each tree is cut into chunks of
//!      up to 15 splits, grown from the chunk's root towards the branches with the most leaves
//!      (where most cases go); a subtree that fits is taken whole, so chunks are well filled and
//!      the last chunk of a path usually ends in leaves. A row's bins sit in one 512-bit register;
//!      one `vpermd` picks the predictor of each of the 15 splits, one `vpcmpud` compares all 15 at
//!      once, and the exit of the chunk is found from the comparison mask with one broadcast, one
//!      OR and one 16-lane equality test. About 3.4 chunks per row and tree on Friedman #1.
//!      Fourteen rows advance in lock-step rounds, each row through a pass of eight trees in tree
//!      order: the exit to a leaf carries the leaf's value and leads straight on to the root of
//!      the pass's next tree, so a lane never waits for the others at the end of a tree, and the
//!      round loop has one exit per pass to predict instead of one per tree (a mispredicted exit
//!      per tree cost about a fifth of the time).
//!    * *portable (any CPU):* the same passes and lock-step rounds, one split per step and twelve
//!      lanes: a split holds its bin, its predictor, and for each direction the next split and
//!      the value of the leaf it reaches (`0.0` if none), so a step is a few loads, one compare
//!      and a `setcc`, never a branch. About twice as fast as the partition-based kernel it
//!      replaced (rows of a block partitioned left and right at every node).
//! 4. **Threads.** Blocks are independent and run in parallel on the current rayon pool. Each row's
//!    sum runs over trees in tree order starting from 0 and is divided by the number of trees,
//!    exactly as [`Forest::predict`] does: every kernel gives bit-identical numbers whatever the
//!    thread count.
//!
//! NaN in any predictor of a row makes that row's prediction NaN (nodata).

use rayon::prelude::*;

use crate::error::{ForestError, Result};
use crate::forest::Forest;
use crate::tree::Node;

/// Most rows per block: the rows stream from the shared cache, and large blocks let each tree's
/// nodes, once loaded, serve many rows.
pub const BLOCK_ROWS: usize = 65_536;

/// Exact value → bin lookup for one predictor (see the module documentation).
#[derive(Debug, Clone)]
struct Binner {
    /// Sorted distinct split points.
    t: Vec<f64>,
    lo: f64,
    scale: f64,
    /// `first[q]` = number of split points in buckets `< q`; length `buckets + 1`.
    first: Vec<u32>,
}

impl Binner {
    fn new(t: Vec<f64>) -> Self {
        let buckets = if t.len() <= 1 { 1 } else { t.len().next_power_of_two() };
        let (lo, hi) = match (t.first(), t.last()) {
            (Some(&lo), Some(&hi)) if hi > lo => (lo, hi),
            (Some(&lo), _) => (lo, lo),
            _ => (0.0, 0.0),
        };
        let scale = if hi > lo { buckets as f64 / (hi - lo) } else { 0.0 };
        let mut b = Binner { t, lo, scale, first: Vec::new() };
        let mut first = vec![0u32; buckets + 1];
        for &v in &b.t {
            first[b.bucket(v, buckets) + 1] += 1;
        }
        for q in 0..buckets {
            first[q + 1] += first[q];
        }
        b.first = first;
        b
    }

    /// Bucket of `x`: a monotone (non-decreasing) function of `x`, so every split point in a
    /// lower bucket is `< x` and every one in a higher bucket is `> x`. NaN maps to bucket 0.
    #[inline]
    fn bucket(&self, x: f64, buckets: usize) -> usize {
        // `as usize` saturates (negative and NaN → 0); min keeps the top in range.
        (((x - self.lo) * self.scale).floor() as usize).min(buckets - 1)
    }

    /// `#{t : t < x}`.
    #[inline]
    fn bin(&self, x: f64) -> usize {
        let buckets = self.first.len() - 1;
        let q = self.bucket(x, buckets);
        let (a, b) = (self.first[q] as usize, self.first[q + 1] as usize);
        a + self.t[a..b].partition_point(|&v| v < x)
    }
}

#[derive(Debug, Clone)]
enum Kernel {
    Lanes(lanes::LanesForest),
    #[cfg(target_arch = "x86_64")]
    Chunked(chunked::ChunkedForest),
    /// More splits than 32-bit indices can address (predicting is an error).
    TooLarge { splits: usize },
}

/// A forest prepared for predicting many rows (see the module documentation).
///
/// ```
/// use rsei_forest::{Dataset, Forest, ForestParams};
/// let x0: Vec<f64> = (0..30).map(|i| i as f64).collect();
/// let y: Vec<f64> = x0.iter().map(|v| (v / 3.0).floor()).collect();
/// let data = Dataset::new(vec![x0], y, vec!["x".into()]).unwrap();
/// let fit = Forest::fit(&data, &ForestParams { ntree: 20, seed: 1, ..Default::default() }).unwrap();
/// let compiled = fit.forest.compile();
/// let rows = [0.5, 14.2, 29.0, f64::NAN];
/// let fast = compiled.predict(&rows).unwrap();
/// let plain = fit.forest.predict(&rows).unwrap();
/// assert_eq!(&fast[..3], &plain[..3]);
/// assert!(fast[3].is_nan());
/// ```
#[derive(Debug, Clone)]
pub struct CompiledForest {
    p: usize,
    ntree: usize,
    binners: Vec<Binner>,
    kernel: Kernel,
}

impl Forest {
    /// Compiles the forest for fast batch prediction ([`CompiledForest`]), choosing the fastest
    /// kernel this CPU supports.
    pub fn compile(&self) -> CompiledForest {
        self.compile_inner(true)
    }

    /// Like [`Forest::compile`] but always with the portable kernel (same numbers; used to test
    /// the kernels against each other).
    pub fn compile_portable(&self) -> CompiledForest {
        self.compile_inner(false)
    }

    fn compile_inner(&self, allow_simd: bool) -> CompiledForest {
        let p = self.n_features();
        let mut thresholds: Vec<Vec<f64>> = vec![Vec::new(); p];
        for t in self.trees() {
            for n in t.nodes() {
                if !n.is_leaf() {
                    thresholds[n.var as usize].push(n.value);
                }
            }
        }
        thresholds.par_iter_mut().for_each(|t| {
            t.sort_unstable_by(f64::total_cmp);
            t.dedup();
        });
        let widest = thresholds.iter().map(Vec::len).max().unwrap_or(0);
        let binners: Vec<Binner> = thresholds.into_par_iter().map(Binner::new).collect();
        let portable = || match lanes::LanesForest::build(self, &binners) {
            Some(l) => Kernel::Lanes(l),
            None => Kernel::TooLarge { splits: self.trees().iter().map(|t| t.nodes().len() / 2).sum() },
        };
        let _ = (allow_simd, widest);
        #[cfg(target_arch = "x86_64")]
        let kernel = if allow_simd && p <= 16 && widest < (1 << 27) && chunked::available() {
            chunked::ChunkedForest::build(self, &binners).map(Kernel::Chunked).unwrap_or_else(portable)
        } else {
            portable()
        };
        #[cfg(not(target_arch = "x86_64"))]
        let kernel = portable();
        CompiledForest { p, ntree: self.trees().len(), binners, kernel }
    }
}

/// Where a case goes on after a leaf of tree `t`, in the pass layout both kernels share: the root
/// of the next tree of the same pass of `per_pass` trees, or `sink` after the pass's last tree.
fn after_tree(t: usize, per_pass: usize, roots: &[u32], sink: u32) -> u32 {
    if (t + 1) % per_pass != 0 && t + 1 < roots.len() {
        roots[t + 1]
    } else {
        sink
    }
}

/// Row indices ordered by `key(i)` for `i` in `0..m`, ties by index.
fn order_by_key(m: usize, key: impl Fn(usize) -> u32) -> Vec<u32> {
    let mut keyed: Vec<(u32, u32)> = (0..m).map(|i| (key(i), i as u32)).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Bin of the split point of node `n`: its position in the sorted list of its predictor (the
/// number of split points below it, which is exactly what the binner counts).
fn split_bin(binners: &[Binner], n: &Node) -> usize {
    binners[n.var as usize].bin(n.value)
}

impl CompiledForest {
    /// Number of predictors expected per row.
    pub fn n_features(&self) -> usize {
        self.p
    }

    /// Name of the kernel in use: `"avx512-chunked"` or `"portable"` (`"too-large"` for a forest
    /// with more splits than 32-bit indices address, which cannot predict).
    pub fn kernel_name(&self) -> &'static str {
        match &self.kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Chunked(_) => "avx512-chunked",
            Kernel::Lanes(_) => "portable",
            Kernel::TooLarge { .. } => "too-large",
        }
    }

    /// Predicts row-major input (`rows[i·p + j]` = predictor `j` of case `i`); same numbers as
    /// [`Forest::predict`]. Runs on the current rayon pool (wrap the call in
    /// `ThreadPool::install` to choose the thread count).
    pub fn predict(&self, rows: &[f64]) -> Result<Vec<f64>> {
        let p = self.p;
        if !rows.len().is_multiple_of(p) {
            return Err(ForestError::RowLength { len: rows.len(), p });
        }
        let n = rows.len() / p;
        self.run(n, |j, lo, hi, out: &mut Vec<f64>| {
            out.extend((lo..hi).map(|i| rows[i * p + j]));
        })
    }

    /// Predicts column-major input (`cols[j][i]` = predictor `j` of case `i`).
    pub fn predict_columns(&self, cols: &[Vec<f64>]) -> Result<Vec<f64>> {
        if cols.len() != self.p {
            return Err(ForestError::ColumnCount { got: cols.len(), expected: self.p });
        }
        let n = cols[0].len();
        if let Some((col, c)) = cols.iter().enumerate().find(|(_, c)| c.len() != n) {
            return Err(ForestError::RaggedColumns { col, len: c.len(), expected: n });
        }
        self.run(n, |j, lo, hi, out: &mut Vec<f64>| out.extend_from_slice(&cols[j][lo..hi]))
    }

    /// Shared driver: `fetch(j, lo, hi, buf)` appends predictor `j` of rows `lo..hi` to `buf`.
    fn run<F>(&self, n: usize, fetch: F) -> Result<Vec<f64>>
    where
        F: Fn(usize, usize, usize, &mut Vec<f64>) + Sync,
    {
        if let Kernel::TooLarge { splits } = self.kernel {
            return Err(ForestError::TooLargeToCompile { splits });
        }
        let mut out = vec![0.0; n];
        let max_block = BLOCK_ROWS;
        // Equal blocks, as many as a multiple of the thread count: a short last block would leave
        // the other threads idle at the end (1M rows in 65 536-row blocks cost 6 % of wall time).
        // Results do not depend on the block size.
        let threads = rayon::current_num_threads().max(1);
        let blocks = n.div_ceil(max_block).max(2 * threads).div_ceil(threads) * threads;
        let block = n.div_ceil(blocks).max(n.clamp(1, 1024));
        out.par_chunks_mut(block).enumerate().for_each(|(b, acc)| {
            let lo = b * block;
            let hi = lo + acc.len();
            let m = hi - lo;
            // Bins of the block, column-major, and the NaN flags.
            let mut bins = vec![0u32; m * self.p];
            let mut nan = vec![false; m];
            let mut col = Vec::with_capacity(m);
            for (j, binner) in self.binners.iter().enumerate() {
                col.clear();
                fetch(j, lo, hi, &mut col);
                for (i, &x) in col.iter().enumerate() {
                    nan[i] |= x.is_nan();
                    bins[j * m + i] = binner.bin(x) as u32;
                }
            }
            acc.iter_mut().for_each(|v| *v = 0.0);
            match &self.kernel {
                Kernel::Lanes(c) => c.predict_block(&bins, m, self.p, acc),
                #[cfg(target_arch = "x86_64")]
                Kernel::Chunked(c) => c.predict_block(&bins, m, self.p, acc),
                Kernel::TooLarge { .. } => {}
            }
            let ntree = self.ntree as f64;
            for (v, &is_nan) in acc.iter_mut().zip(&nan) {
                *v = if is_nan { f64::NAN } else { *v / ntree };
            }
        });
        Ok(out)
    }
}

/// Lock-step rounds of a pass, shared by both kernels: every round runs `$step` once for each lane
/// (`$l` is the lane, a constant, so the lanes' cursors stay in registers), then ends the pass when
/// every cursor in `$cur` is `$sink`. One loop exit per pass and no per-lane branch.
macro_rules! rounds {
    ($cur:ident, $sink:expr, $l:ident => $step:block, [$($i:literal)*]) => {
        loop {
            let mut live = 0u32;
            $({
                const $l: usize = $i;
                $step
                live |= $cur[$l] ^ $sink;
            })*
            if live == 0 {
                break;
            }
        }
    };
}

/// The lanes kernel (any CPU): one split per step, many rows in flight.
mod lanes {
    use rayon::prelude::*;

    use super::Binner;
    use crate::forest::Forest;
    use crate::tree::Node;

    /// Rows advanced together.
    pub(super) const LANES: usize = 12;
    /// Trees a group of rows goes through before the next group starts.
    const TREES_PER_PASS: usize = 8;
    /// Placeholder for "after this tree" while a tree is built alone.
    const AFTER: u32 = u32::MAX;

    /// A split: the case goes right (`d = 1`) iff its bin of predictor `var / LANES` is `> thr`;
    /// it then goes on at node `next[d]` and adds `vals[d]`, the value of the leaf that direction
    /// reaches (`0.0` when it reaches another split). A leaf leads to the root of the pass's next
    /// tree, or to the sink after the pass's last tree.
    #[repr(C)]
    #[derive(Debug, Clone, Copy)]
    struct Split {
        thr: u32,
        /// Predictor times `LANES`: the offset of the predictor's bins in a group's block.
        var: u32,
        next: [u32; 2],
        vals: [f64; 2],
    }

    #[derive(Debug, Clone)]
    pub(super) struct LanesForest {
        /// Every tree's splits (pre-order) in tree order, then the sink.
        nodes: Vec<Split>,
        /// Index of each tree's first split (a single-leaf tree gets a split that never goes
        /// right).
        roots: Vec<u32>,
        /// A split that never goes right and leads back to itself, adding `0.0`.
        sink: u32,
    }

    /// One tree's splits in pre-order with tree-relative `next` (or `AFTER`).
    fn build_tree(nodes: &[Node], binners: &[Binner]) -> Vec<Split> {
        let never = |v: f64| Split { thr: u32::MAX, var: 0, next: [AFTER; 2], vals: [v; 2] };
        if nodes[0].is_leaf() {
            return vec![never(nodes[0].value)];
        }
        let mut out: Vec<Split> = Vec::new();
        // (tree node, parent split and direction to patch)
        let mut stack: Vec<(usize, Option<(usize, usize)>)> = vec![(0, None)];
        while let Some((k, parent)) = stack.pop() {
            let n = nodes[k];
            let pos = out.len();
            if let Some((par, d)) = parent {
                out[par].next[d] = pos as u32;
            }
            out.push(Split { thr: super::split_bin(binners, &n) as u32, var: n.var * LANES as u32, next: [AFTER; 2], vals: [0.0; 2] });
            for d in [1usize, 0] {
                let c = n.left as usize + d;
                if nodes[c].is_leaf() {
                    out[pos].vals[d] = nodes[c].value;
                } else {
                    stack.push((c, Some((pos, d))));
                }
            }
        }
        out
    }

    impl LanesForest {
        /// `None` when the forest has too many splits for 32-bit indices.
        pub(super) fn build(forest: &Forest, binners: &[Binner]) -> Option<Self> {
            let per_tree: Vec<Vec<Split>> = forest.trees().par_iter().map(|t| build_tree(t.nodes(), binners)).collect();
            let mut roots = Vec::with_capacity(per_tree.len());
            let mut total = 0usize;
            for t in &per_tree {
                roots.push(u32::try_from(total).ok()?);
                total += t.len();
            }
            let sink = u32::try_from(total).ok()?;
            if sink == u32::MAX {
                return None;
            }
            let mut nodes = Vec::with_capacity(total + 1);
            for (t, splits) in per_tree.into_iter().enumerate() {
                let after = super::after_tree(t, TREES_PER_PASS, &roots, sink);
                nodes.extend(splits.into_iter().map(|mut s| {
                    for n in s.next.iter_mut() {
                        *n = if *n == AFTER { after } else { roots[t] + *n };
                    }
                    s
                }));
            }
            nodes.push(Split { thr: u32::MAX, var: 0, next: [sink; 2], vals: [0.0; 2] });
            Some(LanesForest { nodes, roots, sink })
        }

        /// Adds every tree's leaf value to `acc` (tree order) for one block whose bins are given
        /// column-major (`bins[j·m + i]`).
        pub(super) fn predict_block(&self, bins: &[u32], m: usize, p: usize, acc: &mut [f64]) {
            let order = self.similarity_order(bins, m);
            let groups = m.div_ceil(LANES);
            // Per group of LANES rows: predictor-major, lane-minor bins (padding rows: bin 0).
            let stride = p * LANES;
            let mut gb = vec![0u32; groups * stride];
            for (k, &i) in order.iter().enumerate() {
                let (g, l) = (k / LANES, k % LANES);
                for j in 0..p {
                    gb[g * stride + j * LANES + l] = bins[j * m + i as usize];
                }
            }
            let mut sorted_acc = vec![0.0; groups * LANES];
            for t0 in (0..self.roots.len()).step_by(TREES_PER_PASS) {
                let first = self.roots[t0];
                for (group, acc_g) in gb.chunks_exact(stride).zip(sorted_acc.chunks_exact_mut(LANES)) {
                    self.route_pass(first, group, acc_g);
                }
            }
            for (&i, &v) in order.iter().zip(sorted_acc.iter()) {
                acc[i as usize] = v;
            }
        }

        /// The block's rows ordered by where they leave the first tree, ties by index (as the
        /// chunked kernel: similar rows share a group).
        fn similarity_order(&self, bins: &[u32], m: usize) -> Vec<u32> {
            let Some(&root) = self.roots.first() else { return (0..m as u32).collect() };
            let end = self.roots.get(1).copied().unwrap_or(self.sink);
            super::order_by_key(m, |i| {
                let mut c = root;
                loop {
                    let n = &self.nodes[c as usize];
                    let d = usize::from(bins[(n.var as usize / LANES) * m + i] > n.thr);
                    let next = n.next[d];
                    if !(root..end).contains(&next) {
                        return 2 * c + d as u32;
                    }
                    c = next;
                }
            })
        }

        /// One group of rows through the pass that starts at split `first`: lock-step rounds of
        /// one split per lane, no per-lane branch, one loop exit per pass (as the chunked kernel).
        fn route_pass(&self, first: u32, group: &[u32], acc: &mut [f64]) {
            assert!(acc.len() == LANES && group.len().is_multiple_of(LANES), "route_pass: a group is LANES rows");
            let nodes = self.nodes.as_ptr();
            let g = group.as_ptr();
            let sink = self.sink;
            let mut a = [0.0f64; LANES];
            a.copy_from_slice(acc);
            let mut cur = [first; LANES];
            const { assert!(LANES == 12) };
            rounds!(cur, sink, L => {
                debug_assert!((cur[L] as usize) < self.nodes.len());
                // SAFETY: cursors are indices of `nodes` (written by `build`); `var` is a predictor
                // times LANES, so `var + lane` < p·LANES = group.len().
                unsafe {
                    let n = &*nodes.add(cur[L] as usize);
                    debug_assert!((n.var as usize) + L < group.len());
                    let d = usize::from(*g.add(n.var as usize + L) > n.thr);
                    a[L] += *n.vals.get_unchecked(d);
                    cur[L] = *n.next.get_unchecked(d);
                }
            }, [0 1 2 3 4 5 6 7 8 9 10 11]);
            acc.copy_from_slice(&a);
        }
    }
}

/// The AVX-512 kernel: trees cut into chunks of up to 15 splits evaluated with one vector compare.
#[cfg(target_arch = "x86_64")]
mod chunked {
    use std::arch::x86_64::*;

    use rayon::prelude::*;

    use super::Binner;
    use crate::forest::Forest;
    use crate::tree::Node;

    /// Tag of an exit to a leaf in a tree's own chunks: the low 31 bits index its leaf values.
    const LEAF_TAG: u32 = 1 << 31;
    /// Rows advanced together. A step is a chain of dependent loads and compares (about 50
    /// cycles); more independent lanes keep more steps in flight. Measured on Friedman #1 (1M
    /// rows, 1000 trees, 2 threads): 8 lanes 4.3 s, 10 → 3.3–3.4, 12 → 3.1–3.5, 14 → 3.0–3.2,
    /// 16 → 3.6 (the cursors no longer fit in the general registers).
    const LANES: usize = 14;
    /// Trees applied to a group of rows (kept in registers) before moving to the next group.
    const TREES_PER_PASS: usize = 8;
    /// Split slots per chunk.
    const SLOTS: usize = 15;
    /// Unused slot: never goes right (row keys are at most `(2²⁷ − 1)·16`).
    const NEVER: u32 = u32::MAX;
    /// Unused exit: requires slot 15 (which never goes right) to go right, so it never matches.
    const NO_EXIT_FREE: u16 = 0x7fff;
    const NO_EXIT_WANT: u16 = 0xffff;

    /// One chunk: a connected piece of a tree with up to 15 splits (slot 0 its root) and the
    /// up to 16 places where a case leaves it.
    ///
    /// * `key[s] = bin·16 + predictor` of slot `s`: the low 4 bits select the row lane (`vpermd`
    ///   ignores the rest) and, with the row's keys `bin(x)·16`, `key_x > key[s]` ⟺
    ///   `bin(x) > bin` ⟺ the case goes right at slot `s`. Comparing all lanes gives a mask `m`
    ///   with bit `s` set when the case goes right at slot `s`.
    /// * Exit `e` is taken iff `m` agrees with the directions `R` required on the slots `P` on the
    ///   way to it: `(m ^ R) & P == 0` ⟺ `m | !P == R | !P`. `free[e] = !P` and
    ///   `want[e] = R | !P`, so one OR and one equality test over 16 lanes find the exit.
    /// * `exits[e]`: where exit `e` leads. As built for one tree, the byte offset of the next
    ///   chunk in the tree's chunk array or a leaf (`LEAF_TAG | leaf index`); in the forest
    ///   ([`ChunkedForest::build`]), an absolute byte offset, with the leaf's value in `vals[e]`.
    #[repr(C, align(64))]
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Chunk {
        key: [u32; 16],
        free: [u16; 16],
        want: [u16; 16],
        exits: [u32; 16],
        /// Value added when exit `e` is taken: the leaf's value for an exit to a leaf, `0.0` for
        /// an exit to another chunk.
        vals: [f64; 16],
    }

    const CHUNK_BYTES: usize = std::mem::size_of::<Chunk>();

    /// A row's keys `bin·16` in one 512-bit register (16 lanes, predictors first).
    #[repr(C, align(64))]
    #[derive(Clone, Copy)]
    struct RowKeys([u32; 16]);

    #[derive(Debug, Clone)]
    pub(super) struct ChunkedForest {
        /// Every tree's chunks in tree order, then the sink. Exits are absolute byte offsets in
        /// this array. An exit to a leaf carries the leaf's value and leads to the root of the
        /// next tree of the same pass (trees `k·TREES_PER_PASS ..`), or to the sink after the
        /// pass's last tree.
        chunks: Vec<Chunk>,
        /// Byte offset of each tree's root chunk (a tree that is a single leaf gets a chunk with
        /// no split and one exit, so every tree starts at a chunk).
        roots: Vec<u32>,
        /// Byte offset of the sink: a chunk with no split whose exit leads back to itself and adds
        /// `0.0`, where a lane that has finished the pass steps until the other lanes finish.
        sink: u32,
    }

    pub(super) fn available() -> bool {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") && is_x86_feature_detected!("avx512vl")
    }

    impl ChunkedForest {
        /// `None` when the forest is too large for 32-bit offsets (the portable kernel is used).
        pub(super) fn build(forest: &Forest, binners: &[Binner]) -> Option<Self> {
            // Trees are compiled independently (in parallel) and concatenated in tree order;
            // their tree-relative exits are then made absolute.
            let per_tree: Vec<(Vec<Chunk>, Vec<f64>)> =
                forest.trees().par_iter().map(|t| build_tree(t.nodes(), binners)).collect();
            let mut roots = Vec::with_capacity(per_tree.len());
            let mut bytes = 0usize;
            for (chunks, _) in &per_tree {
                roots.push(u32::try_from(bytes).ok()?);
                bytes = bytes.checked_add(chunks.len().checked_mul(CHUNK_BYTES)?)?;
            }
            let sink = u32::try_from(bytes).ok()?;
            u32::try_from(bytes + CHUNK_BYTES).ok()?;
            let mut chunks = Vec::with_capacity(bytes / CHUNK_BYTES + 1);
            for (t, (tree_chunks, leaves)) in per_tree.into_iter().enumerate() {
                let after = super::after_tree(t, TREES_PER_PASS, &roots, sink);
                chunks.extend(tree_chunks.into_iter().map(|mut c| {
                    for (e, v) in c.exits.iter_mut().zip(c.vals.iter_mut()) {
                        if *e & LEAF_TAG != 0 {
                            *v = leaves[(*e & !LEAF_TAG) as usize];
                            *e = after;
                        } else {
                            *e += roots[t];
                        }
                    }
                    c
                }));
            }
            let mut s = empty_chunk();
            // No exit of a chunk without splits matches, so its step takes exit 0.
            s.exits = [sink; 16];
            chunks.push(s);
            Some(ChunkedForest { chunks, roots, sink })
        }

        /// Adds every tree's leaf value to `acc` (tree order) for one block whose bins are given
        /// column-major (`bins[j·m + i]`, all < 2²⁷).
        pub(super) fn predict_block(&self, bins: &[u32], m: usize, p: usize, acc: &mut [f64]) {
            // Row-major 16-lane keys, padded to a multiple of LANES with zero rows.
            let padded = m.div_ceil(LANES) * LANES;
            let mut rows = vec![RowKeys([0; 16]); padded];
            for j in 0..p {
                for (i, row) in rows.iter_mut().take(m).enumerate() {
                    row.0[j] = bins[j * m + i] << 4;
                }
            }
            // Rows that follow the same path through one tree tend to follow similar paths
            // through the others (the trees split on the same informative predictors): ordering
            // the rows by their leaf in the first tree puts similar rows in one group of lanes,
            // so the lanes of a group finish their trees at about the same round (fewer wasted
            // steps) and touch the same chunks. Each row still adds its trees in tree order: the
            // sums, and so the predictions, do not depend on this order.
            let order = self.similarity_order(&rows, m);
            let rows: Vec<RowKeys> = order.iter().map(|&i| rows[i as usize]).chain(rows[m..].iter().copied()).collect();
            let mut sorted_acc = vec![0.0; padded];
            for t0 in (0..self.roots.len()).step_by(TREES_PER_PASS) {
                let first = self.roots[t0];
                for (group, acc_g) in rows.chunks_exact(LANES).zip(sorted_acc.chunks_exact_mut(LANES)) {
                    // SAFETY: `available()` was checked when this kernel was chosen; `first` and
                    // every exit are byte offsets of chunks of this forest (written by `build`).
                    unsafe { self.route_pass(first, group, acc_g) };
                }
            }
            for (&i, &v) in order.iter().zip(sorted_acc.iter()) {
                acc[i as usize] = v;
            }
        }

        /// The block's rows (indices `0..m`) ordered by their leaf in the first tree, ties by
        /// index.
        fn similarity_order(&self, rows: &[RowKeys], m: usize) -> Vec<u32> {
            let Some(&root) = self.roots.first() else { return (0..m as u32).collect() };
            let end = self.roots.get(1).copied().unwrap_or(self.sink);
            // SAFETY: `available()` was checked when this kernel was chosen.
            super::order_by_key(m, |i| unsafe { self.leaf_of(root, end, &rows[i]) })
        }

        /// Where one row leaves the tree whose chunks are `root..end` (byte offsets): the last
        /// chunk's offset / 4 plus the exit taken, distinct for distinct leaves.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        unsafe fn leaf_of(&self, root: u32, end: u32, row: &RowKeys) -> u32 {
            let base = self.chunks.as_ptr() as *const u8;
            // SAFETY: RowKeys is 64 bytes, aligned to 64; cursors are chunk offsets of this forest.
            unsafe {
                let x = _mm512_load_si512(row.0.as_ptr() as *const __m512i);
                let mut c = root;
                loop {
                    let ch = base.add(c as usize) as *const Chunk;
                    let e = exit(ch, x);
                    let next = (*ch).exits[e];
                    if !(root..end).contains(&next) {
                        return c / 4 + e as u32;
                    }
                    c = next;
                }
            }
        }

        /// Routes one group of `LANES` rows through the pass's trees, each row through every tree
        /// in order, adding the leaf values to `acc`. The lanes do not wait for each other at the
        /// end of a tree: the exit to a leaf leads on to the root of the next tree, so only the
        /// end of the pass waits for the slowest lane (and the loop has one exit per pass, not
        /// one per tree, to predict). Every round steps every lane and adds the value of the exit
        /// taken, `0.0` unless it is a leaf (`s + 0.0 = s` for every sum `s` of leaf values,
        /// which is never `-0.0`: the sums are those of [`Forest::predict`]); a finished lane
        /// steps the sink.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        unsafe fn route_pass(&self, first: u32, group: &[RowKeys], acc: &mut [f64]) {
            let mut x = [_mm512_setzero_si512(); LANES];
            for (xi, row) in x.iter_mut().zip(group) {
                // SAFETY: RowKeys is 64 bytes, aligned to 64.
                *xi = unsafe { _mm512_load_si512(row.0.as_ptr() as *const __m512i) };
            }
            let base = self.chunks.as_ptr() as *const u8;
            let sink = self.sink;
            debug_assert!(acc.len() == LANES);
            let mut a = [0.0f64; LANES];
            a.copy_from_slice(&acc[..LANES]);
            let mut cur = [first; LANES];
            const { assert!(LANES == 14) };
            rounds!(cur, sink, L => {
                debug_assert!((cur[L] as usize).is_multiple_of(CHUNK_BYTES) && (cur[L] as usize) / CHUNK_BYTES < self.chunks.len());
                // SAFETY: the cursor is the byte offset of a chunk of this forest.
                unsafe {
                    let ch = base.add(cur[L] as usize) as *const Chunk;
                    let e = exit(ch, x[L]);
                    a[L] += *(*ch).vals.as_ptr().add(e);
                    cur[L] = *(*ch).exits.as_ptr().add(e);
                }
            }, [0 1 2 3 4 5 6 7 8 9 10 11 12 13]);
            acc[..LANES].copy_from_slice(&a);
        }
    }

    /// One tree's chunks (root chunk first; exits relative to the tree) and leaf values (leaves
    /// in node order).
    fn build_tree(nodes: &[Node], binners: &[Binner]) -> (Vec<Chunk>, Vec<f64>) {
        // Leaf numbering, and leaves and splits below each node (daughters come after their
        // parent, so one backward pass suffices).
        let mut leaf_id = vec![u32::MAX; nodes.len()];
        let mut leaves = Vec::new();
        let mut weight = vec![1u32; nodes.len()];
        let mut splits = vec![0u32; nodes.len()];
        for (k, n) in nodes.iter().enumerate() {
            if n.is_leaf() {
                leaf_id[k] = leaves.len() as u32;
                leaves.push(n.value);
            }
        }
        for k in (0..nodes.len()).rev() {
            if !nodes[k].is_leaf() {
                let l = nodes[k].left as usize;
                weight[k] = weight[l] + weight[l + 1];
                splits[k] = 1 + splits[l] + splits[l + 1];
            }
        }
        if nodes[0].is_leaf() {
            // A chunk with no split: its step takes exit 0, the leaf.
            let mut c = empty_chunk();
            c.exits[0] = LEAF_TAG | leaf_id[0];
            return (vec![c], leaves);
        }
        let mut chunks = vec![empty_chunk()];
        let mut queue: Vec<(usize, usize)> = vec![(0, 0)];
        let mut qi = 0;
        while qi < queue.len() {
            let (node, ci) = queue[qi];
            qi += 1;
            let chunk = fill_chunk(nodes, binners, &leaf_id, &weight, &splits, node, |tree_node| {
                let idx = chunks.len();
                chunks.push(empty_chunk());
                queue.push((tree_node, idx));
                (idx * CHUNK_BYTES) as u32
            });
            chunks[ci] = chunk;
        }
        (chunks, leaves)
    }

    fn empty_chunk() -> Chunk {
        Chunk { key: [NEVER; 16], free: [NO_EXIT_FREE; 16], want: [NO_EXIT_WANT; 16], exits: [0; 16], vals: [0.0; 16] }
    }

    /// Builds the chunk rooted at tree node `root`. Starting from it, the chunk repeatedly takes
    /// the internal node with the most leaves below it among the daughters met so far (the branch
    /// most cases take). A subtree with at most as many splits as there is room left is taken
    /// whole; a small subtree that does not fit is left to a chunk of its own (so that the last
    /// chunk of most paths holds a whole subtree, and chunks are well filled). Up to 15 splits;
    /// `new_chunk(node)` reserves a chunk for an internal node left outside and returns its byte
    /// offset.
    fn fill_chunk(
        nodes: &[Node],
        binners: &[Binner],
        leaf_id: &[u32],
        leaves_below: &[u32],
        splits_below: &[u32],
        root: usize,
        mut new_chunk: impl FnMut(usize) -> u32,
    ) -> Chunk {
        let mut c = empty_chunk();
        let mut used = 0usize;
        // (node, P, R): P = slots on the way from the chunk root, R = directions taken there.
        let mut frontier: Vec<(usize, u32, u32)> = vec![(root, 0, 0)];
        let mut exits: Vec<(usize, u32, u32)> = Vec::with_capacity(SLOTS + 1);
        let mut stack: Vec<(usize, u32, u32)> = Vec::new();
        let take = |k: usize, pbits: u32, rbits: u32, c: &mut Chunk, used: &mut usize| -> [(usize, u32, u32); 2] {
            let s = *used;
            *used += 1;
            let n = nodes[k];
            c.key[s] = ((super::split_bin(binners, &n) as u32) << 4) | n.var;
            let pb = pbits | (1 << s);
            [(n.left as usize, pb, rbits), (n.left as usize + 1, pb, rbits | (1 << s))]
        };
        while used < SLOTS {
            let best = frontier
                .iter()
                .enumerate()
                .filter(|(_, &(k, _, _))| !nodes[k].is_leaf())
                .max_by(|a, b| leaves_below[a.1 .0].cmp(&leaves_below[b.1 .0]).then(b.1 .0.cmp(&a.1 .0)))
                .map(|(i, _)| i);
            let Some(i) = best else { break };
            let (k, pbits, rbits) = frontier.swap_remove(i);
            let below = splits_below[k] as usize;
            if below <= SLOTS - used {
                // The whole subtree fits: take all of it; its leaves are exits.
                stack.clear();
                stack.push((k, pbits, rbits));
                while let Some((q, pb, rb)) = stack.pop() {
                    if nodes[q].is_leaf() {
                        exits.push((q, pb, rb));
                    } else {
                        stack.extend(take(q, pb, rb, &mut c, &mut used));
                    }
                }
            } else if below <= SLOTS && used > 0 {
                // Small enough for a chunk of its own, too big for the room left here.
                exits.push((k, pbits, rbits));
            } else {
                frontier.extend(take(k, pbits, rbits, &mut c, &mut used));
            }
        }
        // Whatever is left on the frontier also leaves the chunk (one exit more than splits).
        exits.extend(frontier);
        exits.sort_by_key(|&(k, _, _)| k);
        debug_assert_eq!(exits.len(), used + 1);
        for (e, &(k, pbits, rbits)) in exits.iter().enumerate() {
            let free = !(pbits as u16);
            c.free[e] = free;
            c.want[e] = rbits as u16 | free;
            c.exits[e] = if nodes[k].is_leaf() { LEAF_TAG | leaf_id[k] } else { new_chunk(k) };
        }
        c
    }

    /// The exit (0..16) that a row with keys `x` takes from chunk `ch`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    #[inline]
    unsafe fn exit(ch: *const Chunk, x: __m512i) -> usize {
        // SAFETY (caller): `ch` points to a chunk; Chunk is 64-byte aligned with `key`, `free`,
        // `want`, `exits` at offsets 0, 64, 96, 128.
        unsafe {
            // The exits line is needed last; ask for it now so that it arrives with the others.
            _mm_prefetch::<_MM_HINT_T0>((*ch).exits.as_ptr() as *const i8);
            let key = _mm512_load_si512((*ch).key.as_ptr() as *const __m512i);
            let sel = _mm512_permutexvar_epi32(key, x);
            let right = _mm512_cmpgt_epu32_mask(sel, key);
            let m = _mm256_broadcastw_epi16(_mm_cvtsi32_si128(right as i32));
            let free = _mm256_load_si256((*ch).free.as_ptr() as *const __m256i);
            let want = _mm256_load_si256((*ch).want.as_ptr() as *const __m256i);
            let hit = _mm256_cmpeq_epi16_mask(_mm256_or_si256(m, free), want) as u32;
            // A chunk without splits matches no exit (hit = 0): exit 0.
            hit.trailing_zeros() as usize & 15
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn key_comparison_is_the_split_decision() {
            // bin_x·16 > bin_t·16 + var ⟺ bin_x > bin_t, for every var in 0..16.
            for bx in 0u32..6 {
                for bt in 0u32..6 {
                    for var in 0u32..16 {
                        assert_eq!((bx << 4) > ((bt << 4) | var), bx > bt);
                    }
                }
            }
            const { assert!(((1u32 << 27) - 1) << 4 < NEVER) };
        }

        #[test]
        fn unused_exit_never_matches() {
            // m | 0x7fff == 0xffff needs bit 15 of m, and slot 15 never goes right.
            for m in [0u16, 0x7fff, 0x1234] {
                assert_ne!(m | NO_EXIT_FREE, NO_EXIT_WANT);
            }
        }

        #[test]
        fn exit_test_matches_path_condition() {
            // Exit reached by right at slot 0, left at slot 2: P = 0b101, R = 0b001.
            let (p, r) = (0b101u16, 0b001u16);
            let (free, want) = (!p, r | !p);
            for m in 0u16..64 {
                assert_eq!((m | free) == want, (m ^ r) & p == 0, "m = {m:#b}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dataset, ForestParams};

    #[test]
    fn every_kernel_equals_plain_prediction_with_single_leaf_trees_and_a_partial_pass() {
        // One case in 30 differs: the bootstraps that miss it grow single-leaf trees, the others
        // split. 37 trees: passes of the chunked kernel do not divide them evenly.
        let x0: Vec<f64> = (0..30).map(|i| i as f64).collect();
        let x1: Vec<f64> = (0..30).map(|i| ((i * 7) % 30) as f64).collect();
        let y: Vec<f64> = (0..30).map(|i| if i == 29 { -3.5 } else { 0.25 }).collect();
        let data = Dataset::new(vec![x0, x1], y, vec!["a".into(), "b".into()]).expect("data");
        for ntree in [1, 8, 37] {
            let fit = Forest::fit(&data, &ForestParams { ntree, seed: 5, importance: false, ..Default::default() }).expect("fit");
            let single = fit.forest.trees().iter().filter(|t| t.n_leaves() == 1).count();
            if ntree == 37 {
                assert!(single > 0 && single < ntree, "{single} single-leaf trees of {ntree}");
            }
            let mut rows = Vec::new();
            for i in 0..200 {
                rows.extend([i as f64 * 0.17 - 2.0, (i % 31) as f64]);
            }
            rows.extend([f64::NAN, 1.0, 28.5, f64::INFINITY]);
            let plain = fit.forest.predict(&rows).expect("plain");
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            for compiled in [fit.forest.compile(), fit.forest.compile_portable()] {
                let got = compiled.predict(&rows).expect("compiled");
                assert_eq!(bits(&got), bits(&plain), "ntree {ntree}, kernel {}", compiled.kernel_name());
            }
        }
    }

    #[test]
    fn bins_match_comparisons() {
        let t = vec![0.5, 1.5, 2.5, 10.0];
        let b = Binner::new(t.clone());
        for x in [-1.0, 0.5, 0.6, 1.5, 2.0, 2.5, 3.0, 9.99, 10.0, 11.0, f64::INFINITY, f64::NEG_INFINITY] {
            let bin = b.bin(x);
            assert_eq!(bin, t.iter().filter(|&&v| v < x).count(), "x = {x}");
            // x <= t[k] ⟺ bin <= k for every k
            for (k, &tk) in t.iter().enumerate() {
                assert_eq!(x <= tk, bin <= k);
            }
        }
        assert_eq!(b.bin(f64::NAN), 0);
        assert_eq!(Binner::new(vec![]).bin(3.0), 0);
        assert_eq!(Binner::new(vec![1.0]).bin(3.0), 1);
        assert_eq!(Binner::new(vec![1.0]).bin(1.0), 0);
        // Skewed split points (many in one bucket) still give exact counts.
        let skew: Vec<f64> = (0..100).map(|i| 1.0 + i as f64 * 1e-12).chain([1e6]).collect();
        let b = Binner::new(skew.clone());
        for x in [1.0, 1.0 + 5.5e-11, 2.0, 1e6, 2e6] {
            assert_eq!(b.bin(x), skew.iter().filter(|&&v| v < x).count());
        }
    }
}
