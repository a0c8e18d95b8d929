//! STAC items as MODIS granules: product, date and tile from the item, its assets by layer, and
//! the encoding an item declares (`raster:bands`) checked against the product table.

use std::collections::BTreeMap;

use rsei_io::naming::{ModisDate, Tile};
use rsei_io::products::{Layer, LayerSpec, Platform, Product, RawType, HANDLED_PRODUCTS};
use serde::Serialize;

use crate::error::{Result, StacError};
use crate::http::resolve;
use crate::time::{civil_from_days, days_from_civil, parse_rfc3339};

/// What `raster:bands[0]` of an asset declares.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BandInfo {
    pub data_type: Option<String>,
    pub scale: Option<f64>,
    pub offset: Option<f64>,
    pub nodata: Option<f64>,
}

/// One asset of an item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Asset {
    pub key: String,
    /// Absolute URL (or path) of the file, unsigned.
    pub href: String,
    pub media_type: Option<String>,
    pub roles: Vec<String>,
    pub band: Option<BandInfo>,
}

impl Asset {
    /// A (cloud-optimized) GeoTIFF, by media type or name.
    pub fn is_tiff(&self) -> bool {
        self.media_type.as_deref().is_some_and(|t| t.contains("tiff")) || {
            let h = self.href.split('?').next().unwrap_or("").to_ascii_lowercase();
            h.ends_with(".tif") || h.ends_with(".tiff")
        }
    }
    /// An HDF4-EOS granule, by media type or name.
    pub fn is_hdf(&self) -> bool {
        self.media_type.as_deref().is_some_and(|t| t.contains("hdf")) || self.href.split('?').next().unwrap_or("").to_ascii_lowercase().ends_with(".hdf")
    }
}

/// A STAC item that is a MODIS granule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    pub id: String,
    pub collection: String,
    pub product: Product,
    /// First day of the composite (the `A` date of the granule name).
    pub date: ModisDate,
    pub tile: Tile,
    /// Collection version from the id (`061`), if it says.
    pub version: Option<String>,
    /// `[west, south, east, north]` in degrees.
    pub bbox: Option<[f64; 4]>,
    /// Assets by key, hrefs resolved.
    pub assets: BTreeMap<String, Asset>,
}

fn bad(id: &str, collection: &str, reason: String) -> StacError {
    StacError::BadItem { item: id.into(), collection: collection.into(), reason }
}

/// The day count of a [`ModisDate`].
pub fn modis_date_days(d: ModisDate) -> i64 {
    days_from_civil(i64::from(d.year), 1, 1) + i64::from(d.doy) - 1
}

fn modis_date_of_days(days: i64) -> Option<ModisDate> {
    let (y, _, _) = civil_from_days(days);
    let doy = days - days_from_civil(y, 1, 1) + 1;
    ModisDate::new(u16::try_from(y).ok()?, u16::try_from(doy).ok()?)
}

/// Product, date, tile and version from a granule id such as `MOD09A1.A2022033.h19v10.061.2022042043514`.
fn parse_id(id: &str) -> (Option<String>, Option<ModisDate>, Option<Tile>, Option<String>) {
    let parts: Vec<&str> = id.split('.').collect();
    let product = parts.first().map(|s| s.to_ascii_uppercase());
    let date = parts.get(1).and_then(|d| d.strip_prefix('A')).and_then(|d| d.parse::<ModisDate>().ok());
    let tile = parts.get(2).and_then(|t| t.parse::<Tile>().ok());
    let version = parts.get(3).filter(|v| v.len() == 3 && v.bytes().all(|b| b.is_ascii_digit())).map(|v| v.to_string());
    (product, date, tile, version)
}

pub(crate) fn num(v: &serde_json::Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// The assets of an item (GeoJSON Feature) by key, hrefs resolved against `base`.
pub fn parse_assets(v: &serde_json::Value, base: &str) -> BTreeMap<String, Asset> {
    let mut assets = BTreeMap::new();
    if let Some(obj) = v.get("assets").and_then(|a| a.as_object()) {
        for (key, a) in obj {
            let Some(href) = a.get("href").and_then(|h| h.as_str()) else { continue };
            let band = a.get("raster:bands").and_then(|b| b.as_array()).and_then(|b| b.first()).map(|b| BandInfo {
                data_type: b.get("data_type").and_then(|x| x.as_str()).map(str::to_string),
                scale: b.get("scale").and_then(num),
                offset: b.get("offset").and_then(num),
                nodata: b.get("nodata").and_then(num),
            });
            assets.insert(
                key.clone(),
                Asset {
                    key: key.clone(),
                    href: resolve(base, href),
                    media_type: a.get("type").and_then(|x| x.as_str()).map(str::to_string),
                    roles: a.get("roles").and_then(|r| r.as_array()).map(|r| r.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default(),
                    band,
                },
            );
        }
    }
    assets
}

impl Item {
    /// Reads an item (GeoJSON Feature); `base` is where it was read from, to resolve relative hrefs;
    /// `collection_hint` names the collection when the item does not.
    pub fn from_json(v: &serde_json::Value, base: &str, collection_hint: Option<&str>) -> Result<Item> {
        let id = v.get("id").and_then(|x| x.as_str()).unwrap_or("").to_string();
        let collection = v.get("collection").and_then(|x| x.as_str()).or(collection_hint).unwrap_or("").to_string();
        if id.is_empty() {
            return Err(bad("(no id)", &collection, format!("a feature without \"id\" in {base}")));
        }
        let props = v.get("properties").cloned().unwrap_or(serde_json::Value::Null);
        let (pcode, id_date, id_tile, version) = parse_id(&id);
        let pcode = pcode.unwrap_or_default();
        let product = match Product::from_short_name(&pcode) {
            Some(p) => p,
            None => {
                return Err(StacError::UnsupportedCollection { collection, item: id, product: pcode, handled: HANDLED_PRODUCTS.into() })
            }
        };
        // date: the id's A-date, else start_datetime / datetime
        let prop_time = ["start_datetime", "datetime"].iter().find_map(|k| props.get(*k).and_then(|x| x.as_str()).and_then(parse_rfc3339));
        let prop_date = prop_time.and_then(|t| modis_date_of_days(t.div_euclid(86_400)));
        let date = match (id_date, prop_date) {
            (Some(a), Some(b)) if a != b => {
                return Err(bad(&id, &collection, format!("the id says date {a} but start_datetime says {b}")));
            }
            (Some(a), _) => a,
            (None, Some(b)) => b,
            (None, None) => return Err(bad(&id, &collection, "no date: neither the id nor start_datetime/datetime give one".into())),
        };
        let h = props.get("modis:horizontal-tile").and_then(num);
        let vt = props.get("modis:vertical-tile").and_then(num);
        let prop_tile = match (h, vt) {
            (Some(h), Some(v)) => Tile::new(h as u8, v as u8),
            _ => None,
        };
        let tile = match (id_tile, prop_tile) {
            (Some(a), Some(b)) if a != b => return Err(bad(&id, &collection, format!("the id says tile {a} but modis:*-tile say {b}"))),
            (Some(a), _) => a,
            (None, Some(b)) => b,
            (None, None) => return Err(bad(&id, &collection, "no tile: neither the id nor modis:horizontal-tile/vertical-tile give one".into())),
        };
        if let Some(p) = props.get("platform").and_then(|x| x.as_str()) {
            let said = match p.to_ascii_lowercase().as_str() {
                "terra" => Some(Platform::Terra),
                "aqua" => Some(Platform::Aqua),
                _ => None,
            };
            if said.is_some_and(|s| s != product.platform) {
                return Err(bad(&id, &collection, format!("platform {p:?} disagrees with the product {product}")));
            }
        }
        let bbox = v.get("bbox").and_then(|b| b.as_array()).and_then(|a| {
            let n: Vec<f64> = a.iter().filter_map(num).collect();
            match n.len() {
                4 => Some([n[0], n[1], n[2], n[3]]),
                6 => Some([n[0], n[1], n[3], n[4]]),
                _ => None,
            }
        });
        let assets = parse_assets(v, base);
        Ok(Item { id, collection, product, date, tile, version, bbox, assets })
    }

    /// The key a catalogue gives the COG of `layer` (the product's field name with `_` for spaces,
    /// as on the Planetary Computer: `sur_refl_b01`, `500m_16_days_NDVI`, `LST_Day_1km`).
    pub fn expected_key(&self, layer: Layer) -> String {
        self.product.spec(layer).map(|s| s.hdf_name.replace(' ', "_")).unwrap_or_else(|| layer.id().to_string())
    }

    /// The GeoTIFF asset holding `layer` (matched by key with [`Product::find_layer`]).
    pub fn cog_asset(&self, layer: Layer) -> Option<&Asset> {
        self.assets.values().find(|a| a.is_tiff() && self.product.find_layer(&a.key).is_some_and(|s| s.layer == layer))
    }

    /// The HDF granule asset (role `data`, or any `.hdf`).
    pub fn hdf_asset(&self) -> Option<&Asset> {
        self.assets
            .values()
            .filter(|a| a.is_hdf())
            .min_by_key(|a| (!a.roles.iter().any(|r| r == "data"), a.key.clone()))
    }

    /// Whether the item's composite starts within `[first, last]` (day counts).
    pub fn starts_within(&self, first: i64, last: i64) -> bool {
        let d = modis_date_days(self.date);
        d >= first && d <= last
    }
}

fn raw_type_name(t: RawType) -> &'static str {
    match t {
        RawType::I8 => "int8",
        RawType::U8 => "uint8",
        RawType::I16 => "int16",
        RawType::U16 => "uint16",
        RawType::U32 => "uint32",
    }
}

/// Compares what an asset declares with the product table. A scale or offset that differs is an
/// error (the values would be decoded wrongly); a nodata or data type that differs is a warning
/// (returned); an absent field is a note saying that the product table supplies it.
pub fn check_encoding(item: &Item, asset: &Asset, spec: &LayerSpec) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let err = |reason: String| StacError::Encoding { item: item.id.clone(), key: asset.key.clone(), reason };
    let Some(b) = &asset.band else {
        notes.push(format!(
            "note: asset {} of {} declares no raster:bands; scale {}, offset {}, fill {:?} from the product table",
            asset.key, item.id, spec.scale, spec.offset, spec.fill
        ));
        return Ok(notes);
    };
    let rel = |a: f64, b: f64| ((a - b) / b.abs().max(1e-300)).abs() < 1e-6;
    match b.scale {
        Some(s) if !(rel(s, spec.scale) || (spec.scale == 1.0 && s == 1.0)) => {
            return Err(err(format!("raster:bands scale {s} disagrees with the product table's {} for {} {}", spec.scale, item.product, spec.layer)))
        }
        Some(_) => {}
        None if spec.scale != 1.0 => notes.push(format!("note: asset {} of {} declares no scale; product scale {} used", asset.key, item.id, spec.scale)),
        None => {}
    }
    if let Some(o) = b.offset.filter(|o| *o != spec.offset) {
        return Err(err(format!("raster:bands offset {o} disagrees with the product table's {} for {} {}", spec.offset, item.product, spec.layer)));
    }
    if let Some(n) = b.nodata {
        if spec.fill != Some(n) {
            notes.push(format!(
                "warning: asset {} of {} declares nodata {n}, the product table's fill is {:?}; the file's own nodata is honoured only outside the valid range",
                asset.key, item.id, spec.fill
            ));
        }
    }
    if let Some(t) = &b.data_type {
        let want = raw_type_name(spec.raw_type);
        if !t.eq_ignore_ascii_case(want) {
            notes.push(format!("warning: asset {} of {} declares data type {t}, the product stores {want}", asset.key, item.id));
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(json: serde_json::Value) -> Result<Item> {
        Item::from_json(&json, "http://h/c/items/x.json", None)
    }

    #[test]
    fn planetary_computer_item() {
        let it = item(serde_json::json!({
            "type": "Feature", "id": "MOD09A1.A2022033.h19v10.061.2022042043514", "collection": "modis-09A1-061",
            "properties": {"start_datetime": "2022-02-02T00:00:00Z", "modis:horizontal-tile": 19, "modis:vertical-tile": 10, "platform": "terra"},
            "assets": {
                "sur_refl_b01": {"href": "../x_b01.tif", "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                                 "raster:bands": [{"data_type": "int16", "scale": 0.0001}]},
                "hdf": {"href": "https://e/x.hdf", "type": "application/x-hdf", "roles": ["data"]}
            }
        }))
        .unwrap();
        assert_eq!(it.product.short_name(), "MOD09A1");
        assert_eq!((it.date.year, it.date.doy), (2022, 33));
        assert_eq!((it.tile.h, it.tile.v), (19, 10));
        let a = it.cog_asset(Layer::SurReflB01).unwrap();
        assert_eq!(a.href, "http://h/c/x_b01.tif");
        assert!(it.cog_asset(Layer::SurReflB02).is_none());
        assert_eq!(it.hdf_asset().unwrap().key, "hdf");
        assert_eq!(it.expected_key(Layer::SurReflQc), "sur_refl_qc_500m");
        let spec = it.product.spec(Layer::SurReflB01).unwrap();
        assert!(check_encoding(&it, a, spec).unwrap().is_empty());
    }

    #[test]
    fn disagreements_are_errors() {
        let e = item(serde_json::json!({"id": "MOD09A1.A2022033.h19v10.061.1", "properties": {"platform": "aqua"}})).unwrap_err();
        assert!(e.to_string().contains("platform"), "{e}");
        let e = item(serde_json::json!({"id": "MOD09A1.A2022033.h19v10.061.1", "properties": {"start_datetime": "2022-02-10T00:00:00Z"}})).unwrap_err();
        assert!(e.to_string().contains("2022-033"), "{e}");
        let e = item(serde_json::json!({"id": "MOD10A1.A2022033.h19v10.061.1", "collection": "modis-10A1-061"})).unwrap_err();
        assert!(matches!(e, StacError::UnsupportedCollection { .. }), "{e}");
        let it = item(serde_json::json!({"id": "MOD11A2.A2022033.h19v10.061.1", "assets": {"LST_Day_1km": {"href": "a.tif", "raster:bands": [{"scale": 0.01}]}}})).unwrap();
        let a = it.cog_asset(Layer::LstDay).unwrap();
        let e = check_encoding(&it, a, it.product.spec(Layer::LstDay).unwrap()).unwrap_err();
        assert!(e.to_string().contains("LST_Day_1km") && e.to_string().contains("0.02"), "{e}");
    }

    #[test]
    fn aqua_terra_and_13a1_keys() {
        let it = item(serde_json::json!({"id": "MYD13A1.A2020177.h27v05.061.1", "properties": {"platform": "aqua"},
            "assets": {"500m_16_days_NDVI": {"href": "n.tif"}, "500m_16_days_pixel_reliability": {"href": "r.tif"}}})).unwrap();
        assert_eq!(it.product.platform, Platform::Aqua);
        assert!(it.cog_asset(Layer::Ndvi).is_some());
        assert!(it.cog_asset(Layer::PixelReliability).is_some());
        assert_eq!(it.expected_key(Layer::Ndvi), "500m_16_days_NDVI");
    }
}
