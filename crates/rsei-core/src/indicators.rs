//! The four RSEI indicators and the water mask (METHOD §3).
//!
//! Inputs are reflectances ρ already scaled (DN × 0.0001) as `f32`, `NaN` = invalid. Bands are passed
//! in seven **spectral slots** in MODIS band order, whatever the sensor:
//!
//! | slot | [`RED`] 0 | [`NIR`] 1 | [`BLUE`] 2 | [`GREEN`] 3 | [`NIR2`] 4 | [`SWIR1`] 5 | [`SWIR2`] 6 |
//! |---|---|---|---|---|---|---|---|
//! | MODIS | b1 | b2 | b3 | b4 | b5 (1240 nm) | b6 | b7 |
//! | Landsat 8/9 OLI | B4 | B5 | B2 | B3 | — | B6 | B7 |
//! | Landsat 4/5 TM, 7 ETM+ | B3 | B4 | B1 | B2 | — | B5 | B7 |
//!
//! Sensors without a 1240 nm band have a zero wetness coefficient in slot 4; pass a slice of zeros there.
//!
//! | indicator | formula (slots as above) |
//! |---|---|
//! | NDVI | (ρnir − ρred)/(ρnir + ρred) |
//! | WET | Σₖ cₖ ρₖ with the sensor's tasseled-cap wetness coefficients ([`WetnessCoefficients`]) |
//! | NDBSI | (SI + IBI)/2, SI = ((ρswir1+ρred) − (ρnir+ρblue)) / ((ρswir1+ρred) + (ρnir+ρblue)), IBI = (2ρswir1/(ρswir1+ρnir) − (ρnir/(ρnir+ρred) + ρgreen/(ρgreen+ρswir1))) / (2ρswir1/(ρswir1+ρnir) + (ρnir/(ρnir+ρred) + ρgreen/(ρgreen+ρswir1))) |
//! | MNDWI | (ρgreen − ρswir1)/(ρgreen + ρswir1) |
//! | LST | K − 273.15 (°C), K = DN × 0.02 |
//!
//! **Nodata:** a NaN input gives NaN; a zero denominator (anywhere in a formula) gives NaN — never ±∞.
//! Scalar functions and slice kernels compute the same f32 expressions in the same order, so they
//! agree bit for bit.
//!
//! ```
//! use rsei_core::indicators::{mndwi, ndvi};
//! // (0.4 − 0.1)/(0.4 + 0.1) = 0.6
//! assert!((ndvi(0.1, 0.4) - 0.6).abs() < 1e-6);
//! assert!(ndvi(0.0, 0.0).is_nan());
//! assert!(mndwi(0.2, -0.2).is_nan()); // zero denominator → nodata
//! ```

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::grid::Window;

/// Spectral slot of the red band.
pub const RED: usize = 0;
/// Spectral slot of the near-infrared band (MODIS b2).
pub const NIR: usize = 1;
/// Spectral slot of the blue band.
pub const BLUE: usize = 2;
/// Spectral slot of the green band.
pub const GREEN: usize = 3;
/// Spectral slot of the second near-infrared band (MODIS b5, 1230–1250 nm; absent on Landsat).
pub const NIR2: usize = 4;
/// Spectral slot of the first short-wave infrared band (MODIS b6, 1628–1652 nm).
pub const SWIR1: usize = 5;
/// Spectral slot of the second short-wave infrared band (MODIS b7, 2105–2155 nm).
pub const SWIR2: usize = 6;

/// `num / den`, or NaN when `den` is zero (branch-free select, vectorises).
#[inline(always)]
fn div_or_nan(num: f32, den: f32) -> f32 {
    let v = num / den;
    if den == 0.0 {
        f32::NAN
    } else {
        v
    }
}

/// NDVI = (ρnir − ρred)/(ρnir + ρred). NaN when an input is NaN or ρnir + ρred = 0.
#[inline]
pub fn ndvi(red: f32, nir: f32) -> f32 {
    div_or_nan(nir - red, nir + red)
}

/// MNDWI = (ρgreen − ρswir1)/(ρgreen + ρswir1) (Xu 2006). NaN when an input is NaN or the sum is 0.
#[inline]
pub fn mndwi(green: f32, swir1: f32) -> f32 {
    div_or_nan(green - swir1, green + swir1)
}

/// Soil index SI = ((ρswir1 + ρred) − (ρnir + ρblue)) / ((ρswir1 + ρred) + (ρnir + ρblue)).
#[inline]
pub fn si(red: f32, nir: f32, blue: f32, swir1: f32) -> f32 {
    let a = swir1 + red;
    let b = nir + blue;
    div_or_nan(a - b, a + b)
}

/// Index-based built-up index IBI = (A − B)/(A + B) with A = 2ρswir1/(ρswir1 + ρnir) and
/// B = ρnir/(ρnir + ρred) + ρgreen/(ρgreen + ρswir1) (Xu 2008). NaN when any of the four
/// denominators is 0 or an input is NaN.
#[inline]
pub fn ibi(red: f32, nir: f32, green: f32, swir1: f32) -> f32 {
    let a = div_or_nan(2.0 * swir1, swir1 + nir);
    let b = div_or_nan(nir, nir + red) + div_or_nan(green, green + swir1);
    div_or_nan(a - b, a + b)
}

/// NDBSI = (SI + IBI)/2 ([`si`], [`ibi`]). NaN when either is NaN.
#[inline]
pub fn ndbsi(red: f32, nir: f32, blue: f32, green: f32, swir1: f32) -> f32 {
    (si(red, nir, blue, swir1) + ibi(red, nir, green, swir1)) * 0.5
}

/// Tasseled-cap wetness Σₖ cₖ ρₖ over the seven spectral slots (summed in slot order, f32).
/// NaN when any slot is NaN (also a slot whose coefficient is 0).
#[inline]
pub fn wetness(rho: &[f32; 7], c: &WetnessCoefficients) -> f32 {
    let k = &c.coefficients;
    k[0] * rho[0] + k[1] * rho[1] + k[2] * rho[2] + k[3] * rho[3] + k[4] * rho[4] + k[5] * rho[5] + k[6] * rho[6]
}

/// Land surface temperature in °C from kelvin: `K − 273.15`. NaN stays NaN.
#[inline]
pub fn lst_celsius(kelvin: f32) -> f32 {
    kelvin - 273.15
}

/// Kelvin from a MOD11 `LST_Day_1km` DN: `DN × 0.02`; the fill value 0 gives NaN.
#[inline]
pub fn lst_kelvin_from_dn(dn: u16) -> f32 {
    if dn == 0 {
        f32::NAN
    } else {
        f32::from(dn) * 0.02
    }
}

/// The sensor a set of coefficients was derived for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensor {
    /// Terra/Aqua MODIS.
    Modis,
    /// Landsat 8/9 OLI.
    LandsatOli,
    /// Landsat 4/5 TM.
    LandsatTm,
    /// Landsat 7 ETM+.
    LandsatEtm,
    /// Sentinel-2A/B/C MSI.
    SentinelMsi,
}

/// The processing level of the reflectances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductLevel {
    /// Atmospherically corrected surface reflectance (e.g. MOD09A1, Landsat Collection 2 Level-2).
    SurfaceReflectance,
    /// Top-of-atmosphere reflectance.
    ToaReflectance,
}

/// Tasseled-cap wetness coefficients in the seven spectral slots of this module, with the sensor and
/// product level they were derived for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct WetnessCoefficients {
    /// Sensor the coefficients belong to.
    pub sensor: Sensor,
    /// Product level they were derived for.
    pub level: ProductLevel,
    /// Where they come from.
    pub source: &'static str,
    /// Coefficients per spectral slot ([`RED`], [`NIR`], [`BLUE`], [`GREEN`], [`NIR2`], [`SWIR1`], [`SWIR2`]).
    pub coefficients: [f32; 7],
}

impl WetnessCoefficients {
    /// MODIS, Lobser & Cohen (2007), bands 1..7:
    /// `0.1147ρ1 + 0.2489ρ2 + 0.2408ρ3 + 0.3132ρ4 − 0.3122ρ5 − 0.6416ρ6 − 0.5087ρ7`.
    /// Derived from MODIS nadir BRDF-adjusted surface reflectance and applied to MOD09 surface
    /// reflectance (as in the source study), so its level is surface reflectance.
    pub const MODIS: WetnessCoefficients = WetnessCoefficients {
        sensor: Sensor::Modis,
        level: ProductLevel::SurfaceReflectance,
        source: "Lobser & Cohen 2007",
        coefficients: [0.1147, 0.2489, 0.2408, 0.3132, -0.3122, -0.6416, -0.5087],
    };
    /// Landsat 8/9 OLI at-satellite (TOA) reflectance, Baig et al. (2014): B2..B7 =
    /// 0.1511, 0.1973, 0.3283, 0.3407, −0.7117, −0.4559.
    pub const LANDSAT_OLI_TOA: WetnessCoefficients = WetnessCoefficients {
        sensor: Sensor::LandsatOli,
        level: ProductLevel::ToaReflectance,
        source: "Baig et al. 2014",
        coefficients: [0.3283, 0.3407, 0.1511, 0.1973, 0.0, -0.7117, -0.4559],
    };
    /// Landsat 4/5 TM reflectance factors, Crist (1985): B1..B5, B7 =
    /// 0.0315, 0.2021, 0.3102, 0.1594, −0.6806, −0.6109.
    pub const LANDSAT_TM_SR: WetnessCoefficients = WetnessCoefficients {
        sensor: Sensor::LandsatTm,
        level: ProductLevel::SurfaceReflectance,
        source: "Crist 1985",
        coefficients: [0.3102, 0.1594, 0.0315, 0.2021, 0.0, -0.6806, -0.6109],
    };
    /// Landsat 7 ETM+ at-satellite (TOA) reflectance, Huang et al. (2002): B1..B5, B7 =
    /// 0.2626, 0.2141, 0.0926, 0.0656, −0.7629, −0.5388.
    pub const LANDSAT_ETM_TOA: WetnessCoefficients = WetnessCoefficients {
        sensor: Sensor::LandsatEtm,
        level: ProductLevel::ToaReflectance,
        source: "Huang et al. 2002",
        coefficients: [0.0926, 0.0656, 0.2626, 0.2141, 0.0, -0.7629, -0.5388],
    };

    /// The published set for a sensor.
    pub const fn for_sensor(sensor: Sensor) -> WetnessCoefficients {
        match sensor {
            Sensor::Modis => Self::MODIS,
            Sensor::LandsatOli => Self::LANDSAT_OLI_TOA,
            Sensor::LandsatTm => Self::LANDSAT_TM_SR,
            Sensor::LandsatEtm => Self::LANDSAT_ETM_TOA,
            // no MSI set is kept here: see `crate::sensor` for the coefficients of each product
            Sensor::SentinelMsi => Self::LANDSAT_TM_SR,
        }
    }

    /// A warning when these coefficients are applied to data of another sensor or product level
    /// (a misuse: tasseled-cap coefficients are specific to both), `None` when they match.
    pub fn check_use(&self, sensor: Sensor, level: ProductLevel) -> Option<String> {
        let mut problems = Vec::new();
        if sensor != self.sensor {
            problems.push(format!("derived for {:?}, applied to {:?} data", self.sensor, sensor));
        }
        if level != self.level {
            problems.push(format!("derived for {:?}, applied to {:?}", self.level, level));
        }
        (!problems.is_empty()).then(|| format!("wetness coefficients of {}: {}; WET is not comparable to published values", self.source, problems.join("; ")))
    }
}

/// Output slices of [`compute_indicators`]; all of the length of the input bands.
#[derive(Debug)]
pub struct IndicatorsOut<'a> {
    /// Tasseled-cap wetness.
    pub wet: &'a mut [f32],
    /// NDBSI.
    pub ndbsi: &'a mut [f32],
    /// MNDWI.
    pub mndwi: &'a mut [f32],
    /// NDVI from the reflectances (optional: the default greenness is MOD13A1 NDVI).
    pub ndvi: Option<&'a mut [f32]>,
}

fn check_len(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected != got {
        return Err(CoreError::InvalidOption { name: what.into(), reason: format!("has {got} values, expected {expected}") });
    }
    Ok(())
}

fn check_bands(bands: &[&[f32]; 7], out: &IndicatorsOut<'_>) -> Result<usize> {
    let n = bands[0].len();
    for (k, b) in bands.iter().enumerate() {
        check_len(&format!("reflectance slot {k}"), n, b.len())?;
    }
    check_len("WET output", n, out.wet.len())?;
    check_len("NDBSI output", n, out.ndbsi.len())?;
    check_len("MNDWI output", n, out.mndwi.len())?;
    if let Some(v) = &out.ndvi {
        check_len("NDVI output", n, v.len())?;
    }
    Ok(n)
}

/// Computes WET, NDBSI, MNDWI (and NDVI if asked) for every pixel of seven band slices (spectral
/// slots of this module, scaled reflectance). Same values as the scalar functions, bit for bit;
/// NaN where an input is NaN or a denominator is 0. Single-threaded; see [`compute_indicators_par`].
///
/// ```
/// use rsei_core::indicators::{compute_indicators, IndicatorsOut, WetnessCoefficients};
/// let b = [0.1f32, 0.0];
/// let z = [0.2f32, 0.0];
/// let (mut wet, mut nd, mut mn) = ([0f32; 2], [0f32; 2], [0f32; 2]);
/// let out = IndicatorsOut { wet: &mut wet, ndbsi: &mut nd, mndwi: &mut mn, ndvi: None };
/// compute_indicators([&b, &z, &b, &b, &b, &z, &b], &WetnessCoefficients::MODIS, out).unwrap();
/// // MNDWI = (0.1 − 0.2)/(0.1 + 0.2) = −1/3; all-zero pixel → NaN
/// assert!((mn[0] + 1.0 / 3.0).abs() < 1e-6 && mn[1].is_nan());
/// ```
pub fn compute_indicators(bands: [&[f32]; 7], coeffs: &WetnessCoefficients, out: IndicatorsOut<'_>) -> Result<()> {
    let n = check_bands(&bands, &out)?;
    kernel(&bands, coeffs, out, n);
    Ok(())
}

/// The hot loop: no branches except selects; the slices are re-sliced to `n` so bounds checks vanish.
fn kernel(bands: &[&[f32]; 7], coeffs: &WetnessCoefficients, out: IndicatorsOut<'_>, n: usize) {
    let (r, ni, bl, g, n2, s1, s2) =
        (&bands[0][..n], &bands[1][..n], &bands[2][..n], &bands[3][..n], &bands[4][..n], &bands[5][..n], &bands[6][..n]);
    let wet = &mut out.wet[..n];
    let nd = &mut out.ndbsi[..n];
    let mn = &mut out.mndwi[..n];
    let k = coeffs.coefficients;
    for i in 0..n {
        let rho = [r[i], ni[i], bl[i], g[i], n2[i], s1[i], s2[i]];
        wet[i] = k[0] * rho[0] + k[1] * rho[1] + k[2] * rho[2] + k[3] * rho[3] + k[4] * rho[4] + k[5] * rho[5] + k[6] * rho[6];
        nd[i] = ndbsi(rho[0], rho[1], rho[2], rho[3], rho[5]);
        mn[i] = mndwi(rho[3], rho[5]);
    }
    if let Some(v) = out.ndvi {
        let v = &mut v[..n];
        for i in 0..n {
            v[i] = ndvi(r[i], ni[i]);
        }
    }
}

/// [`compute_indicators`] over a whole raster in parallel (rayon), in strips of whole rows of
/// `cols` cells. Per-pixel results do not depend on the strips, so the output is identical to the
/// single-threaded version whatever the thread count.
pub fn compute_indicators_par(bands: [&[f32]; 7], cols: usize, coeffs: &WetnessCoefficients, out: IndicatorsOut<'_>) -> Result<()> {
    let n = check_bands(&bands, &out)?;
    if cols == 0 || n % cols != 0 {
        return Err(CoreError::InvalidOption { name: "cols".into(), reason: format!("{n} values are not whole rows of {cols} columns") });
    }
    // ~32 Ki cells per strip: small enough to balance, large enough to amortise scheduling
    let strip_rows = (32_768 / cols).max(1);
    let chunk = strip_rows * cols;
    let IndicatorsOut { wet, ndbsi, mndwi, ndvi } = out;
    let mut ndvi_chunks: Vec<Option<&mut [f32]>> = match ndvi {
        Some(v) => v.chunks_mut(chunk).map(Some).collect(),
        None => (0..n.div_ceil(chunk)).map(|_| None).collect(),
    };
    let jobs: Vec<_> = wet
        .chunks_mut(chunk)
        .zip(ndbsi.chunks_mut(chunk))
        .zip(mndwi.chunks_mut(chunk))
        .zip(ndvi_chunks.drain(..))
        .enumerate()
        .map(|(k, (((w, d), m), v))| (k, w, d, m, v))
        .collect();
    jobs.into_par_iter().for_each(|(k, w, d, m, v)| {
        let start = k * chunk;
        let len = w.len();
        let b: [&[f32]; 7] = std::array::from_fn(|j| &bands[j][start..start + len]);
        kernel(&b, coeffs, IndicatorsOut { wet: w, ndbsi: d, mndwi: m, ndvi: v }, len);
    });
    Ok(())
}

/// How to bring a 1 km raster onto the nested 500 m grid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resample {
    /// Each 1 km cell fills its 2×2 cells (METHOD default).
    #[default]
    Nearest,
    /// Bilinear between 1 km cell centres ([`upsample_2x_bilinear`]).
    Bilinear,
}

/// Nearest-neighbour 2× upsampling: `dst[r][c] = src[r/2][c/2]`, a `(2·rows) × (2·cols)` raster.
/// Exact for MODIS, where each 1 km cell covers exactly 2×2 cells of 500 m. NaN is copied.
///
/// ```
/// use rsei_core::indicators::upsample_2x_nearest;
/// let d = upsample_2x_nearest(&[1.0, 2.0], 1, 2).unwrap();
/// assert_eq!(d, vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
/// ```
pub fn upsample_2x_nearest(src: &[f32], src_rows: usize, src_cols: usize) -> Result<Vec<f32>> {
    let mut out = vec![0f32; 4 * src_rows * src_cols];
    upsample_2x_window(src, src_rows, src_cols, Window::new(0, 0, 2 * src_rows, 2 * src_cols), Resample::Nearest, &mut out)?;
    Ok(out)
}

/// Bilinear 2× upsampling defined at cell centres. The centre of fine cell `r` lies at coarse
/// position `(r − 0.5)/2` (in units of coarse cells, centres at integers), i.e. a quarter coarse
/// cell from the centre of its parent `r/2`, towards the neighbour `r/2 − 1` (even `r`) or `r/2 + 1`
/// (odd `r`); the same in columns. Weights: parent 9/16, the two edge neighbours 3/16 each, the
/// diagonal 1/16. Edges are clamped (a missing neighbour is replaced by the parent, which is the
/// same as extending the edge cells).
///
/// **NaN:** a fine cell whose parent is NaN is NaN (nothing is invented inside a nodata cell); NaN
/// neighbours of a valid parent are left out and the remaining weights renormalised.
///
/// ```
/// use rsei_core::indicators::upsample_2x_bilinear;
/// // src [[0, 4], [8, 12]]; fine cell (1, 1): 9/16·0 + 3/16·4 + 3/16·8 + 1/16·12 = 3
/// let d = upsample_2x_bilinear(&[0.0, 4.0, 8.0, 12.0], 2, 2).unwrap();
/// assert_eq!(d[4 + 1], 3.0);
/// ```
pub fn upsample_2x_bilinear(src: &[f32], src_rows: usize, src_cols: usize) -> Result<Vec<f32>> {
    let mut out = vec![0f32; 4 * src_rows * src_cols];
    upsample_2x_window(src, src_rows, src_cols, Window::new(0, 0, 2 * src_rows, 2 * src_cols), Resample::Bilinear, &mut out)?;
    Ok(out)
}

/// Fills `out` (the cells of `window`, row-major) with the 2× upsampled values of `src`. `window`
/// is in the coordinates of the fine grid (`2·src_rows × 2·src_cols`) and may start at odd offsets.
/// The result equals the same window cut from [`upsample_2x_nearest`] / [`upsample_2x_bilinear`]
/// of the whole `src`. For bilinear, edge clamping happens at the edges of `src`: when `src` is a
/// window of a larger 1 km raster, give it a margin of one coarse cell to get the values of the
/// larger raster.
pub fn upsample_2x_window(src: &[f32], src_rows: usize, src_cols: usize, window: Window, method: Resample, out: &mut [f32]) -> Result<()> {
    check_len("1 km source raster", src_rows * src_cols, src.len())?;
    let (fr, fc) = (2 * src_rows, 2 * src_cols);
    if window.row_end() > fr || window.col_end() > fc {
        return Err(CoreError::WindowOutOfBounds { window: window.to_string(), rows: fr, cols: fc });
    }
    check_len("upsampled window", window.len(), out.len())?;
    if window.is_empty() {
        return Ok(());
    }
    match method {
        Resample::Nearest => {
            for (orow, r) in out.chunks_exact_mut(window.cols).zip(window.row..window.row_end()) {
                let srow = &src[(r / 2) * src_cols..(r / 2 + 1) * src_cols];
                for (o, c) in orow.iter_mut().zip(window.col..window.col_end()) {
                    *o = srow[c / 2];
                }
            }
        }
        Resample::Bilinear => {
            // neighbour index and weights along one axis
            let nb = |f: usize, n: usize| -> (usize, usize) {
                let p = f / 2;
                let q = if f % 2 == 0 { p.saturating_sub(1) } else { (p + 1).min(n - 1) };
                (p, q)
            };
            const W: [[f32; 2]; 2] = [[9.0 / 16.0, 3.0 / 16.0], [3.0 / 16.0, 1.0 / 16.0]];
            for (orow, r) in out.chunks_exact_mut(window.cols).zip(window.row..window.row_end()) {
                let (pr, qr) = nb(r, src_rows);
                for (o, c) in orow.iter_mut().zip(window.col..window.col_end()) {
                    let (pc, qc) = nb(c, src_cols);
                    let parent = src[pr * src_cols + pc];
                    if parent.is_nan() {
                        *o = f32::NAN;
                        continue;
                    }
                    let vals = [[parent, src[pr * src_cols + qc]], [src[qr * src_cols + pc], src[qr * src_cols + qc]]];
                    let (mut s, mut w) = (0f32, 0f32);
                    for i in 0..2 {
                        for j in 0..2 {
                            let v = vals[i][j];
                            if !v.is_nan() {
                                s += W[i][j] * v;
                                w += W[i][j];
                            }
                        }
                    }
                    *o = if w == 1.0 { s } else { s / w };
                }
            }
        }
    }
    Ok(())
}

/// How water is found (METHOD §3): MNDWI above a threshold, united with land-cover water classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WaterOptions {
    /// Water where MNDWI > this value (default 0).
    pub mndwi_threshold: f32,
    /// Land-cover classes that count as water (default `[0, 11]`: IGBP water and permanent wetlands
    /// as coded in MCD12C1). MCD12Q1 `LC_Type1` codes water bodies as 17: use `[11, 17]` there.
    pub landcover_water_classes: Vec<u8>,
}

impl Default for WaterOptions {
    fn default() -> Self {
        Self { mndwi_threshold: 0.0, landcover_water_classes: vec![0, 11] }
    }
}

/// The water mask: `true` where MNDWI > threshold, or (when a land-cover raster on the same grid is
/// given) where its class is one of the water classes. NaN MNDWI is not water by itself.
///
/// ```
/// use rsei_core::indicators::{water_mask, WaterOptions};
/// let m = water_mask(&[0.3, -0.2, f32::NAN], Some(&[10, 11, 10]), &WaterOptions::default()).unwrap();
/// assert_eq!(m, vec![true, true, false]);
/// ```
pub fn water_mask(mndwi: &[f32], landcover: Option<&[u8]>, opts: &WaterOptions) -> Result<Vec<bool>> {
    let t = opts.mndwi_threshold;
    let mut m: Vec<bool> = mndwi.iter().map(|&v| v > t).collect();
    if let Some(lc) = landcover {
        check_len("land-cover raster", mndwi.len(), lc.len())?;
        let mut is_water = [false; 256];
        for &c in &opts.landcover_water_classes {
            is_water[c as usize] = true;
        }
        for (w, &c) in m.iter_mut().zip(lc) {
            *w |= is_water[c as usize];
        }
    }
    Ok(m)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f32, b: f64, tol: f64) -> bool {
        (f64::from(a) - b).abs() <= tol
    }

    #[test]
    fn ndvi_mndwi_by_hand() {
        // NDVI (0.45 − 0.05)/(0.45 + 0.05) = 0.40/0.50 = 0.8
        assert!(close(ndvi(0.05, 0.45), 0.8, 1e-6));
        // red > nir: (0.1 − 0.3)/(0.4) = −0.5
        assert!(close(ndvi(0.3, 0.1), -0.5, 1e-6));
        // MNDWI (0.08 − 0.02)/(0.10) = 0.6 (water-like); (0.05 − 0.25)/0.30 = −2/3
        assert!(close(mndwi(0.08, 0.02), 0.6, 1e-6));
        assert!(close(mndwi(0.05, 0.25), -2.0 / 3.0, 1e-6));
        // zero denominators → NaN, never ±inf: nir = −red ≠ 0 would give x/0 = inf without the check
        assert!(ndvi(0.01, -0.01).is_nan());
        assert!(ndvi(0.0, 0.0).is_nan());
        assert!(mndwi(-0.005, 0.005).is_nan());
        assert!(ndvi(f32::NAN, 0.3).is_nan() && mndwi(0.1, f32::NAN).is_nan());
    }

    #[test]
    fn ndbsi_by_hand() {
        // red 0.1, nir 0.3, blue 0.05, green 0.08, swir1 0.2
        // SI = ((0.2 + 0.1) − (0.3 + 0.05)) / ((0.2 + 0.1) + (0.3 + 0.05)) = −0.05/0.65 = −0.0769231
        // A = 2·0.2/(0.2 + 0.3) = 0.8; B = 0.3/(0.3 + 0.1) + 0.08/(0.08 + 0.2) = 0.75 + 0.2857143 = 1.0357143
        // IBI = (0.8 − 1.0357143)/(0.8 + 1.0357143) = −0.2357143/1.8357143 = −0.1284047
        // NDBSI = (−0.0769231 − 0.1284047)/2 = −0.1026639
        assert!(close(si(0.1, 0.3, 0.05, 0.2), -0.076_923_1, 1e-6));
        assert!(close(ibi(0.1, 0.3, 0.08, 0.2), -0.128_404_7, 1e-6));
        assert!(close(ndbsi(0.1, 0.3, 0.05, 0.08, 0.2), -0.102_663_9, 1e-6));
        // bare soil: red 0.25, nir 0.3, blue 0.12, green 0.18, swir1 0.4
        // SI = (0.65 − 0.42)/(1.07) = 0.2149533; A = 0.8/0.7 = 1.1428571; B = 0.3/0.55 + 0.18/0.58 = 0.5454545 + 0.3103448 = 0.8557994
        // IBI = 0.2870577/1.9986566 = 0.1436253; NDBSI = (0.2149533 + 0.1436253)/2 = 0.1792893
        assert!(close(ndbsi(0.25, 0.3, 0.12, 0.18, 0.4), 0.179_289_3, 1e-6));
    }

    #[test]
    fn ndbsi_every_zero_denominator() {
        // SI denominator: swir1 + red + nir + blue = 0 with other sums non-zero: red 0.1, nir 0.1, blue −0.1, swir1 −0.1... keep it simple:
        // all zero → every denominator 0
        assert!(ndbsi(0.0, 0.0, 0.0, 0.0, 0.0).is_nan());
        // swir1 + nir = 0 (A's denominator): nir 0.01, swir1 −0.01
        assert!(ibi(0.1, 0.01, 0.1, -0.01).is_nan());
        // nir + red = 0: red −0.01, nir 0.01
        assert!(ibi(-0.01, 0.01, 0.1, 0.2).is_nan());
        // green + swir1 = 0: green −0.01, swir1 0.01
        assert!(ibi(0.1, 0.2, -0.01, 0.01).is_nan());
        // A + B = 0: A = 2s/(s+n); pick red so that B = −A. n = 0.1, s = 0.1 → A = 1; green = 0 → B = n/(n+r) = −1 → r = −0.2
        assert!(ibi(-0.2, 0.1, 0.0, 0.1).is_nan());
        // SI's outer denominator: (s + r) + (n + b) = 0 with s + r = 0.5, n + b = −0.5 (binary-exact values):
        // s 0.5, r 0, n 0.25, b −0.75
        assert!(si(0.0, 0.25, -0.75, 0.5).is_nan());
        assert!(ndbsi(0.0, 0.25, -0.75, 0.3, 0.5).is_nan());
    }

    #[test]
    fn wetness_lst_by_hand() {
        // ρ = 0.1 everywhere: WET = 0.1 × Σc = 0.1 × (0.1147 + 0.2489 + 0.2408 + 0.3132 − 0.3122 − 0.6416 − 0.5087)
        //   = 0.1 × (−0.5449) = −0.05449
        assert!(close(wetness(&[0.1; 7], &WetnessCoefficients::MODIS), -0.05449, 1e-6));
        // one band at a time picks its coefficient: ρ6 = 1, rest 0 → −0.6416
        let mut rho = [0f32; 7];
        rho[SWIR1] = 1.0;
        assert!(close(wetness(&rho, &WetnessCoefficients::MODIS), -0.6416, 1e-7));
        // OLI: swir1 slot gets −0.7117 (B6), blue slot 0.1511 (B2)
        rho[BLUE] = 1.0;
        assert!(close(wetness(&rho, &WetnessCoefficients::LANDSAT_OLI_TOA), 0.1511 - 0.7117, 1e-6));
        assert!(wetness(&[f32::NAN, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], &WetnessCoefficients::MODIS).is_nan());
        // LST: DN 15000 × 0.02 = 300 K = 26.85 °C; DN 0 is fill
        assert!(close(lst_kelvin_from_dn(15000), 300.0, 1e-4));
        assert!(close(lst_celsius(lst_kelvin_from_dn(15000)), 26.85, 1e-4));
        assert!(lst_kelvin_from_dn(0).is_nan());
        assert!(lst_celsius(f32::NAN).is_nan());
    }

    #[test]
    fn coefficient_levels_warn() {
        let m = WetnessCoefficients::MODIS;
        assert_eq!(m.check_use(Sensor::Modis, ProductLevel::SurfaceReflectance), None);
        let w = m.check_use(Sensor::Modis, ProductLevel::ToaReflectance).unwrap();
        assert!(w.contains("Lobser & Cohen 2007") && w.contains("ToaReflectance"), "{w}");
        let oli = WetnessCoefficients::for_sensor(Sensor::LandsatOli);
        assert_eq!(oli.level, ProductLevel::ToaReflectance);
        assert!(oli.check_use(Sensor::LandsatOli, ProductLevel::SurfaceReflectance).is_some());
        assert!(WetnessCoefficients::LANDSAT_TM_SR.check_use(Sensor::LandsatEtm, ProductLevel::SurfaceReflectance).is_some());
        assert_eq!(WetnessCoefficients::LANDSAT_ETM_TOA.check_use(Sensor::LandsatEtm, ProductLevel::ToaReflectance), None);
        // the published numbers, per band, in their slots
        assert_eq!(WetnessCoefficients::LANDSAT_TM_SR.coefficients[BLUE], 0.0315);
        assert_eq!(WetnessCoefficients::LANDSAT_ETM_TOA.coefficients[SWIR2], -0.5388);
        assert_eq!(WetnessCoefficients::LANDSAT_OLI_TOA.coefficients[NIR2], 0.0);
    }

    fn bands_from(v: &[[f32; 7]]) -> Vec<Vec<f32>> {
        (0..7).map(|k| v.iter().map(|p| p[k]).collect()).collect()
    }

    #[test]
    fn kernel_matches_scalars_and_handles_nodata() {
        let px = [
            [0.1, 0.3, 0.05, 0.08, 0.25, 0.2, 0.15],
            [0.0; 7],
            [f32::NAN, 0.3, 0.05, 0.08, 0.25, 0.2, 0.15],
            [0.25, 0.3, 0.12, 0.18, 0.35, 0.4, 0.3],
            [-0.01, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06],
        ];
        let b = bands_from(&px);
        let n = px.len();
        let (mut w, mut d, mut m, mut v) = (vec![0f32; n], vec![0f32; n], vec![0f32; n], vec![0f32; n]);
        let bands: [&[f32]; 7] = std::array::from_fn(|k| b[k].as_slice());
        compute_indicators(bands, &WetnessCoefficients::MODIS, IndicatorsOut { wet: &mut w, ndbsi: &mut d, mndwi: &mut m, ndvi: Some(&mut v) }).unwrap();
        for (i, p) in px.iter().enumerate() {
            let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
            assert!(same(w[i], wetness(p, &WetnessCoefficients::MODIS)));
            assert!(same(d[i], ndbsi(p[0], p[1], p[2], p[3], p[5])));
            assert!(same(m[i], mndwi(p[3], p[5])));
            assert!(same(v[i], ndvi(p[0], p[1])));
            assert!(!w[i].is_infinite() && !d[i].is_infinite() && !m[i].is_infinite() && !v[i].is_infinite());
        }
        assert!(d[1].is_nan() && m[1].is_nan() && v[1].is_nan());
        assert_eq!(w[1], 0.0);
        assert!(w[2].is_nan() && d[2].is_nan() && v[2].is_nan());
        assert!(!m[2].is_nan()); // MNDWI does not use red
        assert!(v[4].is_nan()); // red + nir = 0
        // mismatched lengths are an error, not a panic
        let short = [0f32; 2];
        let mut bands2 = bands;
        bands2[3] = &short;
        assert!(compute_indicators(bands2, &WetnessCoefficients::MODIS, IndicatorsOut { wet: &mut w, ndbsi: &mut d, mndwi: &mut m, ndvi: None }).is_err());
    }

    proptest! {
        #[test]
        fn parallel_equals_serial(rows in 1usize..40, cols in 1usize..50, seed in any::<u64>()) {
            let n = rows * cols;
            let mut s = seed | 1;
            let mut next = || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; ((s >> 40) as f32 / (1u64 << 24) as f32) * 0.6 - 0.05 };
            let b: Vec<Vec<f32>> = (0..7).map(|_| (0..n).map(|_| next()).collect()).collect();
            let bands: [&[f32]; 7] = std::array::from_fn(|k| b[k].as_slice());
            let mut o1: Vec<Vec<f32>> = (0..4).map(|_| vec![0f32; n]).collect();
            let mut o2 = o1.clone();
            {
                let [a, bb, c, d] = &mut o1[..] else { unreachable!() };
                compute_indicators(bands, &WetnessCoefficients::MODIS, IndicatorsOut { wet: a, ndbsi: bb, mndwi: c, ndvi: Some(d) }).unwrap();
            }
            {
                let [a, bb, c, d] = &mut o2[..] else { unreachable!() };
                compute_indicators_par(bands, cols, &WetnessCoefficients::MODIS, IndicatorsOut { wet: a, ndbsi: bb, mndwi: c, ndvi: Some(d) }).unwrap();
            }
            for k in 0..4 {
                let x: Vec<u32> = o1[k].iter().map(|v| v.to_bits()).collect();
                let y: Vec<u32> = o2[k].iter().map(|v| v.to_bits()).collect();
                prop_assert_eq!(x, y);
            }
        }

        #[test]
        fn upsample_window_equals_crop(rows in 1usize..7, cols in 1usize..7, a in any::<usize>(), b in any::<usize>(), c in any::<usize>(), d in any::<usize>(), bil in any::<bool>(), nan_at in 0usize..60) {
            let src: Vec<f32> = (0..rows * cols).map(|i| if i == nan_at { f32::NAN } else { (i * 7 % 11) as f32 }).collect();
            let (fr, fc) = (2 * rows, 2 * cols);
            let (r0, c0) = (a % (fr + 1), b % (fc + 1));
            let (h, w) = (c % (fr - r0 + 1), d % (fc - c0 + 1));
            let method = if bil { Resample::Bilinear } else { Resample::Nearest };
            let full = if bil { upsample_2x_bilinear(&src, rows, cols).unwrap() } else { upsample_2x_nearest(&src, rows, cols).unwrap() };
            let mut out = vec![0f32; h * w];
            upsample_2x_window(&src, rows, cols, Window::new(r0, c0, h, w), method, &mut out).unwrap();
            for r in 0..h {
                for c in 0..w {
                    let a = out[r * w + c];
                    let b = full[(r0 + r) * fc + c0 + c];
                    prop_assert!(a.to_bits() == b.to_bits());
                }
            }
        }
    }

    #[test]
    fn upsample_by_hand() {
        // nearest: 2×2 → 4×4, each value fills its 2×2 block
        let src = [0.0f32, 4.0, 8.0, 12.0];
        let n = upsample_2x_nearest(&src, 2, 2).unwrap();
        assert_eq!(n, vec![0., 0., 4., 4., 0., 0., 4., 4., 8., 8., 12., 12., 8., 8., 12., 12.]);
        // bilinear: fine (0,0) is clamped at both edges → parent only = 0
        // fine (1,1) = 9/16·0 + 3/16·4 + 3/16·8 + 1/16·12 = 0.75 + 1.5 + 0.75 = 3
        // fine (1,2): row odd → neighbour row 1; col 2 even → parent col 1, neighbour col 0
        //   = 9/16·4 + 3/16·0 (col nb) + 3/16·12 (row nb) + 1/16·8 = 2.25 + 0 + 2.25 + 0.5 = 5
        // fine (3,3): clamped → 12
        let b = upsample_2x_bilinear(&src, 2, 2).unwrap();
        assert_eq!(b[0], 0.0);
        assert_eq!(b[5], 3.0);
        assert_eq!(b[6], 5.0);
        assert_eq!(b[15], 12.0);
        // NaN neighbour: src [[0, NaN], [8, 12]]; fine (1,1) uses weights of 0, 8, 12 = 9/16 + 3/16 + 1/16 = 13/16
        //   value = (3/16·8 + 1/16·12)/(13/16) = (1.5 + 0.75)/0.8125 = 2.769231
        let b = upsample_2x_bilinear(&[0.0, f32::NAN, 8.0, 12.0], 2, 2).unwrap();
        assert!(close(b[5], 2.25 / 0.8125, 1e-6));
        // the NaN parent's own cells stay NaN
        assert!(b[2].is_nan() && b[3].is_nan() && b[6].is_nan() && b[7].is_nan());
        // windows outside the fine grid are refused
        let mut out = [0f32; 4];
        assert!(matches!(upsample_2x_window(&src, 2, 2, Window::new(3, 3, 2, 2), Resample::Nearest, &mut out), Err(CoreError::WindowOutOfBounds { .. })));
        // odd offset window: rows 1..3, cols 1..3 of the nearest result = [0, 4, 8, 12]
        upsample_2x_window(&src, 2, 2, Window::new(1, 1, 2, 2), Resample::Nearest, &mut out).unwrap();
        assert_eq!(out, [0.0, 4.0, 8.0, 12.0]);
    }

    #[test]
    fn water_mask_rules() {
        let opts = WaterOptions::default();
        // threshold is strict: MNDWI = 0 is not water
        let m = water_mask(&[0.0, 0.01, -0.5, f32::NAN], None, &opts).unwrap();
        assert_eq!(m, vec![false, true, false, false]);
        // land cover 0 (water) and 11 (wetlands) are water whatever MNDWI says; 255 (fill) is not
        let m = water_mask(&[-0.5, -0.5, -0.5, f32::NAN], Some(&[0, 11, 255, 0]), &opts).unwrap();
        assert_eq!(m, vec![true, true, false, true]);
        let custom = WaterOptions { mndwi_threshold: 0.2, landcover_water_classes: vec![17] };
        let m = water_mask(&[0.1, 0.3], Some(&[17, 1]), &custom).unwrap();
        assert_eq!(m, vec![true, true]);
        assert!(water_mask(&[0.1, 0.3], Some(&[17]), &custom).is_err());
    }
}
