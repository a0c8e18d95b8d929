//! A synthetic mining city, observed by a synthetic MODIS.
//!
//! **Everything here is synthetic.** The scene is built to exercise the whole chain with realistic
//! structure, not to resemble a real place: a city of about 1,500 km² straddling the boundary of
//! the real sinusoidal tiles h26v05 and h27v05 (so every run mosaics two tiles), with
//! - mountains in the north-west (higher, cooler, greener), plains and cropland in the south-east;
//! - a meandering river and a lake (water: MNDWI > 0, land/water bits, land-cover classes 0 and 11);
//! - a town in the centre that grows every year;
//! - ten open-pit mines of 0.1–2.5 km² (all default size classes), with dust and waste dumps around
//!   them that fade with distance, expanding over the years, and one mine reclaimed from 2020;
//! - growing-season phenology (a peak in early August, harvest in late September);
//! - clouds, cloud shadows, adjacent-cloud and cirrus flags in the QA bits, one almost fully clouded
//!   composite per year, and a strip of fill values in one granule.
//!
//! Reflectances follow a linear mixture of four end-members (vegetation, bare soil/mine, urban,
//! water), so NDVI, wetness, NDBSI, LST and MNDWI computed from them behave as they do on real
//! land. All randomness comes from a seeded hash: the same seed gives the same archive, bit for bit.

use rsei_core::grid::{modis, Crs, GeoTransform, Grid, Window};

/// MODIS sinusoidal sphere radius (m).
const R_EARTH: f64 = 6_371_007.181;

/// First and last year of synthetic observations.
pub const FIRST_YEAR: i32 = 2017;
/// Last year of the synthetic archive (the composite of the last target year needs it).
pub const LAST_YEAR: i32 = 2023;

/// A city of the synthetic scene.
#[derive(Clone, Debug)]
pub struct City {
    /// Name of the city.
    pub name: String,
    /// A code in the style of Chinese administrative codes (`adcode`), clearly not a real one.
    pub adcode: u32,
    /// Boundary ring in sinusoidal metres (closed).
    pub ring: Vec<(f64, f64)>,
}

/// Slope of the river's general course (km north per km east).
const RIVER_SLOPE: f64 = -0.25;

/// The river's course: north coordinate (km) at east coordinate `u` (km), from the north-western
/// mountains through Demo City and south of Second City.
fn river(u: f64) -> f64 {
    RIVER_SLOPE * (u + 28.0) + 3.5 * ((u + 28.0) / 6.0).sin() + 2.0
}

/// A mine of the synthetic scene.
#[derive(Clone, Debug)]
pub struct Mine {
    /// Mine identifier.
    pub id: u32,
    /// Mine name.
    pub name: String,
    /// Polygon ring in sinusoidal metres (closed: first == last).
    pub ring: Vec<(f64, f64)>,
    /// Year from which the mine is reclaimed (re-vegetated), if ever.
    pub reclaimed_from: Option<i32>,
}

/// The synthetic scene: static fields on a 500 m grid plus the rules that make each observation.
pub struct Scene {
    seed: u64,
    /// Ground coordinates (km east, km north of the centre) of every 500 m cell centre.
    uv: Vec<(f32, f32)>,
    /// 500 m sinusoidal grid (on the 1 km lattice) covering the city with a margin.
    pub grid: Grid,
    /// The matching 1 km grid (each 1 km cell = 2×2 cells of `grid`).
    pub grid_1km: Grid,
    /// Centre of the scene (sinusoidal metres).
    pub center: (f64, f64),
    /// The cities of the scene.
    pub cities: Vec<City>,
    /// The mines of every city.
    pub mines: Vec<Mine>,
    /// Elevation (m) per 500 m cell.
    pub elevation_m: Vec<f32>,
    /// Permanent water fraction per cell (river + lake).
    water: Vec<f32>,
    /// Lake (vs river) flag per cell, for the land/water QA class.
    lake: Vec<bool>,
    /// Mine footprint fraction per cell.
    mine_frac: Vec<f32>,
    /// Per-mine footprint fraction (index into `mines`) of the dominant mine of each cell.
    mine_id: Vec<u8>,
    /// Distance (km) from each cell centre to the nearest mine (0 inside).
    dist_mine_km: Vec<f32>,
    /// Distance (km) from the town centre.
    dist_town_km: Vec<f32>,
    /// Cropland share (south-east plains).
    crop: Vec<f32>,
    /// Smooth spatial variability of vegetation vigour, 0..1.
    vigour: Vec<f32>,
}

/// Land-cover fractions of one cell at one date.
#[derive(Clone, Copy, Debug)]
struct Mix {
    veg: f32,
    soil: f32,
    urban: f32,
    water: f32,
}

/// End-member reflectances, bands 1..7 (red, NIR, blue, green, 1240 nm, SWIR1, SWIR2).
const VEG: [f32; 7] = [0.035, 0.42, 0.025, 0.07, 0.40, 0.19, 0.085];
const DRY_VEG: [f32; 7] = [0.09, 0.26, 0.05, 0.10, 0.30, 0.28, 0.18];
const SOIL: [f32; 7] = [0.22, 0.28, 0.14, 0.18, 0.32, 0.36, 0.30];
const URBAN: [f32; 7] = [0.14, 0.20, 0.11, 0.13, 0.22, 0.24, 0.20];
const WATER: [f32; 7] = [0.04, 0.02, 0.06, 0.07, 0.01, 0.008, 0.005];
const CLOUD: [f32; 7] = [0.55, 0.58, 0.60, 0.57, 0.50, 0.32, 0.20];

/// One synthetic observation of the 500 m reflectance product on the scene grid.
pub struct Mod09Obs {
    /// `sur_refl_b01..b07` DN (×0.0001), fill −28672.
    pub bands: [Vec<i16>; 7],
    /// `sur_refl_qc_500m` bits.
    pub qc: Vec<u32>,
    /// `sur_refl_state_500m` bits.
    pub state: Vec<u16>,
}

/// One synthetic 16-day vegetation-index observation.
pub struct Mod13Obs {
    /// NDVI DN (×0.0001).
    pub ndvi: Vec<i16>,
    /// Pixel reliability.
    pub reliability: Vec<i8>,
}

/// One synthetic 8-day LST observation on the 1 km grid.
pub struct Mod11Obs {
    /// LST DN (×0.02 K).
    pub lst: Vec<u16>,
    /// `QC_Day` bits.
    pub qc: Vec<u8>,
}

// ---------------------------------------------------------------- deterministic noise

#[inline]
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in [0, 1) from a hash of the inputs.
#[inline]
fn hash01(seed: u64, a: i64, b: i64, c: i64) -> f64 {
    let h = splitmix(seed ^ splitmix(a as u64 ^ splitmix(b as u64 ^ splitmix(c as u64))));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Standard normal from a hash (Box–Muller on two hashed uniforms).
#[inline]
fn hash_normal(seed: u64, a: i64, b: i64, c: i64) -> f64 {
    let u1 = hash01(seed, a, b, c).max(1e-12);
    let u2 = hash01(seed ^ 0x5555, a, b, c);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Smooth value noise in 0..1 at (u, v) km with lattice spacing `scale` km.
fn value_noise(seed: u64, u: f64, v: f64, scale: f64) -> f64 {
    let x = u / scale;
    let y = v / scale;
    let (xi, yi) = (x.floor(), y.floor());
    let (fx, fy) = (x - xi, y - yi);
    let s = |t: f64| t * t * (3.0 - 2.0 * t);
    let (sx, sy) = (s(fx), s(fy));
    let h = |dx: i64, dy: i64| hash01(seed, xi as i64 + dx, yi as i64 + dy, scale.to_bits() as i64);
    let a = h(0, 0) + (h(1, 0) - h(0, 0)) * sx;
    let b = h(0, 1) + (h(1, 1) - h(0, 1)) * sx;
    a + (b - a) * sy
}

fn fbm(seed: u64, u: f64, v: f64) -> f64 {
    (value_noise(seed, u, v, 12.0) * 0.55 + value_noise(seed ^ 1, u, v, 5.0) * 0.3 + value_noise(seed ^ 2, u, v, 2.0) * 0.15)
        .clamp(0.0, 1.0)
}

// ---------------------------------------------------------------- geometry helpers

fn point_in_ring(x: f64, y: f64, ring: &[(f64, f64)]) -> bool {
    let mut inside = false;
    let n = ring.len();
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn dist_to_ring(x: f64, y: f64, ring: &[(f64, f64)]) -> f64 {
    let mut best = f64::INFINITY;
    for w in ring.windows(2) {
        let (ax, ay) = w[0];
        let (bx, by) = w[1];
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 { (((x - ax) * dx + (y - ay) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
        let (px, py) = (ax + t * dx, ay + t * dy);
        best = best.min(((x - px).powi(2) + (y - py).powi(2)).sqrt());
    }
    best
}

/// Sinusoidal (x, y) → (lon, lat) in degrees, exact on the MODIS sphere.
pub fn sinusoidal_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lat = y / R_EARTH;
    let lon = x / (R_EARTH * lat.cos());
    (lon.to_degrees(), lat.to_degrees())
}

/// Polygon ring around (cx, cy) with a wobbly radius: `n` vertices, mean radius `r` metres.
fn blob_ring(seed: u64, id: i64, cx: f64, cy: f64, r: f64, n: usize, wobble: f64, aspect: f64, angle: f64) -> Vec<(f64, f64)> {
    let mut ring: Vec<(f64, f64)> = (0..n)
        .map(|k| {
            let t = std::f64::consts::TAU * k as f64 / n as f64;
            let rr = r * (1.0 + wobble * (hash01(seed, id, k as i64, 7) - 0.5) * 2.0);
            let (ex, ey) = (rr * t.cos() * aspect, rr * t.sin() / aspect);
            let (ca, sa) = (angle.cos(), angle.sin());
            (cx + ex * ca - ey * sa, cy + ex * sa + ey * ca)
        })
        .collect();
    ring.push(ring[0]);
    ring
}

fn ring_area(ring: &[(f64, f64)]) -> f64 {
    let mut a = 0.0;
    for w in ring.windows(2) {
        a += w[0].0 * w[1].1 - w[1].0 * w[0].1;
    }
    a.abs() / 2.0
}

/// Scales a ring about its centroid so that its area is `area_m2`.
fn scale_ring_to_area(ring: Vec<(f64, f64)>, area_m2: f64) -> Vec<(f64, f64)> {
    let n = (ring.len() - 1) as f64;
    let cx = ring[..ring.len() - 1].iter().map(|p| p.0).sum::<f64>() / n;
    let cy = ring[..ring.len() - 1].iter().map(|p| p.1).sum::<f64>() / n;
    let k = (area_m2 / ring_area(&ring)).sqrt();
    ring.into_iter().map(|(x, y)| (cx + (x - cx) * k, cy + (y - cy) * k)).collect()
}

// ---------------------------------------------------------------- the scene

impl Scene {
    /// Builds the scene. `seed` changes every random detail; the layout stays.
    pub fn new(seed: u64) -> Self {
        // The scene is laid out in local ground coordinates (u east, v north, km; an equirectangular
        // plane centred on the city, true to scale within 0.1 % over the scene) and observed on the
        // MODIS sinusoidal grid, where — 117° from the central meridian — it appears sheared, as real
        // MODIS data there do. Centre: 5 km east of the h26/h27 tile boundary at 39.6° N, so the
        // city spans both tiles.
        let x_boundary = modis::X_MIN + 27.0 * modis::TILE_SIZE_M;
        let lat0 = 39.6_f64.to_radians();
        let lon0 = (x_boundary + 25_000.0) / (R_EARTH * lat0.cos());
        let center = (R_EARTH * lon0 * lat0.cos(), R_EARTH * lat0);
        let km = move |x: f64, y: f64| {
            let lat = y / R_EARTH;
            let lon = x / (R_EARTH * lat.cos());
            ((lon - lon0) * R_EARTH * lat0.cos() / 1000.0, (lat - lat0) * R_EARTH / 1000.0)
        };
        let from_km = move |u: f64, v: f64| {
            let lat = lat0 + v * 1000.0 / R_EARTH;
            let lon = lon0 + u * 1000.0 / (R_EARTH * lat0.cos());
            (R_EARTH * lon * lat.cos(), R_EARTH * lat)
        };
        // The ground rectangle ±54 km × ±27 km, traced on the sinusoidal plane for its bounds.
        let mut bounds = rsei_core::Bounds::new(center.0, center.1, center.0, center.1);
        for k in 0..=40 {
            let t = f64::from(k) / 40.0;
            for (u, v) in [(-54.0 + 108.0 * t, -27.0), (-54.0 + 108.0 * t, 27.0), (-54.0, -27.0 + 54.0 * t), (54.0, -27.0 + 54.0 * t)] {
                let (x, y) = from_km(u, v);
                bounds = bounds.union(&rsei_core::Bounds::new(x, y, x, y));
            }
        }
        // Snap to the 1 km lattice of the MODIS tile system.
        let lattice_1km = modis::tile_grid(27, 5, modis::Resolution::Km1);
        let g1 = lattice_1km.snapped_grid(&bounds);
        let t1 = *g1.transform();
        let cs = modis::Resolution::M500.cell_size_m();
        let grid = Grid::new(g1.rows() * 2, g1.cols() * 2, GeoTransform::new(t1.x0, cs, t1.y0, -cs), Crs::modis_sinusoidal());
        let grid_1km = g1;
        let to_sinusoidal = |ring: Vec<(f64, f64)>| -> Vec<(f64, f64)> { ring.into_iter().map(|(u, v)| from_km(u, v)).collect() };

        // Two cities, wobbly polygons of ~1,500 and ~1,100 km²: Demo City in the west straddles the
        // h26/h27 tile boundary (25 km west of the scene centre), Second City in the east lies in h27.
        let (c1, c2) = ((-28.0, 0.0), (28.0, 1.0));
        let cities = vec![
            City {
                name: "Demo City".into(),
                adcode: 999_001,
                ring: to_sinusoidal(blob_ring(seed, 1, c1.0, c1.1, 22.0, 28, 0.12, 1.12, 0.15)),
            },
            City {
                name: "Second City".into(),
                adcode: 999_002,
                ring: to_sinusoidal(blob_ring(seed, 2, c2.0, c2.1, 19.0, 26, 0.14, 1.18, -0.3)),
            },
        ];

        // Mines: (u, v) km relative to their city, area km², aspect, angle, reclaimed
        let specs: [(f64, f64, f64, f64, f64, Option<i32>, (f64, f64)); 16] = [
            (-9.0, 8.0, 2.5, 1.6, 0.4, None, c1),
            (-13.0, 3.0, 1.6, 1.3, -0.3, None, c1),
            (-6.0, 12.5, 1.1, 1.8, 1.0, None, c1),
            (10.0, 9.0, 0.85, 1.2, 0.2, Some(2020), c1),
            (-15.5, 10.0, 0.62, 1.4, 0.7, None, c1),
            (12.0, -11.0, 0.42, 1.1, -0.5, None, c1),
            (-3.5, 15.5, 0.30, 1.5, 0.1, None, c1),
            (6.0, 14.0, 0.22, 1.2, 0.9, None, c1),
            (-11.0, -6.0, 0.16, 1.3, -0.8, None, c1),
            (14.5, 4.0, 0.11, 1.0, 0.0, None, c1),
            (-8.0, -7.0, 1.9, 1.5, 0.8, None, c2),
            (-4.0, -12.0, 0.9, 1.3, -0.2, None, c2),
            (7.0, 6.0, 0.55, 1.2, 0.5, None, c2),
            (11.0, -4.0, 0.35, 1.6, 1.1, None, c2),
            (-12.0, 2.0, 0.2, 1.1, 0.3, Some(2019), c2),
            (2.0, 13.0, 0.13, 1.0, -0.6, None, c2),
        ];
        let names = [
            "North Pit", "Ridge Pit", "Upper Valley", "East Quarry", "West Hollow", "South Works", "Summit Cut",
            "Crag Quarry", "Lakeside Pit", "Hill Works", "Plain Deep", "Southern Cut", "River Bend Pit", "Field Quarry",
            "Old Works", "Brook Pit",
        ];
        let mines: Vec<Mine> = specs
            .iter()
            .enumerate()
            .map(|(i, &(u, v, a, asp, ang, rec, c))| {
                let ring = blob_ring(seed, 100 + i as i64, c.0 + u, c.1 + v, 1.0, 12, 0.18, asp, ang);
                Mine {
                    id: i as u32 + 1,
                    name: format!("{} (synthetic)", names[i]),
                    // area in km² on the ground plane; the sinusoidal plane is equal-area
                    ring: to_sinusoidal(scale_ring_to_area(ring, a)),
                    reclaimed_from: rec,
                }
            })
            .collect();

        let mines_km: Vec<Vec<(f64, f64)>> = mines.iter().map(|m| m.ring.iter().map(|&(x, y)| km(x, y)).collect()).collect();
        let n = grid.len();
        let mut uv = vec![(0f32, 0f32); n];
        let mut elevation_m = vec![0f32; n];
        let mut water = vec![0f32; n];
        let mut lake = vec![false; n];
        let mut mine_frac = vec![0f32; n];
        let mut mine_id = vec![0u8; n];
        let mut dist_mine_km = vec![0f32; n];
        let mut dist_town_km = vec![0f32; n];
        let mut crop = vec![0f32; n];
        let mut vigour = vec![0f32; n];
        let towns = [(c1.0 + 4.0, c1.1 - 3.0, 1.0f32), (c2.0 - 2.0, c2.1 + 2.0, 0.8)];
        let lake_c = (c1.0 - 12.0, c1.1 - 10.0);
        for r in 0..grid.rows() {
            for c in 0..grid.cols() {
                let i = grid.index(r, c);
                let (x, y) = grid.cell_center(r, c);
                let (u, v) = km(x, y);
                uv[i] = (u as f32, v as f32);
                // Mountains rise to the north-west (north of Demo City); Second City lies in the plains.
                let ridge = 1.0 / (1.0 + (-(v - 0.5 * u - 14.0) / 6.0).exp());
                let e = 40.0 + 1100.0 * ridge + 180.0 * fbm(seed ^ 11, u, v) + 60.0 * value_noise(seed ^ 12, u, v, 1.5);
                elevation_m[i] = e as f32;
                // River: meanders from the north-west mountains to the south-east; 0.6 km wide.
                let river_v = river(u);
                let d_river = (v - river_v).abs() / (1.0 + RIVER_SLOPE.powi(2)).sqrt();
                // Lake: ellipse 4 × 2.5 km.
                let lake_d = ((u - lake_c.0) / 4.0).powi(2) + ((v - lake_c.1) / 2.5).powi(2);
                // Sub-sample 4×4 points per cell for water and mine fractions.
                let mut wsum = 0.0;
                let mut msum = vec![0.0f32; mines.len()];
                let cs_m = grid.cell_size().0;
                for sy in 0..4 {
                    for sx in 0..4 {
                        let px = x + (sx as f64 - 1.5) / 4.0 * cs_m;
                        let py = y + (sy as f64 - 1.5) / 4.0 * cs_m;
                        let (pu, pv) = km(px, py);
                        let rv = river(pu);
                        let dr = (pv - rv).abs() / (1.0 + RIVER_SLOPE.powi(2)).sqrt();
                        let ld = ((pu - lake_c.0) / 4.0).powi(2) + ((pv - lake_c.1) / 2.5).powi(2);
                        if dr < 0.3 || ld < 1.0 {
                            wsum += 1.0;
                        }
                        for (k, m) in mines.iter().enumerate() {
                            if point_in_ring(px, py, &m.ring) {
                                msum[k] += 1.0;
                            }
                        }
                    }
                }
                water[i] = (wsum / 16.0) as f32;
                lake[i] = lake_d < 1.2 && d_river > 0.3;
                let (kbest, best) = msum.iter().enumerate().fold((0, 0.0f32), |acc, (k, &s)| if s > acc.1 { (k, s) } else { acc });
                mine_frac[i] = msum.iter().sum::<f32>() / 16.0;
                mine_id[i] = if best > 0.0 { kbest as u8 + 1 } else { 0 };
                let dm = mines_km
                    .iter()
                    .map(|m| if point_in_ring(u, v, m) { 0.0 } else { dist_to_ring(u, v, m) })
                    .fold(f64::INFINITY, f64::min);
                dist_mine_km[i] = dm as f32;
                // distance to the nearest town, scaled by the town's size
                dist_town_km[i] = towns
                    .iter()
                    .map(|&(tu, tv, size)| ((u - tu).powi(2) + (v - tv).powi(2)).sqrt() as f32 / size)
                    .fold(f32::INFINITY, f32::min);
                crop[i] = (1.0 / (1.0 + ((v - u * 0.2 + 4.0) / 3.0).exp()) * (1.0 - ridge)) as f32;
                vigour[i] = fbm(seed ^ 21, u, v) as f32;
            }
        }
        Scene {
            seed,
            uv,
            grid,
            grid_1km,
            center,
            cities,
            mines,
            elevation_m,
            water,
            lake,
            mine_frac,
            mine_id,
            dist_mine_km,
            dist_town_km,
            crop,
            vigour,
        }
    }

    /// Seasonal greenness factor at a day of year (peak in early August; harvest of crops after mid September).
    fn phenology(doy: u32, crop: f32) -> f32 {
        let d = doy as f32;
        let natural = 0.45 + 0.55 * (-((d - 215.0) / 55.0).powi(2)).exp();
        let harvest = if d > 258.0 { (1.0 - (d - 258.0) / 25.0).clamp(0.35, 1.0) } else { 1.0 };
        natural * (1.0 - crop + crop * harvest)
    }

    /// Land-cover mixture of cell `i` in `year` at day `doy`.
    fn mix(&self, i: usize, year: i32, doy: u32) -> (Mix, f32) {
        let t = (year - FIRST_YEAR) as f32;
        let w = self.water[i];
        // mine footprint: bare, except a reclaimed mine re-greening after its reclamation year
        let mut mine_bare = self.mine_frac[i] * 0.9;
        if self.mine_id[i] > 0 {
            if let Some(y0) = self.mines[self.mine_id[i] as usize - 1].reclaimed_from {
                if year >= y0 {
                    mine_bare *= (1.0 - 0.22 * (year - y0 + 1) as f32).max(0.25);
                }
            }
        }
        // dust, waste dumps and haul roads around the mines, fading with distance and growing over time
        let halo = 0.55 * (-self.dist_mine_km[i] / 2.2).exp() * (1.0 + 0.05 * t);
        // the town grows by 4 % in radius per year
        let town_r = 3.2 * (1.0 + 0.04 * t);
        let urban = (-(self.dist_town_km[i] / town_r).powi(2)).exp() * 0.9;
        let land = 1.0 - w;
        let soil = (mine_bare + halo * (1.0 - self.mine_frac[i])).min(0.95) * land;
        let urban = (urban * (land - soil)).max(0.0);
        let veg = (land - soil - urban).max(0.0);
        let green = Self::phenology(doy, self.crop[i]) * (0.7 + 0.3 * self.vigour[i]) * (1.0 + 0.004 * t);
        (Mix { veg, soil, urban, water: w }, green.min(1.0))
    }

    /// True reflectance (0..1) of cell `i`, bands 1..7.
    fn reflectance(&self, i: usize, year: i32, doy: u32, noise_key: i64) -> [f32; 7] {
        let (m, green) = self.mix(i, year, doy);
        let mut out = [0f32; 7];
        for b in 0..7 {
            let vegb = VEG[b] * green + DRY_VEG[b] * (1.0 - green);
            let v = m.veg * vegb + m.soil * SOIL[b] + m.urban * URBAN[b] + m.water * WATER[b];
            let nz = hash_normal(self.seed ^ 0xB00, i as i64, noise_key, b as i64) as f32 * 0.004;
            out[b] = (v + nz).max(0.001);
        }
        out
    }

    /// Cloud cover field at a date: 0 clear … 1 opaque, per 500 m cell.
    fn clouds(&self, year: i32, doy: u32) -> Vec<f32> {
        let key = i64::from(year) * 1000 + i64::from(doy);
        // Summer (monsoon) dates are cloudier; one date per year (early August) is almost fully clouded.
        let overcast = (209..217).contains(&doy);
        let n_blobs = if overcast { 30 } else { 1 + (hash01(self.seed, key, 1, 0) * if (180..250).contains(&doy) { 7.0 } else { 4.0 }) as usize };
        let blobs: Vec<(f32, f32, f32)> = (0..n_blobs)
            .map(|k| {
                let u = -34.0 + hash01(self.seed, key, k as i64, 2) * 68.0;
                let v = -29.0 + hash01(self.seed, key, k as i64, 3) * 58.0;
                let r = if overcast { 14.0 } else { 1.5 + 5.5 * hash01(self.seed, key, k as i64, 4) };
                (u as f32, v as f32, r as f32)
            })
            .collect();
        self.uv
            .iter()
            .map(|&(u, v)| {
                let s: f32 = blobs.iter().map(|&(bu, bv, br)| (-((u - bu).powi(2) + (v - bv).powi(2)) / (br * br)).exp()).sum();
                s.min(1.0)
            })
            .collect()
    }

    /// One MOD09A1 8-day observation on the scene grid (first day `doy`).
    pub fn mod09a1(&self, year: i32, doy: u32) -> Mod09Obs {
        let n = self.grid.len();
        let key = i64::from(year) * 1000 + i64::from(doy);
        let cloud = self.clouds(year, doy);
        let (rows, cols) = self.grid.shape();
        // shadow: the cloud field shifted 3 cells east and 2 south
        let shadow_of = |r: usize, c: usize| -> bool {
            if r < 2 || c < 3 {
                return false;
            }
            cloud[self.grid.index(r - 2, c - 3)] > 0.5 && cloud[self.grid.index(r, c)] <= 0.35
        };
        let near_cloud = |r: usize, c: usize| -> bool {
            let r0 = r.saturating_sub(2);
            let c0 = c.saturating_sub(2);
            (r0..(r + 3).min(rows)).any(|rr| (c0..(c + 3).min(cols)).any(|cc| cloud[self.grid.index(rr, cc)] > 0.35))
        };
        // a strip of fill values in one granule per year (a missing scan)
        let fill_row = if doy == 185 { Some((hash01(self.seed, key, 9, 9) * rows as f64) as usize) } else { None };
        let mut bands: [Vec<i16>; 7] = Default::default();
        for b in bands.iter_mut() {
            *b = vec![0; n];
        }
        let mut qc = vec![0u32; n];
        let mut state = vec![0u16; n];
        for r in 0..rows {
            for c in 0..cols {
                let i = self.grid.index(r, c);
                if let Some(fr) = fill_row {
                    if r >= fr && r < fr + 3 {
                        for b in bands.iter_mut() {
                            b[i] = -28672;
                        }
                        qc[i] = 0b11; // MODLAND: not produced, other reasons
                        state[i] = 0b11; // cloud state not set
                        continue;
                    }
                }
                let mut rho = self.reflectance(i, year, doy, key);
                let cl = cloud[i];
                let shadow = shadow_of(r, c);
                if cl > 0.0 {
                    for b in 0..7 {
                        rho[b] = rho[b] * (1.0 - cl) + CLOUD[b] * cl;
                    }
                }
                if shadow {
                    for v in rho.iter_mut() {
                        *v *= 0.55;
                    }
                }
                for b in 0..7 {
                    bands[b][i] = (rho[b] * 10_000.0).round().clamp(-100.0, 16_000.0) as i16;
                }
                // --- state bits
                let mut s: u16 = 0;
                let cloud_state: u16 = if cl > 0.5 { 1 } else if cl > 0.35 { 2 } else { 0 };
                s |= cloud_state;
                if shadow {
                    s |= 1 << 2;
                }
                let lw: u16 = if self.water[i] > 0.5 {
                    if self.lake[i] {
                        5
                    } else {
                        3
                    }
                } else if self.water[i] > 0.0 {
                    2
                } else {
                    1
                };
                s |= lw << 3;
                s |= 1 << 6; // aerosol: low
                let cirrus: u16 = if cl > 0.2 && cl <= 0.35 { 2 } else if cl > 0.1 { 1 } else { 0 };
                s |= cirrus << 8;
                if cl > 0.5 {
                    s |= 1 << 10; // internal cloud
                }
                if cloud_state == 0 && near_cloud(r, c) {
                    s |= 1 << 13; // adjacent to cloud
                }
                s |= 1 << 14; // BRDF corrected
                state[i] = s;
                // --- qc bits: MODLAND 0 ideal, 2 when not produced due to clouds
                let modland: u32 = if cl > 0.5 { 2 } else if cl > 0.2 { 1 } else { 0 };
                qc[i] = modland | (1 << 30) | (1 << 31);
            }
        }
        Mod09Obs { bands, qc, state }
    }

    /// One MOD13A1 16-day observation (NDVI ×10000 and pixel reliability).
    pub fn mod13a1(&self, year: i32, doy: u32) -> Mod13Obs {
        let n = self.grid.len();
        let key = i64::from(year) * 1000 + i64::from(doy) + 500_000;
        // the 16-day product picks the best of two 8-day looks: fewer clouds survive
        let c1 = self.clouds(year, doy);
        let c2 = self.clouds(year, doy + 8);
        let mut ndvi = vec![0i16; n];
        let mut rel = vec![0i8; n];
        for i in 0..n {
            let cl = c1[i].min(c2[i]);
            let rho = self.reflectance(i, year, doy + 8, key);
            let (red, nir) = if cl > 0.0 {
                (rho[0] * (1.0 - cl) + CLOUD[0] * cl, rho[1] * (1.0 - cl) + CLOUD[1] * cl)
            } else {
                (rho[0], rho[1])
            };
            let v = (nir - red) / (nir + red);
            ndvi[i] = (v * 10_000.0).round().clamp(-2000.0, 10_000.0) as i16;
            rel[i] = if cl > 0.5 { 3 } else if cl > 0.2 { 1 } else { 0 };
        }
        Mod13Obs { ndvi, reliability: rel }
    }

    /// One MOD11A2 8-day daytime LST observation on the 1 km grid.
    pub fn mod11a2(&self, year: i32, doy: u32) -> Mod11Obs {
        let g = &self.grid_1km;
        let n = g.len();
        let key = i64::from(year) * 1000 + i64::from(doy) + 900_000;
        let cloud = self.clouds(year, doy);
        let mut lst = vec![0u16; n];
        let mut qc = vec![0u8; n];
        let season = 1.0 - ((doy as f32 - 200.0) / 70.0).powi(2).min(1.0);
        for r in 0..g.rows() {
            for c in 0..g.cols() {
                let k = g.index(r, c);
                // mean of the 2×2 fine cells
                let mut t = 0.0f32;
                let mut cl = 0.0f32;
                for (dr, dc) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let i = self.grid.index(2 * r + dr, 2 * c + dc);
                    let (m, green) = self.mix(i, year, doy);
                    let celsius = 22.0 + 9.0 * season + 8.0 * m.urban + 11.0 * m.soil - 5.0 * m.veg * green - 7.0 * m.water
                        - 0.0065 * (self.elevation_m[i] - 40.0)
                        + 0.6 * (year - FIRST_YEAR) as f32 * (m.soil + m.urban);
                    t += celsius / 4.0;
                    cl += cloud[i] / 4.0;
                }
                t += hash_normal(self.seed ^ 0x1157, k as i64, key, 0) as f32 * 0.6;
                if cl > 0.45 {
                    lst[k] = 0; // not produced
                    qc[k] = 0b10;
                } else {
                    lst[k] = ((t + 273.15) / 0.02).round() as u16;
                    // bits 0–1: 0 good / 1 other quality; bits 6–7 LST error: 0 ≤1 K, 1 ≤2 K, 2 ≤3 K
                    let err: u8 = if cl > 0.3 { 2 } else if cl > 0.1 { 1 } else { 0 };
                    let mandatory: u8 = if cl > 0.1 { 1 } else { 0 };
                    qc[k] = mandatory | (err << 6);
                }
            }
        }
        Mod11Obs { lst, qc }
    }

    /// Land cover (IGBP classes as MCD12Q1 LC_Type1) on the scene grid for a year.
    pub fn landcover(&self, year: i32) -> Vec<u8> {
        (0..self.grid.len())
            .map(|i| {
                let (m, _) = self.mix(i, year, 215);
                if m.water > 0.5 {
                    17 // water bodies (MCD12Q1 LC_Type1 code 17; the MCD12C1 water class is 0)
                } else if m.water > 0.2 {
                    11 // permanent wetlands along the shores
                } else if m.soil > 0.5 {
                    16 // barren
                } else if m.urban > 0.4 {
                    13 // urban
                } else if self.crop[i] > 0.5 {
                    12 // croplands
                } else if self.elevation_m[i] > 500.0 {
                    5 // mixed forest
                } else {
                    10 // grasslands
                }
            })
            .collect()
    }

    /// The cells of `grid` (the scene grid or the 1 km grid) that fall in MODIS tile (h, v), as a
    /// window of `grid` and the matching grid of that subset (on the tile's lattice).
    pub fn tile_subset(&self, grid: &Grid, h: u8, v: u8) -> Option<(Window, Grid)> {
        let res = if (grid.cell_size().0 - modis::Resolution::M500.cell_size_m()).abs() < 1e-6 {
            modis::Resolution::M500
        } else {
            modis::Resolution::Km1
        };
        let tile = modis::tile_grid(h, v, res);
        let (w_scene, _w_tile) = grid.overlap(&tile).ok()??;
        let sub = grid.subgrid(w_scene).ok()?;
        Some((w_scene, sub))
    }

    /// City boundary ring `k` as lon/lat (closed).
    pub fn city_lonlat(&self, k: usize) -> Vec<(f64, f64)> {
        self.cities[k].ring.iter().map(|&(x, y)| sinusoidal_to_lonlat(x, y)).collect()
    }

    /// The centre latitude, for documentation.
    pub fn center_lonlat(&self) -> (f64, f64) {
        sinusoidal_to_lonlat(self.center.0, self.center.1)
    }

    /// Mine footprint area (km²) on the sphere's equal-area sinusoidal plane.
    pub fn mine_area_km2(&self, k: usize) -> f64 {
        ring_area(&self.mines[k].ring) / 1e6
    }
}

/// Extracts the cells of `w` from a full-scene buffer.
pub fn cut<T: Copy>(data: &[T], grid: &Grid, w: Window) -> Vec<T> {
    let mut out = Vec::with_capacity(w.len());
    for r in w.row..w.row_end() {
        let s = grid.index(r, w.col);
        out.extend_from_slice(&data[s..s + w.cols]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_spans_two_tiles_and_is_deterministic() {
        let s = Scene::new(7);
        assert!(s.tile_subset(&s.grid, 26, 5).is_some());
        assert!(s.tile_subset(&s.grid, 27, 5).is_some());
        let (w26, _) = s.tile_subset(&s.grid, 26, 5).unwrap();
        let (w27, _) = s.tile_subset(&s.grid, 27, 5).unwrap();
        assert_eq!(w26.len() + w27.len(), s.grid.len());
        let a = s.mod09a1(2019, 177);
        let b = Scene::new(7).mod09a1(2019, 177);
        assert_eq!(a.bands[1], b.bands[1]);
        assert_eq!(a.state, b.state);
    }

    #[test]
    fn mines_cover_every_size_class() {
        let s = Scene::new(7);
        let areas: Vec<f64> = (0..s.mines.len()).map(|k| s.mine_area_km2(k)).collect();
        for (lo, hi) in [(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0), (1.0, 99.0)] {
            assert!(areas.iter().any(|&a| a >= lo && a < hi), "no mine in {lo}..{hi}: {areas:?}");
        }
    }

    #[test]
    fn spectra_behave_like_land() {
        let s = Scene::new(7);
        // a vegetated cell far from mines and town vs a mine cell: NDVI higher, NDBSI lower
        let veg = (0..s.grid.len()).find(|&i| s.dist_mine_km[i] > 8.0 && s.dist_town_km[i] > 12.0 && s.water[i] == 0.0).unwrap();
        let mine = (0..s.grid.len()).find(|&i| s.mine_frac[i] > 0.99).unwrap();
        let ndvi = |r: [f32; 7]| (r[1] - r[0]) / (r[1] + r[0]);
        let rv = s.reflectance(veg, 2019, 215, 0);
        let rm = s.reflectance(mine, 2019, 215, 0);
        assert!(ndvi(rv) > 0.6, "{}", ndvi(rv));
        assert!(ndvi(rm) < 0.25, "{}", ndvi(rm));
        let water = (0..s.grid.len()).find(|&i| s.water[i] == 1.0).unwrap();
        let rw = s.reflectance(water, 2019, 215, 0);
        assert!((rw[3] - rw[5]) / (rw[3] + rw[5]) > 0.5, "MNDWI of water");
    }
}
