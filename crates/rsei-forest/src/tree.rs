//! Regression trees: the stored form ([`Tree`], [`Node`]) and the growing algorithm.
//!
//! # Growing (R `regTree.c` semantics)
//! * The bootstrap sample is kept as a multiplicity per training row; a node's size is the number
//!   of bootstrap cases it holds (duplicates counted), as in R where the sample is materialised.
//! * A node is split only if it holds **more than `nodesize`** cases (R marks a daughter terminal
//!   when `count <= nthsize`), and only while the tree has room for two more nodes under R's cap
//!   `nrnodes = 2·trunc(sampsize / max(1, nodesize − 4)) + 1`. Nodes are processed in creation
//!   order and daughters are appended as a pair, so node numbering follows R.
//! * At each node `mtry` predictors are drawn without replacement. For each, the cases are visited
//!   in increasing order of the predictor and every gap between two *different* values is a
//!   candidate. With `Sₗ, nₗ` (`Sᵣ, nᵣ`) the sum of responses and the case count left (right) of
//!   the gap, the criterion is `Sₗ²/nₗ + Sᵣ²/nᵣ`; its excess over the parent's `S²/n` is the decrease
//!   of the residual sum of squares (R's `decsplit`). The best candidate over all tried predictors
//!   wins if its decrease is positive; exact ties are broken uniformly at random. A predictor that is
//!   constant in the node is skipped (it still counts as one of the `mtry` tries, as in R).
//! * The split point is the midpoint of the two values around the gap (if rounding makes the
//!   midpoint equal to the upper value, the lower value is used so that the partition is the one
//!   that was evaluated); cases with `x <= split` go left.
//! * Responses are centred on their mean before growing (as R does) for numerical accuracy; leaf
//!   predictions add the mean back.
//! * Deviation from R, without effect on predictions: a node whose responses are all equal is
//!   made terminal at once (R would search and, at best, split on rounding noise).
//!
//! # Speed
//! Each predictor is sorted once per fit. For each tree, the sorted order restricted to the
//! in-bag rows is copied into one list per predictor; every node owns the same range in all lists.
//! A split partitions the ranges stably (left cases first), so sorted order is kept down the tree
//! without any further sorting and without allocation per node.

use crate::params::ForestConfig;
use crate::rng::Xoshiro256StarStar;

/// Marker stored in [`Node::var`] for a terminal node.
pub const LEAF: u32 = u32::MAX;

/// One node of a regression tree.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Node {
    /// Split predictor (0-based column), or [`LEAF`].
    pub var: u32,
    /// Index of the left daughter; the right daughter is `left + 1`. Unused (0) in a leaf.
    pub left: u32,
    /// Split point (cases with `x <= value` go left) or, in a leaf, the prediction.
    pub value: f64,
}

impl Node {
    /// Is this a terminal node?
    #[inline]
    pub fn is_leaf(&self) -> bool {
        self.var == LEAF
    }
}

/// A fitted regression tree: nodes in R's order (root first, daughters appended in pairs).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tree {
    pub(crate) nodes: Vec<Node>,
}

impl Tree {
    /// The nodes, root first.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of terminal nodes.
    pub fn n_leaves(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_leaf()).count()
    }

    /// Depth of the deepest leaf (a single-leaf tree has depth 0).
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.nodes.len()];
        let mut max = 0;
        // Daughters always come after their parent, so one forward pass suffices.
        for (k, n) in self.nodes.iter().enumerate() {
            if !n.is_leaf() {
                let l = n.left as usize;
                if l + 1 < depth.len() {
                    depth[l] = depth[k] + 1;
                    depth[l + 1] = depth[k] + 1;
                    max = max.max(depth[k] + 1);
                }
            }
        }
        max
    }

    /// Prediction for one case; `x(j)` returns predictor `j`.
    ///
    /// A case goes right when `x > split` (so left when `x <= split`, R's rule). A NaN predictor
    /// value goes left; callers that treat NaN as nodata check for it first, as
    /// [`crate::Forest::predict`] does.
    #[inline]
    pub fn predict_with(&self, x: impl Fn(usize) -> f64) -> f64 {
        let nodes = &self.nodes;
        let mut k = 0usize;
        loop {
            let n = nodes[k];
            if n.var == LEAF {
                return n.value;
            }
            k = n.left as usize + usize::from(x(n.var as usize) > n.value);
        }
    }

    /// Leaf value reached from node `start` (instead of the root) for one row of predictors.
    #[inline]
    pub(crate) fn predict_from(&self, start: usize, row: &[f64]) -> f64 {
        let nodes = &self.nodes;
        let mut k = start;
        loop {
            let n = nodes[k];
            if n.var == LEAF {
                return n.value;
            }
            k = n.left as usize + usize::from(row[n.var as usize] > n.value);
        }
    }

    /// Prediction for one row of predictors (`row[j]` = predictor `j`). The row must have at least
    /// as many values as the largest predictor index used by the tree plus one.
    #[inline]
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        self.predict_with(|j| row[j])
    }
}

/// Training data prepared once per fit and shared read-only by all trees.
pub(crate) struct TrainData<'a> {
    /// Predictor columns.
    pub x: &'a [Vec<f64>],
    /// Original response (for purity checks and OOB errors).
    pub y: &'a [f64],
    /// Response minus its mean.
    pub yc: Vec<f64>,
    /// Mean of the response.
    pub y_mean: f64,
    /// Per predictor, the row indices sorted by value (ties by row index).
    pub order: Vec<Vec<u32>>,
    pub n: usize,
    pub p: usize,
}

impl<'a> TrainData<'a> {
    pub fn new(x: &'a [Vec<f64>], y: &'a [f64]) -> Self {
        let n = y.len();
        let y_mean = mean(y);
        let yc = y.iter().map(|v| v - y_mean).collect();
        let order = x
            .iter()
            .map(|col| {
                let mut idx: Vec<u32> = (0..n as u32).collect();
                // Values are finite (checked before), so total_cmp is the numeric order.
                idx.sort_by(|&a, &b| col[a as usize].total_cmp(&col[b as usize]).then(a.cmp(&b)));
                idx
            })
            .collect();
        TrainData { x, y, yc, y_mean, order, n, p: x.len() }
    }
}

/// Mean by summation in order (deterministic).
pub(crate) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Reusable buffers of one worker: nothing is allocated per node, and nothing per tree once the
/// buffers have grown to size.
pub(crate) struct GrowBuffers {
    /// Bootstrap multiplicity of each training row in the current tree.
    pub counts: Vec<u32>,
    /// Per row: `[multiplicity, multiplicity × centred response]`.
    wys: Vec<[f64; 2]>,
    /// `p` lists of in-bag rows, list `j` sorted by predictor `j`; stride `n`.
    lists: Vec<u32>,
    /// Scratch for partitions and sampling without replacement.
    tmp: Vec<u32>,
    /// 1 if the row goes to the left daughter of the node being split.
    goes_left: Vec<u8>,
    /// Predictor indices, reset and partially shuffled at every node.
    vars: Vec<usize>,
    /// Per node under construction: its ranges and sums.
    segs: Vec<Segment>,
}

impl GrowBuffers {
    pub fn new(n: usize, p: usize) -> Self {
        GrowBuffers {
            counts: vec![0; n],
            wys: vec![[0.0; 2]; n],
            lists: vec![0; n * p],
            tmp: vec![0; n],
            goes_left: vec![0; n],
            vars: (0..p).collect(),
            segs: Vec::new(),
        }
    }
}

/// Range of a node in every sorted list, its case count and its sum of centred responses.
#[derive(Clone, Copy)]
struct Segment {
    start: usize,
    end: usize,
    weight: u64,
    sum: f64,
    /// A predictor whose list is known to be correctly partitioned for this node.
    ref_var: usize,
}

/// What growing one tree produces besides the tree.
pub(crate) struct GrownTree {
    pub tree: Tree,
    /// Per predictor, the total decrease of the residual sum of squares from splits on it.
    pub purity: Vec<f64>,
    /// Per predictor, whether some node splits on it.
    pub used: Vec<bool>,
}

/// Best candidate found so far at a node.
#[derive(Clone, Copy)]
struct Candidate {
    crit: f64,
    var: usize,
    /// Number of list entries that go left.
    pos: usize,
    lo: f64,
    hi: f64,
}

/// Draws the bootstrap sample into `buf.counts` (R's sampling: `sample_size` uniform draws with
/// replacement, or a partial Fisher–Yates shuffle without).
pub(crate) fn draw_sample(cfg: &ForestConfig, n: usize, rng: &mut Xoshiro256StarStar, buf: &mut GrowBuffers) {
    buf.counts.iter_mut().for_each(|c| *c = 0);
    if cfg.replace {
        for _ in 0..cfg.sample_size {
            buf.counts[rng.below(n)] += 1;
        }
    } else {
        for (i, t) in buf.tmp.iter_mut().enumerate() {
            *t = i as u32;
        }
        let mut last = n;
        for _ in 0..cfg.sample_size {
            let k = rng.below(last);
            buf.counts[buf.tmp[k] as usize] = 1;
            buf.tmp.swap(k, last - 1);
            last -= 1;
        }
    }
}

/// Grows one tree on a fresh bootstrap sample. Afterwards `buf.counts` holds the in-bag
/// multiplicities (0 = out of bag) for the OOB computations.
pub(crate) fn grow_tree(
    data: &TrainData<'_>,
    cfg: &ForestConfig,
    rng: &mut Xoshiro256StarStar,
    buf: &mut GrowBuffers,
) -> GrownTree {
    let (n, p) = (data.n, data.p);
    draw_sample(cfg, n, rng, buf);

    // Case weights and the sorted in-bag lists.
    let mut root_sum = 0.0;
    for r in 0..n {
        let c = buf.counts[r] as f64;
        let s = c * data.yc[r];
        buf.wys[r] = [c, s];
        root_sum += s;
    }
    let mut m = 0;
    for j in 0..p {
        let dst = &mut buf.lists[j * n..(j + 1) * n];
        m = 0;
        for &r in &data.order[j] {
            if buf.counts[r as usize] > 0 {
                dst[m] = r;
                m += 1;
            }
        }
    }

    let mut purity = vec![0.0; p];
    let mut used = vec![false; p];
    let mut nodes = vec![Node { var: LEAF, left: 0, value: 0.0 }];
    buf.segs.clear();
    buf.segs.push(Segment { start: 0, end: m, weight: cfg.sample_size as u64, sum: root_sum, ref_var: 0 });

    let mut k = 0;
    while k < nodes.len() {
        let seg = buf.segs[k];
        let may_split = seg.weight > cfg.nodesize as u64 && nodes.len() + 2 <= cfg.max_nodes;
        let mut split = None;
        if may_split && !is_pure(data, &buf.lists[seg.ref_var * n + seg.start..seg.ref_var * n + seg.end]) {
            split = find_best_split(data, cfg, rng, buf, &seg);
        }
        match split {
            None => {
                nodes[k].value = seg.sum / seg.weight as f64 + data.y_mean;
            }
            Some(c) => {
                let threshold = midpoint(c.lo, c.hi);
                let parent = seg.sum * seg.sum / seg.weight as f64;
                purity[c.var] += c.crit - parent;
                used[c.var] = true;
                let (left, right) = apply_split(data, buf, &seg, &c);
                let left_idx = nodes.len() as u32;
                nodes[k] = Node { var: c.var as u32, left: left_idx, value: threshold };
                nodes.push(Node { var: LEAF, left: 0, value: 0.0 });
                nodes.push(Node { var: LEAF, left: 0, value: 0.0 });
                buf.segs.push(left);
                buf.segs.push(right);
            }
        }
        k += 1;
    }
    GrownTree { tree: Tree { nodes }, purity, used }
}

/// Midpoint of two consecutive distinct values, guarded against overflow and rounding up to `hi`.
#[inline]
fn midpoint(lo: f64, hi: f64) -> f64 {
    let mut m = (lo + hi) / 2.0;
    if !m.is_finite() {
        m = lo / 2.0 + hi / 2.0;
    }
    if m >= hi {
        m = lo;
    }
    m
}

/// All responses in the node equal?
fn is_pure(data: &TrainData<'_>, rows: &[u32]) -> bool {
    match rows.first() {
        None => true,
        Some(&first) => {
            let v = data.y[first as usize];
            rows.iter().all(|&r| data.y[r as usize] == v)
        }
    }
}

fn find_best_split(
    data: &TrainData<'_>,
    cfg: &ForestConfig,
    rng: &mut Xoshiro256StarStar,
    buf: &mut GrowBuffers,
    seg: &Segment,
) -> Option<Candidate> {
    let (n, p) = (data.n, data.p);
    let weight = seg.weight as f64;
    let sum = seg.sum;
    let parent = sum * sum / weight;
    let mut best: Option<Candidate> = None;
    let mut best_crit = parent;
    let mut ties = 0usize;
    // R starts every node from the identity order 0..p (the draw must not depend on history).
    for (j, v) in buf.vars.iter_mut().enumerate() {
        *v = j;
    }
    for i in 0..cfg.mtry {
        // R: j = unif·(last+1); take vars[j]; swap it to the end; shrink.
        let last = p - 1 - i;
        let j = rng.below(last + 1);
        let var = buf.vars[j];
        buf.vars.swap(j, last);

        let list = &buf.lists[var * n + seg.start..var * n + seg.end];
        let xv = &data.x[var][..];
        let len = list.len();
        if len < 2 || xv[list[0] as usize] >= xv[list[len - 1] as usize] {
            continue; // constant in this node
        }
        let wys = &buf.wys[..];
        let mut sl = 0.0;
        let mut wl = 0.0;
        let mut x_cur = xv[list[0] as usize];
        for t in 0..len - 1 {
            let [w, s] = wys[list[t] as usize];
            wl += w;
            sl += s;
            let x_next = xv[list[t + 1] as usize];
            if x_cur < x_next {
                let sr = sum - sl;
                let wr = weight - wl;
                let crit = sl * sl / wl + sr * sr / wr;
                if crit > best_crit {
                    best_crit = crit;
                    best = Some(Candidate { crit, var, pos: t + 1, lo: x_cur, hi: x_next });
                    ties = 1;
                } else if crit == best_crit && best.is_some() {
                    ties += 1;
                    if rng.below(ties) == 0 {
                        best = Some(Candidate { crit, var, pos: t + 1, lo: x_cur, hi: x_next });
                    }
                }
            }
            x_cur = x_next;
        }
    }
    best
}

/// Partitions every list's node range into (left, right), stably, and returns the daughters.
fn apply_split(data: &TrainData<'_>, buf: &mut GrowBuffers, seg: &Segment, c: &Candidate) -> (Segment, Segment) {
    let (n, p) = (data.n, data.p);
    let (start, end) = (seg.start, seg.end);
    let mid = start + c.pos;

    // Daughter sums, recomputed exactly from the cases (as R does) rather than by subtraction.
    let best_list = &buf.lists[c.var * n + start..c.var * n + end];
    let (mut wl, mut sl, mut wr, mut sr) = (0u64, 0.0, 0u64, 0.0);
    for (t, &r) in best_list.iter().enumerate() {
        let r = r as usize;
        let left = t < c.pos;
        buf.goes_left[r] = u8::from(left);
        if left {
            wl += u64::from(buf.counts[r]);
            sl += buf.wys[r][1];
        } else {
            wr += u64::from(buf.counts[r]);
            sr += buf.wys[r][1];
        }
    }

    for j in 0..p {
        if j == c.var {
            continue; // already ordered: left cases are the first `pos` entries
        }
        let list = &mut buf.lists[j * n + start..j * n + end];
        let xj = &data.x[j];
        if xj[list[0] as usize] >= xj[list[list.len() - 1] as usize] {
            // Constant in this node, hence in every descendant: its order no longer matters and it
            // will never be scanned again below this node.
            continue;
        }
        let tmp = &mut buf.tmp[..list.len()];
        let mut nl = 0;
        let mut nr = 0;
        for t in 0..list.len() {
            let r = list[t];
            let f = usize::from(buf.goes_left[r as usize]);
            list[nl] = r;
            tmp[nr] = r;
            nl += f;
            nr += 1 - f;
        }
        list[nl..].copy_from_slice(&tmp[..nr]);
    }
    (
        Segment { start, end: mid, weight: wl, sum: sl, ref_var: c.var },
        Segment { start: mid, end, weight: wr, sum: sr, ref_var: c.var },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ForestParams;

    fn cfg_for(n: usize, p: usize, nodesize: usize, mtry: usize) -> ForestConfig {
        ForestParams { ntree: 1, mtry: Some(mtry), nodesize, ..Default::default() }.check(n, p).unwrap()
    }

    /// Grows with every row in bag exactly once (no bootstrap), to test the split search alone.
    fn grow_all_in(x: &[Vec<f64>], y: &[f64], nodesize: usize) -> GrownTree {
        let data = TrainData::new(x, y);
        let mut cfg = cfg_for(y.len(), x.len(), nodesize, x.len());
        cfg.replace = false;
        cfg.sample_size = y.len();
        let mut buf = GrowBuffers::new(y.len(), x.len());
        let mut rng = Xoshiro256StarStar::seed_from_u64(3);
        grow_tree(&data, &cfg, &mut rng, &mut buf)
    }

    #[test]
    fn split_found_on_hand_computed_data() {
        // x = 1..6, y = (1, 2, 1, 8, 9, 8), n = 6, S = 29, parent S²/n = 841/6 = 140.1667.
        // Criterion Sₗ²/nₗ + Sᵣ²/nᵣ at each gap:
        //   1|2..: 1/1 + 28²/5 = 1 + 156.8 = 157.8
        //   2|3..: 3²/2 + 26²/4 = 4.5 + 169 = 173.5
        //   3|4..: 4²/3 + 25²/3 = 5.333 + 208.333 = 213.667   ← best
        //   4|5..: 12²/4 + 17²/2 = 36 + 144.5 = 180.5
        //   5|6..: 21²/5 + 8²/1 = 88.2 + 64 = 152.2
        // Best gap between x = 3 and x = 4: split point 3.5, decrease 213.667 − 140.1667 = 73.5
        // (= RSS 140.8333 of the parent minus 0.6667 + 0.6667 of the daughters).
        // nodesize 5: daughters of 3 cases are terminal, so the tree is this one split.
        let x = vec![vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]];
        let y = vec![1.0, 2.0, 1.0, 8.0, 9.0, 8.0];
        let g = grow_all_in(&x, &y, 5);
        let nodes = g.tree.nodes();
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[0].var, 0);
        assert_eq!(nodes[0].value, 3.5);
        assert_eq!(nodes[0].left, 1);
        // Left leaf mean 4/3, right leaf mean 25/3.
        assert!((nodes[1].value - 4.0 / 3.0).abs() < 1e-12);
        assert!((nodes[2].value - 25.0 / 3.0).abs() < 1e-12);
        assert!((g.purity[0] - 73.5).abs() < 1e-9, "{}", g.purity[0]);
        assert!(g.used[0]);
        assert_eq!(g.tree.predict_row(&[3.5]), nodes[1].value); // x <= split goes left
        assert_eq!(g.tree.predict_row(&[3.6]), nodes[2].value);
    }

    #[test]
    fn nodesize_stops_like_r() {
        // 6 cases, nodesize 5: the root (6 > 5) splits; any daughter holds ≤ 5 cases and is
        // terminal — a stump, whatever the data. With nodesize 2 the 3-case daughters split again.
        let x = vec![vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]];
        let y = vec![1.0, 5.0, 2.0, 9.0, 3.0, 7.0];
        let g = grow_all_in(&x, &y, 5);
        assert_eq!(g.tree.nodes().len(), 3);
        assert_eq!(g.tree.depth(), 1);
        let g = grow_all_in(&x, &y, 2);
        assert!(g.tree.nodes().len() > 3);
        // Every split node held more than 2 cases; leaves may hold fewer than nodesize.
        assert!(g.tree.depth() >= 2);
    }

    #[test]
    fn second_predictor_and_constant_predictor() {
        // Predictor 0 is constant (never split on); predictor 1 separates y perfectly at 15.
        let x = vec![vec![7.0; 8], vec![10.0, 11.0, 12.0, 13.0, 20.0, 21.0, 22.0, 23.0]];
        let y = vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let g = grow_all_in(&x, &y, 5);
        let nodes = g.tree.nodes();
        assert_eq!(nodes[0].var, 1);
        assert_eq!(nodes[0].value, (13.0 + 20.0) / 2.0);
        assert!(!g.used[0]);
        // Both daughters are pure: terminal even though they hold 4 ≤ 5 cases anyway.
        assert_eq!(nodes.len(), 3);
        assert_eq!((nodes[1].value, nodes[2].value), (0.0, 1.0));
    }

    #[test]
    fn duplicates_count_towards_node_size() {
        // Two distinct x values, but the first holds 4 cases: the root (7 cases > 5) splits.
        let x = vec![vec![1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0]];
        let y = vec![1.0, 1.5, 1.0, 1.5, 4.0, 4.5, 4.0];
        let g = grow_all_in(&x, &y, 5);
        assert_eq!(g.tree.nodes()[0].value, 1.5);
        assert_eq!(g.tree.nodes().len(), 3);
    }

    #[test]
    fn midpoint_guards() {
        assert_eq!(midpoint(1.0, 2.0), 1.5);
        let a = 1.0f64;
        let b = f64::from_bits(a.to_bits() + 1); // next double after 1
        let m = midpoint(a, b);
        assert!(m >= a && m < b);
        assert_eq!(midpoint(f64::MAX / 1.5, f64::MAX), f64::MAX / 1.5 / 2.0 + f64::MAX / 2.0);
    }
}
