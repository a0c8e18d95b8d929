//! Change between two years: the grade transfer matrix (cells and km² moving from each RSEI grade
//! to each other one) and difference maps (later − earlier).
//!
//! Grade rasters follow the grade files of the pipeline: `u8`, 1 poor, 2 fair, 3 moderate, 4 good,
//! 5 excellent (the five 0.2-wide grades of [`crate::model::GradeTable::grade_of`], plus one), and
//! [`GRADE_NODATA`] = 0 where there is no RSEI. RSEI rasters are `f32` with `NaN` (or ±∞) as nodata.
//! Higher is better, so a later grade above the earlier one is an improvement.
//!
//! ```
//! use rsei_core::change::transfer_matrix;
//! let m = transfer_matrix(&[1, 2, 3, 0, 5], &[2, 2, 1, 4, 5], 0.25).unwrap();
//! assert_eq!((m.n, m.improved, m.unchanged, m.degraded, m.earlier_missing), (4, 1, 2, 1, 1));
//! assert_eq!(m.counts[0][1], 1); // one cell from poor (1) to fair (2)
//! assert_eq!(m.area_km2[0][1], 0.25);
//! ```

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::GRADE_NAMES;

/// Grade value of a cell without RSEI.
pub const GRADE_NODATA: u8 = 0;
/// Number of grades (1..=5).
pub const N_GRADES: usize = 5;
/// Value of [`grade_change_map`] where either year has no grade.
pub const GRADE_CHANGE_NODATA: i8 = i8::MIN;

/// Errors of the change analysis.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ChangeError {
    /// The two rasters do not have the same number of cells.
    #[error("the earlier raster has {earlier} cells and the later one {later}: both years must be on the same grid")]
    LengthMismatch {
        /// Cells of the earlier raster.
        earlier: usize,
        /// Cells of the later raster.
        later: usize,
    },
    /// No cell has a value in both years.
    #[error("no cell has a value in both years ({cells} cells; {earlier_valid} valid in the earlier year, {later_valid} in the later)")]
    NoCommonCells {
        /// Cells per raster.
        cells: usize,
        /// Valid cells of the earlier raster.
        earlier_valid: u64,
        /// Valid cells of the later raster.
        later_valid: u64,
    },
    /// A grade raster holds a value other than 0 (nodata) and 1..=5.
    #[error("the {which} grade raster holds {value} at cell {index}; grades are 1..=5 and 0 is nodata")]
    InvalidGrade {
        /// `earlier` or `later`.
        which: &'static str,
        /// First cell with an invalid value.
        index: usize,
        /// The value.
        value: u8,
    },
    /// An option has a value outside its allowed range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Cells per parallel work item (fixed, so results do not depend on the thread count).
const CHUNK: usize = 1 << 16;

fn check_lengths(earlier: usize, later: usize) -> Result<(), ChangeError> {
    if earlier != later {
        return Err(ChangeError::LengthMismatch { earlier, later });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Grade transfer matrix
// ---------------------------------------------------------------------------------------------

/// Grade transfer matrix between two years over the cells graded in both.
/// Index `g` of every array is grade g + 1 (0 poor … 4 excellent, [`GRADE_NAMES`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransferMatrix {
    /// Cell area (km²) used for the areas.
    pub cell_area_km2: f64,
    /// `counts[from][to]`: cells of earlier grade `from` + 1 and later grade `to` + 1.
    pub counts: [[u64; N_GRADES]; N_GRADES],
    /// `counts` × cell area (km²).
    pub area_km2: [[f64; N_GRADES]; N_GRADES],
    /// Row totals: cells per earlier grade (over the cells graded in both years).
    pub from_totals: [u64; N_GRADES],
    /// Column totals: cells per later grade (over the cells graded in both years).
    pub to_totals: [u64; N_GRADES],
    /// Row totals in km².
    pub from_area_km2: [f64; N_GRADES],
    /// Column totals in km².
    pub to_area_km2: [f64; N_GRADES],
    /// Cells graded in both years (the matrix total).
    pub n: u64,
    /// Their area (km²).
    pub total_area_km2: f64,
    /// Cells whose later grade is higher.
    pub improved: u64,
    /// Cells whose grade is the same.
    pub unchanged: u64,
    /// Cells whose later grade is lower.
    pub degraded: u64,
    /// `improved / n`.
    pub share_improved: f64,
    /// `unchanged / n`.
    pub share_unchanged: f64,
    /// `degraded / n`.
    pub share_degraded: f64,
    /// `steps[d + 4]`: cells whose grade changed by d = later − earlier ∈ −4..=4.
    pub steps: [u64; 2 * N_GRADES - 1],
    /// Cells graded in the later year only (nodata earlier).
    pub earlier_missing: u64,
    /// Cells graded in the earlier year only (nodata later).
    pub later_missing: u64,
    /// Cells graded in neither year.
    pub both_missing: u64,
}

/// One cell of a [`TransferMatrix`] in long form (one row per grade pair, for tables).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransferRow {
    /// Earlier grade (1..=5).
    pub from: u8,
    /// Its name (`poor` … `excellent`).
    pub from_name: String,
    /// Later grade (1..=5).
    pub to: u8,
    /// Its name.
    pub to_name: String,
    /// Cells.
    pub count: u64,
    /// Area (km²).
    pub area_km2: f64,
    /// Share of the cells of the earlier grade (0 when that grade has no cells).
    pub share_of_from: f64,
    /// Share of all cells graded in both years.
    pub share_of_total: f64,
}

impl TransferMatrix {
    /// The 25 grade pairs in long form, earlier grade major.
    pub fn rows(&self) -> Vec<TransferRow> {
        let mut out = Vec::with_capacity(N_GRADES * N_GRADES);
        for f in 0..N_GRADES {
            for t in 0..N_GRADES {
                let c = self.counts[f][t];
                out.push(TransferRow {
                    from: f as u8 + 1,
                    from_name: GRADE_NAMES[f].into(),
                    to: t as u8 + 1,
                    to_name: GRADE_NAMES[t].into(),
                    count: c,
                    area_km2: self.area_km2[f][t],
                    share_of_from: ratio(c, self.from_totals[f]),
                    share_of_total: ratio(c, self.n),
                });
            }
        }
        out
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn first_invalid_grade(g: &[u8]) -> Option<(usize, u8)> {
    g.par_chunks(CHUNK).enumerate().find_map_first(|(ci, c)| c.iter().position(|&v| usize::from(v) > N_GRADES).map(|i| (ci * CHUNK + i, c[i])))
}

/// Grade transfer matrix from the `earlier` to the `later` grade raster (1..=5, 0 = nodata, same
/// grid, row-major), with areas for a cell area in km² (e.g. 0.2146587 for MODIS 500 m cells),
/// row and column totals and the shares of cells that improved, kept or lost their grade.
/// Cells graded in one year only are counted apart (`earlier_missing`, `later_missing`).
///
/// Errors: different lengths ([`ChangeError::LengthMismatch`]), a value outside 0..=5
/// ([`ChangeError::InvalidGrade`]), a cell area that is not finite and positive, no cell graded
/// in both years ([`ChangeError::NoCommonCells`]).
pub fn transfer_matrix(earlier: &[u8], later: &[u8], cell_area_km2: f64) -> Result<TransferMatrix, ChangeError> {
    check_lengths(earlier.len(), later.len())?;
    if !(cell_area_km2.is_finite() && cell_area_km2 > 0.0) {
        return Err(ChangeError::InvalidOption { name: "cell_area_km2", reason: format!("must be finite and positive, got {cell_area_km2}") });
    }
    for (which, g) in [("earlier", earlier), ("later", later)] {
        if let Some((index, value)) = first_invalid_grade(g) {
            return Err(ChangeError::InvalidGrade { which, index, value });
        }
    }
    // 6 × 6 table including nodata (index 0); integer counts, so any merge order gives the same sums
    let full = earlier
        .par_chunks(CHUNK)
        .zip(later.par_chunks(CHUNK))
        .map(|(a, b)| {
            let mut t = [[0u64; N_GRADES + 1]; N_GRADES + 1];
            for (&x, &y) in a.iter().zip(b) {
                t[usize::from(x)][usize::from(y)] += 1;
            }
            t
        })
        .reduce(
            || [[0u64; N_GRADES + 1]; N_GRADES + 1],
            |mut a, b| {
                for (ra, rb) in a.iter_mut().zip(b) {
                    for (x, y) in ra.iter_mut().zip(rb) {
                        *x += y;
                    }
                }
                a
            },
        );
    let counts: [[u64; N_GRADES]; N_GRADES] = std::array::from_fn(|f| std::array::from_fn(|t| full[f + 1][t + 1]));
    let n: u64 = counts.iter().flatten().sum();
    if n == 0 {
        let earlier_valid = full[1..].iter().flatten().sum();
        let later_valid = full.iter().map(|r| r[1..].iter().sum::<u64>()).sum();
        return Err(ChangeError::NoCommonCells { cells: earlier.len(), earlier_valid, later_valid });
    }
    let from_totals: [u64; N_GRADES] = std::array::from_fn(|f| counts[f].iter().sum());
    let to_totals: [u64; N_GRADES] = std::array::from_fn(|t| counts.iter().map(|r| r[t]).sum());
    let mut steps = [0u64; 2 * N_GRADES - 1];
    for (f, row) in counts.iter().enumerate() {
        for (t, &c) in row.iter().enumerate() {
            steps[t + N_GRADES - 1 - f] += c;
        }
    }
    let degraded: u64 = steps[..N_GRADES - 1].iter().sum();
    let unchanged = steps[N_GRADES - 1];
    let improved: u64 = steps[N_GRADES..].iter().sum();
    let km2 = |c: u64| c as f64 * cell_area_km2;
    Ok(TransferMatrix {
        cell_area_km2,
        counts,
        area_km2: std::array::from_fn(|f| std::array::from_fn(|t| km2(counts[f][t]))),
        from_totals,
        to_totals,
        from_area_km2: from_totals.map(km2),
        to_area_km2: to_totals.map(km2),
        n,
        total_area_km2: km2(n),
        improved,
        unchanged,
        degraded,
        share_improved: ratio(improved, n),
        share_unchanged: ratio(unchanged, n),
        share_degraded: ratio(degraded, n),
        steps,
        earlier_missing: full[0][1..].iter().sum(),
        later_missing: full[1..].iter().map(|r| r[0]).sum(),
        both_missing: full[0][0],
    })
}

/// Grade change map: later − earlier grade (−4..=4) per cell, [`GRADE_CHANGE_NODATA`] where either
/// year has no grade. Same errors as [`transfer_matrix`] except the cell area and the common cells.
pub fn grade_change_map(earlier: &[u8], later: &[u8]) -> Result<Vec<i8>, ChangeError> {
    check_lengths(earlier.len(), later.len())?;
    for (which, g) in [("earlier", earlier), ("later", later)] {
        if let Some((index, value)) = first_invalid_grade(g) {
            return Err(ChangeError::InvalidGrade { which, index, value });
        }
    }
    Ok(earlier
        .par_iter()
        .zip(later)
        .map(|(&a, &b)| if a == GRADE_NODATA || b == GRADE_NODATA { GRADE_CHANGE_NODATA } else { b as i8 - a as i8 })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Difference map
// ---------------------------------------------------------------------------------------------

/// Summary of a difference map over the cells valid in both years.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DifferenceSummary {
    /// Cells valid in both years.
    pub n: u64,
    /// Mean difference (later − earlier).
    pub mean: f64,
    /// Population standard deviation of the difference (divisor n).
    pub std: f64,
    /// Smallest difference.
    pub min: f64,
    /// Largest difference.
    pub max: f64,
    /// The tolerance used: |d| ≤ tolerance counts as unchanged.
    pub tolerance: f64,
    /// Cells with d > tolerance.
    pub increased: u64,
    /// Cells with |d| ≤ tolerance.
    pub unchanged: u64,
    /// Cells with d < −tolerance.
    pub decreased: u64,
    /// `increased / n`.
    pub share_increased: f64,
    /// `unchanged / n`.
    pub share_unchanged: f64,
    /// `decreased / n`.
    pub share_decreased: f64,
    /// Cells valid in the later year only.
    pub earlier_missing: u64,
    /// Cells valid in the earlier year only.
    pub later_missing: u64,
    /// Cells valid in neither year.
    pub both_missing: u64,
}

/// A difference map and its summary ([`difference_map`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// later − earlier per cell (`f32` arithmetic); `NaN` where either year is missing.
    pub values: Vec<f32>,
    /// Summary over the cells valid in both years.
    pub summary: DifferenceSummary,
}

/// Mergeable moments and counts of one chunk.
#[derive(Clone, Copy)]
struct Part {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    inc: u64,
    dec: u64,
    earlier_missing: u64,
    later_missing: u64,
    both_missing: u64,
}

impl Part {
    const EMPTY: Part = Part { n: 0, mean: 0.0, m2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY, inc: 0, dec: 0, earlier_missing: 0, later_missing: 0, both_missing: 0 };
    /// Chan et al. (1979) pairwise update.
    fn merge(&mut self, o: &Part) {
        if o.n > 0 {
            let n = self.n + o.n;
            let d = o.mean - self.mean;
            self.mean += d * (o.n as f64 / n as f64);
            self.m2 += o.m2 + d * d * (self.n as f64 * o.n as f64 / n as f64);
            self.n = n;
            self.min = self.min.min(o.min);
            self.max = self.max.max(o.max);
        }
        self.inc += o.inc;
        self.dec += o.dec;
        self.earlier_missing += o.earlier_missing;
        self.later_missing += o.later_missing;
        self.both_missing += o.both_missing;
    }
}

/// Difference map later − earlier of two rasters on the same grid (e.g. RSEI of two years; `NaN`
/// or ±∞ = missing, and the difference is `NaN` where either is missing), with its summary: mean,
/// standard deviation, range, and the cells that increased (d > `tolerance`), decreased
/// (d < −`tolerance`) or stayed (|d| ≤ `tolerance`; 0 = exact equality).
/// Bit-identical results at any thread count (fixed chunks merged in order).
///
/// Errors: different lengths ([`ChangeError::LengthMismatch`]), a tolerance that is not finite
/// and ≥ 0, no cell valid in both years ([`ChangeError::NoCommonCells`]).
pub fn difference_map(earlier: &[f32], later: &[f32], tolerance: f64) -> Result<Difference, ChangeError> {
    check_lengths(earlier.len(), later.len())?;
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(ChangeError::InvalidOption { name: "tolerance", reason: format!("must be finite and at least 0, got {tolerance}") });
    }
    let mut values = vec![f32::NAN; earlier.len()];
    let parts: Vec<Part> = values
        .par_chunks_mut(CHUNK)
        .zip(earlier.par_chunks(CHUNK).zip(later.par_chunks(CHUNK)))
        .map(|(out, (a, b))| {
            let mut p = Part::EMPTY;
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                match (x.is_finite(), y.is_finite()) {
                    (true, true) => {
                        let d32 = y - x;
                        *o = d32;
                        let d = f64::from(d32);
                        p.n += 1;
                        let delta = d - p.mean;
                        p.mean += delta / p.n as f64;
                        p.m2 += delta * (d - p.mean);
                        p.min = p.min.min(d);
                        p.max = p.max.max(d);
                        if d > tolerance {
                            p.inc += 1;
                        } else if d < -tolerance {
                            p.dec += 1;
                        }
                    }
                    (true, false) => p.later_missing += 1,
                    (false, true) => p.earlier_missing += 1,
                    (false, false) => p.both_missing += 1,
                }
            }
            p
        })
        .collect();
    let mut t = Part::EMPTY;
    for p in &parts {
        t.merge(p);
    }
    if t.n == 0 {
        return Err(ChangeError::NoCommonCells { cells: earlier.len(), earlier_valid: t.later_missing, later_valid: t.earlier_missing });
    }
    let unchanged = t.n - t.inc - t.dec;
    let summary = DifferenceSummary {
        n: t.n,
        mean: t.mean,
        std: (t.m2 / t.n as f64).max(0.0).sqrt(),
        min: t.min,
        max: t.max,
        tolerance,
        increased: t.inc,
        unchanged,
        decreased: t.dec,
        share_increased: ratio(t.inc, t.n),
        share_unchanged: ratio(unchanged, t.n),
        share_decreased: ratio(t.dec, t.n),
        earlier_missing: t.earlier_missing,
        later_missing: t.later_missing,
        both_missing: t.both_missing,
    };
    Ok(Difference { values, summary })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn transfer_matrix_by_hand() {
        // earlier: 1 1 2 3 3 5 0 4 0 2
        // later:   1 2 2 1 4 5 3 0 0 5
        // common cells (both ≠ 0): pairs (1,1) (1,2) (2,2) (3,1) (3,4) (5,5) (2,5) → n = 7
        // improved: (1,2) (3,4) (2,5) = 3; unchanged: (1,1) (2,2) (5,5) = 3; degraded: (3,1) = 1
        // earlier missing (0 → 3) = 1, later missing (4 → 0) = 1, both missing = 1
        let e = [1, 1, 2, 3, 3, 5, 0, 4, 0, 2];
        let l = [1, 2, 2, 1, 4, 5, 3, 0, 0, 5];
        let m = transfer_matrix(&e, &l, 0.5).unwrap();
        assert_eq!(m.n, 7);
        assert_eq!((m.improved, m.unchanged, m.degraded), (3, 3, 1));
        assert_eq!((m.earlier_missing, m.later_missing, m.both_missing), (1, 1, 1));
        assert_eq!(m.counts[0], [1, 1, 0, 0, 0]);
        assert_eq!(m.counts[1], [0, 1, 0, 0, 1]);
        assert_eq!(m.counts[2], [1, 0, 0, 1, 0]);
        assert_eq!(m.counts[3], [0; 5]);
        assert_eq!(m.counts[4], [0, 0, 0, 0, 1]);
        assert_eq!(m.from_totals, [2, 2, 2, 0, 1]);
        assert_eq!(m.to_totals, [2, 2, 0, 1, 2]);
        assert_eq!(m.from_area_km2, [1.0, 1.0, 1.0, 0.0, 0.5]);
        assert_eq!(m.total_area_km2, 3.5);
        assert_eq!(m.area_km2[2][3], 0.5);
        // steps: (3,1) −2; (1,2) (3,4) +1; (2,5) +3
        assert_eq!(m.steps, [0, 0, 1, 0, 3, 2, 0, 1, 0]);
        assert!((m.share_improved - 3.0 / 7.0).abs() < 1e-15);
        assert!((m.share_improved + m.share_unchanged + m.share_degraded - 1.0).abs() < 1e-15);
        let rows = m.rows();
        assert_eq!(rows.len(), 25);
        let r = &rows[2 * 5 + 3];
        assert_eq!((r.from, r.to, r.from_name.as_str(), r.to_name.as_str(), r.count), (3, 4, "moderate", "good", 1));
        assert_eq!((r.share_of_from, r.share_of_total), (0.5, 1.0 / 7.0));
        assert_eq!(rows[3 * 5].share_of_from, 0.0); // grade 4 had no cells earlier
        assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), m.n);
    }

    #[test]
    fn transfer_matrix_errors() {
        assert_eq!(transfer_matrix(&[1, 2], &[1], 1.0).unwrap_err(), ChangeError::LengthMismatch { earlier: 2, later: 1 });
        let e = transfer_matrix(&[1, 0, 2], &[0, 3, 0], 1.0).unwrap_err();
        assert_eq!(e, ChangeError::NoCommonCells { cells: 3, earlier_valid: 2, later_valid: 1 });
        assert!(e.to_string().contains("no cell has a value in both years"), "{e}");
        assert_eq!(transfer_matrix(&[1, 2], &[1, 6], 1.0).unwrap_err(), ChangeError::InvalidGrade { which: "later", index: 1, value: 6 });
        assert!(transfer_matrix(&[255, 2], &[1, 2], 1.0).unwrap_err().to_string().contains("earlier grade raster holds 255 at cell 0"));
        for a in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(transfer_matrix(&[1], &[1], a), Err(ChangeError::InvalidOption { .. })));
        }
        assert!(matches!(transfer_matrix(&[], &[], 1.0), Err(ChangeError::NoCommonCells { cells: 0, .. })));
    }

    #[test]
    fn grade_change_map_values() {
        let d = grade_change_map(&[1, 5, 0, 3], &[5, 1, 2, 3]).unwrap();
        assert_eq!(d, vec![4, -4, GRADE_CHANGE_NODATA, 0]);
        assert!(grade_change_map(&[1], &[9]).is_err());
        assert!(grade_change_map(&[1], &[1, 2]).is_err());
    }

    #[test]
    fn difference_by_hand() {
        // d = later − earlier: 0.25, −0.5, NaN (later missing), NaN (earlier missing), 0, NaN (both), 0.75
        // valid d: 0.25, −0.5, 0, 0.75 → mean 0.125; deviations 0.125, −0.625, −0.125, 0.625;
        // squares 0.015625 + 0.390625 + 0.015625 + 0.390625 = 0.8125 → population var 0.203125
        let e = [0.5, 0.75, 0.5, f32::NAN, 0.25, f32::NAN, 0.0];
        let l = [0.75, 0.25, f32::NAN, 0.5, 0.25, f32::INFINITY, 0.75];
        let d = difference_map(&e, &l, 0.0).unwrap();
        assert_eq!(d.values[0], 0.25);
        assert_eq!(d.values[1], -0.5);
        assert!(d.values[2].is_nan() && d.values[3].is_nan() && d.values[5].is_nan());
        assert_eq!(d.values[4], 0.0);
        let s = &d.summary;
        assert_eq!((s.n, s.increased, s.unchanged, s.decreased), (4, 2, 1, 1));
        assert_eq!((s.earlier_missing, s.later_missing, s.both_missing), (1, 1, 1));
        assert_eq!((s.mean, s.min, s.max), (0.125, -0.5, 0.75));
        assert!((s.std - 0.203125f64.sqrt()).abs() < 1e-15);
        assert_eq!(s.share_increased, 0.5);
        // a tolerance of 0.3 makes 0.25 unchanged
        let s = difference_map(&e, &l, 0.3).unwrap().summary;
        assert_eq!((s.increased, s.unchanged, s.decreased), (1, 2, 1));
    }

    #[test]
    fn difference_errors() {
        assert_eq!(difference_map(&[0.1], &[0.1, 0.2], 0.0).unwrap_err(), ChangeError::LengthMismatch { earlier: 1, later: 2 });
        let e = difference_map(&[f32::NAN, 0.3], &[0.2, f32::NAN], 0.0).unwrap_err();
        assert_eq!(e, ChangeError::NoCommonCells { cells: 2, earlier_valid: 1, later_valid: 1 });
        assert!(difference_map(&[0.1], &[0.1], -1.0).is_err());
        assert!(difference_map(&[0.1], &[0.1], f64::NAN).is_err());
    }

    #[test]
    fn difference_is_thread_count_invariant() {
        let n = 5 * CHUNK + 123;
        let e: Vec<f32> = (0..n).map(|i| if i % 97 == 0 { f32::NAN } else { ((i * 7919) % 1000) as f32 / 1000.0 }).collect();
        let l: Vec<f32> = (0..n).map(|i| if i % 89 == 0 { f32::NAN } else { ((i * 104_729) % 1000) as f32 / 1000.0 }).collect();
        let run = |t: usize| rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap().install(|| difference_map(&e, &l, 0.01).unwrap());
        let a = run(1);
        for t in [2, 5] {
            let b = run(t);
            assert_eq!(a.summary.mean.to_bits(), b.summary.mean.to_bits());
            assert_eq!(a.summary.std.to_bits(), b.summary.std.to_bits());
            assert_eq!(a.summary, b.summary);
        }
        // against a plain two-pass computation
        let d: Vec<f64> = e.iter().zip(&l).filter(|(a, b)| a.is_finite() && b.is_finite()).map(|(&a, &b)| f64::from(b - a)).collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        let std = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt();
        assert!((a.summary.mean - mean).abs() < 1e-12 && (a.summary.std - std).abs() < 1e-12);
        assert_eq!(a.summary.n, d.len() as u64);
    }
}
