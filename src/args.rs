//! The arguments of every command, and how they become the pipelines' requests and options:
//! defaults (METHOD.md), then an options file, then the flags.

use std::path::PathBuf;

use clap::Args;
use rsei_core::composite::{IndexOrder, Reducer, Season};
use rsei_core::indicators::Resample;
use rsei_core::zonal::PixelRule;
use rsei_io::vector::FeatureFilter;
use rsei_pipeline::area::{load_areas, AreaSource, StudyArea};
use rsei_pipeline::drivers::{check_inputs, parse_driver, DriverInputs, DriverRunOptions};
use rsei_pipeline::mining::{MineSource, MiningRunOptions};
use rsei_pipeline::options::{NdviSource, OutputCompression, Platforms, RseiRunOptions};
use rsei_pipeline::parse::{choice as pick, month_day as parse_md, normalisation as parse_normalisation, options_file, years as parse_years};
use rsei_pipeline::{Error, Result};

/// An error about a flag; the option is the flag the message starts with (`--years "x": …`).
pub fn usage(msg: impl Into<String>) -> Error {
    let msg = msg.into();
    let option = msg.split_whitespace().next().filter(|w| w.starts_with("--")).unwrap_or("").trim_end_matches(':').to_string();
    Error::InvalidOption { option, message: msg }
}

/// The study-area arguments shared by `rsei compute`, `rsei mining` and `rsei drivers` (the same
/// file and selection select the same areas, so the later commands find the earlier outputs).
#[derive(Args, Debug, Clone)]
pub struct AreaArgs {
    /// Study-area polygons (GeoJSON, GeoPackage, Shapefile …; any CRS). One area per feature.
    #[arg(long)]
    pub area: PathBuf,
    /// Layer of the area file (default: the first).
    #[arg(long)]
    pub layer: Option<String>,
    /// Keep only features matching an OGR SQL condition, e.g. "adcode = 130200".
    #[arg(long = "where")]
    pub where_: Option<String>,
    /// Attribute naming each area (default: name_en / name when present, else the feature id).
    #[arg(long)]
    pub name_field: Option<String>,
    /// Merge the selected features into one area with this name.
    #[arg(long)]
    pub dissolve: Option<String>,
}

impl AreaArgs {
    /// Where the study areas come from.
    pub fn area_source(&self) -> AreaSource {
        AreaSource {
            path: self.area.clone(),
            layer: self.layer.clone(),
            filter: self.where_.clone().map(FeatureFilter::Where),
            name_field: self.name_field.clone(),
            dissolve_as: self.dissolve.clone(),
            assume_crs: None,
        }
    }

    /// The selected areas; an unreadable file or an empty selection is a usage error naming the file.
    pub fn load(&self) -> Result<Vec<StudyArea>> {
        let areas = load_areas(&self.area_source()).map_err(|e| Error::input(&self.area, format!("study area: {}", e.chain_text())))?;
        if areas.is_empty() {
            return Err(Error::input(&self.area, format!("{}: no study area", self.area.display())));
        }
        Ok(areas)
    }
}

/// Arguments of `rsei compute`.
#[derive(Args, Debug, Clone)]
pub struct ComputeArgs {
    /// Folder(s) of MODIS granules (HDF4-EOS or per-layer GeoTIFF/COG, any CRS), or of Landsat C2
    /// L2 / Sentinel-2 L2A scenes (MTL folders or tarballs, STAC COGs, SAFE), scanned recursively.
    #[arg(long = "data", required_unless_present = "stac", conflicts_with = "stac", num_args = 1..)]
    pub data: Vec<PathBuf>,
    #[command(flatten)]
    pub stac: crate::stac::StacArgs,
    #[command(flatten)]
    pub areas: AreaArgs,
    /// Target years: 2019, 2001-2022 or 2005,2010,2015.
    #[arg(long)]
    pub years: String,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Options file (TOML, the `[rsei]` table of a study file); flags below override it.
    #[arg(long)]
    pub options: Option<PathBuf>,
    /// Growing season MM-DD:MM-DD (default 06-01:09-30).
    #[arg(long)]
    pub season: Option<String>,
    /// Seasons before:after the target year in the composite (default 1:1).
    #[arg(long)]
    pub window: Option<String>,
    /// Composite reducer: mean (default) or median.
    #[arg(long)]
    pub reducer: Option<String>,
    /// Minimum valid observations per pixel (default 1).
    #[arg(long)]
    pub min_obs: Option<u32>,
    /// composite-then-index (default) or index-then-composite.
    #[arg(long)]
    pub order: Option<String>,
    /// NDVI source: mod13a1 (default) or mod09a1.
    #[arg(long)]
    pub ndvi: Option<String>,
    /// Platforms: terra (default), aqua or both.
    #[arg(long)]
    pub platforms: Option<String>,
    /// Sentinel-2 heat (no thermal band): mod11a2 (default; MOD11A2 in the data folders, or
    /// modis-11A2-061 added to --collection) or landsat (Landsat C2 L2SP scenes of the same
    /// window; with --stac, landsat-c2-l2 added to --collection).
    #[arg(long)]
    pub s2_heat: Option<String>,
    /// LST 1 km → 500 m: nearest (default) or bilinear.
    #[arg(long)]
    pub lst_resample: Option<String>,
    /// Water where MNDWI > this (default 0).
    #[arg(long)]
    pub mndwi_threshold: Option<f32>,
    /// Land-cover raster whose water classes join the water mask (any CRS and resolution).
    #[arg(long)]
    pub landcover: Option<PathBuf>,
    /// Land-cover classes that are water (default 0,11: IGBP water and wetlands as in MCD12C1).
    #[arg(long, value_delimiter = ',')]
    pub water_classes: Option<Vec<u8>>,
    /// Normalisation: minmax (default), percentile:LO:HI (e.g. percentile:1:99) or fixed bounds
    /// fixed:NDVI_LO:NDVI_HI:WET_LO:WET_HI:NDBSI_LO:NDBSI_HI:LST_LO:LST_HI.
    #[arg(long)]
    pub normalisation: Option<String>,
    /// One PCA over all years (comparable RSEI across years) instead of one per year.
    #[arg(long)]
    pub pooled: bool,
    /// Which cells are in the area: centre (default) or coverage (any part of the cell).
    #[arg(long)]
    pub clip: Option<String>,
    /// Output CRS (EPSG:n, PROJ string or WKT); default: native MODIS sinusoidal.
    #[arg(long)]
    pub crs: Option<String>,
    /// Output cell size in CRS units (with --crs; default 500).
    #[arg(long)]
    pub resolution: Option<f64>,
    /// Raster compression: deflate (default), lzw or zstd.
    #[arg(long)]
    pub compression: Option<String>,
    /// Do not build overviews.
    #[arg(long)]
    pub no_overviews: bool,
    /// Do not write PNG maps.
    #[arg(long)]
    pub no_map: bool,
    /// Memory the run may use, e.g. 2GiB (default), 800MB: areas larger than it are computed
    /// out of core in strips; results do not depend on it.
    #[arg(long)]
    pub memory: Option<String>,
    /// Recompute everything instead of continuing an interrupted run of the same arguments from
    /// its plan file (OUT/.rsei-pass.json)
    #[arg(long)]
    pub restart: bool,
}

impl ComputeArgs {
    /// The options: defaults (METHOD.md), then the options file, then the flags.
    pub fn options(&self) -> Result<RseiRunOptions> {
        let mut o: RseiRunOptions = options_file(self.options.as_deref())?;
        if let Some(s) = &self.season {
            let (a, b) = s.split_once(':').ok_or_else(|| usage(format!("--season {s:?}: use MM-DD:MM-DD")))?;
            o.composite.season = Season { start: parse_md(a)?, end: parse_md(b)? };
        }
        if let Some(w) = &self.window {
            let (a, b) = w.split_once(':').ok_or_else(|| usage(format!("--window {w:?}: use BEFORE:AFTER, e.g. 1:1")))?;
            o.composite.years_before = a.trim().parse().map_err(|_| usage(format!("--window {w:?}: not a number")))?;
            o.composite.years_after = b.trim().parse().map_err(|_| usage(format!("--window {w:?}: not a number")))?;
        }
        if let Some(r) = &self.reducer {
            o.composite.reducer = pick("reducer", r, &[("mean", Reducer::Mean), ("median", Reducer::Median)])?;
        }
        if let Some(m) = self.min_obs {
            o.composite.min_obs = m;
        }
        if let Some(r) = &self.order {
            o.composite.order = pick(
                "order",
                r,
                &[("composite-then-index", IndexOrder::CompositeThenIndex), ("index-then-composite", IndexOrder::IndexThenComposite)],
            )?;
        }
        if let Some(n) = &self.ndvi {
            o.ndvi_source = pick("ndvi", n, &[("mod13a1", NdviSource::Mod13a1), ("mod09a1", NdviSource::Mod09a1)])?;
        }
        if let Some(p) = &self.platforms {
            o.platforms = pick("platforms", p, &[("terra", Platforms::Terra), ("aqua", Platforms::Aqua), ("both", Platforms::Both)])?;
        }
        if let Some(r) = &self.lst_resample {
            o.lst_resample = pick("lst-resample", r, &[("nearest", Resample::Nearest), ("bilinear", Resample::Bilinear)])?;
        }
        if let Some(t) = self.mndwi_threshold {
            o.water.mndwi_threshold = t;
        }
        if let Some(c) = &self.water_classes {
            o.water.landcover_water_classes = c.clone();
        }
        if let Some(n) = &self.normalisation {
            o.rsei.normalisation = parse_normalisation(n)?;
        }
        if self.pooled {
            o.rsei.pooled = true;
        }
        if let Some(c) = &self.clip {
            o.clip_rule = pick("clip", c, &[("centre", PixelRule::Centre), ("center", PixelRule::Centre), ("coverage", PixelRule::Coverage)])?;
        }
        if let Some(c) = &self.crs {
            o.output.crs = Some(c.clone());
        }
        if let Some(r) = self.resolution {
            o.output.resolution = Some(r);
        }
        if let Some(c) = &self.compression {
            o.output.compression =
                pick("compression", c, &[("deflate", OutputCompression::Deflate), ("lzw", OutputCompression::Lzw), ("zstd", OutputCompression::Zstd)])?;
        }
        if self.no_overviews {
            o.output.overviews = false;
        }
        if self.no_map {
            o.output.map_png = false;
        }
        o.validate().map_err(|e| usage(e.to_string()))?;
        Ok(o)
    }
}

/// Arguments of `rsei indicators` (bring your own indicators).
#[derive(Args, Debug, Clone)]
pub struct IndicatorArgs {
    /// Greenness raster (e.g. NDVI).
    #[arg(long)]
    pub ndvi: PathBuf,
    /// Wetness raster.
    #[arg(long)]
    pub wet: PathBuf,
    /// Dryness raster (NDBSI).
    #[arg(long)]
    pub ndbsi: PathBuf,
    /// Heat raster (LST).
    #[arg(long)]
    pub lst: PathBuf,
    /// Validity mask (non-zero = usable), e.g. a water/cloud mask made with the indicators.
    #[arg(long)]
    pub valid: Option<PathBuf>,
    /// Name of the area (for tables and maps).
    #[arg(long, default_value = "area")]
    pub name: String,
    /// Year (for tables and maps).
    #[arg(long, default_value_t = 0)]
    pub year: i32,
    /// Normalisation: minmax (default) or percentile:LO:HI.
    #[arg(long)]
    pub normalisation: Option<String>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

/// Arguments of `rsei mining`.
#[derive(Args, Debug, Clone)]
pub struct MiningArgs {
    /// Output folder of `rsei compute` (holds AREA/YEAR/rsei.tif and water.tif).
    #[arg(long = "rsei")]
    pub rsei: PathBuf,
    #[command(flatten)]
    pub areas: AreaArgs,
    /// Mine polygons (any OGR format and CRS); points and lines are skipped with a note.
    #[arg(long)]
    pub mines: PathBuf,
    /// Layer of the mine file (default: the first).
    #[arg(long)]
    pub mines_layer: Option<String>,
    /// Keep only mine features matching an OGR SQL condition, e.g. "\"Mine Type\" = 'mine boundary'".
    #[arg(long)]
    pub mines_where: Option<String>,
    /// Attribute holding the mine id (default: the feature id).
    #[arg(long)]
    pub mine_id_field: Option<String>,
    /// Attribute holding the mine name.
    #[arg(long)]
    pub mine_name_field: Option<String>,
    /// CRS of the mine layer when the file has none (e.g. EPSG:4326).
    #[arg(long)]
    pub mines_crs: Option<String>,
    /// Years: 2019, 2001-2022 or 2005,2010 (default: every year folder present).
    #[arg(long)]
    pub years: Option<String>,
    /// Cell-in-polygon rule: centre (default) or coverage (exact area fractions).
    #[arg(long)]
    pub rule: Option<String>,
    /// Width of the distance rings, km (default 1).
    #[arg(long)]
    pub ring_step_km: Option<f64>,
    /// Outer distance of the last ring, km (default 30).
    #[arg(long)]
    pub ring_max_km: Option<f64>,
    /// Mine-size class breaks, km² (default 0.25,0.5,0.75,1).
    #[arg(long, value_delimiter = ',')]
    pub size_breaks: Option<Vec<f64>>,
    /// Latitude band width, degrees (default 0.05).
    #[arg(long)]
    pub lat_band: Option<f64>,
    /// Equal-area CRS for areas and distances (default: Asia North Albers Equal Area Conic).
    #[arg(long)]
    pub equal_area_crs: Option<String>,
    /// Options file (TOML with the fields of the mining options); flags override it.
    #[arg(long)]
    pub options: Option<PathBuf>,
    /// Output folder (default: RSEI/AREA/mining, beside the RSEI results; with several areas, one sub-folder per area).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl MiningArgs {
    /// The options: defaults (METHOD §5), then the options file, then the flags.
    pub fn options(&self) -> Result<MiningRunOptions> {
        let mut o: MiningRunOptions = options_file(self.options.as_deref())?;
        if let Some(r) = &self.rule {
            o.rule = PixelRule::parse(r).ok_or_else(|| usage(format!("--rule {r:?}: expected centre or coverage")))?;
        }
        if let Some(v) = self.ring_step_km {
            o.ring_step_km = v;
        }
        if let Some(v) = self.ring_max_km {
            o.ring_max_km = v;
        }
        if let Some(v) = &self.size_breaks {
            o.size_breaks_km2 = v.clone();
        }
        if let Some(v) = self.lat_band {
            o.lat_band_deg = v;
        }
        if let Some(v) = &self.equal_area_crs {
            o.equal_area_crs = v.clone();
        }
        o.validate().map_err(|e| usage(e.to_string()))?;
        Ok(o)
    }

    /// The mine layer named by the flags.
    pub fn mine_source(&self) -> MineSource {
        MineSource {
            path: self.mines.clone(),
            layer: self.mines_layer.clone(),
            filter: self.mines_where.clone(),
            id_field: self.mine_id_field.clone(),
            name_field: self.mine_name_field.clone(),
            assume_crs: self.mines_crs.clone(),
        }
    }
}

/// Arguments of `rsei drivers`.
#[derive(Args, Debug, Clone)]
pub struct DriversArgs {
    /// Output folder of `rsei compute` (holds `<area>/<year>/rsei.tif`).
    #[arg(long = "rsei")]
    pub rsei: PathBuf,
    #[command(flatten)]
    pub areas: AreaArgs,
    /// The year analysed (one year: the driver rasters describe one year).
    #[arg(long = "years", visible_alias = "year")]
    pub years: String,
    /// A driver: `NAME=PATH[,PATH…][:RESAMPLING]`. Several paths (or a `*` pattern in the file name)
    /// are summed, e.g. `Prec=prec_2019_*.tif`. Resampling: bilinear (default), nearest, average,
    /// cubic, mode, sum. Repeat for every driver.
    #[arg(long = "driver", value_name = "NAME=PATH[,PATH…][:RESAMPLING]")]
    pub driver: Vec<String>,
    /// DEM (any CRS and resolution): adds the DEM and Slope drivers.
    #[arg(long)]
    pub dem: Option<PathBuf>,
    /// Mine polygons (any OGR format and CRS): adds the DisM and MineA drivers.
    #[arg(long)]
    pub mines: Option<PathBuf>,
    /// Layer of the mine file (default: the first).
    #[arg(long)]
    pub mines_layer: Option<String>,
    /// Keep only mine features matching an OGR SQL condition, e.g. "\"Mine Type\" = 'mine boundary'".
    #[arg(long)]
    pub mines_where: Option<String>,
    /// CRS of the mine layer when the file has none (e.g. EPSG:4326).
    #[arg(long)]
    pub mines_crs: Option<String>,
    /// Barrier lines or polygons (e.g. a coastline) that distances to mines go around.
    #[arg(long)]
    pub barrier: Option<PathBuf>,
    /// Layer of the barrier file (default: the first).
    #[arg(long)]
    pub barrier_layer: Option<String>,
    /// CRS of the driver grid (default: Asia North Albers Equal Area Conic).
    #[arg(long)]
    pub crs: Option<String>,
    /// Cell size of the driver grid in CRS units (default 1000).
    #[arg(long)]
    pub resolution: Option<f64>,
    /// Side of the MineA window, km (default 10).
    #[arg(long)]
    pub window_km: Option<f64>,
    /// Mine cells for DisM: centre (default, as gdal_rasterize) or coverage (every touched cell).
    #[arg(long)]
    pub mine_cells: Option<String>,
    /// Mines and barriers up to this far beyond the area count, km (default 50).
    #[arg(long)]
    pub search_margin_km: Option<f64>,
    /// Trees of the random forest (default 1000).
    #[arg(long)]
    pub ntree: Option<usize>,
    /// Drivers tried at each split (default 3).
    #[arg(long)]
    pub mtry: Option<usize>,
    /// Minimum node size (default 5).
    #[arg(long)]
    pub nodesize: Option<usize>,
    /// Seed of the train/validation split and of the forest (default 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Share of the pixels used for training (default 0.7).
    #[arg(long)]
    pub train_fraction: Option<f64>,
    /// Do not write figures.
    #[arg(long)]
    pub no_charts: bool,
    /// Options file (TOML with the fields of the driver options); flags override it.
    #[arg(long)]
    pub options: Option<PathBuf>,
    /// Output folder (default: the --rsei folder): `<out>/<area>/drivers` per area, `<out>/drivers` for all areas.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl DriversArgs {
    /// The options: defaults (METHOD §6–8), then the options file, then the flags.
    pub fn options(&self) -> Result<DriverRunOptions> {
        let mut o: DriverRunOptions = options_file(self.options.as_deref())?;
        if let Some(v) = &self.crs {
            o.crs = v.clone();
        }
        if let Some(v) = self.resolution {
            o.resolution_m = v;
        }
        if let Some(v) = self.window_km {
            o.window_km = v;
        }
        if let Some(v) = &self.mine_cells {
            o.mine_cells = PixelRule::parse(v).ok_or_else(|| usage(format!("--mine-cells {v:?}: expected centre or coverage")))?;
        }
        if let Some(v) = self.search_margin_km {
            o.search_margin_km = v;
        }
        if let Some(v) = self.ntree {
            o.ntree = v;
        }
        if let Some(v) = self.mtry {
            o.mtry = v;
        }
        if let Some(v) = self.nodesize {
            o.nodesize = v;
        }
        if let Some(v) = self.seed {
            o.seed = v;
        }
        if let Some(v) = self.train_fraction {
            o.train_fraction = v;
        }
        if self.no_charts {
            o.charts = false;
        }
        o.validate().map_err(|e| usage(e.to_string()))?;
        Ok(o)
    }

    /// The inputs named by the flags.
    pub fn inputs(&self) -> Result<DriverInputs> {
        let years = parse_years(&self.years)?;
        if years.len() != 1 {
            return Err(usage(format!("--years {:?}: the driver analysis takes one year (the driver rasters describe one year); run it once per year", self.years)));
        }
        let drivers = self.driver.iter().map(|d| parse_driver(d)).collect::<Result<Vec<_>>>()?;
        let inputs = DriverInputs {
            rsei_dir: self.rsei.clone(),
            year: years[0],
            drivers,
            dem: self.dem.clone(),
            mines: self.mines.as_ref().map(|p| MineSource {
                path: p.clone(),
                layer: self.mines_layer.clone(),
                filter: self.mines_where.clone(),
                id_field: None,
                name_field: None,
                assume_crs: self.mines_crs.clone(),
            }),
            barrier: self.barrier.clone(),
            barrier_layer: self.barrier_layer.clone(),
        };
        check_inputs(&inputs).map_err(|e| usage(e.to_string()))?;
        Ok(inputs)
    }

}

/// Arguments of `rsei validate`.
#[derive(Args, Debug, Clone)]
pub struct ValidateArgs {
    /// The study file (TOML; see docs/STUDY.md).
    pub study: PathBuf,
}

/// Arguments of `rsei run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The study file (TOML; see docs/STUDY.md).
    pub study: PathBuf,
    /// Output folder (default: `[study] output` of the file).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Recompute every unit, even those whose results are up to date.
    #[arg(long)]
    pub force: bool,
    /// Memory the run may use, e.g. 2GiB, 800MB (default: `[study] memory` of the file, else
    /// 2 GiB); results do not depend on it.
    #[arg(long)]
    pub memory: Option<String>,
}

/// Arguments of `rsei serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Results folder (as `rsei run`, a study or `rsei demo` write it; one area's folder works too).
    pub results: PathBuf,
    /// Address and port to listen on; port 0 picks a free port (printed on start). Anything but a
    /// loopback address makes the results readable from the network.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub bind: std::net::SocketAddr,
    /// XYZ raster base map drawn under the results, e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`
    /// (default: none; the viewer needs no internet).
    #[arg(long, value_name = "URL")]
    pub base_map: Option<String>,
    /// Do not read the area and mine layers the results' manifests name (outlines are then traced
    /// from the rasters and mines are not shown).
    #[arg(long)]
    pub no_inputs: bool,
    /// Memory for rendered tiles, MiB.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub tile_cache_mb: usize,
    /// Memory for decoded raster levels, MiB.
    #[arg(long, default_value_t = 512, value_name = "MIB")]
    pub raster_cache_mb: usize,
}

impl ServeArgs {
    /// The server's options.
    pub fn options(&self) -> rsei_serve::ServeOptions {
        let mut o = rsei_serve::ServeOptions::new(&self.results);
        o.bind = self.bind;
        o.base_map = self.base_map.clone();
        o.read_inputs = !self.no_inputs;
        o.tile_cache_bytes = self.tile_cache_mb << 20;
        o.raster_cache_bytes = self.raster_cache_mb << 20;
        o
    }
}
