//! MODIS file names and metadata: product, platform, date, tile, collection and layer.
//!
//! File-name styles understood by [`parse_name`]:
//!
//! | style | example |
//! |---|---|
//! | NASA granule | `MOD09A1.A2019177.h27v05.061.2019186034017.hdf` |
//! | Planetary Computer per-layer COG | `MOD09A1.A2019177.h27v05.061.2019186034017_sur_refl_b01.tif` |
//! | MODIStsp | `MOD13A1_NDVI_2016_001.tif` (no tile: the reader derives it from the geotransform) |
//! | AppEEARS | `MOD13A1.061__500m_16_days_NDVI_doy2016001_aid0001.tif` |
//!
//! When the name says nothing useful, the file's metadata is used ([`GranuleMetadata`]): our own
//! GeoTIFF tags ([`TAG_PRODUCT`], [`TAG_LAYER`], [`TAG_DATE`] as `YYYY-DDD`, [`TAG_TILE`] as
//! `hHHvVV`), the flat ECS keys GDAL exposes for complete HDF-EOS granules and that converted
//! GeoTIFFs often keep (`SHORTNAME`, `RANGEBEGINNINGDATE`, `HORIZONTALTILENUMBER`,
//! `VERTICALTILENUMBER`, `VERSIONID`), and finally the raw ODL text blocks `CoreMetadata.0`,
//! `OldCoreMetadata.0`, `ArchiveMetadata.0`, `OldArchiveMetadata.0` (files cut by NASA's HEG tool
//! keep their dates only in the `Old…` blocks).
//!
//! ```
//! use rsei_io::naming::{parse_name, ModisDate, NameStyle, Tile};
//! let n = parse_name("MOD09A1.A2019177.h27v05.061.2019186034017.hdf").unwrap();
//! assert_eq!(n.product_code, "MOD09A1");
//! assert_eq!(n.date, ModisDate::new(2019, 177).unwrap());
//! assert_eq!(n.tile, Some(Tile::new(27, 5).unwrap()));
//! assert_eq!(n.style, NameStyle::Nasa);
//! let m = parse_name("MOD13A1_NDVI_2016_001.tif").unwrap();
//! assert_eq!((m.layer_name.as_deref(), m.tile), (Some("NDVI"), None));
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::products::looks_like_modis_product;

/// GeoTIFF tag: product short name (`MOD13A1`).
pub const TAG_PRODUCT: &str = "MODIS_PRODUCT";
/// GeoTIFF tag: canonical layer id (`ndvi`, see `products::Layer::id`).
pub const TAG_LAYER: &str = "MODIS_LAYER";
/// GeoTIFF tag: acquisition (composite start) date as `YYYY-DDD`.
pub const TAG_DATE: &str = "MODIS_DATE";
/// GeoTIFF tag: tile as `hHHvVV`.
pub const TAG_TILE: &str = "MODIS_TILE";

/// The four tags that make a single-layer GeoTIFF self-describing (for [`crate::write::WriteOptions::tags`]):
/// `MODIS_PRODUCT`, `MODIS_LAYER`, `MODIS_DATE` (`YYYY-DDD`), `MODIS_TILE` (`hHHvVV`).
pub fn modis_tags(
    product: &crate::products::Product,
    layer: crate::products::Layer,
    date: ModisDate,
    tile: Tile,
) -> std::collections::BTreeMap<String, String> {
    [
        (TAG_PRODUCT, product.short_name()),
        (TAG_LAYER, layer.id().to_string()),
        (TAG_DATE, date.to_string()),
        (TAG_TILE, tile.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A date as year and day of year (the MODIS `AYYYYDDD` convention).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ModisDate {
    pub year: u16,
    /// Day of year, 1-based.
    pub doy: u16,
}

fn is_leap(y: u16) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

const MONTH_DAYS: [u16; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

impl ModisDate {
    /// A date from year and day of year; `None` if the day does not exist.
    pub fn new(year: u16, doy: u16) -> Option<Self> {
        let n = if is_leap(year) { 366 } else { 365 };
        ((1900..=2200).contains(&year) && (1..=n).contains(&doy)).then_some(Self { year, doy })
    }

    /// From a calendar date (month and day 1-based).
    pub fn from_calendar(year: u16, month: u8, day: u8) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let mut dim = MONTH_DAYS;
        if is_leap(year) {
            dim[1] = 29;
        }
        let m = usize::from(month - 1);
        if u16::from(day) > dim[m] {
            return None;
        }
        let doy = dim[..m].iter().sum::<u16>() + u16::from(day);
        Self::new(year, doy)
    }

    /// (month, day), both 1-based.
    pub fn to_calendar(&self) -> (u8, u8) {
        let mut dim = MONTH_DAYS;
        if is_leap(self.year) {
            dim[1] = 29;
        }
        let mut d = self.doy;
        for (i, &n) in dim.iter().enumerate() {
            if d <= n {
                return (i as u8 + 1, d as u8);
            }
            d -= n;
        }
        (12, 31)
    }

    /// Parses `YYYY-MM-DD` (ECS `RANGEBEGINNINGDATE`).
    pub fn parse_calendar(s: &str) -> Option<Self> {
        let s = s.trim().trim_matches('"');
        let mut it = s.split('-');
        let y = it.next()?.parse().ok()?;
        let m = it.next()?.parse().ok()?;
        let d = it.next()?.get(..2)?.parse().ok()?;
        Self::from_calendar(y, m, d)
    }
}

impl fmt::Display for ModisDate {
    /// `YYYY-DDD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:03}", self.year, self.doy)
    }
}

impl FromStr for ModisDate {
    type Err = String;
    /// Parses `YYYY-DDD`, `YYYYDDD` or `AYYYYDDD`.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let t = t.strip_prefix('A').unwrap_or(t);
        let digits: String = t.chars().filter(|c| *c != '-').collect();
        if digits.len() != 7 || !digits.bytes().all(|b| b.is_ascii_digit()) || (t.contains('-') && t.len() != 8) {
            return Err(format!("date {s:?} is not YYYY-DDD"));
        }
        let y = digits[..4].parse().map_err(|_| format!("bad year in {s:?}"))?;
        let d = digits[4..].parse().map_err(|_| format!("bad day in {s:?}"))?;
        ModisDate::new(y, d).ok_or_else(|| format!("day {d} does not exist in {y}"))
    }
}

/// A MODIS sinusoidal tile hHHvVV (h 0–35, v 0–17).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tile {
    pub h: u8,
    pub v: u8,
}

impl Tile {
    /// A tile; `None` outside h 0–35, v 0–17.
    pub fn new(h: u8, v: u8) -> Option<Self> {
        (h <= 35 && v <= 17).then_some(Self { h, v })
    }
    /// The tile holding a sinusoidal position (e.g. a raster's centre).
    pub fn containing(x: f64, y: f64) -> Option<Self> {
        let (h, v) = rsei_core::grid::modis::tile_of(x, y);
        if (0..=35).contains(&h) && (0..=17).contains(&v) {
            Tile::new(h as u8, v as u8)
        } else {
            None
        }
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "h{:02}v{:02}", self.h, self.v)
    }
}

impl FromStr for Tile {
    type Err = String;
    /// Parses `hHHvVV` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        let b = t.as_bytes();
        if b.len() != 6 || b[0] != b'h' || b[3] != b'v' {
            return Err(format!("tile {s:?} is not hHHvVV"));
        }
        let h = t[1..3].parse().map_err(|_| format!("bad h in tile {s:?}"))?;
        let v = t[4..6].parse().map_err(|_| format!("bad v in tile {s:?}"))?;
        Tile::new(h, v).ok_or_else(|| format!("tile {s:?} outside h00–h35, v00–v17"))
    }
}

/// Which naming convention a file name follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NameStyle {
    /// `MOD09A1.A2019177.h27v05.061.2019186034017.hdf`
    Nasa,
    /// `MOD09A1.A2019177.h27v05.061.2019186034017_sur_refl_b01.tif`
    PlanetaryComputer,
    /// `MOD13A1_NDVI_2016_001.tif`
    Modistsp,
    /// `MOD13A1.061__500m_16_days_NDVI_doy2016001_aid0001.tif`
    Appeears,
}

/// What a file name says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedName {
    /// Product short name as written (upper case), handled or not.
    pub product_code: String,
    pub date: ModisDate,
    pub tile: Option<Tile>,
    /// Collection (`006`, `061`).
    pub collection: Option<String>,
    /// Production time stamp (`YYYYDDDHHMMSS`).
    pub production: Option<String>,
    /// Layer name as written in the file name (per-layer files).
    pub layer_name: Option<String>,
    pub style: NameStyle,
}

/// File name without its raster extension, if it has one we read.
fn strip_extension(name: &str) -> Option<(&str, &str)> {
    let lower = name.to_ascii_lowercase();
    for ext in [".hdf", ".tif", ".tiff"] {
        if lower.ends_with(ext) {
            return Some((&name[..name.len() - ext.len()], &name[name.len() - ext.len() + 1..]));
        }
    }
    None
}

fn all_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses a MODIS file name (just the name, not the folder). `None` when it follows none of the
/// known styles.
pub fn parse_name(file_name: &str) -> Option<ParsedName> {
    let (stem, _ext) = strip_extension(file_name)?;
    parse_nasa(stem).or_else(|| parse_appeears(stem)).or_else(|| parse_modistsp(stem))
}

fn parse_nasa(stem: &str) -> Option<ParsedName> {
    let parts: Vec<&str> = stem.split('.').collect();
    if parts.len() != 5 || !looks_like_modis_product(parts[0]) {
        return None;
    }
    let date: ModisDate = parts[1].strip_prefix('A').filter(|d| all_digits(d, 7))?.parse().ok()?;
    let tile: Tile = parts[2].parse().ok()?;
    if !all_digits(parts[3], 3) {
        return None;
    }
    let (prod, layer) = match parts[4].split_once('_') {
        Some((p, l)) if !l.is_empty() => (p, Some(l.to_string())),
        Some(_) => return None,
        None => (parts[4], None),
    };
    if !all_digits(prod, 13) {
        return None;
    }
    Some(ParsedName {
        product_code: parts[0].to_ascii_uppercase(),
        date,
        tile: Some(tile),
        collection: Some(parts[3].to_string()),
        production: Some(prod.to_string()),
        style: if layer.is_some() { NameStyle::PlanetaryComputer } else { NameStyle::Nasa },
        layer_name: layer,
    })
}

fn parse_appeears(stem: &str) -> Option<ParsedName> {
    let (prod, rest) = stem.split_once('.')?;
    if !looks_like_modis_product(prod) {
        return None;
    }
    let (coll, rest) = rest.split_at_checked(3)?;
    if !all_digits(coll, 3) {
        return None;
    }
    let rest = rest.strip_prefix('_')?;
    let doy_at = rest.rfind("_doy")?;
    let layer = &rest[..doy_at];
    let tail = &rest[doy_at + 4..];
    let (date_s, aid) = tail.split_once("_aid")?;
    if layer.is_empty() || !all_digits(date_s, 7) || aid.is_empty() || !aid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(ParsedName {
        product_code: prod.to_ascii_uppercase(),
        date: date_s.parse().ok()?,
        tile: None,
        collection: Some(coll.to_string()),
        production: None,
        layer_name: Some(layer.to_string()),
        style: NameStyle::Appeears,
    })
}

fn parse_modistsp(stem: &str) -> Option<ParsedName> {
    let parts: Vec<&str> = stem.split('_').collect();
    if parts.len() < 4 || !looks_like_modis_product(parts[0]) {
        return None;
    }
    let n = parts.len();
    if !all_digits(parts[n - 2], 4) || !all_digits(parts[n - 1], 3) {
        return None;
    }
    let layer = parts[1..n - 2].join("_");
    if layer.is_empty() {
        return None;
    }
    Some(ParsedName {
        product_code: parts[0].to_ascii_uppercase(),
        date: ModisDate::new(parts[n - 2].parse().ok()?, parts[n - 1].parse().ok()?)?,
        tile: None,
        collection: None,
        production: None,
        layer_name: Some(layer),
        style: NameStyle::Modistsp,
    })
}

/// What a file's metadata says (all fields optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GranuleMetadata {
    pub product_code: Option<String>,
    pub date: Option<ModisDate>,
    pub tile: Option<Tile>,
    pub collection: Option<String>,
    /// Layer name from our `MODIS_LAYER` tag.
    pub layer_name: Option<String>,
    /// Which metadata items the values came from (for notes and messages).
    pub sources: Vec<String>,
}

impl GranuleMetadata {
    /// Reads the fields from a dataset's default-domain metadata items (`KEY=VALUE` strings, as GDAL
    /// lists them): our tags first, then flat ECS keys, then the ODL text blocks.
    pub fn from_items<S: AsRef<str>>(items: &[S]) -> Self {
        let mut flat: Vec<(&str, &str)> = Vec::new();
        for it in items {
            if let Some((k, v)) = it.as_ref().split_once('=') {
                flat.push((k.trim(), v));
            }
        }
        let get = |key: &str| flat.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.trim());
        let mut m = GranuleMetadata::default();
        // 1. our tags
        if let Some(v) = get(TAG_PRODUCT).filter(|v| !v.is_empty()) {
            m.product_code = Some(v.to_ascii_uppercase());
            m.sources.push(TAG_PRODUCT.into());
        }
        if let Some(d) = get(TAG_DATE).and_then(|v| v.parse().ok()) {
            m.date = Some(d);
            m.sources.push(TAG_DATE.into());
        }
        if let Some(t) = get(TAG_TILE).and_then(|v| v.parse().ok()) {
            m.tile = Some(t);
            m.sources.push(TAG_TILE.into());
        }
        if let Some(v) = get(TAG_LAYER).filter(|v| !v.is_empty()) {
            m.layer_name = Some(v.to_string());
            m.sources.push(TAG_LAYER.into());
        }
        // 2. flat ECS keys
        if m.product_code.is_none() {
            if let Some(v) = get("SHORTNAME").filter(|v| !v.is_empty()) {
                m.product_code = Some(v.trim_matches('"').to_ascii_uppercase());
                m.sources.push("SHORTNAME".into());
            }
        }
        if m.date.is_none() {
            if let Some(d) = get("RANGEBEGINNINGDATE").and_then(ModisDate::parse_calendar) {
                m.date = Some(d);
                m.sources.push("RANGEBEGINNINGDATE".into());
            }
        }
        if m.tile.is_none() {
            let h = get("HORIZONTALTILENUMBER").and_then(|v| v.trim_matches('"').parse::<u8>().ok());
            let v = get("VERTICALTILENUMBER").and_then(|v| v.trim_matches('"').parse::<u8>().ok());
            if let (Some(h), Some(v)) = (h, v) {
                m.tile = Tile::new(h, v);
                if m.tile.is_some() {
                    m.sources.push("HORIZONTALTILENUMBER/VERTICALTILENUMBER".into());
                }
            }
        }
        if m.collection.is_none() {
            if let Some(v) = get("VERSIONID").and_then(|v| v.trim_matches('"').parse::<u16>().ok()) {
                m.collection = Some(format!("{v:03}"));
            }
        }
        // 3. ODL blocks
        for block in ["CoreMetadata.0", "OldCoreMetadata.0", "ArchiveMetadata.0", "OldArchiveMetadata.0"] {
            let Some(text) = get(block) else { continue };
            if m.product_code.is_none() {
                if let Some(v) = odl_object_value(text, "SHORTNAME") {
                    m.product_code = Some(v.to_ascii_uppercase());
                    m.sources.push(format!("{block} SHORTNAME"));
                }
            }
            if m.date.is_none() {
                if let Some(d) = odl_object_value(text, "RANGEBEGINNINGDATE").and_then(|v| ModisDate::parse_calendar(&v)) {
                    m.date = Some(d);
                    m.sources.push(format!("{block} RANGEBEGINNINGDATE"));
                }
            }
            if m.tile.is_none() {
                let h = odl_additional_attribute(text, "HORIZONTALTILENUMBER").and_then(|v| v.parse::<u8>().ok());
                let v = odl_additional_attribute(text, "VERTICALTILENUMBER").and_then(|v| v.parse::<u8>().ok());
                if let (Some(h), Some(v)) = (h, v) {
                    m.tile = Tile::new(h, v);
                    if m.tile.is_some() {
                        m.sources.push(format!("{block} tile numbers"));
                    }
                }
            }
            if m.collection.is_none() {
                if let Some(v) = odl_object_value(text, "VERSIONID").and_then(|v| v.parse::<u16>().ok()) {
                    m.collection = Some(format!("{v:03}"));
                }
            }
        }
        m
    }
}

/// `KEY = VALUE` of one ODL line, trimmed.
fn odl_kv(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once('=')?;
    Some((k.trim(), v.trim()))
}

fn unquote(v: &str) -> String {
    v.trim().trim_matches('"').trim().to_string()
}

/// The `VALUE` of `OBJECT = name` in an ODL text block.
pub(crate) fn odl_object_value(text: &str, name: &str) -> Option<String> {
    let mut inside = false;
    for line in text.lines() {
        let Some((k, v)) = odl_kv(line) else { continue };
        if k == "OBJECT" && v == name {
            inside = true;
        } else if inside && k == "END_OBJECT" {
            return None;
        } else if inside && k == "VALUE" {
            return Some(unquote(v));
        }
    }
    None
}

/// The value of an ECS additional attribute (`ADDITIONALATTRIBUTENAME` = `name`, then the next
/// `PARAMETERVALUE` object's `VALUE`).
pub(crate) fn odl_additional_attribute(text: &str, name: &str) -> Option<String> {
    let quoted = format!("\"{name}\"");
    let mut found = false;
    let mut in_param = false;
    for line in text.lines() {
        let Some((k, v)) = odl_kv(line) else { continue };
        if !found {
            if k == "VALUE" && (v == quoted || v == name) {
                found = true;
            }
            continue;
        }
        if k == "OBJECT" && v == "PARAMETERVALUE" {
            in_param = true;
        } else if k == "OBJECT" && v == "ADDITIONALATTRIBUTENAME" {
            return None; // the next attribute started without a value
        } else if in_param && k == "VALUE" {
            return Some(unquote(v));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_by_hand() {
        // 2017-07-12: 31+28+31+30+31+30 = 181 days before July, + 12 = 193
        assert_eq!(ModisDate::parse_calendar("2017-07-12"), ModisDate::new(2017, 193));
        // leap year 2016: Dec 31 is day 366
        assert_eq!(ModisDate::from_calendar(2016, 12, 31), ModisDate::new(2016, 366));
        assert_eq!(ModisDate::new(2016, 60).unwrap().to_calendar(), (2, 29));
        assert_eq!(ModisDate::new(2017, 60).unwrap().to_calendar(), (3, 1));
        assert!(ModisDate::new(2017, 366).is_none());
        assert!(ModisDate::from_calendar(2017, 2, 29).is_none());
        assert_eq!("2019-177".parse::<ModisDate>().unwrap().to_string(), "2019-177");
        assert_eq!("A2019177".parse::<ModisDate>().unwrap(), ModisDate::new(2019, 177).unwrap());
        assert!("2019-1770".parse::<ModisDate>().is_err());
        assert!("2019-400".parse::<ModisDate>().is_err());
    }

    #[test]
    fn tiles() {
        assert_eq!("h18v04".parse::<Tile>().unwrap(), Tile::new(18, 4).unwrap());
        assert_eq!(Tile::new(7, 5).unwrap().to_string(), "h07v05");
        assert!("h36v01".parse::<Tile>().is_err());
        assert!("h1v1".parse::<Tile>().is_err());
        // centre of the Lake Como raster (sinusoidal 726706, 5104316) lies in h18v04:
        // h = floor((726706 + 20015109.356) / 1111950.520) = floor(18.65) = 18
        // v = floor((10007554.678 − 5104316.198) / 1111950.520) = floor(4.41) = 4
        assert_eq!(Tile::containing(726_705.996, 5_104_316.198), Tile::new(18, 4));
    }

    #[test]
    fn name_styles() {
        let pc = parse_name("MOD09A1.A2019177.h27v05.061.2019186034017_sur_refl_b01.tif").unwrap();
        assert_eq!(pc.style, NameStyle::PlanetaryComputer);
        assert_eq!(pc.layer_name.as_deref(), Some("sur_refl_b01"));
        assert_eq!(pc.production.as_deref(), Some("2019186034017"));
        assert_eq!(pc.collection.as_deref(), Some("061"));

        let ap = parse_name("MOD13A1.061__500m_16_days_NDVI_doy2016001_aid0001.tif").unwrap();
        assert_eq!(ap.style, NameStyle::Appeears);
        assert_eq!(ap.product_code, "MOD13A1");
        assert_eq!(ap.layer_name.as_deref(), Some("_500m_16_days_NDVI"));
        assert_eq!(ap.date, ModisDate::new(2016, 1).unwrap());
        assert_eq!(ap.tile, None);

        let ts = parse_name("MYD11A2_LST_Day_1km_2020_185.tif").unwrap();
        assert_eq!(ts.style, NameStyle::Modistsp);
        assert_eq!(ts.product_code, "MYD11A2");
        assert_eq!(ts.layer_name.as_deref(), Some("LST_Day_1km"));
        assert_eq!(ts.date, ModisDate::new(2020, 185).unwrap());

        let ga = parse_name("MOD09GA.A2008296.h14v17.006.2015181011753.hdf").unwrap();
        assert_eq!((ga.tile, ga.date.doy), (Tile::new(14, 17), 296));

        for bad in ["notes.txt", "MOD09A1.hdf", "image.tif", "MOD13A1_NDVI_2016_400.tif", "MOD09A1.A2019177.h27v05.061.hdf"] {
            assert!(parse_name(bad).is_none(), "{bad}");
        }
        // an unhandled MODIS product is still parsed (the caller rejects it by product)
        assert_eq!(parse_name("MCD12Q1.A2019001.h27v05.061.2020212131002.hdf").unwrap().product_code, "MCD12Q1");
    }

    #[test]
    fn metadata_from_odl_blocks() {
        let odl = "GROUP                  = INVENTORYMETADATA\n\
          OBJECT                 = SHORTNAME\n    NUM_VAL              = 1\n    VALUE                = \"MOD09A1\"\n  END_OBJECT             = SHORTNAME\n\
          OBJECT                 = RANGEBEGINNINGDATE\n    NUM_VAL              = 1\n    VALUE                = \"2017-07-12\"\n  END_OBJECT             = RANGEBEGINNINGDATE\n\
          OBJECT                 = ADDITIONALATTRIBUTESCONTAINER\n      OBJECT                 = ADDITIONALATTRIBUTENAME\n        VALUE                = \"HORIZONTALTILENUMBER\"\n      END_OBJECT             = ADDITIONALATTRIBUTENAME\n\
          GROUP                  = INFORMATIONCONTENT\n        OBJECT                 = PARAMETERVALUE\n          VALUE                = \"18\"\n        END_OBJECT             = PARAMETERVALUE\n      END_GROUP = INFORMATIONCONTENT\n\
          OBJECT                 = ADDITIONALATTRIBUTENAME\n        VALUE                = \"VERTICALTILENUMBER\"\n      END_OBJECT             = ADDITIONALATTRIBUTENAME\n\
          OBJECT                 = PARAMETERVALUE\n          VALUE                = \"4\"\n        END_OBJECT             = PARAMETERVALUE\n";
        let items = vec!["HDFEOSVersion=HDFEOS_V2.20".to_string(), format!("OldCoreMetadata.0={odl}")];
        let m = GranuleMetadata::from_items(&items);
        assert_eq!(m.product_code.as_deref(), Some("MOD09A1"));
        assert_eq!(m.date, ModisDate::new(2017, 193));
        assert_eq!(m.tile, Tile::new(18, 4));

        let flat = ["SHORTNAME=MOD11A1", "RANGEBEGINNINGDATE=2021-08-15", "HORIZONTALTILENUMBER=11", "VERTICALTILENUMBER=05", "VERSIONID=61"];
        let m = GranuleMetadata::from_items(&flat);
        assert_eq!((m.product_code.as_deref(), m.date, m.tile), (Some("MOD11A1"), ModisDate::new(2021, 227), Tile::new(11, 5)));
        assert_eq!(m.collection.as_deref(), Some("061"));

        let tags = ["MODIS_PRODUCT=MYD13A1", "MODIS_DATE=2016-353", "MODIS_TILE=h27v05", "MODIS_LAYER=ndvi"];
        let m = GranuleMetadata::from_items(&tags);
        assert_eq!(m.layer_name.as_deref(), Some("ndvi"));
        assert_eq!(m.date, ModisDate::new(2016, 353));
        assert_eq!(GranuleMetadata::from_items::<&str>(&[]), GranuleMetadata::default());
    }
}
