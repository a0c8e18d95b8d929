//! Nice axis ticks (Heckbert's "loose labelling", *Graphics Gems* I, 1990) and number formatting
//! without floating-point noise.
//!
//! A *nice number* is 1, 2 or 5 times a power of ten. For a data range `[lo, hi]` and a wanted
//! number of ticks `n`: `range = nice(hi − lo, round = false)`, `step = nice(range / (n − 1),
//! round = true)`, axis from `floor(lo / step)·step` to `ceil(hi / step)·step`, labels with
//! `max(−floor(log10 step), 0)` decimals.
//!
//! Tick values are computed as `k · m · 10^e` from integers (`step = m·10^e`), dividing by an exact
//! power of ten when `e < 0`, so `0.6` is the double nearest to 0.6, not `3 × 0.2 =
//! 0.6000000000000001`; labels are then printed with exactly the step's decimals.
//!
//! ```
//! use rsei_report::ticks::nice_ticks;
//! let t = nice_ticks(3.7, 48.2, 6);
//! assert_eq!(t.values, vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
//! assert_eq!(t.labels(), vec!["0", "10", "20", "30", "40", "50"]);
//! ```

/// Ticks of one axis: the axis range (`min`, `max`), the step, the tick values and the number of
/// decimals their labels need.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    pub min: f64,
    pub max: f64,
    pub step: f64,
    pub values: Vec<f64>,
    pub decimals: usize,
}

impl Ticks {
    /// Tick labels as printed on a chart: fixed decimals, a true minus sign (U+2212), no `-0`.
    pub fn labels(&self) -> Vec<String> {
        self.values
            .iter()
            .map(|&v| format_tick(v, self.decimals))
            .collect()
    }
}

/// A nice number as (mantissa ∈ {1, 2, 5}, decimal exponent): value = mantissa · 10^exponent.
fn nice_parts(x: f64, round: bool) -> (i64, i32) {
    if !(x.is_finite() && x > 0.0) {
        return (1, 0);
    }
    let e = (x.log10().floor() as i32).clamp(-300, 300);
    let f = x / pow10(e);
    let m = if round {
        if f < 1.5 {
            1
        } else if f < 3.0 {
            2
        } else if f < 7.0 {
            5
        } else {
            10
        }
    } else if f <= 1.0 {
        1
    } else if f <= 2.0 {
        2
    } else if f <= 5.0 {
        5
    } else {
        10
    };
    if m == 10 {
        (1, e + 1)
    } else {
        (m, e)
    }
}

fn pow10(e: i32) -> f64 {
    10f64.powi(e)
}

/// `k · m · 10^e`, exact up to one rounding (integer times an exact power of ten, or divided by one).
fn scaled(k: i64, m: i64, e: i32) -> f64 {
    // exact while |k·m| < 2^53 (tick indices are checked against that)
    let n = k as f64 * m as f64;
    if e >= 0 {
        n * pow10(e)
    } else {
        n / pow10(-e)
    }
}

/// Heckbert's nice number: the 1-2-5 × 10^k value nearest to `x` (`round = true`) or the
/// smallest one ≥ `x` (`round = false`). `x` must be positive and finite.
///
/// ```
/// use rsei_report::ticks::nice_number;
/// assert_eq!(nice_number(0.23, true), 0.2);
/// assert_eq!(nice_number(44.5, false), 50.0);
/// assert_eq!(nice_number(7.5, true), 10.0);
/// ```
pub fn nice_number(x: f64, round: bool) -> f64 {
    let (m, e) = nice_parts(x, round);
    scaled(1, m, e)
}

/// Replaces an empty or non-finite span by a usable one: equal ends are widened by 10 % of their
/// magnitude (or ±1 around 0); `lo > hi` are swapped.
fn usable_span(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if hi - lo > 0.0 && (hi - lo).is_finite() {
        return (lo, hi);
    }
    let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
    (lo - d, hi + d)
}

const EPS: f64 = 1e-9;

/// First and last tick index, when they are exact integers in f64 and few (at most 1000 ticks).
fn tick_indices(k0: f64, k1: f64) -> Option<(i64, i64)> {
    const EXACT: f64 = 4_503_599_627_370_496.0; // 2^52: k·m (m ≤ 5) stays below 2^53
    (k0.is_finite()
        && k1.is_finite()
        && k0.abs() < EXACT / 8.0
        && k1.abs() < EXACT / 8.0
        && k1 - k0 <= 1000.0)
        .then_some((k0 as i64, k1 as i64))
}

/// Ticks at the two ends only, for ranges the 1-2-5 steps cannot express (e.g. a span of
/// 1e-9 around 1e12, or spans beyond f64's range).
fn fallback(lo: f64, hi: f64) -> Ticks {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() && lo < hi {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    Ticks {
        min: lo,
        max: hi,
        step: hi - lo,
        values: vec![lo, hi],
        decimals: 0,
    }
}

fn step_for(lo: f64, hi: f64, target: usize) -> (i64, i32) {
    let n = target.max(2);
    let range = nice_number(hi - lo, false);
    nice_parts(range / (n - 1) as f64, true)
}

fn decimals_for(e: i32) -> usize {
    if e < 0 {
        (-e) as usize
    } else {
        0
    }
}

/// Loose ticks: the axis is widened to whole steps around `[lo, hi]` (Heckbert). About `target`
/// ticks (at least 2 are asked for). Non-finite input gives the ticks of `[0, 1]`.
///
/// Hand check, `0..1`, 6 ticks: range = nice(1) = 1; step = nice(1/5 = 0.2, round) = 0.2;
/// axis 0..1; ticks 0, 0.2, 0.4, 0.6, 0.8, 1 with 1 decimal.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Ticks {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        usable_span(lo, hi)
    } else {
        (0.0, 1.0)
    };
    let (m, e) = step_for(lo, hi, target);
    let step = scaled(1, m, e);
    let Some((k0, k1)) = tick_indices((lo / step + EPS).floor(), (hi / step - EPS).ceil()) else {
        return fallback(lo, hi);
    };
    let values: Vec<f64> = (k0..=k1).map(|k| scaled(k, m, e)).collect();
    if scaled(k0, m, e) >= scaled(k1, m, e) || !scaled(k1, m, e).is_finite() {
        return fallback(lo, hi);
    }
    Ticks {
        min: scaled(k0, m, e),
        max: scaled(k1, m, e),
        step,
        values,
        decimals: decimals_for(e),
    }
}

/// Ticks inside a fixed axis range `[lo, hi]` (the range is kept; ticks are the multiples of a nice
/// step that fall inside it).
///
/// The step is `nice((hi − lo)/(target − 1), round = true)`.
///
/// Hand check, `0.05..0.95`, 5 ticks: step = nice(0.9/4 = 0.225, round) = 0.2, multiples inside:
/// 0.2, 0.4, 0.6, 0.8.
pub fn ticks_within(lo: f64, hi: f64, target: usize) -> Ticks {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        usable_span(lo, hi)
    } else {
        (0.0, 1.0)
    };
    // the range is given, so the step comes from it directly (no rounding of the range first)
    let (m, e) = nice_parts((hi - lo) / (target.max(2) - 1) as f64, true);
    let step = scaled(1, m, e);
    let Some((k0, k1)) = tick_indices((lo / step - EPS).ceil(), (hi / step + EPS).floor()) else {
        return fallback(lo, hi);
    };
    let values: Vec<f64> = (k0..=k1).map(|k| scaled(k, m, e)).collect();
    if values.is_empty() || step.is_nan() || step <= 0.0 {
        return fallback(lo, hi);
    }
    Ticks {
        min: lo,
        max: hi,
        step,
        values,
        decimals: decimals_for(e),
    }
}

/// Ticks for an automatic axis range: Heckbert's loose labels when they fit the data well,
/// otherwise a tight range with ticks inside.
///
/// Loose labels are tried for `target`, `target + 1` and `target + 2` ticks; the one that wastes
/// the least of the axis on empty space wins (fewer ticks on near-ties). If even that wastes more
/// than 25 % of the axis (e.g. data 40.38..41.42 would get an axis 40.0..41.5), the axis is the
/// data range padded by 3 % of its span on each side — not below 0 when the data start at 0,
/// not above 0 when they end at 0 (bars, densities) — with [`ticks_within`] it.
///
/// ```
/// use rsei_report::ticks::auto_ticks;
/// // fits well: loose labels, the axis ends on ticks
/// assert_eq!(auto_ticks(3.7, 48.2, 6).values, vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
/// // would waste a third of the axis: tight, ticks inside
/// let t = auto_ticks(40.377, 41.423, 6);
/// assert!(t.min > 40.3 && t.max < 41.5);
/// assert_eq!(t.labels(), vec!["40.4", "40.6", "40.8", "41.0", "41.2", "41.4"]);
/// ```
pub fn auto_ticks(lo: f64, hi: f64, target: usize) -> Ticks {
    if !(lo.is_finite() && hi.is_finite() && (hi - lo).is_finite()) || hi <= lo {
        return nice_ticks(lo, hi, target);
    }
    let waste = |t: &Ticks| 1.0 - (hi - lo) / (t.max - t.min);
    let mut best = nice_ticks(lo, hi, target);
    for k in target + 1..=target + 2 {
        let t = nice_ticks(lo, hi, k);
        if t.values.len() <= 12 && waste(&t) < waste(&best) - 0.02 {
            best = t;
        }
    }
    if waste(&best) <= 0.25 {
        return best;
    }
    let pad = 0.03 * (hi - lo);
    let a = if lo == 0.0 { 0.0 } else { lo - pad };
    let b = if hi == 0.0 { 0.0 } else { hi + pad };
    ticks_within(a, b, target)
}

/// A number with exactly `decimals` decimals, `.` as separator, ASCII `-` for negatives and never
/// `-0` (e.g. `-0.0001` with 2 decimals prints `0.00`). Non-finite values print as `NaN`, `inf`,
/// `-inf`.
///
/// ```
/// use rsei_report::ticks::format_fixed;
/// assert_eq!(format_fixed(0.1 + 0.2, 2), "0.30");
/// assert_eq!(format_fixed(-0.0004, 3), "0.000");
/// assert_eq!(format_fixed(-1.25, 1), "-1.2"); // round half to even on the binary value (−1.25 is exact)
/// ```
pub fn format_fixed(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let s = format!("{:.*}", decimals, v);
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => s,
    }
}

/// A tick label: [`format_fixed`] with the typographic minus sign U+2212.
pub fn format_tick(v: f64, decimals: usize) -> String {
    format_fixed(v, decimals).replacen('-', "\u{2212}", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_interval() {
        // 0..1 with 6 ticks → step 0.2 (hand computation in `nice_ticks` doc)
        let t = nice_ticks(0.0, 1.0, 6);
        assert_eq!(t.values, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(t.labels(), vec!["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!((t.min, t.max, t.decimals), (0.0, 1.0, 1));
        // 0.6 must be the double nearest to 0.6, not 3·0.2
        assert_eq!(t.values[3].to_bits(), 0.6f64.to_bits());
    }

    #[test]
    fn heckbert_example() {
        // 3.7..48.2, 6 ticks: range = nice(44.5, false) = 50; step = nice(10, true) = 10;
        // floor(3.7/10)·10 = 0, ceil(48.2/10)·10 = 50
        let t = nice_ticks(3.7, 48.2, 6);
        assert_eq!(t.values, vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
        assert_eq!((t.min, t.max, t.step, t.decimals), (0.0, 50.0, 10.0, 0));
    }

    #[test]
    fn negative_and_small_ranges() {
        // −0.83..0.61, 5 ticks: range = nice(1.44, false) = 2; step = nice(0.5, round) = 0.5
        // (f = 5 → 5); axis floor(−1.66)=−2 → −1.0, ceil(1.22)=2 → 1.0
        let t = nice_ticks(-0.83, 0.61, 5);
        assert_eq!(t.values, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        assert_eq!(
            t.labels(),
            vec!["\u{2212}1.0", "\u{2212}0.5", "0.0", "0.5", "1.0"]
        );
        // 0.0012..0.0047, 4 ticks: range = nice(0.0035) = 0.005; step = nice(0.001667, round) = 0.002
        // → axis 0.000..0.006, 3 decimals
        let t = nice_ticks(0.0012, 0.0047, 4);
        assert_eq!(t.labels(), vec!["0.000", "0.002", "0.004", "0.006"]);
        assert_eq!(t.values[1].to_bits(), 0.002f64.to_bits());
    }

    #[test]
    fn lower_bound_on_a_tick_is_not_widened_by_rounding() {
        // 0.3/0.1 = 2.9999999999999996 in binary; the axis must still start at 0.3
        // range = nice(0.4) = 0.5; step = nice(0.1, round) = 0.1
        let t = nice_ticks(0.3, 0.7, 6);
        assert_eq!(t.labels(), vec!["0.3", "0.4", "0.5", "0.6", "0.7"]);
    }

    #[test]
    fn degenerate_ranges() {
        // constant 5: widened to 4.5..5.5; range = nice(1) = 1, step = nice(0.2, round) = 0.2
        let t = nice_ticks(5.0, 5.0, 6);
        assert_eq!(t.min, 4.4);
        assert_eq!(t.max, 5.6);
        assert!(t.values.len() >= 3);
        let z = nice_ticks(0.0, 0.0, 5);
        assert_eq!((z.min, z.max), (-1.0, 1.0));
        let n = nice_ticks(f64::NAN, 1.0, 5);
        assert_eq!((n.min, n.max), (0.0, 1.0));
    }

    #[test]
    fn auto_ticks_choice() {
        // 0..10500 (histogram counts), target 5: nice_ticks gives 0..15000 (waste 30 %);
        // target 6: range nice(10500) = 20000, step nice(4000) = 5000 → same; target 7:
        // step nice(3333) = 5000 → same → tight: 0..10815 (3 % pad above, none below 0),
        // ticks within at step nice(10815/4 = 2704, round) = 2000
        let t = auto_ticks(0.0, 10500.0, 5);
        assert_eq!(t.min, 0.0);
        assert!((t.max - 10815.0).abs() < 1e-9);
        assert_eq!(t.values, vec![0.0, 2000.0, 4000.0, 6000.0, 8000.0, 10000.0]);
        // 0..1 fits exactly: loose
        assert_eq!(
            auto_ticks(0.0, 1.0, 6).values,
            nice_ticks(0.0, 1.0, 6).values
        );
    }

    #[test]
    fn fixed_range_ticks() {
        let t = ticks_within(0.05, 0.95, 5);
        assert_eq!(t.labels(), vec!["0.2", "0.4", "0.6", "0.8"]);
        assert_eq!((t.min, t.max), (0.05, 0.95));
    }

    #[test]
    fn absurd_ranges_do_not_overflow() {
        for (lo, hi) in [
            (-1e300, 1e300),
            (1e300, 1e300),
            (1e12, 1e12 + 1e-3),
            (-f64::MAX, f64::MAX),
            (5e-324, 1e-323),
        ] {
            for t in [
                nice_ticks(lo, hi, 6),
                ticks_within(lo, hi, 6),
                auto_ticks(lo, hi, 6),
            ] {
                assert!(
                    t.min.is_finite() && t.max.is_finite() && t.min < t.max,
                    "{lo}..{hi}: {t:?}"
                );
                assert!(!t.values.is_empty() && t.values.len() <= 1001);
            }
        }
    }

    #[test]
    fn fixed_formatting() {
        assert_eq!(format_fixed(1234.5678, 2), "1234.57");
        assert_eq!(format_fixed(-0.0, 0), "0");
        assert_eq!(format_fixed(-2.5e-7, 3), "0.000");
        assert_eq!(format_fixed(-2.0, 0), "-2");
        assert_eq!(format_tick(-2.0, 0), "\u{2212}2");
    }
}
