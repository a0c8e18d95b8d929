//! `rsei search` and the catalogue flags of `rsei compute` (`--stac URL --collection …`): MODIS
//! collections, or the scene collections `landsat-c2-l2` and `sentinel-2-l2a`.

use std::path::PathBuf;

use clap::Args;
use rsei_core::composite::Season;
use rsei_core::Crs;
use rsei_pipeline::area::{load_areas, AreaSource, StudyArea};
use rsei_pipeline::options::{NdviSource, Platforms, RseiRunOptions};
use rsei_pipeline::parse::{choice as pick, month_day as parse_md, years as parse_years};
use rsei_pipeline::progress::Progress;
use rsei_pipeline::stac_input::{self, StacRequest};
use rsei_pipeline::stac_scenes::{self, CollectionPlan, SceneFilter, StacScenes};
use rsei_pipeline::{Error, Result};
use rsei_stac::catalogue::parse_size;
use rsei_stac::{Catalogue, CatalogueOptions, SignMode};

use crate::progress::Reporter;

/// A usage error naming the flag it starts with (as `args::usage`, kept here so that `args`,
/// which embeds [`StacArgs`], and this module do not depend on each other).
fn usage(msg: impl Into<String>) -> Error {
    let msg = msg.into();
    let option = msg.split_whitespace().next().filter(|w| w.starts_with("--")).unwrap_or("").trim_end_matches(':').to_string();
    Error::InvalidOption { option, message: msg }
}

/// Where MODIS granules or Landsat / Sentinel-2 scenes come from when they come from a STAC catalogue.
#[derive(Args, Debug, Clone, Default)]
pub struct StacArgs {
    /// STAC API root (e.g. https://planetarycomputer.microsoft.com/api/stac/v1) or a static
    /// catalogue / item collection (URL or path of a .json), instead of --data folders.
    #[arg(long = "stac")]
    pub stac: Option<String>,
    /// Collection id(s) (default: modis-09A1-061, modis-13A1-061, modis-11A2-061 on the Planetary
    /// Computer; MOD09A1_061 … on NASA CMR-STAC). Scenes instead of MODIS: landsat-c2-l2 (Landsat
    /// Collection 2 Level-2) and/or sentinel-2-l2a (Sentinel-2 L2A; its heat from modis-11A2-061
    /// added here, or from landsat-c2-l2 with --s2-heat landsat). MODIS and scene collections
    /// cannot be mixed otherwise.
    #[arg(long = "collection", num_args = 1.., requires = "stac")]
    pub collections: Vec<String>,
    /// Scene collections: largest eo:cloud_cover (%) of an item used (default: no limit).
    #[arg(long, value_name = "PERCENT", requires = "stac")]
    pub max_cloud: Option<f64>,
    /// Scene collections: platform(s) used, e.g. landsat-8 landsat-9 or sentinel-2b (default: all).
    #[arg(long = "platform", value_name = "PLATFORM", num_args = 1.., requires = "stac")]
    pub scene_platforms: Vec<String>,
    /// Cache folder of fetched windows and searches (default: OUT/.rsei-cache, or .rsei-cache for search).
    #[arg(long, requires = "stac")]
    pub cache_dir: Option<PathBuf>,
    /// Cache size limit, e.g. 10GiB (default), 500MB.
    #[arg(long, requires = "stac")]
    pub cache_limit: Option<String>,
    /// Use only the cache: no network; fails naming what is missing.
    #[arg(long, requires = "stac")]
    pub offline: bool,
    /// Asset URL signing: auto (default: Planetary Computer SAS on its catalogue), none, planetary-computer.
    #[arg(long, requires = "stac")]
    pub sign: Option<String>,
    /// Planetary Computer token endpoint (default https://planetarycomputer.microsoft.com/api/sas/v1/token).
    #[arg(long, requires = "stac")]
    pub token_endpoint: Option<String>,
    /// Environment variable holding a bearer token for every request (NASA Earthdata: EARTHDATA_TOKEN).
    #[arg(long, requires = "stac")]
    pub token_env: Option<String>,
    /// Assets fetched at once (default 4).
    #[arg(long, requires = "stac")]
    pub fetch_workers: Option<usize>,
}

impl StacArgs {
    /// The cloud-cover and platform filters of scene collections.
    pub fn scene_filter(&self) -> Result<SceneFilter> {
        if let Some(c) = self.max_cloud {
            if !(0.0..=100.0).contains(&c) {
                return Err(usage(format!("--max-cloud {c}: a percentage, 0 to 100")));
            }
        }
        Ok(SceneFilter { max_cloud: self.max_cloud, platforms: self.scene_platforms.clone() })
    }

    /// The catalogue options, `None` without `--stac`.
    pub fn catalogue(&self) -> Result<Option<CatalogueOptions>> {
        let Some(url) = &self.stac else { return Ok(None) };
        let mut o = CatalogueOptions { url: url.clone(), collections: self.collections.clone(), cache_dir: self.cache_dir.clone(), offline: self.offline, ..CatalogueOptions::default() };
        if let Some(l) = &self.cache_limit {
            o.cache_limit_bytes = parse_size(l).ok_or_else(|| usage(format!("--cache-limit {l:?}: use a size such as 10GiB or 500MB")))?;
        }
        if let Some(s) = &self.sign {
            o.sign = pick("sign", s, &[("auto", SignMode::Auto), ("none", SignMode::None), ("planetary-computer", SignMode::PlanetaryComputer)])?;
        }
        if let Some(t) = &self.token_endpoint {
            o.token_endpoint = t.clone();
        }
        o.token_env = self.token_env.clone();
        if let Some(w) = self.fetch_workers {
            o.workers = w;
        }
        o.validate().map_err(stac_input::stac_error)?;
        Ok(Some(o))
    }
}

/// Arguments of `rsei search`.
#[derive(Args, Debug, Clone)]
pub struct SearchArgs {
    #[command(flatten)]
    pub stac: StacArgs,
    /// Study-area polygons (any CRS); or give --bbox.
    #[arg(long, conflicts_with = "bbox")]
    pub area: Option<PathBuf>,
    /// Keep only features matching an OGR SQL condition.
    #[arg(long = "where", requires = "area")]
    pub where_: Option<String>,
    /// Longitude/latitude box WEST,SOUTH,EAST,NORTH.
    #[arg(long, value_delimiter = ',', num_args = 4)]
    pub bbox: Option<Vec<f64>>,
    /// Target years: 2019, 2001-2022 or 2005,2010,2015 (their composite windows are searched).
    #[arg(long)]
    pub years: String,
    /// Growing season MM-DD:MM-DD (default 06-01:09-30).
    #[arg(long)]
    pub season: Option<String>,
    /// Seasons before:after the target year (default 1:1).
    #[arg(long)]
    pub window: Option<String>,
    /// Platforms: terra (default), aqua or both.
    #[arg(long)]
    pub platforms: Option<String>,
    /// NDVI source: mod13a1 (default, MOD13A1 is searched too) or mod09a1.
    #[arg(long)]
    pub ndvi: Option<String>,
    /// Print the items as JSON.
    #[arg(long)]
    pub json: bool,
}

impl SearchArgs {
    fn options(&self) -> Result<RseiRunOptions> {
        let mut o = RseiRunOptions::default();
        if let Some(s) = &self.season {
            let (a, b) = s.split_once(':').ok_or_else(|| usage(format!("--season {s:?}: use MM-DD:MM-DD")))?;
            o.composite.season = Season { start: parse_md(a)?, end: parse_md(b)? };
        }
        if let Some(w) = &self.window {
            let (a, b) = w.split_once(':').ok_or_else(|| usage(format!("--window {w:?}: use BEFORE:AFTER, e.g. 1:1")))?;
            o.composite.years_before = a.trim().parse().map_err(|_| usage(format!("--window {w:?}: not a number")))?;
            o.composite.years_after = b.trim().parse().map_err(|_| usage(format!("--window {w:?}: not a number")))?;
        }
        if let Some(p) = &self.platforms {
            o.platforms = pick("platforms", p, &[("terra", Platforms::Terra), ("aqua", Platforms::Aqua), ("both", Platforms::Both)])?;
        }
        if let Some(n) = &self.ndvi {
            o.ndvi_source = pick("ndvi", n, &[("mod13a1", NdviSource::Mod13a1), ("mod09a1", NdviSource::Mod09a1)])?;
        }
        o.composite.validate().map_err(|e| usage(format!("--season/--window: {e}")))?;
        Ok(o)
    }

    fn areas(&self) -> Result<Vec<StudyArea>> {
        if let Some(a) = &self.area {
            let src = AreaSource { path: a.clone(), layer: None, filter: self.where_.clone().map(rsei_io::vector::FeatureFilter::Where), name_field: None, dissolve_as: None, assume_crs: None };
            let areas = load_areas(&src).map_err(|e| Error::input(a, format!("study area: {}", e.chain_text())))?;
            if areas.is_empty() {
                return Err(Error::input(a, format!("{}: no study area", a.display())));
            }
            return Ok(areas);
        }
        let Some(b) = &self.bbox else { return Err(usage("--area or --bbox: give the place to search")) };
        if !(b[0] < b[2] && b[1] < b[3] && b[0] >= -180.0 && b[2] <= 180.0 && b[1] >= -90.0 && b[3] <= 90.0) {
            return Err(usage(format!("--bbox {b:?}: use WEST,SOUTH,EAST,NORTH in degrees, west < east, south < north")));
        }
        let n = 16;
        let mut ring = Vec::new();
        for i in 0..n {
            ring.push((b[0] + (b[2] - b[0]) * i as f64 / n as f64, b[1]));
        }
        for i in 0..n {
            ring.push((b[2], b[1] + (b[3] - b[1]) * i as f64 / n as f64));
        }
        for i in 0..n {
            ring.push((b[2] - (b[2] - b[0]) * i as f64 / n as f64, b[3]));
        }
        for i in 0..n {
            ring.push((b[0], b[3] - (b[3] - b[1]) * i as f64 / n as f64));
        }
        ring.push(ring[0]);
        let poly = geo_types::MultiPolygon(vec![geo_types::Polygon::new(geo_types::LineString::from(ring), vec![])]);
        let sin = rsei_io::vector::reproject(&poly, &Crs::new("EPSG:4326"), &Crs::modis_sinusoidal())?;
        Ok(vec![StudyArea { name: "bbox".into(), polygon: sin, area_km2: 0.0, source: "--bbox".into(), notes: Vec::new() }])
    }
}

/// `rsei search`: what the catalogue holds for the areas and years, as a table or JSON.
pub fn search(args: &SearchArgs, quiet: bool) -> Result<()> {
    let Some(cat_opts) = args.stac.catalogue()? else { return Err(usage("--stac URL: give the catalogue to search")) };
    let options = args.options()?;
    let years = parse_years(&args.years)?;
    let areas = args.areas()?;
    let progress = Reporter::new(quiet);
    let req = StacRequest { catalogue: &cat_opts, areas: &areas, years: &years, options: &options, default_cache: PathBuf::from(".rsei-cache") };
    if let plan @ CollectionPlan::Scenes { .. } = CollectionPlan::of(&cat_opts.collections)? {
        return search_scenes(args, &cat_opts, &plan, &req, &progress);
    }
    let cat = Catalogue::new(cat_opts.clone(), req.default_cache.clone()).map_err(stac_input::stac_error)?;
    let found = stac_input::search(&cat, &req, &progress);
    progress.finish();
    let (items, params, _) = found?;
    if args.json {
        let v = serde_json::json!({"catalogue": cat_opts.url, "search": params, "items": items});
        println!("{}", serde_json::to_string_pretty(&v).map_err(Error::from)?);
        return Ok(());
    }
    println!("{} item(s) in {} ({})", items.len(), cat_opts.url, params.collections.join(", "));
    println!("{:<46} {:<16} {:<10} {:>3} {:<6} {:<5} assets", "item", "collection", "date", "doy", "tile", "sat");
    for it in &items {
        let (y, m, d) = rsei_stac::time::civil_from_days(stac_input::item_day(it));
        let need = it.product.kind.required_layers();
        let cogs = need.iter().filter(|l| it.cog_asset(**l).is_some()).count();
        let assets = if cogs == need.len() {
            format!("{cogs}/{} COG", need.len())
        } else if let Some(h) = it.hdf_asset() {
            format!("HDF ({})", h.key)
        } else {
            let missing: Vec<String> = need.iter().filter(|l| it.cog_asset(**l).is_none()).map(|l| it.expected_key(*l)).collect();
            format!("missing {}", missing.join(", "))
        };
        let sat = match it.product.platform {
            rsei_io::products::Platform::Terra => "terra",
            rsei_io::products::Platform::Aqua => "aqua",
        };
        println!("{:<46} {:<16} {y:04}-{m:02}-{d:02} {:>3} {:<6} {sat:<5} {assets}", it.id, it.collection, it.date.doy, it.tile.to_string());
    }
    Ok(())
}

/// The archive of `rsei compute --stac …`: search, fetch with a progress bar, remarks printed.
pub fn archive(cat: &CatalogueOptions, areas: &[StudyArea], years: &[i32], options: &RseiRunOptions, out: &std::path::Path, progress: &Reporter) -> Result<rsei_pipeline::archive::Archive> {
    let req = StacRequest { catalogue: cat, areas, years, options, default_cache: out.join(".rsei-cache") };
    let a = stac_input::archive_from_stac(&req, progress)?;
    for n in &a.notes {
        progress.println(n);
    }
    progress.println(&format!("{} granule(s) from {} item(s): {}", a.archive.inventory.granules.len(), a.items.len(), a.stats.describe("asset window(s)")));
    Ok(a.archive)
}

/// `rsei search` of scene collections: id, date, platform, cloud cover and level of each item,
/// and the items that are not used with the reason.
fn search_scenes(args: &SearchArgs, cat_opts: &CatalogueOptions, plan: &CollectionPlan, req: &StacRequest<'_>, progress: &Reporter) -> Result<()> {
    let CollectionPlan::Scenes { scenes, heat } = plan else { return Ok(()) };
    let mut o = cat_opts.clone();
    o.collections = scenes.clone();
    let cat = Catalogue::new(o, req.default_cache.clone()).map_err(stac_input::stac_error)?;
    let filter = args.stac.scene_filter()?;
    let found = stac_scenes::search(&cat, req, scenes, &filter, progress);
    progress.finish();
    let (items, notes, params, _) = found?;
    if args.json {
        let v = serde_json::json!({"catalogue": cat_opts.url, "search": params, "items": items, "not_used": notes});
        println!("{}", serde_json::to_string_pretty(&v).map_err(Error::from)?);
        return Ok(());
    }
    println!("{} item(s) in {} ({})", items.len(), cat_opts.url, params.collections.join(", "));
    println!("{:<44} {:<15} {:<10} {:<12} {:>6}  level", "item", "collection", "date", "platform", "cloud");
    for it in &items {
        let cloud = it.cloud_cover.map_or_else(|| "–".to_string(), |c| format!("{c:.1}"));
        println!("{:<44} {:<15} {:<10} {:<12} {cloud:>6}  {}", it.id, it.collection, it.date_text(), it.platform.as_deref().unwrap_or("?"), it.level());
    }
    for n in &notes {
        println!("{n}");
    }
    if !heat.is_empty() {
        println!("heat for Sentinel-2 from {} (list it with --collection {})", heat.join(", "), heat.join(" "));
    }
    Ok(())
}

/// The scenes of `rsei compute --stac … --collection landsat-c2-l2 | sentinel-2-l2a`: search,
/// fetch with a progress bar, remarks printed.
#[allow(clippy::too_many_arguments)]
pub fn scenes(cat: &CatalogueOptions, plan: &CollectionPlan, filter: &SceneFilter, areas: &[StudyArea], years: &[i32], options: &RseiRunOptions, out: &std::path::Path, progress: &Reporter) -> Result<StacScenes> {
    let req = StacRequest { catalogue: cat, areas, years, options, default_cache: out.join(".rsei-cache") };
    let s = stac_scenes::scenes_from_stac(&req, plan, filter, progress)?;
    for n in &s.notes {
        progress.println(n);
    }
    progress.println(&format!("{} scene(s) from {} item(s): {}", s.inventory.scenes.len(), s.items.len(), s.stats.describe("asset(s)")));
    Ok(s)
}
