//! The MODIS product registry (METHOD §1): which products we read, their layers, and how each
//! layer's digital numbers (DN) are encoded.
//!
//! A layer has one canonical id ([`Layer`], e.g. `ndvi`, `sur_refl_b01`) whatever the distributor
//! calls it: HDF-EOS granules use the NASA names with spaces (`500m 16 days NDVI`), STAC /
//! Planetary Computer COG assets the same names with underscores (`500m_16_days_NDVI`), AppEEARS a
//! leading underscore (`_500m_16_days_NDVI`), MODIStsp short names (`NDVI`, `b1_Red`, `BQ_500`) and
//! Earth Engine its band names (`SummaryQA`, `StateQA`). [`Product::find_layer`] maps any of them.
//! MOD09GA's daily layers (`sur_refl_b01_1`, `QC_500m_1`, `state_1km_1`) map to the same ids as
//! MOD09A1's, since they carry the same bit layouts; their [`LayerSpec::resolution`] differs
//! (`state_1km_1` is on the 1 km grid).
//!
//! Decoding a DN ([`LayerSpec::decode`]): fill → nodata, outside the valid range → nodata,
//! otherwise `DN · scale + offset` (reflectance and NDVI unitless, LST in kelvin).
//!
//! ```
//! use rsei_io::products::{Layer, Product};
//! let p = Product::from_short_name("MYD13A1").unwrap();
//! let spec = p.find_layer("500m_16_days_NDVI").unwrap();
//! assert_eq!(spec.layer, Layer::Ndvi);
//! assert!((spec.decode(5000.0) - 0.5).abs() < 1e-7);
//! assert!(spec.decode(-3000.0).is_nan()); // fill
//! ```

use std::fmt;

use rsei_core::grid::modis::Resolution;
use serde::{Deserialize, Serialize};

/// Terra (MOD…) or Aqua (MYD…).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Platform {
    Terra,
    Aqua,
}

/// The product families we read (Terra and Aqua share layouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ProductKind {
    /// Surface reflectance, 8-day, 500 m.
    Mod09A1,
    /// Vegetation indices, 16-day, 500 m.
    Mod13A1,
    /// Land surface temperature, 8-day, 1 km.
    Mod11A2,
    /// Land surface temperature, daily, 1 km.
    Mod11A1,
    /// Surface reflectance, daily, 500 m (+ 1 km state).
    Mod09GA,
}

impl ProductKind {
    /// Every handled family.
    pub const ALL: [ProductKind; 5] =
        [ProductKind::Mod09A1, ProductKind::Mod13A1, ProductKind::Mod11A2, ProductKind::Mod11A1, ProductKind::Mod09GA];

    /// The part of the short name after `MOD`/`MYD` (`09A1`, `13A1` …).
    pub fn code(self) -> &'static str {
        match self {
            ProductKind::Mod09A1 => "09A1",
            ProductKind::Mod13A1 => "13A1",
            ProductKind::Mod11A2 => "11A2",
            ProductKind::Mod11A1 => "11A1",
            ProductKind::Mod09GA => "09GA",
        }
    }

    /// Compositing period in days (1 for daily products).
    pub fn period_days(self) -> u16 {
        match self {
            ProductKind::Mod09A1 | ProductKind::Mod11A2 => 8,
            ProductKind::Mod13A1 => 16,
            ProductKind::Mod11A1 | ProductKind::Mod09GA => 1,
        }
    }

    /// The layers of this family, in registry order.
    pub fn layers(self) -> &'static [LayerSpec] {
        match self {
            ProductKind::Mod09A1 => MOD09A1_LAYERS,
            ProductKind::Mod13A1 => MOD13A1_LAYERS,
            ProductKind::Mod11A2 | ProductKind::Mod11A1 => MOD11_LAYERS,
            ProductKind::Mod09GA => MOD09GA_LAYERS,
        }
    }

    /// The layers the default method needs from a granule (METHOD §1: values and their QA).
    pub fn required_layers(self) -> &'static [Layer] {
        use Layer::*;
        match self {
            ProductKind::Mod09A1 | ProductKind::Mod09GA => {
                &[SurReflB01, SurReflB02, SurReflB03, SurReflB04, SurReflB05, SurReflB06, SurReflB07, SurReflQc, SurReflState]
            }
            ProductKind::Mod13A1 => &[Ndvi, PixelReliability],
            ProductKind::Mod11A2 | ProductKind::Mod11A1 => &[LstDay, QcDay],
        }
    }
}

/// A product: family and platform, e.g. MOD09A1 (Terra) or MYD09A1 (Aqua).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Product {
    pub kind: ProductKind,
    pub platform: Platform,
}

/// The handled short names, for messages.
pub const HANDLED_PRODUCTS: &str = "MOD09A1/MYD09A1, MOD13A1/MYD13A1, MOD11A2/MYD11A2, MOD11A1/MYD11A1, MOD09GA/MYD09GA";

impl Product {
    /// A product from its family and platform.
    pub const fn new(kind: ProductKind, platform: Platform) -> Self {
        Self { kind, platform }
    }

    /// Parses a short name such as `MOD09A1` or `myd13a1` (case-insensitive); `None` if not handled.
    pub fn from_short_name(name: &str) -> Option<Product> {
        let n = name.trim().to_ascii_uppercase();
        let platform = match n.get(..3)? {
            "MOD" => Platform::Terra,
            "MYD" => Platform::Aqua,
            _ => return None,
        };
        let rest = n.get(3..)?;
        ProductKind::ALL.into_iter().find(|k| k.code() == rest).map(|kind| Product { kind, platform })
    }

    /// `MOD09A1`, `MYD13A1` …
    pub fn short_name(&self) -> String {
        let p = match self.platform {
            Platform::Terra => "MOD",
            Platform::Aqua => "MYD",
        };
        format!("{p}{}", self.kind.code())
    }

    /// The layer specs of this product.
    pub fn layers(&self) -> &'static [LayerSpec] {
        self.kind.layers()
    }

    /// The spec of a canonical layer, if this product has it.
    pub fn spec(&self, layer: Layer) -> Option<&'static LayerSpec> {
        self.layers().iter().find(|s| s.layer == layer)
    }

    /// The layer a distributor's name refers to (HDF, STAC, AppEEARS, MODIStsp, Earth Engine names;
    /// case, spaces, hyphens and underscores do not matter).
    pub fn find_layer(&self, name: &str) -> Option<&'static LayerSpec> {
        let key = normalize_layer_name(name);
        if key.is_empty() {
            return None;
        }
        self.layers().iter().find(|s| {
            normalize_layer_name(s.hdf_name) == key
                || s.layer.id() == key
                || s.aliases.iter().any(|a| normalize_layer_name(a) == key)
        })
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short_name())
    }
}

/// Whether a string looks like a MODIS product short name (`MOD`/`MYD`/`MCD` + 4–5 letters or
/// digits), handled or not.
pub fn looks_like_modis_product(s: &str) -> bool {
    let b = s.as_bytes();
    (7..=8).contains(&b.len())
        && matches!(&s.get(..3).map(str::to_ascii_uppercase).as_deref(), Some("MOD" | "MYD" | "MCD"))
        && b[3..].iter().all(u8::is_ascii_alphanumeric)
        && b[3].is_ascii_digit()
}

/// Canonical form of a layer name for matching: lower case, spaces/hyphens → `_`, runs of `_`
/// collapsed, no leading or trailing `_`.
pub fn normalize_layer_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for ch in name.trim().chars() {
        let c = if ch == ' ' || ch == '-' { '_' } else { ch.to_ascii_lowercase() };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// Canonical layer ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Layer {
    SurReflB01,
    SurReflB02,
    SurReflB03,
    SurReflB04,
    SurReflB05,
    SurReflB06,
    SurReflB07,
    /// 32-bit reflectance band quality (`sur_refl_qc_500m`, MOD09GA `QC_500m_1`).
    SurReflQc,
    /// 16-bit state flags (`sur_refl_state_500m`, MOD09GA `state_1km_1`).
    SurReflState,
    /// `500m 16 days NDVI`.
    Ndvi,
    /// `500m 16 days pixel reliability`.
    PixelReliability,
    /// `LST_Day_1km`.
    LstDay,
    /// `QC_Day`.
    QcDay,
}

impl Layer {
    /// Every layer id.
    pub const ALL: [Layer; 13] = [
        Layer::SurReflB01,
        Layer::SurReflB02,
        Layer::SurReflB03,
        Layer::SurReflB04,
        Layer::SurReflB05,
        Layer::SurReflB06,
        Layer::SurReflB07,
        Layer::SurReflQc,
        Layer::SurReflState,
        Layer::Ndvi,
        Layer::PixelReliability,
        Layer::LstDay,
        Layer::QcDay,
    ];

    /// The canonical id (`sur_refl_b01`, `sur_refl_qc_500m`, `sur_refl_state_500m`, `ndvi`,
    /// `pixel_reliability`, `lst_day_1km`, `qc_day`), used in our file tags and messages.
    pub fn id(self) -> &'static str {
        match self {
            Layer::SurReflB01 => "sur_refl_b01",
            Layer::SurReflB02 => "sur_refl_b02",
            Layer::SurReflB03 => "sur_refl_b03",
            Layer::SurReflB04 => "sur_refl_b04",
            Layer::SurReflB05 => "sur_refl_b05",
            Layer::SurReflB06 => "sur_refl_b06",
            Layer::SurReflB07 => "sur_refl_b07",
            Layer::SurReflQc => "sur_refl_qc_500m",
            Layer::SurReflState => "sur_refl_state_500m",
            Layer::Ndvi => "ndvi",
            Layer::PixelReliability => "pixel_reliability",
            Layer::LstDay => "lst_day_1km",
            Layer::QcDay => "qc_day",
        }
    }

    /// The layer of a canonical id.
    pub fn from_id(id: &str) -> Option<Layer> {
        let k = normalize_layer_name(id);
        Layer::ALL.into_iter().find(|l| l.id() == k)
    }

    /// The reflectance layer of MODIS band `band` (1–7).
    pub fn reflectance_band(band: u8) -> Option<Layer> {
        match band {
            1..=7 => Some(Layer::ALL[usize::from(band) - 1]),
            _ => None,
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Storage type of a layer's DN in the NASA product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RawType {
    I8,
    U8,
    I16,
    U16,
    U32,
}

impl RawType {
    /// Smallest and largest representable DN.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            RawType::I8 => (-128.0, 127.0),
            RawType::U8 => (0.0, 255.0),
            RawType::I16 => (-32768.0, 32767.0),
            RawType::U16 => (0.0, 65535.0),
            RawType::U32 => (0.0, 4_294_967_295.0),
        }
    }
}

/// What a layer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LayerRole {
    /// Surface reflectance of MODIS band `band`.
    Reflectance { band: u8 },
    /// A vegetation index (NDVI).
    VegetationIndex,
    /// Land surface temperature (kelvin after scaling).
    Temperature,
    /// QA bit field (decoded by `rsei_core::qa`).
    QaBits,
    /// MOD13 pixel reliability class (−1 fill, 0 good, 1 marginal, 2 snow/ice, 3 cloudy).
    Reliability,
}

/// How one layer of one product is stored and decoded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerSpec {
    pub layer: Layer,
    /// Field name in the HDF-EOS granule.
    pub hdf_name: &'static str,
    /// Other distributors' names for it.
    pub aliases: &'static [&'static str],
    /// DN storage type.
    pub raw_type: RawType,
    /// `value = DN · scale + offset`.
    pub scale: f64,
    pub offset: f64,
    /// Fill DN (never valid).
    pub fill: Option<f64>,
    /// Valid DN range, inclusive.
    pub valid_range: Option<(f64, f64)>,
    /// Native grid.
    pub resolution: Resolution,
    pub role: LayerRole,
    /// Unit of the decoded value (`"1"` unitless, `"K"` kelvin, `"bit field"`, `"class"`).
    pub unit: &'static str,
}

impl LayerSpec {
    /// Whether a DN is the fill or outside the valid range.
    #[inline]
    pub fn is_nodata_dn(&self, dn: f64) -> bool {
        if dn.is_nan() || self.fill == Some(dn) {
            return true;
        }
        match self.valid_range {
            Some((lo, hi)) => dn < lo || dn > hi,
            None => false,
        }
    }

    /// Decodes one DN: `NaN` for fill, out-of-range or NaN, else `DN · scale + offset` (computed in
    /// f64, rounded once to f32).
    #[inline]
    pub fn decode(&self, dn: f64) -> f32 {
        if self.is_nodata_dn(dn) {
            f32::NAN
        } else {
            (dn * self.scale + self.offset) as f32
        }
    }

    /// The valid range in decoded units, if the layer has one.
    pub fn scaled_valid_range(&self) -> Option<(f64, f64)> {
        self.valid_range.map(|(lo, hi)| {
            let a = lo * self.scale + self.offset;
            let b = hi * self.scale + self.offset;
            (a.min(b), a.max(b))
        })
    }

    /// True for QA bit fields and reliability classes (values that must not be scaled or averaged).
    pub fn is_qa(&self) -> bool {
        matches!(self.role, LayerRole::QaBits | LayerRole::Reliability)
    }
}

const REFL_SCALE: f64 = 1e-4;
const REFL_FILL: Option<f64> = Some(-28672.0);
const REFL_VALID: Option<(f64, f64)> = Some((-100.0, 16000.0));

macro_rules! refl {
    ($layer:ident, $hdf:expr, $band:expr, $aliases:expr) => {
        LayerSpec {
            layer: Layer::$layer,
            hdf_name: $hdf,
            aliases: $aliases,
            raw_type: RawType::I16,
            scale: REFL_SCALE,
            offset: 0.0,
            fill: REFL_FILL,
            valid_range: REFL_VALID,
            resolution: Resolution::M500,
            role: LayerRole::Reflectance { band: $band },
            unit: "1",
        }
    };
}

static MOD09A1_LAYERS: &[LayerSpec] = &[
    refl!(SurReflB01, "sur_refl_b01", 1, &["b1_Red", "b01"]),
    refl!(SurReflB02, "sur_refl_b02", 2, &["b2_NIR", "b02"]),
    refl!(SurReflB03, "sur_refl_b03", 3, &["b3_Blue", "b03"]),
    refl!(SurReflB04, "sur_refl_b04", 4, &["b4_Green", "b04"]),
    refl!(SurReflB05, "sur_refl_b05", 5, &["b5_SWIR", "b05"]),
    refl!(SurReflB06, "sur_refl_b06", 6, &["b6_SWIR", "b06"]),
    refl!(SurReflB07, "sur_refl_b07", 7, &["b7_SWIR", "b07"]),
    LayerSpec {
        layer: Layer::SurReflQc,
        hdf_name: "sur_refl_qc_500m",
        aliases: &["BQ_500", "QA", "qc_500m"],
        raw_type: RawType::U32,
        scale: 1.0,
        offset: 0.0,
        fill: Some(4_294_967_295.0),
        valid_range: None,
        resolution: Resolution::M500,
        role: LayerRole::QaBits,
        unit: "bit field",
    },
    LayerSpec {
        layer: Layer::SurReflState,
        hdf_name: "sur_refl_state_500m",
        aliases: &["State_500", "StateQA", "state_500m"],
        raw_type: RawType::U16,
        scale: 1.0,
        offset: 0.0,
        fill: Some(65535.0),
        valid_range: None,
        resolution: Resolution::M500,
        role: LayerRole::QaBits,
        unit: "bit field",
    },
];

static MOD09GA_LAYERS: &[LayerSpec] = &[
    refl!(SurReflB01, "sur_refl_b01_1", 1, &["sur_refl_b01", "b1_Red"]),
    refl!(SurReflB02, "sur_refl_b02_1", 2, &["sur_refl_b02", "b2_NIR"]),
    refl!(SurReflB03, "sur_refl_b03_1", 3, &["sur_refl_b03", "b3_Blue"]),
    refl!(SurReflB04, "sur_refl_b04_1", 4, &["sur_refl_b04", "b4_Green"]),
    refl!(SurReflB05, "sur_refl_b05_1", 5, &["sur_refl_b05", "b5_SWIR"]),
    refl!(SurReflB06, "sur_refl_b06_1", 6, &["sur_refl_b06", "b6_SWIR"]),
    refl!(SurReflB07, "sur_refl_b07_1", 7, &["sur_refl_b07", "b7_SWIR"]),
    LayerSpec {
        layer: Layer::SurReflQc,
        hdf_name: "QC_500m_1",
        aliases: &["QC_500m", "sur_refl_qc_500m"],
        raw_type: RawType::U32,
        scale: 1.0,
        offset: 0.0,
        // the MOD09GA granules declare _FillValue = 787410671 for QC_500m_1
        fill: Some(787_410_671.0),
        valid_range: None,
        resolution: Resolution::M500,
        role: LayerRole::QaBits,
        unit: "bit field",
    },
    LayerSpec {
        layer: Layer::SurReflState,
        hdf_name: "state_1km_1",
        aliases: &["state_1km", "state_500m", "sur_refl_state_500m"],
        raw_type: RawType::U16,
        scale: 1.0,
        offset: 0.0,
        fill: Some(65535.0),
        valid_range: None,
        resolution: Resolution::Km1,
        role: LayerRole::QaBits,
        unit: "bit field",
    },
];

static MOD13A1_LAYERS: &[LayerSpec] = &[
    LayerSpec {
        layer: Layer::Ndvi,
        hdf_name: "500m 16 days NDVI",
        aliases: &["NDVI"],
        raw_type: RawType::I16,
        scale: 1e-4,
        offset: 0.0,
        fill: Some(-3000.0),
        valid_range: Some((-2000.0, 10000.0)),
        resolution: Resolution::M500,
        role: LayerRole::VegetationIndex,
        unit: "1",
    },
    LayerSpec {
        layer: Layer::PixelReliability,
        hdf_name: "500m 16 days pixel reliability",
        aliases: &["Rely", "SummaryQA", "pixel_reliability", "500m 16 days pixel reliability summary QA"],
        raw_type: RawType::I8,
        scale: 1.0,
        offset: 0.0,
        fill: Some(-1.0),
        valid_range: Some((0.0, 3.0)),
        resolution: Resolution::M500,
        role: LayerRole::Reliability,
        unit: "class",
    },
];

static MOD11_LAYERS: &[LayerSpec] = &[
    LayerSpec {
        layer: Layer::LstDay,
        hdf_name: "LST_Day_1km",
        aliases: &["LST_Day", "LST_Day_1KM"],
        raw_type: RawType::U16,
        scale: 0.02,
        offset: 0.0,
        fill: Some(0.0),
        valid_range: Some((7500.0, 65535.0)),
        resolution: Resolution::Km1,
        role: LayerRole::Temperature,
        unit: "K",
    },
    LayerSpec {
        layer: Layer::QcDay,
        hdf_name: "QC_Day",
        aliases: &["QC_Day_1km"],
        raw_type: RawType::U8,
        scale: 1.0,
        offset: 0.0,
        // QC_Day has no fill: every byte value is a QA code (0 = good quality)
        fill: None,
        valid_range: Some((0.0, 255.0)),
        resolution: Resolution::Km1,
        role: LayerRole::QaBits,
        unit: "bit field",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        let p = Product::from_short_name("MOD09A1").unwrap();
        assert_eq!(p, Product::new(ProductKind::Mod09A1, Platform::Terra));
        assert_eq!(Product::from_short_name("myd11a2").unwrap().short_name(), "MYD11A2");
        assert!(Product::from_short_name("MOD09Q1").is_none());
        assert!(Product::from_short_name("MCD12Q1").is_none());
        assert!(looks_like_modis_product("MCD12Q1"));
        assert!(looks_like_modis_product("MOD09A1"));
        assert!(!looks_like_modis_product("MODIS"));
        assert!(!looks_like_modis_product("LC08_L2"));
    }

    #[test]
    fn distributor_names_map_to_one_layer() {
        let vi = Product::from_short_name("MOD13A1").unwrap();
        for n in ["500m 16 days NDVI", "500m_16_days_NDVI", "_500m_16_days_NDVI", "NDVI", "ndvi"] {
            assert_eq!(vi.find_layer(n).map(|s| s.layer), Some(Layer::Ndvi), "{n}");
        }
        for n in ["500m 16 days pixel reliability", "500m_16_days_pixel_reliability", "SummaryQA", "Rely"] {
            assert_eq!(vi.find_layer(n).map(|s| s.layer), Some(Layer::PixelReliability), "{n}");
        }
        assert!(vi.find_layer("EVI").is_none());
        let sr = Product::from_short_name("MOD09A1").unwrap();
        assert_eq!(sr.find_layer("b2_NIR").unwrap().layer, Layer::SurReflB02);
        assert_eq!(sr.find_layer("BQ_500").unwrap().layer, Layer::SurReflQc);
        assert_eq!(sr.find_layer("StateQA").unwrap().layer, Layer::SurReflState);
        let ga = Product::from_short_name("MOD09GA").unwrap();
        let st = ga.find_layer("state_1km_1").unwrap();
        assert_eq!((st.layer, st.resolution), (Layer::SurReflState, Resolution::Km1));
        assert_eq!(ga.find_layer("sur_refl_b01_1").unwrap().resolution, Resolution::M500);
        assert_eq!(Layer::from_id("LST_Day_1km"), Some(Layer::LstDay));
        assert_eq!(Layer::reflectance_band(6), Some(Layer::SurReflB06));
        assert_eq!(Layer::reflectance_band(8), None);
    }

    #[test]
    fn decoding_by_hand() {
        let lst = Product::from_short_name("MOD11A2").unwrap().spec(Layer::LstDay).unwrap();
        // DN 15000 → 15000 · 0.02 = 300 K
        assert_eq!(lst.decode(15000.0), 300.0);
        assert!(lst.decode(0.0).is_nan()); // fill
        assert!(lst.decode(7499.0).is_nan()); // below valid range
        let b1 = Product::from_short_name("MOD09A1").unwrap().spec(Layer::SurReflB01).unwrap();
        // DN 1234 → 0.1234
        assert_eq!(b1.decode(1234.0), 0.1234f32);
        assert!(b1.decode(-28672.0).is_nan());
        assert!(b1.decode(16001.0).is_nan());
        assert!(b1.decode(-101.0).is_nan());
        assert_eq!(b1.scaled_valid_range(), Some((-0.01, 1.6)));
        let qc = Product::from_short_name("MOD11A1").unwrap().spec(Layer::QcDay).unwrap();
        assert_eq!(qc.decode(0.0), 0.0, "QC_Day 0 is a valid code");
        assert!(qc.is_qa());
    }
}
