//! Identifying MODIS files and reading their layers as decoded values on core grids.
//!
//! * [`identify`] tells what a file is (product, date, tile, the layers it holds) from its name,
//!   falling back to its metadata (see [`crate::naming`]); when both speak and disagree, the name
//!   wins and a note says so. It opens the file but reads no pixel.
//! * [`LayerReader`] reads one layer: [`LayerReader::read_f32`] gives decoded values (scale and
//!   offset applied, `NaN` for fill, for the file's own nodata and outside the valid range),
//!   [`LayerReader::read_raw_u32`] / [`LayerReader::read_raw_i32`] the raw DN for QA bit fields, and
//!   [`LayerReader::read_into`] pastes the file's part of a window of a larger grid on the same lattice
//!   (that is how tiles are mosaicked onto a study-area grid), or warps it there by nearest neighbour
//!   when the grid is in another CRS or off the file's lattice. Every read is a window read.
//!
//! HDF4-EOS layers are found by field name among the subdatasets, whatever the grid is called
//! (NASA's subsetting tools rename grids, e.g. `MOD_Grid_500m_Surface_Reflectance_463`). The grid
//! of every layer is checked against the product's resolution, so MOD09GA's 1 km `state_1km_1`
//! and 500 m `sur_refl_b01_1` can never be confused.
//!
//! ## Decoding rule
//! The product registry ([`crate::products`]) is the authority; the file's own metadata is
//! cross-checked:
//! * a declared scale must be the product's (`0.0001`) or its inverse (`10000`, the divide
//!   convention of some HDF granules), else the file is refused; a missing scale is fine;
//! * a declared nodata value different from the product fill is honoured when it lies outside the
//!   layer's valid range (MODIStsp's 32767), and ignored with a note otherwise (GDAL reports
//!   nodata 0 for MOD11 `QC_Day`, where 0 means "good quality");
//! * an 8-bit signed layer (pixel reliability) that GDAL exposes as unsigned bytes is read back as
//!   signed (255 → −1);
//! * **pre-scaled files**: a layer whose product DN is an integer but which is stored as floating
//!   point, without a declared product scale, is examined once at open on a sample of at most
//!   128 × 128 cells (nodata excluded). If every sampled value lies in the layer's *scaled* valid
//!   range (NDVI −0.2..1), the file is already scaled and is read as is; if they lie in the raw
//!   valid range it holds DN as floats and is scaled; otherwise it is refused with both ranges in
//!   the message. (A raw file whose values all fall inside the scaled range would need NDVI DN
//!   between −0.2 and 1, i.e. |NDVI| ≤ 0.0001 everywhere.)

use std::path::{Path, PathBuf};

use gdal::raster::{GdalDataType, RasterBand};
use gdal::{Dataset, Metadata};
use rsei_core::grid::modis::Resolution;
use rsei_core::{Crs, GeoTransform, Grid, Raster, Window};
use serde::{Deserialize, Serialize};

use crate::crs::{crs_equivalent, crs_from_spatial_ref};
use crate::error::{IoError, Result};
use crate::gdalutil::{open_raster, QuietErrors};
use crate::naming::{parse_name, GranuleMetadata, ModisDate, ParsedName, Tile};
use crate::warp::Resampling;
use crate::products::{looks_like_modis_product, Layer, LayerSpec, Product, RawType, HANDLED_PRODUCTS};

/// Pixel reads of [`LayerReader`] in this process so far: the instrumented counter behind the
/// "granule reads" of the benchmarks (how often granule layers are decoded, and how much).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadCounts {
    /// Layers opened ([`LayerReader::open`]).
    pub opens: u64,
    /// Windows of a layer read and decoded (one per read call that touches pixels).
    pub windows: u64,
    /// Cells in those windows.
    pub cells: u64,
}

static OPENS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static WINDOWS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static CELLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The [`ReadCounts`] of this process since it started (shared by every thread).
pub fn read_counts() -> ReadCounts {
    use std::sync::atomic::Ordering::Relaxed;
    ReadCounts { opens: OPENS.load(Relaxed), windows: WINDOWS.load(Relaxed), cells: CELLS.load(Relaxed) }
}

impl ReadCounts {
    /// What was read between `earlier` and `self`.
    pub fn since(&self, earlier: &ReadCounts) -> ReadCounts {
        ReadCounts { opens: self.opens - earlier.opens, windows: self.windows - earlier.windows, cells: self.cells - earlier.cells }
    }
}

/// How a file holds its layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Container {
    /// An HDF4-EOS granule: every layer is a subdataset.
    Hdf4Eos,
    /// One layer per file (GeoTIFF/COG), band 1.
    SingleLayer,
}

/// Where one layer of one granule lives: enough to open a [`LayerReader`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerSource {
    /// The file.
    pub path: PathBuf,
    /// What GDAL opens: the subdataset string for HDF layers, else the path.
    pub gdal_name: String,
    pub product: Product,
    pub layer: Layer,
}

impl LayerSource {
    /// The source of `layer` in a file (any container): identifies the file, then picks the layer.
    /// `layer = None` is allowed for single-layer files (their own layer).
    pub fn from_file(path: &Path, layer: Option<Layer>) -> Result<LayerSource> {
        let id = identify(path)?;
        match layer {
            None if id.layers.len() == 1 => Ok(id.layers[0].clone()),
            None => Err(IoError::MissingLayer {
                path: path.to_path_buf(),
                layer: "(none given)".into(),
                available: id.layers.iter().map(|l| l.layer.id().to_string()).collect(),
            }),
            Some(l) => id.layers.iter().find(|s| s.layer == l).cloned().ok_or_else(|| IoError::MissingLayer {
                path: path.to_path_buf(),
                layer: l.id().into(),
                available: id.layers.iter().map(|s| s.layer.id().to_string()).chain(id.other_layers.iter().cloned()).collect(),
            }),
        }
    }
}

/// What [`identify`] found out about a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub path: PathBuf,
    pub product: Product,
    pub date: ModisDate,
    pub tile: Tile,
    pub collection: Option<String>,
    pub production: Option<String>,
    pub container: Container,
    /// The registry layers the file holds.
    pub layers: Vec<LayerSource>,
    /// Other layers found (HDF fields we do not use, as named in the file).
    pub other_layers: Vec<String>,
    /// Remarks (metadata fallbacks used, disagreements, derived tile).
    pub notes: Vec<String>,
}

/// A subdataset of an HDF file: GDAL name and field name.
#[derive(Clone, Debug)]
struct Subdataset {
    gdal_name: String,
    field: String,
}

fn list_subdatasets(ds: &Dataset) -> Vec<Subdataset> {
    let items = ds.metadata_domain("SUBDATASETS").unwrap_or_default();
    let mut names: Vec<(usize, String)> = Vec::new();
    let mut descs: Vec<(usize, String)> = Vec::new();
    for it in &items {
        let Some((k, v)) = it.split_once('=') else { continue };
        let Some(rest) = k.strip_prefix("SUBDATASET_") else { continue };
        if let Some(n) = rest.strip_suffix("_NAME").and_then(|n| n.parse().ok()) {
            names.push((n, v.to_string()));
        } else if let Some(n) = rest.strip_suffix("_DESC").and_then(|n| n.parse().ok()) {
            descs.push((n, v.to_string()));
        }
    }
    names.sort();
    names
        .into_iter()
        .map(|(n, gdal_name)| {
            // HDF4_EOS:EOS_GRID:"file":grid:field — the field is what follows the grid name
            let field = gdal_name
                .rfind('"')
                .map(|q| &gdal_name[q + 1..])
                .and_then(|t| t.strip_prefix(':'))
                .and_then(|t| t.split_once(':').map(|(_, f)| f.to_string()))
                .or_else(|| {
                    // HDF4_SDS:…:index — take the name from the description "[RxC] name (type)"
                    descs.iter().find(|(m, _)| *m == n).and_then(|(_, d)| {
                        let after = d.split_once("] ").map(|(_, a)| a)?;
                        Some(after.rsplit_once(" (").map(|(a, _)| a).unwrap_or(after).to_string())
                    })
                })
                .unwrap_or_default();
            Subdataset { gdal_name, field }
        })
        .collect()
}

/// [`grid_of`] remembered per (GDAL name, file size, modification time): an archive's files are
/// identified by the inventory and opened again for every strip and year; building a GeoTIFF's CRS
/// goes through PROJ's database each time and costs more than reading a small window.
pub(crate) fn grid_of_cached(ds: &Dataset, gdal_name: &str, path: &Path) -> Result<Grid> {
    type Key = (String, u64, Option<std::time::SystemTime>);
    static CACHE: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<Key, Grid>>> = std::sync::OnceLock::new();
    let Ok(md) = std::fs::metadata(path) else { return grid_of(ds, path) };
    let key = (gdal_name.to_string(), md.len(), md.modified().ok());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(g) = cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
        // the geotransform and size are cheap: check them, so a stale entry can never be used
        let (cols, rows) = ds.raster_size();
        if (rows, cols) == g.shape() && ds.geo_transform().ok() == Some(g.transform().to_gdal()) {
            return Ok(g);
        }
    }
    let g = grid_of(ds, path)?;
    if let Ok(mut m) = cache.lock() {
        m.insert(key, g.clone());
    }
    Ok(g)
}

fn grid_of(ds: &Dataset, path: &Path) -> Result<Grid> {
    let (cols, rows) = ds.raster_size();
    let gt = ds
        .geo_transform()
        .map_err(|_| IoError::Grid { path: path.to_path_buf(), reason: "the raster has no geotransform".into() })?;
    let t = GeoTransform::from_gdal(gt).map_err(|e| IoError::Grid { path: path.to_path_buf(), reason: e.to_string() })?;
    let wkt = ds.projection();
    if wkt.trim().is_empty() {
        return Err(IoError::Grid { path: path.to_path_buf(), reason: "the raster has no CRS".into() });
    }
    // Normalising a CRS goes through PROJ's database: do it once per distinct definition (an
    // archive holds thousands of files in one or two CRSs).
    static CACHE: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, Crs>>> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache.lock().ok().and_then(|m| m.get(&wkt).cloned()) {
        return Ok(Grid::new(rows, cols, t, c));
    }
    let srs = {
        let _q = QuietErrors::new();
        ds.spatial_ref()
    }
    .map_err(|_| IoError::Grid { path: path.to_path_buf(), reason: "the raster has no CRS".into() })?;
    let crs = crs_from_spatial_ref(&srs)?;
    if let Ok(mut m) = cache.lock() {
        m.insert(wkt, crs.clone());
    }
    Ok(Grid::new(rows, cols, t, crs))
}

/// The tile holding the centre of a grid (reprojecting the centre to the MODIS sinusoidal CRS
/// when the grid is in another CRS).
fn centre_tile(grid: &Grid) -> Option<Tile> {
    let (x, y) = grid.transform().xy(grid.rows() as f64 / 2.0, grid.cols() as f64 / 2.0);
    let sin = Crs::modis_sinusoidal();
    if grid.crs() == &sin {
        return Tile::containing(x, y);
    }
    let p = crate::crs::reproject_points(&[(x, y)], grid.crs(), &sin).ok()?;
    Tile::containing(p[0].0, p[0].1)
}

/// Identifies a MODIS file: product, date, tile and the layers it holds. See the module docs.
///
/// Errors: [`IoError::Open`] (unreadable/truncated, with GDAL's message), [`IoError::NotModis`]
/// (no MODIS name nor metadata, no date, no tile, unknown layer), [`IoError::UnsupportedProduct`].
pub fn identify(path: &Path) -> Result<Identity> {
    let file_name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let parsed: Option<ParsedName> = parse_name(&file_name);
    let path_str = path.to_str().ok_or_else(|| IoError::NotModis {
        path: path.to_path_buf(),
        reason: "the path is not valid UTF-8".into(),
    })?;
    let ds = open_raster(path_str, path)?;
    let items = ds.metadata_domain("").unwrap_or_default();
    let meta = GranuleMetadata::from_items(&items);
    let not_modis = |reason: String| IoError::NotModis { path: path.to_path_buf(), reason };
    let mut notes = Vec::new();

    // product
    let code = match (&parsed, &meta.product_code) {
        (Some(n), Some(m)) => {
            if !n.product_code.eq_ignore_ascii_case(m) {
                notes.push(format!("file name says {} but metadata says {m}; the name wins", n.product_code));
            }
            n.product_code.clone()
        }
        (Some(n), None) => n.product_code.clone(),
        (None, Some(m)) => {
            notes.push(format!("product {m} from metadata ({})", meta.sources.join(", ")));
            m.clone()
        }
        (None, None) => {
            return Err(not_modis(
                "the name follows no MODIS naming style and the file carries no MODIS metadata".into(),
            ))
        }
    };
    let product = match Product::from_short_name(&code) {
        Some(p) => p,
        None if looks_like_modis_product(&code) => {
            return Err(IoError::UnsupportedProduct {
                path: path.to_path_buf(),
                product: code,
                handled: HANDLED_PRODUCTS.into(),
            })
        }
        None => return Err(not_modis(format!("{code:?} is not a MODIS product name"))),
    };

    // date
    let date = match (parsed.as_ref().map(|n| n.date), meta.date) {
        (Some(n), Some(m)) => {
            if n != m {
                notes.push(format!("file name says date {n} but metadata says {m}; the name wins"));
            }
            n
        }
        (Some(n), None) => n,
        (None, Some(m)) => {
            notes.push(format!("date {m} from metadata"));
            m
        }
        (None, None) => return Err(not_modis("no acquisition date in the name or the metadata".into())),
    };

    let collection = parsed.as_ref().and_then(|n| n.collection.clone()).or(meta.collection.clone());
    let production = parsed.as_ref().and_then(|n| n.production.clone());
    let name_tile = parsed.as_ref().and_then(|n| n.tile);
    let is_hdf = ds.driver().short_name().starts_with("HDF4");

    let mut layers = Vec::new();
    let mut other_layers = Vec::new();
    let (container, geo_grid) = if is_hdf {
        let subs = list_subdatasets(&ds);
        if subs.is_empty() {
            return Err(not_modis("HDF file without subdatasets".into()));
        }
        for s in &subs {
            match product.find_layer(&s.field) {
                Some(spec) if !layers.iter().any(|l: &LayerSource| l.layer == spec.layer) => layers.push(LayerSource {
                    path: path.to_path_buf(),
                    gdal_name: s.gdal_name.clone(),
                    product,
                    layer: spec.layer,
                }),
                _ => other_layers.push(s.field.clone()),
            }
        }
        // a grid only when the tile has to be derived
        let g = if name_tile.is_none() && meta.tile.is_none() {
            let sub = open_raster(&subs[0].gdal_name, path)?;
            Some(grid_of_cached(&sub, &subs[0].gdal_name, path)?)
        } else {
            None
        };
        (Container::Hdf4Eos, g)
    } else {
        let lname = parsed.as_ref().and_then(|n| n.layer_name.clone());
        let chosen = match (&lname, &meta.layer_name) {
            (Some(n), Some(m)) => {
                let a = product.find_layer(n).map(|s| s.layer);
                let b = product.find_layer(m).map(|s| s.layer);
                if a != b {
                    notes.push(format!("file name says layer {n:?} but metadata says {m:?}; the name wins"));
                }
                Some(n.clone())
            }
            (Some(n), None) => Some(n.clone()),
            (None, Some(m)) => Some(m.clone()),
            (None, None) => None,
        };
        let Some(lname) = chosen else {
            return Err(not_modis(format!(
                "cannot tell which {} layer this single-layer file holds (no layer in the name, no {} tag)",
                product,
                crate::naming::TAG_LAYER
            )));
        };
        let Some(spec) = product.find_layer(&lname) else {
            return Err(IoError::UnsupportedLayer {
                path: path.to_path_buf(),
                product: product.short_name(),
                layer: lname,
                handled: product.layers().iter().map(|s| s.layer.id()).collect::<Vec<_>>().join(", "),
            });
        };
        if ds.raster_count() > 1 {
            notes.push(format!("{} bands; band 1 is read as {}", ds.raster_count(), spec.layer));
        }
        layers.push(LayerSource { path: path.to_path_buf(), gdal_name: path_str.to_string(), product, layer: spec.layer });
        (Container::SingleLayer, Some(grid_of_cached(&ds, path_str, path)?))
    };

    // tile
    let derived = geo_grid.as_ref().and_then(centre_tile);
    let tile = match (name_tile, meta.tile) {
        (Some(n), m) => {
            if let Some(m) = m.filter(|m| *m != n) {
                notes.push(format!("file name says tile {n} but metadata says {m}; the name wins"));
            }
            if let Some(d) = derived.filter(|d| *d != n) {
                notes.push(format!("file name says tile {n} but the raster centre lies in {d}; the name wins"));
            }
            n
        }
        (None, Some(m)) => {
            notes.push(format!("tile {m} from metadata"));
            m
        }
        (None, None) => match derived {
            Some(d) => {
                notes.push(format!("tile {d} derived from the raster centre"));
                d
            }
            None => return Err(not_modis("no tile in the name or metadata, and none can be derived from the grid".into())),
        },
    };

    Ok(Identity {
        path: path.to_path_buf(),
        product,
        date,
        tile,
        collection,
        production,
        container,
        layers,
        other_layers,
        notes,
    })
}

/// How stored values become decoded values.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Storage {
    /// DN (integers, possibly stored as floats): apply the product scale.
    Dn,
    /// Already scaled floating-point values.
    PreScaled,
}

/// Reads one layer of one file as decoded values, window by window. See the module docs.
pub struct LayerReader {
    source: LayerSource,
    ds: Dataset,
    grid: Grid,
    spec: LayerSpec,
    band_type: GdalDataType,
    /// Byte band holding an int8 layer.
    signed_byte: bool,
    storage: Storage,
    /// The file's own nodata, honoured besides the product fill (in the stored domain).
    file_nodata: Option<f64>,
    notes: Vec<String>,
    /// Resampling of decoded values warped onto a grid off the file's lattice.
    resampling: Resampling,
    /// The nodata value the band declares (stored domain), honoured or not: a gap when the file
    /// is warped (reprojection tools fill the cells outside the source with it).
    declared_nodata: Option<f64>,
}

impl std::fmt::Debug for LayerReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerReader")
            .field("source", &self.source)
            .field("grid", &self.grid)
            .field("storage", &self.storage)
            .field("file_nodata", &self.file_nodata)
            .finish_non_exhaustive()
    }
}

fn is_float(t: GdalDataType) -> bool {
    matches!(t, GdalDataType::Float32 | GdalDataType::Float64)
}

fn metadata_f64(band: &RasterBand<'_>, ds: &Dataset, key: &str) -> Option<f64> {
    band.metadata_item(key, "")
        .or_else(|| ds.metadata_item(key, ""))
        .and_then(|v| v.split(',').next().and_then(|s| s.trim().parse().ok()))
}

impl LayerReader {
    /// Opens a layer (see [`LayerSource`], [`identify`] and [`crate::scan`]).
    pub fn open(source: &LayerSource) -> Result<LayerReader> {
        let path = source.path.as_path();
        let layer_name = source.layer.id().to_string();
        let enc = |reason: String| IoError::Encoding { path: path.to_path_buf(), layer: layer_name.clone(), reason };
        let spec = *source.product.spec(source.layer).ok_or_else(|| IoError::UnsupportedLayer {
            path: path.to_path_buf(),
            product: source.product.short_name(),
            layer: layer_name.clone(),
            handled: source.product.layers().iter().map(|s| s.layer.id()).collect::<Vec<_>>().join(", "),
        })?;
        let ds = open_raster(&source.gdal_name, path)?;
        OPENS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if ds.raster_count() == 0 {
            return Err(enc("the dataset has no raster band".into()));
        }
        let grid = grid_of_cached(&ds, &source.gdal_name, path)?;
        let mut notes = Vec::new();

        // resolution check on the native grid
        if grid.crs() == &Crs::modis_sinusoidal() {
            let want = spec.resolution.cell_size_m();
            let (w, h) = grid.cell_size();
            if (w - want).abs() > want * 1e-3 || (h - want).abs() > want * 1e-3 {
                let label = |r: Resolution| if r == Resolution::M500 { "500 m" } else { "1 km" };
                return Err(IoError::Grid {
                    path: path.to_path_buf(),
                    reason: format!(
                        "layer {} of {} lies on the {} grid ({want:.4} m cells) but this raster has {w:.4} × {h:.4} m cells",
                        layer_name,
                        source.product,
                        label(spec.resolution)
                    ),
                });
            }
        } else {
            notes.push(format!("not in the MODIS sinusoidal CRS ({}); native resolution not checked", grid.crs()));
        }

        let band = ds.rasterband(1).map_err(|e| IoError::gdal(format!("{}: band 1", path.display()), e))?;
        let band_type = band.band_type();
        if matches!(band_type, GdalDataType::Unknown) || band_type.name().starts_with('C') {
            return Err(enc(format!("unsupported data type {}", band_type.name())));
        }
        let signed_byte = spec.raw_type == RawType::I8 && band_type == GdalDataType::UInt8;
        let fix = |v: f64| if signed_byte && v > 127.0 { v - 256.0 } else { v };

        // scale / offset cross-check
        let file_scale = band.scale().or_else(|| metadata_f64(&band, &ds, "scale_factor"));
        let file_offset = band.offset().or_else(|| metadata_f64(&band, &ds, "add_offset"));
        let mut declared_scale = false;
        if let Some(s) = file_scale.filter(|s| *s != 1.0) {
            let rel = |a: f64, b: f64| ((a - b) / b).abs() < 1e-6;
            if rel(s, spec.scale) {
                declared_scale = true;
            } else if rel(s, 1.0 / spec.scale) {
                declared_scale = true;
                notes.push(format!("file declares scale {s} (divide convention); product scale {} used", spec.scale));
            } else {
                return Err(enc(format!(
                    "the file declares scale {s}, but {} {} is encoded with scale {}",
                    source.product, layer_name, spec.scale
                )));
            }
        }
        if let Some(o) = file_offset.filter(|o| *o != 0.0 && *o != spec.offset) {
            return Err(enc(format!("the file declares offset {o}, but the product offset is {}", spec.offset)));
        }

        // stored as DN or pre-scaled?
        let nodata = band.no_data_value();
        let storage = if is_float(band_type) && spec.scale != 1.0 && !declared_scale {
            match sample_min_max(&band, nodata).map_err(|e| IoError::Read {
                path: path.to_path_buf(),
                layer: layer_name.clone(),
                window: "a sample of the band".into(),
                source: Box::new(e),
            })? {
                None => {
                    notes.push("no valid value in the sample; treated as pre-scaled".into());
                    Storage::PreScaled
                }
                Some((lo, hi)) => {
                    let half = spec.scale / 2.0;
                    let scaled = spec.scaled_valid_range();
                    let raw = spec.valid_range;
                    if scaled.is_some_and(|(a, b)| lo >= a - half && hi <= b + half) {
                        notes.push(format!(
                            "{} values stored already scaled ({lo}..{hi}); not scaled again",
                            band_type.name()
                        ));
                        Storage::PreScaled
                    } else if raw.map_or(true, |(a, b)| lo >= a && hi <= b) {
                        notes.push(format!("DN stored as {}; product scale applied", band_type.name()));
                        Storage::Dn
                    } else {
                        return Err(enc(format!(
                            "{} values {lo}..{hi} fit neither the scaled valid range {:?} nor the DN valid range {:?}",
                            band_type.name(),
                            scaled,
                            raw
                        )));
                    }
                }
            }
        } else {
            if file_scale.is_none() && spec.scale != 1.0 {
                notes.push(format!("no scale in the file; product scale {} applied", spec.scale));
            }
            Storage::Dn
        };

        // the file's nodata
        let file_nodata = match nodata.filter(|n| !n.is_nan()) {
            None => None,
            Some(n) if storage == Storage::PreScaled => Some(n),
            Some(n) => {
                let dn = fix(n);
                if spec.fill == Some(dn) {
                    None
                } else if spec.valid_range.is_some_and(|(a, b)| dn < a || dn > b) {
                    notes.push(format!("file nodata {dn} treated as nodata besides the product fill"));
                    Some(n)
                } else {
                    notes.push(format!(
                        "file declares nodata {dn}, a valid value of {layer_name}; ignored (product fill {:?})",
                        spec.fill
                    ));
                    None
                }
            }
        };
        Ok(LayerReader {
            source: source.clone(),
            ds,
            grid,
            spec,
            band_type,
            signed_byte,
            storage,
            file_nodata,
            notes,
            resampling: Resampling::Nearest,
            declared_nodata: nodata.filter(|n| !n.is_nan()).map(fix),
        })
    }

    /// Opens `layer` of a file (identifying it first); `layer = None` for single-layer files.
    pub fn open_file(path: &Path, layer: Option<Layer>) -> Result<LayerReader> {
        LayerReader::open(&LayerSource::from_file(path, layer)?)
    }

    /// The layer's grid (CRS normalised, see [`crate::crs`]).
    pub fn grid(&self) -> &Grid {
        &self.grid
    }
    /// The product spec of the layer.
    pub fn spec(&self) -> &LayerSpec {
        &self.spec
    }
    /// Where the layer comes from.
    pub fn source(&self) -> &LayerSource {
        &self.source
    }
    /// Remarks made while opening (scale conventions, nodata decisions, pre-scaled data).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
    /// Whether the file holds already-scaled values.
    pub fn is_prescaled(&self) -> bool {
        self.storage == Storage::PreScaled
    }
    /// The product fill DN, if the layer has one.
    pub fn raw_fill(&self) -> Option<f64> {
        self.spec.fill
    }
    /// The file's own nodata value when it is honoured besides the product fill (stored domain).
    pub fn file_nodata(&self) -> Option<f64> {
        self.file_nodata
    }
    /// GDAL data type of the stored band.
    pub fn band_type(&self) -> GdalDataType {
        self.band_type
    }

    fn read_err(&self, w: Window, source: gdal::errors::GdalError) -> IoError {
        IoError::Read { path: self.source.path.clone(), layer: self.source.layer.id().into(), window: w.to_string(), source: Box::new(source) }
    }

    fn check_window(&self, w: Window) -> Result<()> {
        self.grid
            .check_window(w)
            .map_err(|e| IoError::Grid { path: self.source.path.clone(), reason: e.to_string() })
    }

    /// Stored values of a window, as f64 (exact for every MODIS type).
    fn read_stored(&self, w: Window) -> Result<Vec<f64>> {
        self.read_stored_as::<f64>(w)
    }

    /// Stored values of a window converted by GDAL to `T` (exact when `T` holds the band type).
    fn read_stored_as<T: gdal::raster::GdalType + Copy + Default>(&self, w: Window) -> Result<Vec<T>> {
        self.check_window(w)?;
        let mut buf = vec![T::default(); w.len()];
        if w.is_empty() {
            return Ok(buf);
        }
        let band = self.ds.rasterband(1).map_err(|e| self.read_err(w, e))?;
        WINDOWS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        CELLS.fetch_add(w.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let _q = QuietErrors::new();
        band.read_into_slice::<T>((w.col as isize, w.row as isize), (w.cols, w.rows), (w.cols, w.rows), &mut buf, None)
            .map_err(|e| self.read_err(w, e))?;
        Ok(buf)
    }

    /// Whether the band stores integers that fit `i32` exactly (every MODIS layer but the 32-bit QC).
    fn stores_i32(&self) -> bool {
        matches!(
            self.band_type,
            GdalDataType::UInt8 | GdalDataType::UInt16 | GdalDataType::Int16 | GdalDataType::Int32
        )
    }

    /// Decoded values of a window, row-major: `DN · scale + offset` (reflectance and NDVI unitless,
    /// LST in kelvin), `NaN` for fill, the file's honoured nodata, and values outside the valid range.
    pub fn read_f32(&self, w: Window) -> Result<Vec<f32>> {
        if self.storage == Storage::Dn && self.stores_i32() {
            // Fast path for integer storage (every NASA layer): read as i32, decode with integer
            // comparisons; the arithmetic (f64 multiply, one rounding to f32) is that of `decode`.
            let stored = self.read_stored_as::<i32>(w)?;
            let nodata = self.file_nodata.filter(|n| n.fract() == 0.0).map(|n| n as i64);
            let fill = self.spec.fill.map(|f| f as i64);
            let (lo, hi) = self.spec.valid_range.map_or((i64::MIN, i64::MAX), |(a, b)| (a as i64, b as i64));
            let (scale, offset) = (self.spec.scale, self.spec.offset);
            let signed_byte = self.signed_byte;
            return Ok(stored
                .into_iter()
                .map(|v| {
                    let v = i64::from(v);
                    if Some(v) == nodata {
                        return f32::NAN;
                    }
                    let dn = if signed_byte && v > 127 { v - 256 } else { v };
                    if Some(dn) == fill || dn < lo || dn > hi {
                        f32::NAN
                    } else {
                        (dn as f64 * scale + offset) as f32
                    }
                })
                .collect());
        }
        let stored = self.read_stored(w)?;
        Ok(match self.storage {
            Storage::Dn => stored
                .into_iter()
                .map(|v| {
                    if Some(v) == self.file_nodata {
                        f32::NAN
                    } else {
                        let dn = if self.signed_byte && v > 127.0 { v - 256.0 } else { v };
                        self.spec.decode(dn)
                    }
                })
                .collect(),
            Storage::PreScaled => {
                let half = self.spec.scale / 2.0;
                let range = self.spec.scaled_valid_range();
                stored
                    .into_iter()
                    .map(|v| {
                        let out = v.is_nan()
                            || Some(v) == self.file_nodata
                            || range.is_some_and(|(a, b)| v < a - half || v > b + half);
                        if out {
                            f32::NAN
                        } else {
                            v as f32
                        }
                    })
                    .collect()
            }
        })
    }

    /// The decoded window as a raster on its subgrid.
    pub fn read_raster(&self, w: Window) -> Result<Raster<f32>> {
        let g = self.grid.subgrid(w).map_err(|e| IoError::Grid { path: self.source.path.clone(), reason: e.to_string() })?;
        Ok(Raster::new(g, self.read_f32(w)?)?)
    }

    fn raw_dn(&self, w: Window) -> Result<Vec<f64>> {
        if self.storage == Storage::PreScaled {
            return Err(IoError::Encoding {
                path: self.source.path.clone(),
                layer: self.source.layer.id().into(),
                reason: "the file holds pre-scaled values; raw DN are not available".into(),
            });
        }
        let stored = self.read_stored(w)?;
        let fill = self.spec.fill;
        stored
            .into_iter()
            .map(|v| {
                let v = if self.signed_byte && v > 127.0 { v - 256.0 } else { v };
                if v.is_nan() {
                    return fill.ok_or_else(|| IoError::Encoding {
                        path: self.source.path.clone(),
                        layer: self.source.layer.id().into(),
                        reason: "NaN found where a DN was expected and the layer has no fill value".into(),
                    });
                }
                if v.fract() != 0.0 {
                    return Err(IoError::Encoding {
                        path: self.source.path.clone(),
                        layer: self.source.layer.id().into(),
                        reason: format!("non-integer value {v} where a DN was expected"),
                    });
                }
                Ok(v)
            })
            .collect()
    }

    /// Raw DN of a window for unsigned bit fields (`sur_refl_qc_500m`, state flags, `QC_Day`); fill
    /// cells hold the fill DN ([`LayerReader::raw_fill`]). Refused for signed layers.
    pub fn read_raw_u32(&self, w: Window) -> Result<Vec<u32>> {
        if matches!(self.spec.raw_type, RawType::I8 | RawType::I16) {
            return Err(IoError::Encoding {
                path: self.source.path.clone(),
                layer: self.source.layer.id().into(),
                reason: "signed layer: use read_raw_i32".into(),
            });
        }
        if self.storage == Storage::Dn
            && !self.signed_byte
            && matches!(self.band_type, GdalDataType::UInt8 | GdalDataType::UInt16 | GdalDataType::UInt32)
        {
            // unsigned integer storage: every stored value is a valid u32 DN
            return self.read_stored_as::<u32>(w);
        }
        let dn = self.raw_dn(w)?;
        dn.into_iter()
            .map(|v| {
                if (0.0..=u32::MAX as f64).contains(&v) {
                    Ok(v as u32)
                } else {
                    Err(IoError::Encoding {
                        path: self.source.path.clone(),
                        layer: self.source.layer.id().into(),
                        reason: format!("value {v} does not fit an unsigned 32-bit DN"),
                    })
                }
            })
            .collect()
    }

    /// Raw DN of a window for layers that fit `i32` (everything but 32-bit QC): e.g. the pixel
    /// reliability (−1 fill, 0..3) or LST DN. Refused for `u32` layers.
    pub fn read_raw_i32(&self, w: Window) -> Result<Vec<i32>> {
        if self.spec.raw_type == RawType::U32 {
            return Err(IoError::Encoding {
                path: self.source.path.clone(),
                layer: self.source.layer.id().into(),
                reason: "unsigned 32-bit layer: use read_raw_u32".into(),
            });
        }
        if self.storage == Storage::Dn && self.stores_i32() {
            let v = self.read_stored_as::<i32>(w)?;
            return Ok(if self.signed_byte { v.into_iter().map(|x| if x > 127 { x - 256 } else { x }).collect() } else { v });
        }
        let dn = self.raw_dn(w)?;
        dn.into_iter()
            .map(|v| {
                if (i32::MIN as f64..=i32::MAX as f64).contains(&v) {
                    Ok(v as i32)
                } else {
                    Err(IoError::Encoding {
                        path: self.source.path.clone(),
                        layer: self.source.layer.id().into(),
                        reason: format!("value {v} does not fit a 32-bit DN"),
                    })
                }
            })
            .collect()
    }

    /// How `target` sits on this file's lattice: (k, row offset, col offset) where target cells are
    /// this file's cells divided k × k, and this file's origin is at target cell (row, col) offset;
    /// `None` when `target` is in another CRS or not on this lattice (the file is then warped).
    fn lattice(&self, target: &Grid) -> Result<Option<(i64, i64, i64)>> {
        if target.crs() != self.grid.crs() && !crs_equivalent(target.crs(), self.grid.crs())? {
            return Ok(None);
        }
        let f = self.grid.transform();
        let t = target.transform();
        let kx = f.dx / t.dx;
        let ky = f.dy / t.dy;
        let k = kx.round();
        if k < 1.0 || (kx - k).abs() > 1e-6 * k || (ky - k).abs() > 1e-6 * k {
            return Ok(None);
        }
        let co = (f.x0 - t.x0) / t.dx;
        let ro = (f.y0 - t.y0) / t.dy;
        if (co - co.round()).abs() > 1e-4 || (ro - ro.round()).abs() > 1e-4 {
            return Ok(None);
        }
        Ok(Some((k as i64, ro.round() as i64, co.round() as i64)))
    }

    /// Whether `target` is on this file's lattice (pasted cell by cell) rather than warped.
    pub fn on_lattice_of(&self, target: &Grid) -> Result<bool> {
        Ok(self.lattice(target)?.is_some())
    }

    /// When `target` has this file's cells exactly (same CRS, cell size and lattice), the window of
    /// `target` the file covers, clipped to `target` (`Some` of an empty window when they do not
    /// meet); `None` when the file would be resampled or warped onto `target`. A read of that
    /// window through [`LayerReader::read_into`] decodes each of the file's cells under it once,
    /// and the values of any part of it are those a read of that part alone would paste.
    pub fn lattice_window(&self, target: &Grid) -> Result<Option<Window>> {
        let Some((k, ro, co)) = self.lattice(target)? else { return Ok(None) };
        if k != 1 {
            return Ok(None);
        }
        let (fr, fc) = (self.grid.rows() as i64, self.grid.cols() as i64);
        let r0 = ro.max(0);
        let c0 = co.max(0);
        let r1 = (ro + fr).min(target.rows() as i64);
        let c1 = (co + fc).min(target.cols() as i64);
        if r1 <= r0 || c1 <= c0 {
            return Ok(Some(Window::new(0, 0, 0, 0)));
        }
        Ok(Some(Window::new(r0 as usize, c0 as usize, (r1 - r0) as usize, (c1 - c0) as usize)))
    }

    /// The resampling used when this file is warped onto a grid off its lattice.
    pub fn resampling(&self) -> Resampling {
        self.resampling
    }

    /// Sets the resampling of decoded values warped onto a grid off this file's lattice (raw
    /// DN reads are always nearest: bit fields and classes are never interpolated).
    pub fn with_resampling(mut self, resampling: Resampling) -> Self {
        self.resampling = resampling;
        self
    }

    /// Generic paste of this file's part of `target_window` into `out`; returns the cells written.
    fn paste<T: WarpCell>(
        &self,
        target: &Grid,
        tw: Window,
        out: &mut [T],
        resampling: Resampling,
        read: impl Fn(&Self, Window) -> Result<Vec<T>>,
    ) -> Result<usize> {
        target.check_window(tw)?;
        if out.len() != tw.len() {
            return Err(rsei_core::CoreError::BufferSize { got: out.len(), expected: tw.len(), rows: tw.rows, cols: tw.cols }.into());
        }
        let Some((k, ro, co)) = self.lattice(target)? else {
            return self.paste_warped(target, tw, out, resampling, read);
        };
        let (fr, fc) = (self.grid.rows() as i64, self.grid.cols() as i64);
        // target rows/cols covered by the file, intersected with the window
        let r0 = (tw.row as i64).max(ro);
        let r1 = (tw.row_end() as i64).min(ro + fr * k);
        let c0 = (tw.col as i64).max(co);
        let c1 = (tw.col_end() as i64).min(co + fc * k);
        if r1 <= r0 || c1 <= c0 {
            return Ok(0);
        }
        let f_row = |r: i64| (r - ro).div_euclid(k);
        let f_col = |c: i64| (c - co).div_euclid(k);
        let fw = Window::new(
            f_row(r0) as usize,
            f_col(c0) as usize,
            (f_row(r1 - 1) - f_row(r0) + 1) as usize,
            (f_col(c1 - 1) - f_col(c0) + 1) as usize,
        );
        let vals = read(self, fw)?;
        if k == 1 {
            let n = (c1 - c0) as usize;
            for r in r0..r1 {
                let src = (f_row(r) as usize - fw.row) * fw.cols + (f_col(c0) as usize - fw.col);
                let dst = (r as usize - tw.row) * tw.cols + (c0 as usize - tw.col);
                out[dst..dst + n].copy_from_slice(&vals[src..src + n]);
            }
            return Ok(((r1 - r0) * (c1 - c0)) as usize);
        }
        for r in r0..r1 {
            let src_row = (f_row(r) as usize - fw.row) * fw.cols;
            let dst_row = (r as usize - tw.row) * tw.cols;
            for c in c0..c1 {
                out[dst_row + (c as usize - tw.col)] = vals[src_row + (f_col(c) as usize - fw.col)];
            }
        }
        Ok(((r1 - r0) * (c1 - c0)) as usize)
    }

    /// [`LayerReader::paste`] for a target off this file's lattice: the file's window under the
    /// target window is read (decoded or raw, as `read` does) and warped with GDAL
    /// ([`crate::warp::warp_window`]); only the cells that receive data from the file are written
    /// (decoded `NaN`, raw fill and the file's nodata are gaps that leave a cell as it was).
    fn paste_warped<T: WarpCell>(
        &self,
        target: &Grid,
        tw: Window,
        out: &mut [T],
        resampling: Resampling,
        read: impl Fn(&Self, Window) -> Result<Vec<T>>,
    ) -> Result<usize> {
        // the product fill and the file's declared nodata are gaps, not data: a gap never
        // overwrites what another file (a neighbouring tile, whose reprojected footprint overlaps
        // this one's bounding box) put in a cell
        let gaps = [self.spec.fill, self.declared_nodata];
        if resampling == Resampling::Nearest {
            let map = crate::warp::nearest_map(&self.grid, target, tw).map_err(|e| IoError::Grid {
                path: self.source.path.clone(),
                reason: format!("warping onto the target grid: {e}"),
            })?;
            let Some(map) = map else { return Ok(0) };
            let vals = read(self, map.source_window)?;
            let mut n = 0;
            for (o, &i) in out.iter_mut().zip(&map.index) {
                if i == crate::warp::NearestMap::OUTSIDE {
                    continue;
                }
                let v = vals[i as usize];
                let f = v.to_f64();
                if f.is_nan() || (T::RAW && gaps.contains(&Some(f))) {
                    continue;
                }
                *o = v;
                n += 1;
            }
            return Ok(n);
        }
        let warped = crate::warp::warp_window(&self.grid, target, tw, resampling, |w| {
            Ok(read(self, w)?
                .into_iter()
                .map(|v| {
                    let v = v.to_f64();
                    if T::RAW && gaps.contains(&Some(v)) {
                        f64::NAN
                    } else {
                        v
                    }
                })
                .collect())
        })
        .map_err(|e| match e {
            IoError::Read { .. } | IoError::Encoding { .. } => e,
            other => IoError::Grid { path: self.source.path.clone(), reason: format!("warping onto the target grid: {other}") },
        })?;
        let Some((vals, cov)) = warped else { return Ok(0) };
        let mut n = 0;
        for ((o, v), c) in out.iter_mut().zip(vals).zip(cov) {
            if c {
                *o = T::from_f64(v);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Fills the cells of `target_window` (a window of `target`, `out` row-major of its size) that
    /// this file covers with decoded values; other cells are left untouched. When `target` is on
    /// this file's lattice (same CRS, origin on a cell corner, cells equal to this file's or a whole
    /// fraction of them: a 500 m target over a 1 km file fills k × k target cells per file cell)
    /// cells are copied; otherwise (another CRS, another cell size or origin: AppEEARS UTM exports,
    /// reprojected archives) the file's window is warped onto the target window by GDAL with
    /// [`LayerReader::resampling`] (nearest unless set) and only cells that receive data are
    /// written (the file's fill is a gap there, as a warped tile's footprint is no rectangle).
    /// Returns the number of cells written. This is how tiles are mosaicked.
    pub fn read_into(&self, target: &Grid, target_window: Window, out: &mut [f32]) -> Result<usize> {
        self.paste(target, target_window, out, self.resampling, |s, w| s.read_f32(w))
    }

    /// [`LayerReader::read_into`] for raw unsigned DN (QA bit fields).
    pub fn read_into_raw_u32(&self, target: &Grid, target_window: Window, out: &mut [u32]) -> Result<usize> {
        self.paste(target, target_window, out, Resampling::Nearest, |s, w| s.read_raw_u32(w))
    }

    /// [`LayerReader::read_into`] for raw signed DN (reliability, LST DN).
    pub fn read_into_raw_i32(&self, target: &Grid, target_window: Window, out: &mut [i32]) -> Result<usize> {
        self.paste(target, target_window, out, Resampling::Nearest, |s, w| s.read_raw_i32(w))
    }
}

/// Min and max of at most 128 × 128 evenly spread cells of a band (nearest sampling), excluding
/// nodata and NaN; `None` when no valid sample.
fn sample_min_max(band: &RasterBand<'_>, nodata: Option<f64>) -> gdal::errors::Result<Option<(f64, f64)>> {
    let (cols, rows) = band.size();
    let (sc, sr) = (cols.min(128), rows.min(128));
    let mut buf = vec![0f64; sc * sr];
    let _q = QuietErrors::new();
    band.read_into_slice::<f64>((0, 0), (cols, rows), (sc, sr), &mut buf, None)?;
    let mut mm: Option<(f64, f64)> = None;
    for v in buf {
        if v.is_nan() || Some(v) == nodata {
            continue;
        }
        mm = Some(match mm {
            None => (v, v),
            Some((a, b)) => (a.min(v), b.max(v)),
        });
    }
    Ok(mm)
}

/// A cell type that passes exactly through an `f64` warp (decoded `f32`, raw `u32` / `i32` DN).
trait WarpCell: Copy {
    /// Raw DN (fill and nodata DN are gaps) rather than decoded values (`NaN` is the gap).
    const RAW: bool;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

impl WarpCell for f32 {
    const RAW: bool = false;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl WarpCell for u32 {
    const RAW: bool = true;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(v: f64) -> Self {
        // nearest resampling of u32 DN: exact; NaN (never produced from DN) becomes 0
        if v.is_finite() { v.round().clamp(0.0, u32::MAX as f64) as u32 } else { 0 }
    }
}

impl WarpCell for i32 {
    const RAW: bool = true;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(v: f64) -> Self {
        if v.is_finite() { v.round().clamp(i32::MIN as f64, i32::MAX as f64) as i32 } else { 0 }
    }
}
