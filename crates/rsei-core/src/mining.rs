//! # Mining impact on RSEI (METHOD §5, paper Figs. 3–6)
//!
//! Inputs: one RSEI raster per year on one grid (`NaN` = nodata), an optional exclusion mask
//! (water), the city polygon, the union of the mines (clipped to the city), each mine with its id,
//! name, equal-area area and centroid latitude, the distance rings, and optionally the latitude of
//! each pixel. All polygons are in the raster's CRS. The geometry (union, buffers, ring differences,
//! clipping, areas, centroids, reprojection) is computed by the caller with GEOS through GDAL
//! (`rsei-io`'s `vector` module); this module only measures rasters inside polygons, with either
//! [`PixelRule`] (centre by default, exact coverage as an option). Coverages are computed once and
//! reused for every year.
//!
//! Outputs ([`MiningReport`]) are tables, one row per item, all serde-serialisable:
//!
//! | table | one row per | content |
//! |---|---|---|
//! | `mine_vs_city` | year | n, mean, std inside any mine and over the whole city; `abs_diff` = \|mean_mines − mean_city\| |
//! | `histograms` | year × zone × bin | 50 bins on [0, 1] (configurable): weight and density |
//! | `densities` | year × zone × point | Gaussian KDE on [0, 1] with Silverman's bandwidth (stated in each row) |
//! | `rings` | ring × year | n, mean, std of RSEI per distance ring |
//! | `ring_profile` | ring | multi-year mean (mean of the yearly means), fitted trend value |
//! | `ring_summary` | — | distance of the highest multi-year mean, the fitted trend, its turning points |
//! | `per_mine` | mine × year | id, name, area km², size class, n, mean, std |
//! | `size_classes` | class × year | box plot of the mines' mean RSEI (R type-7 quantiles, 1.5·IQR outliers) |
//! | `latitude` | band × year | mean ± std of RSEI per latitude band over the city |
//! | `mines_per_band` | band | number of mines whose centroid lies in the band |
//!
//! Conventions (stated here once):
//! - **std** is the weighted population standard deviation `√(Σw(x − m)²/Σw)` (weights 1 under the
//!   centre rule), as in [`crate::zonal`].
//! - **Distance of a ring**: ring 0 (inside the mines) is placed at 0 km, ring k (from
//!   `inner_km` to `outer_km`) at its outer distance, as buffer distances are labelled in the paper
//!   ("the mean value of all image pixels within the mine was computed when the distance was 0").
//! - **Trend**: a polynomial of degree 3 (configurable) fitted by least squares (Householder QR on
//!   scaled distances) to the multi-year ring means against ring distance; coefficients in
//!   `RSEI = c₀ + c₁d + c₂d² + c₃d³` with `d` in km, and `R² = 1 − SS_res/SS_tot`.
//! - **Turning points** of the fitted curve: roots of its derivative strictly inside the fitted
//!   distance range; the first one is reported with its kind (maximum if the second derivative is
//!   negative, else minimum), and the first local maximum separately.
//! - **Histogram**: bin k holds [k/B, (k+1)/B), the last bin also holds 1; values outside [0, 1]
//!   are counted in a note. Density = weight / (Σweight · bin width).
//! - **KDE**: `f(x) = Σ wᵢ φ((x − xᵢ)/h) / (h Σ wᵢ)` with Silverman's rule of thumb (R's
//!   `bw.nrd0`) `h = 0.9 · min(s, IQR/1.34) · n^(−1/5)`; with coverage weights `n` is the effective
//!   size `(Σw)²/Σw²`, `s` the weighted standard deviation with the `n/(n − 1)` correction and the IQR
//!   from weighted type-7 quantiles (see below). When `min(s, IQR/1.34) = 0`, `s` is used, then
//!   `|x₁|`, then 1 (as `bw.nrd0`).
//! - **Quantiles**: R type 7. Weighted version (coverage rule): values sorted, plotting position
//!   `pᵢ = Σ_{j<i} wⱼ / (Σw − w_last)`, linear interpolation — equal weights give type 7 exactly.
//! - **Box plots**: over the mines' yearly mean RSEI in a size class (each mine one value): min, q1,
//!   median, q3, max, whiskers at the most extreme values within `[q1 − 1.5·IQR, q3 + 1.5·IQR]`, and
//!   the outliers beyond.
//! - **Size classes**: breaks `b₁ < … < bₖ` (km², default 0.25, 0.5, 0.75, 1) give classes
//!   `< b₁`, `[b₁, b₂)`, …, `≥ bₖ`.
//! - **Latitude bands**: band i holds latitudes `[i·w, (i+1)·w)` (w = 0.05° by default), using each
//!   city pixel's latitude as supplied; mines are counted by centroid latitude.
//!
//! These histogram, density and box-plot helpers are private to this module for now.

use std::collections::BTreeMap;

use geo_types::MultiPolygon;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::accum::Accumulator;
use crate::error::{CoreError, Result};
use crate::grid::Grid;
use crate::zonal::{coverages, zonal_stats_from_coverages, Coverage, PixelRule, ZonalAccumulator, ZonalStats};

/// One mine, its geometry in the raster's CRS.
#[derive(Clone, Debug, PartialEq)]
pub struct MineInput {
    pub id: String,
    pub name: String,
    /// Area in the equal-area CRS, km².
    pub area_km2: f64,
    /// Latitude of the centroid, degrees north.
    pub centroid_lat: f64,
    pub geometry: MultiPolygon<f64>,
}

/// One distance ring (ring 0 = inside the mines), clipped to the city, in the raster's CRS.
#[derive(Clone, Debug, PartialEq)]
pub struct RingInput {
    pub index: usize,
    pub inner_km: f64,
    pub outer_km: f64,
    pub geometry: MultiPolygon<f64>,
}

/// One year's RSEI values (row-major on the common grid, `NaN` = nodata).
#[derive(Clone, Copy, Debug)]
pub struct YearRaster<'a> {
    pub year: i32,
    pub values: &'a [f32],
}

/// Latitude of each pixel centre, degrees north: one value per grid row (north-up grids whose rows
/// follow parallels) or one per pixel (row-major).
#[derive(Clone, Copy, Debug)]
pub enum Latitudes<'a> {
    PerRow(&'a [f64]),
    PerPixel(&'a [f64]),
}

/// Everything the analysis reads.
#[derive(Clone, Copy, Debug)]
pub struct MiningInputs<'a> {
    pub grid: &'a Grid,
    pub years: &'a [YearRaster<'a>],
    /// Cells to leave out of every statistic (e.g. water), same length as the rasters.
    pub exclude: Option<&'a [bool]>,
    pub city: &'a MultiPolygon<f64>,
    /// Union of all mines, clipped to the city.
    pub mines_union: &'a MultiPolygon<f64>,
    pub mines: &'a [MineInput],
    pub rings: &'a [RingInput],
    pub latitudes: Option<Latitudes<'a>>,
}

/// Options (defaults: METHOD §5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MiningOptions {
    pub rule: PixelRule,
    /// Histogram bins on [0, 1] (default 50).
    pub hist_bins: usize,
    /// KDE evaluation points on [0, 1], both ends included (default 101).
    pub kde_points: usize,
    /// Size-class breaks in km², strictly increasing (default 0.25, 0.5, 0.75, 1).
    pub size_breaks_km2: Vec<f64>,
    /// Latitude band width in degrees (default 0.05).
    pub lat_band_deg: f64,
    /// Degree of the trend polynomial (default 3).
    pub trend_degree: usize,
}

impl Default for MiningOptions {
    fn default() -> Self {
        Self {
            rule: PixelRule::Centre,
            hist_bins: 50,
            kde_points: 101,
            size_breaks_km2: vec![0.25, 0.5, 0.75, 1.0],
            lat_band_deg: 0.05,
            trend_degree: 3,
        }
    }
}

impl MiningOptions {
    /// Checks every option, naming the one at fault.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, reason: String| Err(CoreError::InvalidOption { name: name.into(), reason });
        if self.hist_bins == 0 {
            return bad("hist_bins", "must be at least 1".into());
        }
        if self.kde_points < 2 {
            return bad("kde_points", format!("must be at least 2, got {}", self.kde_points));
        }
        if self.size_breaks_km2.iter().any(|b| !b.is_finite() || *b <= 0.0)
            || self.size_breaks_km2.windows(2).any(|w| w[0] >= w[1])
        {
            return bad("size_breaks_km2", format!("must be positive and strictly increasing, got {:?}", self.size_breaks_km2));
        }
        if !(self.lat_band_deg.is_finite() && self.lat_band_deg > 0.0) {
            return bad("lat_band_deg", format!("must be > 0, got {}", self.lat_band_deg));
        }
        if self.trend_degree == 0 || self.trend_degree > 6 {
            return bad("trend_degree", format!("must be 1..6, got {}", self.trend_degree));
        }
        Ok(())
    }
}

/// Mines vs the whole city in one year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MineVsCityRow {
    pub year: i32,
    pub mines_n: u64,
    pub mines_weighted_n: f64,
    pub mines_mean: Option<f64>,
    pub mines_std: Option<f64>,
    pub city_n: u64,
    pub city_weighted_n: f64,
    pub city_mean: Option<f64>,
    pub city_std: Option<f64>,
    /// |mines_mean − city_mean|.
    pub abs_diff: Option<f64>,
}

/// One histogram bin of one zone ("mines" or "city") in one year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistogramRow {
    pub year: i32,
    pub zone: String,
    pub bin: usize,
    pub lower: f64,
    pub upper: f64,
    /// Σ weights of the values in the bin (a pixel count under the centre rule).
    pub weight: f64,
    /// weight / (Σ weight · bin width).
    pub density: f64,
}

/// One KDE point of one zone in one year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DensityRow {
    pub year: i32,
    pub zone: String,
    pub x: f64,
    pub density: f64,
    /// Silverman bandwidth used.
    pub bandwidth: f64,
}

/// Statistics of one ring in one year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RingYearRow {
    pub ring: usize,
    pub inner_km: f64,
    pub outer_km: f64,
    /// Where the ring is plotted (0 for ring 0, else `outer_km`).
    pub distance_km: f64,
    pub year: i32,
    pub n: u64,
    pub weighted_n: f64,
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

/// The multi-year profile of one ring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RingProfileRow {
    pub ring: usize,
    pub inner_km: f64,
    pub outer_km: f64,
    pub distance_km: f64,
    /// Years with at least one valid pixel in the ring.
    pub years_with_data: usize,
    /// Mean of the yearly ring means.
    pub multi_year_mean: Option<f64>,
    /// Value of the fitted trend at `distance_km`.
    pub fitted: Option<f64>,
}

/// A least-squares polynomial trend of RSEI against distance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendFit {
    /// Plain-words model statement.
    pub model: String,
    pub degree: usize,
    /// `c₀ … c_degree` of `RSEI = Σ cₖ dᵏ`, d in km.
    pub coefficients: Vec<f64>,
    pub r2: f64,
    pub n_points: usize,
    /// Roots of the derivative inside the fitted range, ascending, with "maximum"/"minimum".
    pub turning_points: Vec<(f64, String)>,
    /// First turning point (distance km), `None` when the curve is monotonic on the range.
    pub first_turning_point_km: Option<f64>,
    /// Its kind: "maximum" or "minimum".
    pub first_turning_kind: Option<String>,
    /// First local maximum (km).
    pub first_local_max_km: Option<f64>,
}

impl TrendFit {
    /// Value of the fitted polynomial at `d` km.
    pub fn eval(&self, d: f64) -> f64 {
        self.coefficients.iter().rev().fold(0.0, |acc, c| acc * d + c)
    }
}

/// Peak and trend of the distance profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RingSummary {
    /// Distance (km) of the highest multi-year ring mean (the first if tied).
    pub peak_distance_km: Option<f64>,
    pub peak_mean: Option<f64>,
    pub trend: Option<TrendFit>,
}

/// One mine in one year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MineYearRow {
    pub id: String,
    pub name: String,
    pub area_km2: f64,
    pub size_class: String,
    pub year: i32,
    pub n: u64,
    pub weighted_n: f64,
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

/// Box plot of the mines' mean RSEI in one size class and year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeClassRow {
    pub size_class: String,
    pub lower_km2: Option<f64>,
    pub upper_km2: Option<f64>,
    pub year: i32,
    /// Mines with a mean value this year.
    pub n_mines: usize,
    pub boxplot: Option<BoxPlot>,
}

/// Box-plot statistics (R type-7 quantiles).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoxPlot {
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
    pub whisker_low: f64,
    pub whisker_high: f64,
    pub outliers: Vec<f64>,
}

/// Mean ± std of RSEI in one latitude band and year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatitudeRow {
    pub lat_south: f64,
    pub lat_north: f64,
    pub year: i32,
    pub n: u64,
    pub weighted_n: f64,
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

/// Number of mines by centroid latitude band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinesPerBandRow {
    pub lat_south: f64,
    pub lat_north: f64,
    pub mines: usize,
}

/// All tables of the mining analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MiningReport {
    pub rule: PixelRule,
    pub mine_vs_city: Vec<MineVsCityRow>,
    pub histograms: Vec<HistogramRow>,
    pub densities: Vec<DensityRow>,
    pub rings: Vec<RingYearRow>,
    pub ring_profile: Vec<RingProfileRow>,
    pub ring_summary: RingSummary,
    pub per_mine: Vec<MineYearRow>,
    pub size_classes: Vec<SizeClassRow>,
    pub latitude: Vec<LatitudeRow>,
    pub mines_per_band: Vec<MinesPerBandRow>,
    /// Plain-language remarks (empty zones, values outside [0, 1], skipped fits…).
    pub notes: Vec<String>,
}

fn check_inputs(inp: &MiningInputs<'_>) -> Result<()> {
    let n = inp.grid.len();
    if inp.years.is_empty() {
        return Err(CoreError::InvalidOption { name: "years".into(), reason: "no RSEI raster given".into() });
    }
    for y in inp.years {
        if y.values.len() != n {
            return Err(CoreError::GridMismatch(format!(
                "RSEI of year {} has {} values, the grid {}×{} has {n} cells",
                y.year,
                y.values.len(),
                inp.grid.rows(),
                inp.grid.cols()
            )));
        }
    }
    if let Some(e) = inp.exclude {
        if e.len() != n {
            return Err(CoreError::BufferSize { got: e.len(), expected: n, rows: inp.grid.rows(), cols: inp.grid.cols() });
        }
    }
    match inp.latitudes {
        Some(Latitudes::PerRow(l)) if l.len() != inp.grid.rows() => {
            return Err(CoreError::InvalidOption {
                name: "latitudes".into(),
                reason: format!("{} per-row latitudes for a grid of {} rows", l.len(), inp.grid.rows()),
            })
        }
        Some(Latitudes::PerPixel(l)) if l.len() != n => {
            return Err(CoreError::InvalidOption {
                name: "latitudes".into(),
                reason: format!("{} per-pixel latitudes for a grid of {n} cells", l.len()),
            })
        }
        _ => {}
    }
    if inp.mines.is_empty() {
        return Err(CoreError::InvalidOption { name: "mines".into(), reason: "no mine polygon given".into() });
    }
    for m in inp.mines {
        if !(m.area_km2.is_finite() && m.area_km2 >= 0.0) {
            return Err(CoreError::InvalidOption { name: "mines".into(), reason: format!("mine {} has area {} km²", m.id, m.area_km2) });
        }
    }
    Ok(())
}

/// Runs the whole mining analysis (see the module documentation for every definition).
pub fn analyse_mining(inp: &MiningInputs<'_>, opts: &MiningOptions) -> Result<MiningReport> {
    opts.validate()?;
    check_inputs(inp)?;
    let grid = inp.grid;
    let rule = opts.rule;
    let mut notes = Vec::new();
    let named = |what: &str, r: Result<Vec<Option<Coverage>>>| {
        r.map_err(|e| match e {
            CoreError::InvalidGeometry(m) => CoreError::InvalidGeometry(format!("{what}: {m}")),
            o => o,
        })
    };
    let zone_cov = named("city / mines union", coverages(grid, &[inp.city.clone(), inp.mines_union.clone()], rule))?;
    let mine_geoms: Vec<MultiPolygon<f64>> = inp.mines.iter().map(|m| m.geometry.clone()).collect();
    let mine_cov = named("mines", coverages(grid, &mine_geoms, rule))?;
    let ring_geoms: Vec<MultiPolygon<f64>> = inp.rings.iter().map(|r| r.geometry.clone()).collect();
    let ring_cov = named("rings", coverages(grid, &ring_geoms, rule))?;
    if zone_cov[0].is_none() {
        return Err(CoreError::NoValidPixels("the city polygon does not overlap the RSEI grid".into()));
    }

    let classes = SizeClasses::new(&opts.size_breaks_km2);
    let mut report = MiningReport {
        rule,
        mine_vs_city: Vec::new(),
        histograms: Vec::new(),
        densities: Vec::new(),
        rings: Vec::new(),
        ring_profile: Vec::new(),
        ring_summary: RingSummary { peak_distance_km: None, peak_mean: None, trend: None },
        per_mine: Vec::new(),
        size_classes: Vec::new(),
        latitude: Vec::new(),
        mines_per_band: Vec::new(),
        notes: Vec::new(),
    };
    let mut ring_stats: Vec<Vec<ZonalStats>> = Vec::with_capacity(inp.years.len());
    let mut lat_bands: BTreeMap<i64, ()> = BTreeMap::new();

    for y in inp.years {
        // ---- mines vs city, distributions
        let zs = zonal_stats_from_coverages(grid, y.values, inp.exclude, &zone_cov, true)?;
        let (city, mines) = (&zs[0], &zs[1]);
        if city.count == 0 {
            notes.push(format!("{}: no valid RSEI pixel in the city", y.year));
        }
        if mines.count == 0 {
            notes.push(format!("{}: no valid RSEI pixel inside the mines", y.year));
        }
        report.mine_vs_city.push(MineVsCityRow {
            year: y.year,
            mines_n: mines.count,
            mines_weighted_n: mines.weighted_count,
            mines_mean: mines.mean,
            mines_std: mines.std,
            city_n: city.count,
            city_weighted_n: city.weighted_count,
            city_mean: city.mean,
            city_std: city.std,
            abs_diff: mines.mean.zip(city.mean).map(|(a, b)| (a - b).abs()),
        });
        for (zone, s) in [("mines", mines), ("city", city)] {
            let (rows, outside) = histogram_rows(y.year, zone, &s.values, &s.weights, opts.hist_bins);
            if outside > 0 {
                notes.push(format!("{} {zone}: {outside} value(s) outside [0, 1] not binned", y.year));
            }
            report.histograms.extend(rows);
            let h = silverman_bandwidth(&s.values, &s.weights);
            if h.is_none() && s.count > 0 {
                notes.push(format!("{} {zone}: fewer than 2 values, no density estimate", y.year));
            }
            if let Some(h) = h {
                let xs: Vec<f64> = (0..opts.kde_points).map(|i| i as f64 / (opts.kde_points - 1) as f64).collect();
                let d = gaussian_kde(&s.values, &s.weights, &xs, h);
                report.densities.extend(xs.iter().zip(d).map(|(&x, density)| DensityRow {
                    year: y.year,
                    zone: zone.into(),
                    x,
                    density,
                    bandwidth: h,
                }));
            }
        }

        // ---- latitude profile over the city
        if let Some(lats) = inp.latitudes {
            let mut bands: BTreeMap<i64, ZonalAccumulator> = BTreeMap::new();
            if let Some(c) = &zone_cov[0] {
                for (r, col, w) in c.iter() {
                    let i = grid.index(r, col);
                    if inp.exclude.is_some_and(|e| e[i]) {
                        continue;
                    }
                    let lat = match lats {
                        Latitudes::PerRow(l) => l[r],
                        Latitudes::PerPixel(l) => l[i],
                    };
                    if !lat.is_finite() {
                        continue;
                    }
                    bands.entry(band_of(lat, opts.lat_band_deg)).or_default().add(y.values[i], w);
                }
            }
            for (b, acc) in bands {
                let s = acc.finish();
                lat_bands.insert(b, ());
                report.latitude.push(LatitudeRow {
                    lat_south: b as f64 * opts.lat_band_deg,
                    lat_north: (b + 1) as f64 * opts.lat_band_deg,
                    year: y.year,
                    n: s.count,
                    weighted_n: s.weighted_count,
                    mean: s.mean,
                    std: s.std,
                });
            }
        }

        // ---- rings
        let rs = zonal_stats_from_coverages(grid, y.values, inp.exclude, &ring_cov, false)?;
        for (ring, s) in inp.rings.iter().zip(&rs) {
            report.rings.push(RingYearRow {
                ring: ring.index,
                inner_km: ring.inner_km,
                outer_km: ring.outer_km,
                distance_km: ring_distance(ring),
                year: y.year,
                n: s.count,
                weighted_n: s.weighted_count,
                mean: s.mean,
                std: s.std,
            });
        }
        ring_stats.push(rs);

        // ---- per mine
        let ms = zonal_stats_from_coverages(grid, y.values, inp.exclude, &mine_cov, false)?;
        for (m, s) in inp.mines.iter().zip(&ms) {
            report.per_mine.push(MineYearRow {
                id: m.id.clone(),
                name: m.name.clone(),
                area_km2: m.area_km2,
                size_class: classes.label(classes.class_of(m.area_km2)),
                year: y.year,
                n: s.count,
                weighted_n: s.weighted_count,
                mean: s.mean,
                std: s.std,
            });
        }
        // ---- size-class box plots
        for k in 0..classes.len() {
            let mut means: Vec<f64> = inp
                .mines
                .iter()
                .zip(&ms)
                .filter(|(m, _)| classes.class_of(m.area_km2) == k)
                .filter_map(|(_, s)| s.mean)
                .collect();
            means.sort_by(f64::total_cmp);
            let (lo, hi) = classes.bounds(k);
            report.size_classes.push(SizeClassRow {
                size_class: classes.label(k),
                lower_km2: lo,
                upper_km2: hi,
                year: y.year,
                n_mines: means.len(),
                boxplot: boxplot(&means),
            });
        }
    }

    // ---- multi-year ring profile, peak and trend
    let mut pts = Vec::new();
    for (k, ring) in inp.rings.iter().enumerate() {
        let means: Vec<f64> = ring_stats.iter().filter_map(|rs| rs[k].mean).collect();
        let m = (!means.is_empty()).then(|| means.iter().sum::<f64>() / means.len() as f64);
        if m.is_none() {
            notes.push(format!("ring {} ({}–{} km): no valid pixel in any year", ring.index, ring.inner_km, ring.outer_km));
        }
        if let Some(v) = m {
            pts.push((ring_distance(ring), v));
        }
        report.ring_profile.push(RingProfileRow {
            ring: ring.index,
            inner_km: ring.inner_km,
            outer_km: ring.outer_km,
            distance_km: ring_distance(ring),
            years_with_data: means.len(),
            multi_year_mean: m,
            fitted: None,
        });
    }
    if let Some(&(d, v)) = pts.iter().fold(None, |best: Option<&(f64, f64)>, p| match best {
        Some(b) if b.1 >= p.1 => Some(b),
        _ => Some(p),
    }) {
        report.ring_summary.peak_distance_km = Some(d);
        report.ring_summary.peak_mean = Some(v);
    }
    match fit_trend(&pts, opts.trend_degree) {
        Some(fit) => {
            for row in &mut report.ring_profile {
                if row.multi_year_mean.is_some() {
                    row.fitted = Some(fit.eval(row.distance_km));
                }
            }
            report.ring_summary.trend = Some(fit);
        }
        None if !inp.rings.is_empty() => notes.push(format!(
            "distance trend not fitted: {} ring(s) with data, a degree-{} polynomial needs at least {}",
            pts.len(),
            opts.trend_degree,
            opts.trend_degree + 2
        )),
        None => {}
    }

    // ---- mines per latitude band (bands of the profile and of the mines, gaps filled with 0)
    if inp.latitudes.is_some() {
        let mut counts: BTreeMap<i64, usize> = lat_bands.keys().map(|&b| (b, 0)).collect();
        for m in inp.mines {
            if m.centroid_lat.is_finite() {
                *counts.entry(band_of(m.centroid_lat, opts.lat_band_deg)).or_default() += 1;
            }
        }
        if let (Some(&lo), Some(&hi)) = (counts.keys().next(), counts.keys().next_back()) {
            for b in lo..=hi {
                report.mines_per_band.push(MinesPerBandRow {
                    lat_south: b as f64 * opts.lat_band_deg,
                    lat_north: (b + 1) as f64 * opts.lat_band_deg,
                    mines: counts.get(&b).copied().unwrap_or(0),
                });
            }
        }
    }
    report.notes = notes;
    Ok(report)
}

fn ring_distance(r: &RingInput) -> f64 {
    if r.index == 0 {
        0.0
    } else {
        r.outer_km
    }
}

/// Band index of a latitude: ⌊lat / width⌋ (a tiny tolerance keeps exact multiples in their own band).
fn band_of(lat: f64, width: f64) -> i64 {
    (lat / width + 1e-9).floor() as i64
}

/// Size classes from breaks.
struct SizeClasses<'a> {
    breaks: &'a [f64],
}

impl<'a> SizeClasses<'a> {
    fn new(breaks: &'a [f64]) -> Self {
        Self { breaks }
    }
    fn len(&self) -> usize {
        self.breaks.len() + 1
    }
    fn class_of(&self, a: f64) -> usize {
        self.breaks.iter().take_while(|&&b| a >= b).count()
    }
    fn bounds(&self, k: usize) -> (Option<f64>, Option<f64>) {
        (k.checked_sub(1).map(|i| self.breaks[i]), self.breaks.get(k).copied())
    }
    fn label(&self, k: usize) -> String {
        match self.bounds(k) {
            (None, Some(b)) => format!("<{b}"),
            (Some(a), Some(b)) => format!("{a}-{b}"),
            (Some(a), None) => format!(">={a}"),
            (None, None) => "all".into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Distributions: weighted histogram, quantiles, Silverman bandwidth, Gaussian KDE, box plots
// ---------------------------------------------------------------------------------------------

/// Weighted histogram rows on [0, 1]; returns the rows and the number of values outside [0, 1].
fn histogram_rows(year: i32, zone: &str, values: &[f32], weights: &[f32], bins: usize) -> (Vec<HistogramRow>, usize) {
    let mut wsum = vec![0.0f64; bins];
    let mut outside = 0;
    for (&v, &w) in values.iter().zip(weights) {
        let v = f64::from(v);
        if !(0.0..=1.0).contains(&v) {
            outside += 1;
            continue;
        }
        let b = ((v * bins as f64).floor() as usize).min(bins - 1);
        wsum[b] += f64::from(w);
    }
    let total: f64 = wsum.iter().sum();
    let width = 1.0 / bins as f64;
    let rows = wsum
        .iter()
        .enumerate()
        .map(|(b, &w)| HistogramRow {
            year,
            zone: zone.into(),
            bin: b,
            lower: b as f64 * width,
            upper: (b + 1) as f64 * width,
            weight: w,
            density: if total > 0.0 { w / (total * width) } else { 0.0 },
        })
        .collect();
    (rows, outside)
}

/// R type-7 quantile of sorted values (`p` in [0, 1]); `None` when empty.
fn quantile_type7(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Weighted type-7 quantile of (value, weight) pairs sorted by value: plotting positions
/// `pᵢ = Σ_{j<i} wⱼ / (Σw − w_last)`, linear interpolation.
fn weighted_quantile7(sorted: &[(f64, f64)], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if n == 1 {
        return Some(sorted[0].0);
    }
    let total: f64 = sorted.iter().map(|x| x.1).sum();
    let denom = total - sorted[n - 1].1;
    if denom <= 0.0 {
        return Some(sorted[n - 1].0);
    }
    let target = p.clamp(0.0, 1.0) * denom;
    let mut cum = 0.0;
    for i in 0..n - 1 {
        let next = cum + sorted[i].1;
        if target <= next {
            let f = if sorted[i].1 > 0.0 { (target - cum) / sorted[i].1 } else { 0.0 };
            return Some(sorted[i].0 + f * (sorted[i + 1].0 - sorted[i].0));
        }
        cum = next;
    }
    Some(sorted[n - 1].0)
}

/// Silverman's rule-of-thumb bandwidth (R `bw.nrd0`), weighted as stated in the module docs.
/// `None` for fewer than 2 values.
fn silverman_bandwidth(values: &[f32], weights: &[f32]) -> Option<f64> {
    let mut pairs: Vec<(f64, f64)> =
        values.iter().zip(weights).map(|(&v, &w)| (f64::from(v), f64::from(w))).filter(|p| p.0.is_finite() && p.1 > 0.0).collect();
    if pairs.len() < 2 {
        return None;
    }
    let sw: f64 = pairs.iter().map(|p| p.1).sum();
    let sw2: f64 = pairs.iter().map(|p| p.1 * p.1).sum();
    let n_eff = sw * sw / sw2;
    let mean = pairs.iter().map(|p| p.0 * p.1).sum::<f64>() / sw;
    let var_pop = pairs.iter().map(|p| p.1 * (p.0 - mean).powi(2)).sum::<f64>() / sw;
    let s = if n_eff > 1.0 { (var_pop * n_eff / (n_eff - 1.0)).sqrt() } else { 0.0 };
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let iqr = weighted_quantile7(&pairs, 0.75)? - weighted_quantile7(&pairs, 0.25)?;
    let mut lo = s.min(iqr / 1.34);
    if lo <= 0.0 {
        lo = s;
    }
    if lo <= 0.0 {
        lo = pairs[0].0.abs();
    }
    if lo <= 0.0 {
        lo = 1.0;
    }
    Some(0.9 * lo * n_eff.powf(-0.2))
}

/// Weighted Gaussian KDE `Σ wᵢ φ((x − xᵢ)/h) / (h Σ wᵢ)` at each of `xs`, in parallel over `xs`.
/// Values are sorted once; terms with `|x − xᵢ| > 8.5h` (kernel below e^(−36) ≈ 2·10⁻¹⁶ of its peak)
/// are skipped.
fn gaussian_kde(values: &[f32], weights: &[f32], xs: &[f64], h: f64) -> Vec<f64> {
    let mut pairs: Vec<(f64, f64)> =
        values.iter().zip(weights).map(|(&v, &w)| (f64::from(v), f64::from(w))).filter(|p| p.0.is_finite() && p.1 > 0.0).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let sw: f64 = pairs.iter().map(|p| p.1).sum();
    let norm = 1.0 / (h * sw * (2.0 * std::f64::consts::PI).sqrt());
    let reach = 8.5 * h;
    xs.par_iter()
        .map(|&x| {
            let lo = pairs.partition_point(|p| p.0 < x - reach);
            let hi = pairs.partition_point(|p| p.0 <= x + reach);
            let mut s = 0.0;
            for &(v, w) in &pairs[lo..hi] {
                let z = (x - v) / h;
                s += w * (-0.5 * z * z).exp();
            }
            s * norm
        })
        .collect()
}

/// Box-plot statistics of sorted values; `None` when empty.
fn boxplot(sorted: &[f64]) -> Option<BoxPlot> {
    let q1 = quantile_type7(sorted, 0.25)?;
    let median = quantile_type7(sorted, 0.5)?;
    let q3 = quantile_type7(sorted, 0.75)?;
    let iqr = q3 - q1;
    let (flo, fhi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let inside: Vec<f64> = sorted.iter().copied().filter(|v| *v >= flo && *v <= fhi).collect();
    Some(BoxPlot {
        min: sorted[0],
        q1,
        median,
        q3,
        max: sorted[sorted.len() - 1],
        whisker_low: inside.first().copied().unwrap_or(q1),
        whisker_high: inside.last().copied().unwrap_or(q3),
        outliers: sorted.iter().copied().filter(|v| *v < flo || *v > fhi).collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Trend fit
// ---------------------------------------------------------------------------------------------

/// Least-squares polynomial of `degree` through `(d, y)` points (Householder QR on `t = d / d_max`,
/// coefficients rescaled to km). `None` with fewer than `degree + 2` points (a fit needs at least
/// one residual degree of freedom) or a rank-deficient design.
pub fn fit_trend(pts: &[(f64, f64)], degree: usize) -> Option<TrendFit> {
    let n = pts.len();
    let p = degree + 1;
    if n < p + 1 || pts.iter().any(|(d, y)| !(d.is_finite() && y.is_finite())) {
        return None;
    }
    let scale = pts.iter().map(|p| p.0.abs()).fold(0.0, f64::max);
    let scale = if scale > 0.0 { scale } else { 1.0 };
    // design matrix, column-major n × p
    let mut a: Vec<Vec<f64>> = (0..p).map(|k| pts.iter().map(|(d, _)| (d / scale).powi(k as i32)).collect()).collect();
    let mut b: Vec<f64> = pts.iter().map(|p| p.1).collect();
    for k in 0..p {
        let norm = a[k][k..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm < 1e-12 {
            return None;
        }
        let alpha = if a[k][k] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[k][k..].to_vec();
        v[0] -= alpha;
        let vn2: f64 = v.iter().map(|x| x * x).sum();
        if vn2 == 0.0 {
            continue;
        }
        for col in a.iter_mut().skip(k) {
            let dot: f64 = v.iter().zip(&col[k..]).map(|(x, y)| x * y).sum();
            let f = 2.0 * dot / vn2;
            for (c, vi) in col[k..].iter_mut().zip(&v) {
                *c -= f * vi;
            }
        }
        let dot: f64 = v.iter().zip(&b[k..]).map(|(x, y)| x * y).sum();
        let f = 2.0 * dot / vn2;
        for (c, vi) in b[k..].iter_mut().zip(&v) {
            *c -= f * vi;
        }
    }
    // back substitution R x = Qᵀb
    let mut x = vec![0.0; p];
    for k in (0..p).rev() {
        let mut s = b[k];
        for j in k + 1..p {
            s -= a[j][k] * x[j];
        }
        if a[k][k].abs() < 1e-12 {
            return None;
        }
        x[k] = s / a[k][k];
    }
    let coefficients: Vec<f64> = x.iter().enumerate().map(|(k, c)| c / scale.powi(k as i32)).collect();
    let mut fit = TrendFit {
        model: format!("polynomial of degree {degree} in distance (km), ordinary least squares"),
        degree,
        coefficients,
        r2: f64::NAN,
        n_points: n,
        turning_points: Vec::new(),
        first_turning_point_km: None,
        first_turning_kind: None,
        first_local_max_km: None,
    };
    let ybar = pts.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let ss_tot: f64 = pts.iter().map(|p| (p.1 - ybar).powi(2)).sum();
    let ss_res: f64 = pts.iter().map(|p| (p.1 - fit.eval(p.0)).powi(2)).sum();
    fit.r2 = if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { 1.0 };
    let dmin = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let dmax = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    fit.turning_points = turning_points(&fit.coefficients, dmin, dmax);
    if let Some((d, kind)) = fit.turning_points.first() {
        fit.first_turning_point_km = Some(*d);
        fit.first_turning_kind = Some(kind.clone());
    }
    fit.first_local_max_km = fit.turning_points.iter().find(|(_, k)| k == "maximum").map(|(d, _)| *d);
    Some(fit)
}

/// Roots of the derivative of `Σ cₖ dᵏ` strictly inside (lo, hi), ascending, with their kind.
/// Sign changes of the derivative are bracketed on a grid of 4096 steps and refined by bisection;
/// a double root (the derivative touches 0 without changing sign) is not a turning point.
fn turning_points(c: &[f64], lo: f64, hi: f64) -> Vec<(f64, String)> {
    let horner = |coef: &[f64], d: f64| coef.iter().rev().fold(0.0, |a, x| a * d + x);
    let d1: Vec<f64> = c.iter().enumerate().skip(1).map(|(k, ck)| k as f64 * ck).collect();
    let d2: Vec<f64> = d1.iter().enumerate().skip(1).map(|(k, ck)| k as f64 * ck).collect();
    let pos = |d: f64| horner(&d1, d) > 0.0;
    let mut out = Vec::new();
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || d1.is_empty() {
        return out;
    }
    let steps = 4096;
    let mut a = lo;
    for i in 1..=steps {
        let b = lo + (hi - lo) * i as f64 / steps as f64;
        if pos(a) != pos(b) {
            let (mut x0, mut x1) = (a, b);
            let p0 = pos(a);
            for _ in 0..200 {
                let m = 0.5 * (x0 + x1);
                if m <= x0 || m >= x1 {
                    break;
                }
                if pos(m) == p0 {
                    x0 = m;
                } else {
                    x1 = m;
                }
            }
            let r = 0.5 * (x0 + x1);
            if r > lo && r < hi {
                let kind = if horner(&d2, r) < 0.0 { "maximum" } else { "minimum" };
                out.push((r, kind.to_string()));
            }
        }
        a = b;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::grid::{Crs, GeoTransform};
    use geo_types::{polygon, LineString, Polygon};

    #[test]
    fn quantiles_boxplot_by_hand() {
        // R: quantile(1:4, 0.25, type = 7) = 1 + 0.75 · (2 − 1) = 1.75
        assert_eq!(quantile_type7(&[1.0, 2.0, 3.0, 4.0], 0.25), Some(1.75));
        // equal weights reproduce type 7
        let w: Vec<(f64, f64)> = [1.0, 2.0, 3.0, 4.0].iter().map(|&v| (v, 0.3)).collect();
        assert!((weighted_quantile7(&w, 0.25).unwrap() - 1.75).abs() < 1e-12);
        // data 1 2 3 4 100: q1 = 2, median 3, q3 = 4, IQR 2, fences −1 and 7 → outlier 100, whisker 4
        let b = boxplot(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
        assert_eq!((b.q1, b.median, b.q3), (2.0, 3.0, 4.0));
        assert_eq!((b.whisker_low, b.whisker_high, b.min, b.max), (1.0, 4.0, 1.0, 100.0));
        assert_eq!(b.outliers, vec![100.0]);
        assert!(boxplot(&[]).is_none());
    }

    #[test]
    fn silverman_and_kde_by_hand() {
        // x = 0.1 … 0.5: sd = √(0.1/4) = 0.158113883; IQR (type 7) = 0.4 − 0.2 = 0.2, /1.34 = 0.149253731;
        // h = 0.9 · 0.149253731 · 5^(−1/5) = 0.9 · 0.149253731 · 0.724779664 = 0.097358
        let v = [0.1f32, 0.2, 0.3, 0.4, 0.5];
        let w = [1.0f32; 5];
        let h = silverman_bandwidth(&v, &w).unwrap();
        let want = 0.9 * (0.2f64 / 1.34) * 5f64.powf(-0.2);
        // the f32 inputs shift the IQR by ~1e-8
        assert!((h - want).abs() < 1e-7, "{h} vs {want}");
        assert!((h - 0.097_358).abs() < 1e-6);
        // one value at 0.5 with bandwidth 0.1: f(0.5) = 1/(0.1·√(2π)) = 3.989422804
        let d = gaussian_kde(&[0.5], &[1.0], &[0.5, 0.6], 0.1);
        assert!((d[0] - 3.989_422_804_014_327).abs() < 1e-12);
        // f(0.6) = f(0.5)·e^(−1/2) = 2.419707245
        assert!((d[1] - 2.419_707_245_191_434).abs() < 1e-12);
        // weights scale out: doubling every weight changes nothing
        let d2 = gaussian_kde(&[0.5], &[2.0], &[0.5], 0.1);
        assert!((d2[0] - d[0]).abs() < 1e-12);
        // constant data: sd = IQR = 0 → |x₁| = 0.3 → h = 0.9 · 0.3 · 3^(−1/5)
        let hc = silverman_bandwidth(&[0.3, 0.3, 0.3], &[1.0; 3]).unwrap();
        assert!((hc - 0.9 * f64::from(0.3f32) * 3f64.powf(-0.2)).abs() < 1e-12);
        assert!(silverman_bandwidth(&[0.3], &[1.0]).is_none());
    }

    #[test]
    fn histogram_bins() {
        // 50 bins: 0.0 and 0.01 (0.01·50 = 0.5) → bin 0; 0.5 → bin 25; 1.0 → last bin 49; 1.5 outside
        let (rows, outside) = histogram_rows(2001, "city", &[0.0, 0.01, 0.5, 1.0, 1.5], &[1.0, 1.0, 0.5, 1.0, 1.0], 50);
        assert_eq!(outside, 1);
        assert_eq!(rows.len(), 50);
        assert_eq!((rows[0].weight, rows[25].weight, rows[49].weight), (2.0, 0.5, 1.0));
        // density = weight / (Σw · width) = 2 / (3.5 · 0.02) = 28.571428…
        assert!((rows[0].density - 2.0 / (3.5 * 0.02)).abs() < 1e-12);
        let integral: f64 = rows.iter().map(|r| r.density * 0.02).sum();
        assert!((integral - 1.0).abs() < 1e-12);
    }

    #[test]
    fn cubic_trend_and_turning_points_by_hand() {
        // y = 0.3 + 0.05 d − 0.004 d² + 0.0001 d³ at d = 0 … 30: exact fit, R² = 1.
        // y' = 0.05 − 0.008 d + 0.0003 d² = 0 → d = (0.008 ± √(6.4e−5 − 6e−5)) / 6e−4 = (0.008 ± 0.002)/6e−4
        // → 10 km (y'' = −0.008 + 0.0006·10 = −0.002 < 0: maximum) and 16.667 km (minimum).
        let pts: Vec<(f64, f64)> = (0..=30).map(|d| (d as f64, 0.3 + 0.05 * d as f64 - 0.004 * (d * d) as f64 + 0.0001 * (d * d * d) as f64)).collect();
        let f = fit_trend(&pts, 3).unwrap();
        for (c, w) in f.coefficients.iter().zip([0.3, 0.05, -0.004, 0.0001]) {
            assert!((c - w).abs() < 1e-10, "{:?}", f.coefficients);
        }
        assert!((f.r2 - 1.0).abs() < 1e-12);
        assert_eq!(f.turning_points.len(), 2);
        assert!((f.first_turning_point_km.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(f.first_turning_kind.as_deref(), Some("maximum"));
        assert!((f.turning_points[1].0 - 50.0 / 3.0).abs() < 1e-9);
        assert_eq!(f.turning_points[1].1, "minimum");
        assert!((f.first_local_max_km.unwrap() - 10.0).abs() < 1e-9);
        // a straight line: no turning point; too few points: no fit
        let line: Vec<(f64, f64)> = (0..5).map(|d| (d as f64, 0.1 * d as f64)).collect();
        let fl = fit_trend(&line, 1).unwrap();
        assert!(fl.turning_points.is_empty() && fl.first_turning_point_km.is_none());
        assert!(fit_trend(&line[..4], 3).is_none());
        // noisy data: R² by hand for a line through (0,0) (1,1) (2,1) (3,3):
        // slope = Σ(x−1.5)(y−1.25)/Σ(x−1.5)² = 4.5/5 = 0.9, intercept = 1.25 − 0.9·1.5 = −0.1;
        // residuals 0.1, 0.2, −0.7, 0.4 → SS_res = 0.7; SS_tot = 1.5625+0.0625+0.0625+3.0625 = 4.75
        let f2 = fit_trend(&[(0.0, 0.0), (1.0, 1.0), (2.0, 1.0), (3.0, 3.0)], 1).unwrap();
        assert!((f2.coefficients[0] + 0.1).abs() < 1e-12 && (f2.coefficients[1] - 0.9).abs() < 1e-12);
        assert!((f2.r2 - (1.0 - 0.7 / 4.75)).abs() < 1e-12);
    }

    fn sq(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)]
    }

    /// A 6×6 grid of 1 km cells, x 0..6000, y 0..6000 (row 0 at the top). The city is the whole grid;
    /// one 2×2-cell mine in the top-left corner (x 0..2000, y 4000..6000) and one 1-cell mine at
    /// row 5, col 5. Rings around the first mine: ring 1 = the L of cells within 1 km, ring 2 beyond.
    fn scene() -> (Grid, Vec<MineInput>, Vec<RingInput>, MultiPolygon<f64>, MultiPolygon<f64>) {
        let g = Grid::new(6, 6, GeoTransform::new(0.0, 1000.0, 6000.0, -1000.0), Crs::new("local"));
        let city = MultiPolygon(vec![sq(0.0, 0.0, 6000.0, 6000.0)]);
        let m1 = MultiPolygon(vec![sq(0.0, 4000.0, 2000.0, 6000.0)]);
        let m2 = MultiPolygon(vec![sq(5000.0, 0.0, 6000.0, 1000.0)]);
        let union = MultiPolygon(vec![m1.0[0].clone(), m2.0[0].clone()]);
        let mines = vec![
            MineInput { id: "a".into(), name: "A".into(), area_km2: 4.0, centroid_lat: 40.01, geometry: m1.clone() },
            MineInput { id: "b".into(), name: "B".into(), area_km2: 0.3, centroid_lat: 39.97, geometry: m2 },
        ];
        // ring 1: x 0..3000, y 3000..6000 minus the mine (an L of 5 cells)
        let r1 = Polygon::new(
            LineString::from(vec![(0.0, 3000.0), (3000.0, 3000.0), (3000.0, 6000.0), (0.0, 6000.0)]),
            vec![LineString::from(vec![(0.0, 4000.0), (2000.0, 4000.0), (2000.0, 6000.0), (0.0, 6000.0)])],
        );
        // ring 2: x 0..4000, y 2000..6000 minus x 0..3000, y 3000..6000 (an L of 7 cells)
        let r2 = Polygon::new(
            LineString::from(vec![(0.0, 2000.0), (4000.0, 2000.0), (4000.0, 6000.0), (0.0, 6000.0)]),
            vec![LineString::from(vec![(0.0, 3000.0), (3000.0, 3000.0), (3000.0, 6000.0), (0.0, 6000.0)])],
        );
        let rings = vec![
            RingInput { index: 0, inner_km: 0.0, outer_km: 0.0, geometry: union.clone() },
            RingInput { index: 1, inner_km: 0.0, outer_km: 1.0, geometry: MultiPolygon(vec![r1]) },
            RingInput { index: 2, inner_km: 1.0, outer_km: 2.0, geometry: MultiPolygon(vec![r2]) },
        ];
        (g, mines, rings, city, union)
    }

    #[test]
    fn analysis_on_a_hand_made_scene() {
        let (g, mines, rings, city, union) = scene();
        // year 1: value = (row + col) / 10; year 2: value = 0.5 everywhere except NaN at (0, 0)
        let y1: Vec<f32> = (0..36).map(|i| ((i / 6 + i % 6) as f32) / 10.0).collect();
        let mut y2 = vec![0.5f32; 36];
        y2[0] = f32::NAN;
        // water at (3, 3)
        let mut water = vec![false; 36];
        water[3 * 6 + 3] = true;
        let lats: Vec<f64> = (0..6).map(|r| 40.03 - 0.02 * r as f64).collect(); // 40.03, 40.01, …, 39.93
        let years = [YearRaster { year: 2001, values: &y1 }, YearRaster { year: 2002, values: &y2 }];
        let inp = MiningInputs {
            grid: &g,
            years: &years,
            exclude: Some(&water),
            city: &city,
            mines_union: &union,
            mines: &mines,
            rings: &rings,
            latitudes: Some(Latitudes::PerRow(&lats)),
        };
        let rep = analyse_mining(&inp, &MiningOptions::default()).unwrap();

        // Mines in 2001: cells (0,0) (0,1) (1,0) (1,1) → 0, .1, .1, .2 and (5,5) → 1.0: mean 1.4/5 = 0.28.
        // City in 2001: all 36 cells but the water (3,3) (value .6): Σ(r+c)/10 over the grid = 180/10 = 18;
        // minus 0.6 → 17.4 / 35 = 0.497142857…; |0.28 − 0.4971| = 0.217142857…
        let r = &rep.mine_vs_city[0];
        assert_eq!((r.mines_n, r.city_n), (5, 35));
        assert!((r.mines_mean.unwrap() - 0.28).abs() < 1e-7);
        assert!((r.city_mean.unwrap() - 17.4 / 35.0).abs() < 1e-7);
        assert!((r.abs_diff.unwrap() - (17.4 / 35.0 - 0.28)).abs() < 1e-7);
        // 2002: constant 0.5, NaN at (0,0) → mines n = 4, city n = 34, std 0, diff 0
        let r = &rep.mine_vs_city[1];
        assert_eq!((r.mines_n, r.city_n), (4, 34));
        assert_eq!((r.mines_mean, r.mines_std, r.abs_diff), (Some(0.5), Some(0.0), Some(0.0)));

        // Rings 2001: ring 1 = cells (0,2) (1,2) (2,0) (2,1) (2,2) → .2 .3 .2 .3 .4 → mean 1.4/5 = 0.28;
        // ring 2 = (0,3) (1,3) (2,3) (3,0) (3,1) (3,2) [(3,3) is water] → .3 .4 .5 .3 .4 .5 → 2.4/6 = 0.4
        let ring = |k: usize, y: i32| rep.rings.iter().find(|x| x.ring == k && x.year == y).unwrap();
        assert_eq!(ring(1, 2001).n, 5);
        assert!((ring(1, 2001).mean.unwrap() - 0.28).abs() < 1e-7);
        assert_eq!(ring(2, 2001).n, 6);
        assert!((ring(2, 2001).mean.unwrap() - 0.4).abs() < 1e-7);
        // multi-year mean of ring 2 = (0.4 + 0.5) / 2 = 0.45; plotted at 2 km; ring 0 at 0 km
        let prof = &rep.ring_profile;
        assert!((prof[2].multi_year_mean.unwrap() - 0.45).abs() < 1e-7);
        assert_eq!((prof[0].distance_km, prof[2].distance_km), (0.0, 2.0));
        // peak: ring 2 (0.45) > ring 1 ((0.28 + 0.5)/2 = 0.39) > ring 0 ((0.28 + 0.5)/2 = 0.39)
        assert_eq!(rep.ring_summary.peak_distance_km, Some(2.0));
        // 3 rings cannot carry a cubic: noted, not fitted
        assert!(rep.ring_summary.trend.is_none());
        assert!(rep.notes.iter().any(|n| n.contains("trend not fitted")));

        // Per mine: A (4 km², class ">=1") 2001 mean (0 + .1 + .1 + .2)/4 = 0.1; B (0.3 km², "0.25-0.5") 1.0
        let a = rep.per_mine.iter().find(|m| m.id == "a" && m.year == 2001).unwrap();
        assert_eq!(a.size_class, ">=1");
        assert!((a.mean.unwrap() - 0.1).abs() < 1e-7);
        let b = rep.per_mine.iter().find(|m| m.id == "b" && m.year == 2001).unwrap();
        assert_eq!(b.size_class, "0.25-0.5");
        // size classes: 5 per year; the ">=1" class in 2001 holds one mine with mean 0.1
        assert_eq!(rep.size_classes.len(), 10);
        let c = rep.size_classes.iter().find(|c| c.size_class == ">=1" && c.year == 2001).unwrap();
        assert_eq!(c.n_mines, 1);
        assert!((c.boxplot.as_ref().unwrap().median - 0.1).abs() < 1e-7);
        assert_eq!(rep.size_classes.iter().find(|c| c.size_class == "<0.25").unwrap().n_mines, 0);

        // Latitude bands of 0.05°: rows at 40.03 40.01 (band 800: 40.00–40.05), 39.99 39.97 39.95
        // (band 799), 39.93 (band 798). 2001, band 800 = rows 0–1: Σ(r+c)/10 = (15 + 21)/10 = 3.6 / 12 = 0.3
        let lat = |s: f64, y: i32| rep.latitude.iter().find(|l| (l.lat_south - s).abs() < 1e-9 && l.year == y).unwrap();
        assert_eq!(lat(40.0, 2001).n, 12);
        assert!((lat(40.0, 2001).mean.unwrap() - 0.3).abs() < 1e-7);
        // band 799 = rows 2–4 minus the water: (27 + 33 + 39)/10 − 0.6 = 9.3 over 17 cells
        assert_eq!(lat(39.95, 2001).n, 17);
        assert!((lat(39.95, 2001).mean.unwrap() - 9.3 / 17.0).abs() < 1e-6);
        // mines per band: A at 40.01 → band 800, B at 39.97 → band 799; band 798 has none
        let mpb: Vec<(f64, usize)> = rep.mines_per_band.iter().map(|m| ((m.lat_south * 100.0).round() / 100.0, m.mines)).collect();
        assert_eq!(mpb, vec![(39.9, 0), (39.95, 1), (40.0, 1)]);

        // distributions: 50 histogram bins × 2 zones × 2 years; densities 101 × 2 × 2 (2002 city has
        // constant values → bandwidth from |x₁|)
        assert_eq!(rep.histograms.len(), 200);
        assert_eq!(rep.densities.len(), 404);
        let total: f64 = rep.histograms.iter().filter(|h| h.year == 2001 && h.zone == "city").map(|h| h.weight).sum();
        assert_eq!(total, 35.0);
        // serialisable
        let json = serde_json::to_string(&rep).unwrap();
        assert!(json.contains("\"mine_vs_city\""));
    }

    #[test]
    fn coverage_rule_and_bad_inputs() {
        let (g, mines, rings, city, union) = scene();
        let y1: Vec<f32> = (0..36).map(|i| ((i / 6 + i % 6) as f32) / 10.0).collect();
        let years = [YearRaster { year: 2001, values: &y1 }];
        let inp = MiningInputs { grid: &g, years: &years, exclude: None, city: &city, mines_union: &union, mines: &mines, rings: &rings, latitudes: None };
        // the scene's polygons follow cell edges, so both rules agree
        let opts = MiningOptions { rule: PixelRule::Coverage, ..Default::default() };
        let a = analyse_mining(&inp, &opts).unwrap();
        let b = analyse_mining(&inp, &MiningOptions::default()).unwrap();
        assert_eq!(a.mine_vs_city[0].mines_n, b.mine_vs_city[0].mines_n);
        assert!((a.mine_vs_city[0].city_mean.unwrap() - b.mine_vs_city[0].city_mean.unwrap()).abs() < 1e-12);
        assert!(a.latitude.is_empty() && a.mines_per_band.is_empty());

        let short = vec![0.5f32; 10];
        let bad_years = [YearRaster { year: 2003, values: &short }];
        let e = analyse_mining(&MiningInputs { years: &bad_years, ..inp }, &opts).unwrap_err();
        assert!(e.to_string().contains("year 2003"), "{e}");
        let e = analyse_mining(&MiningInputs { mines: &[], ..inp }, &opts).unwrap_err();
        assert!(e.to_string().contains("no mine"), "{e}");
        let e = analyse_mining(&inp, &MiningOptions { size_breaks_km2: vec![1.0, 0.5], ..Default::default() }).unwrap_err();
        assert!(e.to_string().contains("size_breaks_km2"), "{e}");
        let lat3 = [40.0; 3];
        let e = analyse_mining(&MiningInputs { latitudes: Some(Latitudes::PerRow(&lat3)), ..inp }, &opts).unwrap_err();
        assert!(e.to_string().contains("latitudes"), "{e}");
        let far = MultiPolygon(vec![sq(1e6, 1e6, 1e6 + 10.0, 1e6 + 10.0)]);
        let e = analyse_mining(&MiningInputs { city: &far, ..inp }, &opts).unwrap_err();
        assert!(e.to_string().contains("does not overlap"), "{e}");
        let broken = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)]]);
        let bad_mines = vec![MineInput { geometry: broken, ..mines[0].clone() }];
        let e = analyse_mining(&MiningInputs { mines: &bad_mines, ..inp }, &opts).unwrap_err();
        assert!(e.to_string().contains("mines: polygon 0"), "{e}");
    }
}
