//! The tables and keys of a study file as typed values (see `docs/STUDY.md` for every key).
//!
//! ```text
//! [study]      name, output, years                       what and where
//! [data]       modis (folder or list), landcover         MODIS granules, optional land cover
//! [data.stac]  url, collections, cache_dir, offline …     MODIS granules (or Landsat / Sentinel-2 scenes) from a STAC catalogue
//! [[area]]     file, layer, where, name_field, dissolve, crs, years   (repeat: several sources)
//! [rsei]       every option of an RSEI run (`RseiRunOptions`: composite, qa, water, rsei, output …)
//! [mining]     mines, layer, where, id_field, name_field, crs + the mining options (`MiningRunOptions`)
//! [drivers]    year, dem, mines, barrier, [drivers.rasters] + the driver options (`DriverRunOptions`)
//! [timeseries] [trend] [change] [geodetector] [autocorrelation]   the analyses' options (`super::analyses`)
//! ```
//!
//! Every section type here has a `Default` whose serialisation lists its keys: the validator
//! walks the file against those keys (unknown keys, with a suggestion) and checks each value by
//! deserialising it on its own, so that every wrong value is reported, not only the first.
//! Paths are relative to the folder of the study file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use rsei_io::warp::Resampling;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// Target years: `2019`, `"2001-2022"`, `"2005,2010-2012"` or `[2005, 2010]`; sorted, unique,
/// from 1982 (see [`crate::parse::years`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Years(pub Vec<i32>);

fn parse_years_text<E: de::Error>(s: &str) -> Result<Years, E> {
    crate::parse::years(s).map(Years).map_err(|e| E::custom(e.to_string()))
}

impl<'de> Deserialize<'de> for Years {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Years;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a year (2019), a text with ranges (\"2001-2022\", \"2005,2010\") or a list of years ([2005, 2010])")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Years, E> {
                parse_years_text(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Years, E> {
                parse_years_text(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Years, E> {
                parse_years_text(v)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Years, A::Error> {
                let mut parts: Vec<String> = Vec::new();
                while let Some(y) = seq.next_element::<i64>()? {
                    parts.push(y.to_string());
                }
                if parts.is_empty() {
                    return Err(de::Error::custom("the list of years is empty"));
                }
                parse_years_text(&parts.join(","))
            }
        }
        d.deserialize_any(V)
    }
}

/// One path or a list of paths.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Paths(pub Vec<PathBuf>);

impl<'de> Deserialize<'de> for Paths {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Paths;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path (\"modis\") or a list of paths ([\"terra\", \"aqua\"])")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Paths, E> {
                if v.trim().is_empty() {
                    return Err(E::custom("the path is empty"));
                }
                Ok(Paths(vec![PathBuf::from(v)]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Paths, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = seq.next_element::<String>()? {
                    if p.trim().is_empty() {
                        return Err(de::Error::custom("a path of the list is empty"));
                    }
                    out.push(PathBuf::from(p));
                }
                if out.is_empty() {
                    return Err(de::Error::custom("the list of paths is empty"));
                }
                Ok(Paths(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[study]`: name, output folder and target years.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StudySection {
    /// Name of the study (default: the file name without extension).
    pub name: Option<String>,
    /// Output folder (default: `results` beside the study file).
    pub output: Option<PathBuf>,
    /// Target years of every area (required unless every `[[area]]` gives its own).
    pub years: Option<Years>,
    /// What `rsei run` may hold in memory (`"2GiB"`, `"800MB"`; default 2 GiB; `--memory`
    /// overrides it). Changes how the work is cut, never a result.
    pub memory: Option<crate::budget::MemoryBudget>,
}

/// `[data]`: where the MODIS granules and the land cover are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSection {
    /// Folder(s) of MODIS granules (HDF4-EOS or per-layer GeoTIFF/COG), scanned recursively.
    /// Required unless `stac` is given.
    pub modis: Option<Paths>,
    /// Land-cover raster whose water classes (`[rsei.water] landcover_water_classes`) join the water mask.
    pub landcover: Option<PathBuf>,
    /// `[data.stac]`: a STAC catalogue providing the granules (with `modis`: those the folders
    /// lack), or, with scene collections, the Landsat / Sentinel-2 scenes (not with `scenes`).
    pub stac: Option<rsei_stac::CatalogueOptions>,
    /// Folder(s) of Landsat Collection 2 Level-2 or Sentinel-2 L2A scenes, scanned recursively:
    /// the study's RSEI comes from them (each scene's profile from its own metadata); `modis`
    /// then only gives Sentinel-2 its heat (MOD11A2).
    pub scenes: Option<Paths>,
    /// Where Sentinel-2's heat comes from: `"mod11a2"` (default) or `"landsat"`.
    pub s2_heat: Option<String>,
}

impl DataSection {
    /// A section with every key, sub-keys of `[data.stac]` included: the keys the validator knows.
    pub fn with_every_key() -> DataSection {
        DataSection { stac: Some(rsei_stac::CatalogueOptions::default()), ..DataSection::default() }
    }
}

/// One `[[area]]`: a polygon source giving one study area per feature (or one dissolved area).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AreaEntry {
    /// Polygon file (GeoJSON, GeoPackage, Shapefile …; any CRS). Required.
    pub file: Option<PathBuf>,
    /// Layer (default: the first).
    pub layer: Option<String>,
    /// OGR SQL condition selecting features, e.g. `adcode IN (130200, 130400)`.
    #[serde(rename = "where")]
    pub where_: Option<String>,
    /// Attribute naming each area (default: `name_en`, `name`, `NAME`, `Name` when present, else the feature id).
    pub name_field: Option<String>,
    /// Merge the selected features into one area with this name.
    pub dissolve: Option<String>,
    /// CRS to assume when the file has none.
    pub crs: Option<String>,
    /// Target years of these areas (default: `[study] years`).
    pub years: Option<Years>,
}

/// The mine-layer keys of `[mining]` (the other keys are [`crate::mining::MiningRunOptions`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MineKeys {
    /// Mine polygons (any OGR format and CRS). Required in `[mining]`.
    pub mines: Option<PathBuf>,
    /// Layer of the mine file (default: the first).
    pub layer: Option<String>,
    /// OGR SQL condition selecting mines, e.g. `"mine feature category" = 'mine boundary'`.
    #[serde(rename = "where")]
    pub where_: Option<String>,
    /// Attribute holding the mine id (default: the feature id).
    pub id_field: Option<String>,
    /// Attribute holding the mine name.
    pub name_field: Option<String>,
    /// CRS to assume when the mine file has none.
    pub crs: Option<String>,
}

/// `mines` of `[drivers]`: `true` (the `[mining]` mine layer), `false` (no mine drivers) or a path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum MinesRef {
    /// `true`: the study's `[mining]` mine layer; `false`: none.
    Use(bool),
    /// Another mine file.
    File(PathBuf),
}

impl<'de> Deserialize<'de> for MinesRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MinesRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true (the [mining] mine layer), false (no mine drivers) or the path of a mine layer")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<MinesRef, E> {
                Ok(MinesRef::Use(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MinesRef, E> {
                if v.trim().is_empty() {
                    return Err(E::custom("the path is empty"));
                }
                Ok(MinesRef::File(PathBuf::from(v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A resampling name as written in study files: `nearest`, `bilinear`, `cubic`, `average`, `mode`
/// or `sum` (any case; `near` and `mean` are accepted too).
pub fn parse_resampling(s: &str) -> Option<Resampling> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "nearest" | "near" => Resampling::Nearest,
        "bilinear" => Resampling::Bilinear,
        "cubic" => Resampling::Cubic,
        "average" | "mean" => Resampling::Average,
        "mode" => Resampling::Mode,
        "sum" => Resampling::Sum,
        _ => return None,
    })
}

/// One driver raster of `[drivers.rasters]`: `"file.tif"`, `["jan.tif", "feb.tif"]` (summed) or
/// `{ files = "prec_*.tif", resampling = "average" }` (default resampling: bilinear).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RasterEntry {
    /// Files (glob patterns allowed; monthly files are summed).
    pub files: Vec<String>,
    /// Resampling onto the driver grid.
    pub resampling: Resampling,
}

impl<'de> Deserialize<'de> for RasterEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        fn files_of<E: de::Error>(v: Vec<String>) -> Result<Vec<String>, E> {
            if v.is_empty() {
                return Err(E::custom("the list of files is empty"));
            }
            if v.iter().any(|p| p.trim().is_empty()) {
                return Err(E::custom("a file name is empty"));
            }
            Ok(v)
        }
        impl<'de> Visitor<'de> for V {
            type Value = RasterEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file, a list of files (summed) or { files = …, resampling = \"bilinear\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RasterEntry, E> {
                Ok(RasterEntry { files: files_of(vec![v.to_string()])?, resampling: Resampling::Bilinear })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RasterEntry, A::Error> {
                let mut v = Vec::new();
                while let Some(p) = seq.next_element::<String>()? {
                    v.push(p);
                }
                Ok(RasterEntry { files: files_of(v)?, resampling: Resampling::Bilinear })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RasterEntry, A::Error> {
                let mut files: Option<Vec<String>> = None;
                let mut resampling = Resampling::Bilinear;
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "files" | "file" => files = Some(files_of(map.next_value::<Paths>()?.0.into_iter().map(|p| p.to_string_lossy().into_owned()).collect())?),
                        "resampling" => {
                            let s: String = map.next_value()?;
                            resampling = parse_resampling(&s).ok_or_else(|| {
                                de::Error::custom(format!("unknown resampling {s:?}: expected nearest, bilinear, cubic, average, mode or sum"))
                            })?;
                        }
                        other => {
                            let hint = crate::study::diag::suggest(other, ["files", "resampling"]).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                            return Err(de::Error::custom(format!("unknown key `{other}` in a driver raster (keys: files, resampling){hint}")));
                        }
                    }
                }
                let files = files.ok_or_else(|| de::Error::custom("missing key `files`"))?;
                Ok(RasterEntry { files, resampling })
            }
        }
        d.deserialize_any(V)
    }
}

/// The input keys of `[drivers]` (the other keys are [`crate::drivers::DriverRunOptions`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriverKeys {
    /// The year analysed (its RSEI and the rasters' year). Required; one of the study's years.
    pub year: Option<i32>,
    /// DEM (any CRS and resolution): adds the `DEM` and `Slope` drivers.
    pub dem: Option<PathBuf>,
    /// Mines for `DisM` and `MineA`: `true` = the `[mining]` layer (default when there is one).
    pub mines: Option<MinesRef>,
    /// Layer, filter and CRS of a mine file given by path in `mines`.
    pub mines_layer: Option<String>,
    /// Attribute filter of the mine layer.
    pub mines_where: Option<String>,
    /// CRS of the mine layer when the file has none.
    pub mines_crs: Option<String>,
    /// Barrier lines or polygons (e.g. a coastline) that distances to mines go around.
    pub barrier: Option<PathBuf>,
    /// Layer of the barrier file (default: the first).
    pub barrier_layer: Option<String>,
    /// Driver rasters by name (table order = file order).
    pub rasters: Option<BTreeMap<String, RasterEntry>>,
}

/// The top-level tables of a study file (the last five: the analyses beyond the source study,
/// `super::analyses`).
pub const SECTIONS: [&str; 11] = ["study", "data", "area", "rsei", "mining", "drivers", "timeseries", "trend", "change", "geodetector", "autocorrelation"];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Y {
        years: Years,
    }

    #[test]
    fn years_in_every_form() {
        let y = |s: &str| toml::from_str::<Y>(s).map(|y| y.years.0).map_err(|e| e.message().to_string());
        assert_eq!(y("years = 2019").unwrap(), vec![2019]);
        assert_eq!(y("years = \"2018-2020\"").unwrap(), vec![2018, 2019, 2020]);
        assert_eq!(y("years = \"2010,2005-2006\"").unwrap(), vec![2005, 2006, 2010]);
        assert_eq!(y("years = [2010, 2005, 2010]").unwrap(), vec![2005, 2010]);
        assert!(y("years = []").unwrap_err().contains("empty"));
        assert!(y("years = \"2022-2001\"").is_err());
        assert!(y("years = 1850").unwrap_err().contains("satellite record"));
        assert!(y("years = 2019.5").is_err());
        assert!(y("years = [\"2019\"]").is_err());
    }

    #[test]
    fn raster_entries() {
        #[derive(Debug, Deserialize)]
        struct R {
            r: RasterEntry,
        }
        let r = |s: &str| toml::from_str::<R>(s).map(|r| r.r).map_err(|e| e.message().to_string());
        assert_eq!(r("r = \"a.tif\"").unwrap(), RasterEntry { files: vec!["a.tif".into()], resampling: Resampling::Bilinear });
        assert_eq!(r("r = [\"a.tif\", \"b.tif\"]").unwrap().files.len(), 2);
        let e = r("r = { files = \"p_*.tif\", resampling = \"Sum\" }").unwrap();
        assert_eq!((e.files, e.resampling), (vec!["p_*.tif".to_string()], Resampling::Sum));
        assert!(r("r = { files = \"a.tif\", resampling = \"lanczos\" }").unwrap_err().contains("unknown resampling"));
        assert!(r("r = { file = \"a.tif\", resamplng = \"sum\" }").unwrap_err().contains("did you mean `resampling`"));
        assert!(r("r = { resampling = \"sum\" }").unwrap_err().contains("missing key `files`"));
        assert!(r("r = []").unwrap_err().contains("empty"));
        assert!(r("r = 3").is_err());
    }

    #[test]
    fn mines_ref() {
        #[derive(Debug, Deserialize)]
        struct M {
            m: MinesRef,
        }
        assert_eq!(toml::from_str::<M>("m = true").unwrap().m, MinesRef::Use(true));
        assert_eq!(toml::from_str::<M>("m = \"x.gpkg\"").unwrap().m, MinesRef::File("x.gpkg".into()));
        assert!(toml::from_str::<M>("m = 1").is_err());
    }

    #[test]
    fn section_defaults_list_every_key() {
        let keys = |v: serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(serde_json::to_value(StudySection::default()).unwrap()), ["memory", "name", "output", "years"]);
        assert_eq!(keys(serde_json::to_value(AreaEntry::default()).unwrap()).len(), 7);
        assert!(keys(serde_json::to_value(AreaEntry::default()).unwrap()).contains(&"where".to_string()));
        assert!(keys(serde_json::to_value(DriverKeys::default()).unwrap()).contains(&"rasters".to_string()));
    }
}
