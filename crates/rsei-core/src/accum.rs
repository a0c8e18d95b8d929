//! Mergeable statistics: the accumulator contract every streaming pass uses.
//!
//! ```text
//!   tile/row 1 ──update──▶ partial 1 ─┐
//!   tile/row 2 ──update──▶ partial 2 ─┼─merge (in a fixed order)──▶ state ──finish──▶ result
//!   tile/row n ──update──▶ partial n ─┘
//! ```
//!
//! A partial state is updated from values, partial states are merged, and the merged state is
//! finished into a result. Because merge is associative (up to floating-point rounding), the same
//! code serves one thread, many threads and — later — many machines. Passes in this crate keep one
//! partial *per grid row* and merge the partials in row order, which makes results bit-identical
//! whatever the tile height or thread count (see [`crate::grid::Grid::row_strips`]).
//!
//! ```
//! use rsei_core::accum::{Accumulator, Moments};
//! let mut a = Moments::default();
//! a.update_slice(&[1.0, 2.0, 3.0]);
//! let mut b = Moments::default();
//! b.update_slice(&[4.0, f32::NAN, 5.0]);
//! a.merge(&b);
//! assert_eq!(a.count(), 5);
//! assert_eq!(a.mean(), Some(3.0));
//! assert_eq!(a.variance_pop(), Some(2.0));
//! ```

use serde::{Deserialize, Serialize};

/// The accumulator contract: merge partial states, then finish into a result.
/// How values are fed in (`update…`) is specific to each accumulator.
pub trait Accumulator: Clone + Default + Send {
    /// What [`Accumulator::finish`] gives.
    type Output;
    /// Folds another partial state into this one.
    fn merge(&mut self, other: &Self);
    /// The result of everything accumulated so far.
    fn finish(&self) -> Self::Output;
}

/// Merges partial states in the order given (deterministic whatever produced them).
pub fn merge_all<A: Accumulator>(parts: impl IntoIterator<Item = A>) -> A {
    let mut acc = A::default();
    for p in parts {
        acc.merge(&p);
    }
    acc
}

/// Minimum and maximum of the finite values seen.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinMax {
    pub min: f64,
    pub max: f64,
    pub count: u64,
}

impl Default for MinMax {
    fn default() -> Self {
        Self { min: f64::INFINITY, max: f64::NEG_INFINITY, count: 0 }
    }
}

impl MinMax {
    /// Adds one value (NaN is skipped).
    #[inline]
    pub fn update(&mut self, v: f64) {
        if !v.is_nan() {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            self.count += 1;
        }
    }
    /// Adds a slice of values (NaN skipped).
    pub fn update_slice(&mut self, vs: &[f32]) {
        // Work in f32 lanes (vectorises), then widen.
        let mut mn = f32::INFINITY;
        let mut mx = f32::NEG_INFINITY;
        let mut n = 0u64;
        for &v in vs {
            if !v.is_nan() {
                mn = mn.min(v);
                mx = mx.max(v);
                n += 1;
            }
        }
        if n > 0 {
            self.min = self.min.min(f64::from(mn));
            self.max = self.max.max(f64::from(mx));
            self.count += n;
        }
    }
    /// `(min, max)` or `None` when nothing was seen.
    pub fn range(&self) -> Option<(f64, f64)> {
        (self.count > 0).then_some((self.min, self.max))
    }
}

impl Accumulator for MinMax {
    type Output = Option<(f64, f64)>;
    fn merge(&mut self, o: &Self) {
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.count += o.count;
    }
    fn finish(&self) -> Self::Output {
        self.range()
    }
}

/// Count, mean and sum of squared deviations (Welford update, Chan et al. merge).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Adds one value (NaN is skipped).
    #[inline]
    pub fn update(&mut self, v: f64) {
        if v.is_nan() {
            return;
        }
        self.n += 1;
        let d = v - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (v - self.mean);
    }
    /// Adds a slice of values (NaN skipped).
    pub fn update_slice(&mut self, vs: &[f32]) {
        for &v in vs {
            self.update(f64::from(v));
        }
    }
    /// Number of values.
    pub fn count(&self) -> u64 {
        self.n
    }
    /// Mean, if any value was seen.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }
    /// Population variance (divide by n).
    pub fn variance_pop(&self) -> Option<f64> {
        (self.n > 0).then(|| self.m2 / self.n as f64)
    }
    /// Sample variance (divide by n − 1).
    pub fn variance_sample(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }
    /// Sample standard deviation.
    pub fn std_sample(&self) -> Option<f64> {
        self.variance_sample().map(f64::sqrt)
    }
    /// Population standard deviation.
    pub fn std_pop(&self) -> Option<f64> {
        self.variance_pop().map(f64::sqrt)
    }
}

impl Accumulator for Moments {
    type Output = (u64, Option<f64>, Option<f64>);
    fn merge(&mut self, o: &Self) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        let nf = n as f64;
        self.mean += d * o.n as f64 / nf;
        self.m2 += o.m2 + d * d * (self.n as f64) * (o.n as f64) / nf;
        self.n = n;
    }
    /// (count, mean, sample standard deviation).
    fn finish(&self) -> Self::Output {
        (self.n, self.mean(), self.std_sample())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_merge_equals_whole() {
        let xs: Vec<f32> = (0..1000).map(|i| ((i * 37 % 101) as f32).sin() * 10.0 + 3.0).collect();
        let mut whole = Moments::default();
        whole.update_slice(&xs);
        for cut in [1, 7, 500, 999] {
            let mut a = Moments::default();
            a.update_slice(&xs[..cut]);
            let mut b = Moments::default();
            b.update_slice(&xs[cut..]);
            a.merge(&b);
            assert_eq!(a.count(), whole.count());
            assert!((a.mean().unwrap() - whole.mean().unwrap()).abs() < 1e-12);
            assert!((a.variance_pop().unwrap() - whole.variance_pop().unwrap()).abs() < 1e-10);
        }
    }

    #[test]
    fn minmax_skips_nan_and_merges() {
        let mut a = MinMax::default();
        a.update_slice(&[f32::NAN, 2.0, -1.0]);
        let mut b = MinMax::default();
        b.update_slice(&[f32::NAN]);
        assert_eq!(b.finish(), None);
        a.merge(&b);
        assert_eq!(a.finish(), Some((-1.0, 2.0)));
        assert_eq!(a.count, 2);
    }
}
