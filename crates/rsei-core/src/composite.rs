//! Growing-season composites (METHOD §2).
//!
//! For target year Y the composite of a pixel is the mean (or median) of its valid observations
//! dated inside the season of years Y − `years_before` ..= Y + `years_after` (default: June 1 –
//! September 30 of Y−1, Y, Y+1). Pixels with fewer than `min_obs` valid observations are nodata;
//! the number of valid observations per pixel is an output.
//!
//! **Which date decides.** A MODIS 8- or 16-day composite is named by its *first* day
//! (`MOD09A1.A2019177…` covers DOY 177–184 of 2019). That first day — the date in the file name —
//! decides whether a granule is in the window; the days it spans after it are not looked at.
//!
//! **Seasons across New Year** (southern hemisphere, e.g. November – February): a season whose end
//! comes before its start in the calendar runs from its start in year s to its end in year s + 1 and
//! is labelled by the year s in which it **starts** (season 2022 = Nov 2022 – Feb 2023). Calendar
//! dates use the real calendar: day-of-year counts leap days, and February 29 as a season bound
//! means February 28 in common years.
//!
//! **Order.** The default composites reflectances and then computes the indicators from the
//! composites ([`IndexOrder::CompositeThenIndex`]); the alternative computes indicators per
//! observation and composites those. [`CompositeAccumulator`] does not care: it composites whatever
//! layers it is given.
//!
//! ```
//! use rsei_core::composite::{CompositeAccumulator, CompositeOptions, Reducer};
//! let opts = CompositeOptions::default();
//! assert!(opts.in_window(2019, 2018, 200));   // 19 July 2018 is in the 2019 window
//! assert!(!opts.in_window(2019, 2019, 280));  // 7 October is after the season
//! let mut acc = CompositeAccumulator::new(1, 2, Reducer::Mean);
//! acc.add(&[&[0.2, 0.5]], &[true, false]).unwrap();
//! acc.add(&[&[0.4, 0.7]], &[true, true]).unwrap();
//! let c = acc.finish(1);
//! assert_eq!(c.count, vec![2, 1]);
//! assert!((c.layers[0][0] - 0.3).abs() < 1e-7 && c.layers[0][1] == 0.7);
//! ```

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// True for leap years of the Gregorian calendar.
pub const fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// 365 or 366.
pub const fn days_in_year(year: i32) -> u16 {
    if is_leap_year(year) {
        366
    } else {
        365
    }
}

/// Days in `month` (1..=12) of `year`; 0 for an invalid month.
pub const fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            if is_leap_year(year) {
                29
            } else {
                28
            }
        }
        _ => 0,
    }
}

/// Day of year (1-based) of a calendar date; a day past the month's end is clamped to its last day
/// (February 29 → February 28 in common years). The month must be 1..=12.
pub fn day_of_year(year: i32, month: u8, day: u8) -> u16 {
    let mut doy = 0u16;
    for m in 1..month {
        doy += u16::from(days_in_month(year, m));
    }
    doy + u16::from(day.min(days_in_month(year, month)))
}

/// A season given by its first and last calendar days (month, day), both inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Season {
    /// First day (month, day).
    pub start: (u8, u8),
    /// Last day (month, day).
    pub end: (u8, u8),
}

impl Default for Season {
    /// June 1 – September 30 (METHOD §2).
    fn default() -> Self {
        Self { start: (6, 1), end: (9, 30) }
    }
}

impl Season {
    /// Checks that both dates exist (February 29 is accepted).
    pub fn validate(&self) -> Result<()> {
        for (name, (m, d)) in [("season.start", self.start), ("season.end", self.end)] {
            if !(1..=12).contains(&m) || d == 0 || d > days_in_month(2000, m) {
                return Err(CoreError::InvalidOption { name: name.into(), reason: format!("({m}, {d}) is not a calendar date (month, day)") });
            }
        }
        Ok(())
    }
    /// True when the season runs over New Year (its end comes before its start in the calendar).
    pub fn crosses_new_year(&self) -> bool {
        self.end < self.start
    }
    /// The day-of-year ranges of season `s` (labelled by its starting year), one per calendar year.
    pub fn ranges(&self, s: i32) -> Vec<(i32, RangeInclusive<u16>)> {
        let a = day_of_year(s, self.start.0, self.start.1);
        if self.crosses_new_year() {
            let b = day_of_year(s + 1, self.end.0, self.end.1);
            vec![(s, a..=days_in_year(s)), (s + 1, 1..=b)]
        } else {
            vec![(s, a..=day_of_year(s, self.end.0, self.end.1))]
        }
    }
}

/// How the valid observations of a pixel are reduced to one value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reducer {
    /// Arithmetic mean (METHOD default), summed in f64 in the order observations are added.
    #[default]
    Mean,
    /// Exact median (mean of the two middle values for an even count).
    Median,
}

/// Whether indicators are computed from composited reflectances or composited per observation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexOrder {
    /// Composite each layer, then compute the indicators from the composites (METHOD default).
    #[default]
    CompositeThenIndex,
    /// Compute the indicators for every observation, then composite the indicators.
    IndexThenComposite,
}

/// Options of the growing-season composite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompositeOptions {
    /// The season (default June 1 – September 30).
    pub season: Season,
    /// Seasons before the target year in the window (default 1).
    pub years_before: u32,
    /// Seasons after the target year in the window (default 1).
    pub years_after: u32,
    /// Mean (default) or median.
    pub reducer: Reducer,
    /// Pixels with fewer valid observations are nodata (default 1, at least 1).
    pub min_obs: u32,
    /// Composite then index (default) or index then composite.
    pub order: IndexOrder,
}

impl Default for CompositeOptions {
    fn default() -> Self {
        Self { season: Season::default(), years_before: 1, years_after: 1, reducer: Reducer::Mean, min_obs: 1, order: IndexOrder::CompositeThenIndex }
    }
}

impl CompositeOptions {
    /// Checks the season dates and `min_obs ≥ 1`.
    pub fn validate(&self) -> Result<()> {
        self.season.validate()?;
        if self.min_obs == 0 {
            return Err(CoreError::InvalidOption { name: "composite.min_obs".into(), reason: "must be at least 1".into() });
        }
        if self.years_before > 100 || self.years_after > 100 {
            return Err(CoreError::InvalidOption { name: "composite.years_before/years_after".into(), reason: "more than 100 years".into() });
        }
        Ok(())
    }

    /// The (calendar year, day-of-year range) pieces of the window of `target_year`, in date order.
    ///
    /// ```
    /// use rsei_core::composite::CompositeOptions;
    /// let w = CompositeOptions::default().window_dates(2020);
    /// // June 1 is DOY 152 in 2019 and 2021, DOY 153 in the leap year 2020
    /// assert_eq!(w, vec![(2019, 152..=273), (2020, 153..=274), (2021, 152..=273)]);
    /// ```
    pub fn window_dates(&self, target_year: i32) -> Vec<(i32, RangeInclusive<u16>)> {
        let first = target_year - self.years_before as i32;
        let last = target_year + self.years_after as i32;
        (first..=last).flat_map(|s| self.season.ranges(s)).collect()
    }

    /// True when an observation dated (`year`, `doy`) — the first day of a MODIS composite, as in its
    /// file name — belongs to the window of `target_year`.
    pub fn in_window(&self, target_year: i32, year: i32, doy: u16) -> bool {
        self.window_dates(target_year).iter().any(|(y, r)| *y == year && r.contains(&doy))
    }

    /// A one-line description for output metadata, e.g.
    /// `mean of valid observations dated 06-01..09-30 in seasons 2018..2020 (min 1 obs), composite then index`.
    pub fn describe(&self, target_year: i32) -> String {
        let reducer = match self.reducer {
            Reducer::Mean => "mean",
            Reducer::Median => "median",
        };
        let order = match self.order {
            IndexOrder::CompositeThenIndex => "composite then index",
            IndexOrder::IndexThenComposite => "index then composite",
        };
        format!(
            "{reducer} of valid observations dated {:02}-{:02}..{:02}-{:02} in seasons {}..{} (min {} obs), {order}",
            self.season.start.0,
            self.season.start.1,
            self.season.end.0,
            self.season.end.1,
            target_year - self.years_before as i32,
            target_year + self.years_after as i32,
            self.min_obs
        )
    }
}

/// The result of a composite: one value per pixel per layer (`NaN` = nodata) and the number of
/// valid observations per pixel (saturating at 65535).
#[derive(Clone, Debug, PartialEq)]
pub struct Composite {
    /// Composited layers, in the order they were given.
    pub layers: Vec<Vec<f32>>,
    /// Valid observations per pixel.
    pub count: Vec<u16>,
}

/// Accumulates observations of several layers over the pixels of one window.
///
/// An observation enters a pixel only where `valid` is true **and** every layer is finite at that
/// pixel (so all layers of a pixel are composited from the same observations). Memory: the mean
/// keeps one f64 sum per layer and pixel; the median keeps every added observation
/// (4 · n_layers · n_pixels bytes per observation), so keep median windows small.
#[derive(Clone, Debug)]
pub struct CompositeAccumulator {
    n_layers: usize,
    n_pixels: usize,
    reducer: Reducer,
    count: Vec<u32>,
    sums: Vec<Vec<f64>>,
    planes: Vec<Vec<f32>>,
    scratch: Vec<bool>,
}

impl CompositeAccumulator {
    /// An empty accumulator for `n_layers` layers of `n_pixels` pixels.
    pub fn new(n_layers: usize, n_pixels: usize, reducer: Reducer) -> Self {
        let sums = match reducer {
            Reducer::Mean => vec![vec![0f64; n_pixels]; n_layers],
            Reducer::Median => Vec::new(),
        };
        Self { n_layers, n_pixels, reducer, count: vec![0; n_pixels], sums, planes: vec![Vec::new(); n_layers], scratch: vec![false; n_pixels] }
    }

    /// Number of layers.
    pub fn n_layers(&self) -> usize {
        self.n_layers
    }
    /// Number of pixels.
    pub fn n_pixels(&self) -> usize {
        self.n_pixels
    }

    /// Adds one observation: `layers[l][i]` is layer `l` at pixel `i` (scaled floats), `valid[i]`
    /// says whether the pixel passed QA. Observations should be added sorted by date (the f64 sums
    /// then add in a fixed order, so results are reproducible).
    pub fn add(&mut self, layers: &[&[f32]], valid: &[bool]) -> Result<()> {
        if layers.len() != self.n_layers {
            return Err(CoreError::InvalidOption { name: "composite layers".into(), reason: format!("got {} layers, the accumulator has {}", layers.len(), self.n_layers) });
        }
        for (l, v) in layers.iter().enumerate() {
            if v.len() != self.n_pixels {
                return Err(CoreError::InvalidOption { name: format!("composite layer {l}"), reason: format!("has {} values, expected {}", v.len(), self.n_pixels) });
            }
        }
        if valid.len() != self.n_pixels {
            return Err(CoreError::InvalidOption { name: "composite validity mask".into(), reason: format!("has {} values, expected {}", valid.len(), self.n_pixels) });
        }
        let ok = &mut self.scratch;
        ok.copy_from_slice(valid);
        for v in layers {
            for (o, x) in ok.iter_mut().zip(v.iter()) {
                *o &= x.is_finite();
            }
        }
        for (c, &o) in self.count.iter_mut().zip(ok.iter()) {
            *c += u32::from(o);
        }
        match self.reducer {
            Reducer::Mean => {
                for (sum, v) in self.sums.iter_mut().zip(layers) {
                    for ((s, &x), &o) in sum.iter_mut().zip(v.iter()).zip(ok.iter()) {
                        if o {
                            *s += f64::from(x);
                        }
                    }
                }
            }
            Reducer::Median => {
                for (plane, v) in self.planes.iter_mut().zip(layers) {
                    plane.extend(v.iter().zip(ok.iter()).map(|(&x, &o)| if o { x } else { f32::NAN }));
                }
            }
        }
        Ok(())
    }

    /// The composite: pixels with fewer than `min_obs` valid observations (and every pixel that
    /// has none) are NaN in every layer. `min_obs = 0` is treated as 1.
    pub fn finish(&self, min_obs: u32) -> Composite {
        let min_obs = min_obs.max(1);
        let count: Vec<u16> = self.count.iter().map(|&c| c.min(u32::from(u16::MAX)) as u16).collect();
        let layers = match self.reducer {
            Reducer::Mean => self
                .sums
                .iter()
                .map(|sum| sum.iter().zip(&self.count).map(|(&s, &c)| if c >= min_obs { (s / f64::from(c)) as f32 } else { f32::NAN }).collect())
                .collect(),
            Reducer::Median => {
                let n = self.n_pixels;
                let mut buf = Vec::new();
                self.planes
                    .iter()
                    .map(|plane| {
                        let n_obs = plane.len().checked_div(n).unwrap_or(0);
                        (0..n)
                            .map(|i| {
                                if self.count[i] < min_obs {
                                    return f32::NAN;
                                }
                                buf.clear();
                                buf.extend((0..n_obs).map(|k| plane[k * n + i]).filter(|v| !v.is_nan()));
                                median_in_place(&mut buf)
                            })
                            .collect()
                    })
                    .collect()
            }
        };
        Composite { layers, count }
    }
}

/// Exact median of finite values (mean of the two middle ones, in f64, for an even count); NaN when empty.
fn median_in_place(v: &mut [f32]) -> f32 {
    let n = v.len();
    if n == 0 {
        return f32::NAN;
    }
    v.sort_unstable_by(f32::total_cmp);
    if n % 2 == 1 {
        v[n / 2]
    } else {
        ((f64::from(v[n / 2 - 1]) + f64::from(v[n / 2])) / 2.0) as f32
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert!(is_leap_year(2000) && is_leap_year(2020) && !is_leap_year(1900) && !is_leap_year(2019));
        // March 1: 31 + 28 + 1 = 60 in 2019, 61 in 2020
        assert_eq!(day_of_year(2019, 3, 1), 60);
        assert_eq!(day_of_year(2020, 3, 1), 61);
        // Dec 31 = 365 / 366
        assert_eq!(day_of_year(2019, 12, 31), 365);
        assert_eq!(day_of_year(2020, 12, 31), 366);
        // Feb 29 clamps to Feb 28 (DOY 59) in 2019
        assert_eq!(day_of_year(2019, 2, 29), 59);
        assert_eq!(day_of_year(2020, 2, 29), 60);
    }

    #[test]
    fn default_window_with_leap_year() {
        let o = CompositeOptions::default();
        // June 1 = 31+28+31+30+31+1 = 152 (153 in leap years); Sept 30 = 152 − 1 + 30 + 31 + 31 + 30 = 273 (274)
        assert_eq!(o.window_dates(2021), vec![(2020, 153..=274), (2021, 152..=273), (2022, 152..=273)]);
        assert!(o.in_window(2021, 2020, 153) && !o.in_window(2021, 2020, 152));
        assert!(o.in_window(2021, 2022, 273) && !o.in_window(2021, 2022, 274));
        assert!(!o.in_window(2021, 2023, 200) && !o.in_window(2021, 2019, 200));
        // MOD09A1 A2019177 (June 26) is in the windows of 2018, 2019 and 2020
        assert!(o.in_window(2018, 2019, 177) && o.in_window(2019, 2019, 177) && o.in_window(2020, 2019, 177));
        // 8-day composite starting Sept 30 (DOY 273, 2019) counts, though it spans into October
        assert!(o.in_window(2019, 2019, 273));
        let single = CompositeOptions { years_before: 0, years_after: 0, ..Default::default() };
        assert_eq!(single.window_dates(2019), vec![(2019, 152..=273)]);
    }

    #[test]
    fn season_across_new_year() {
        let o = CompositeOptions { season: Season { start: (11, 1), end: (2, 29) }, years_before: 0, years_after: 1, ..Default::default() };
        assert!(o.season.crosses_new_year());
        o.validate().unwrap();
        // season 2022 = Nov 1 2022 (DOY 305 = 304 + 1 in a common year) .. Dec 31 (365) and Jan 1 .. Feb 28 2023 (59; Feb 29 clamped)
        // season 2023 = Nov 1 2023 (305) .. Dec 31 (365) and Jan 1 .. Feb 29 2024 (60, leap)
        assert_eq!(o.window_dates(2022), vec![(2022, 305..=365), (2023, 1..=59), (2023, 305..=365), (2024, 1..=60)]);
        assert!(o.in_window(2022, 2023, 20) && o.in_window(2022, 2024, 60) && !o.in_window(2022, 2023, 100));
        assert!(!o.in_window(2022, 2022, 20), "January 2022 belongs to season 2021");
    }

    #[test]
    fn options_are_validated() {
        assert!(CompositeOptions { min_obs: 0, ..Default::default() }.validate().is_err());
        assert!(Season { start: (13, 1), end: (9, 30) }.validate().is_err());
        assert!(Season { start: (6, 31), end: (9, 30) }.validate().is_err());
        assert!(Season { start: (2, 29), end: (9, 30) }.validate().is_ok());
        assert!(CompositeOptions::default().validate().is_ok());
        let o: CompositeOptions = serde_json::from_str(r#"{"season": {"start": [5, 15], "end": [10, 15]}, "reducer": "median"}"#).unwrap();
        assert_eq!(o.season.start, (5, 15));
        assert_eq!(o.reducer, Reducer::Median);
        assert_eq!(o.years_before, 1);
        assert!(o.describe(2019).starts_with("median of valid observations dated 05-15..10-15 in seasons 2018..2020"));
    }

    #[test]
    fn mean_by_hand_with_invalid_and_nan() {
        // 2 layers, 4 pixels, 3 observations
        let mut acc = CompositeAccumulator::new(2, 4, Reducer::Mean);
        acc.add(&[&[0.1, 0.2, 0.3, 0.4], &[1.0, 2.0, 3.0, 4.0]], &[true, true, false, true]).unwrap();
        acc.add(&[&[0.3, f32::NAN, 0.5, 0.6], &[3.0, 9.0, 5.0, 6.0]], &[true, true, false, true]).unwrap();
        acc.add(&[&[0.5, 0.4, 0.7, 0.8], &[5.0, 4.0, 7.0, f32::INFINITY]], &[true, true, false, true]).unwrap();
        let c = acc.finish(1);
        // pixel 0: (0.1 + 0.3 + 0.5)/3 = 0.3 and (1 + 3 + 5)/3 = 3
        // pixel 1: obs 2 has NaN in layer 0 → dropped in BOTH layers: (0.2 + 0.4)/2 = 0.3, (2 + 4)/2 = 3
        // pixel 2: never valid (all cloud) → NaN, count 0
        // pixel 3: obs 3 has +inf → dropped: (0.4 + 0.6)/2 = 0.5, (4 + 6)/2 = 5
        assert_eq!(c.count, vec![3, 2, 0, 2]);
        let expect = [[0.3, 0.3, f32::NAN, 0.5], [3.0, 3.0, f32::NAN, 5.0]];
        for l in 0..2 {
            for i in 0..4 {
                let (a, e) = (c.layers[l][i], expect[l][i]);
                assert!((a.is_nan() && e.is_nan()) || (a - e).abs() < 1e-6, "layer {l} px {i}: {a} vs {e}");
            }
        }
        // min_obs 3 keeps only pixel 0
        let c3 = acc.finish(3);
        assert!(!c3.layers[0][0].is_nan() && c3.layers[0][1].is_nan() && c3.layers[1][3].is_nan());
        assert_eq!(c3.count, vec![3, 2, 0, 2]);
    }

    #[test]
    fn median_by_hand() {
        let mut acc = CompositeAccumulator::new(1, 3, Reducer::Median);
        for (vals, valid) in [([0.5f32, 1.0, 9.0], [true, true, true]), ([0.1, 3.0, 9.0], [true, true, false]), ([0.3, 2.0, 9.0], [true, true, false]), ([0.9, 4.0, 9.0], [true, false, false])] {
            acc.add(&[&vals], &valid).unwrap();
        }
        let c = acc.finish(1);
        // pixel 0: {0.5, 0.1, 0.3, 0.9} sorted 0.1 0.3 0.5 0.9 → (0.3 + 0.5)/2 = 0.4
        // pixel 1: {1, 3, 2} → 2;  pixel 2: {9} → 9
        assert!((c.layers[0][0] - 0.4).abs() < 1e-7);
        assert_eq!(c.layers[0][1], 2.0);
        assert_eq!(c.layers[0][2], 9.0);
        assert_eq!(c.count, vec![4, 3, 1]);
    }

    #[test]
    fn empty_windows() {
        // no observation at all
        for reducer in [Reducer::Mean, Reducer::Median] {
            let acc = CompositeAccumulator::new(3, 5, reducer);
            let c = acc.finish(1);
            assert_eq!(c.count, vec![0; 5]);
            assert!(c.layers.iter().all(|l| l.len() == 5 && l.iter().all(|v| v.is_nan())));
            // all cloud: observations added, none valid
            let mut acc = CompositeAccumulator::new(3, 5, reducer);
            let v = [0.1f32; 5];
            acc.add(&[&v, &v, &v], &[false; 5]).unwrap();
            acc.add(&[&v, &v, &v], &[false; 5]).unwrap();
            let c = acc.finish(1);
            assert_eq!(c.count, vec![0; 5]);
            assert!(c.layers.iter().all(|l| l.iter().all(|v| v.is_nan())));
        }
        let mut acc = CompositeAccumulator::new(2, 3, Reducer::Mean);
        assert!(acc.add(&[&[0.0; 3]], &[true; 3]).is_err(), "wrong number of layers");
        assert!(acc.add(&[&[0.0; 3], &[0.0; 2]], &[true; 3]).is_err(), "wrong layer size");
        assert!(acc.add(&[&[0.0; 3], &[0.0; 3]], &[true; 2]).is_err(), "wrong mask size");
    }
}
