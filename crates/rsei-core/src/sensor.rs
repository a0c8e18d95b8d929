//! Sensor profiles: what a Landsat Collection 2 Level-2 or Sentinel-2 Level-2A product holds and
//! how to decode it, fixed by the product's own metadata so that a wrong band, scale, QA layout or
//! wetness set cannot be chosen by hand.
//!
//! A [`SensorProfile`] holds, for exactly one sensor and processing level:
//!
//! * the **bands by role** ([`Role`]: blue, green, red, NIR, SWIR1, SWIR2, thermal) with their file
//!   names (USGS `SR_B4`, Sentinel-2 `B04`) and STAC asset keys (`red`, `nir08`, …);
//! * the **DN encoding** ([`Linear`]: `value = DN × scale + offset`), its fill DN and valid DN range;
//! * the **QA scheme** ([`QaScheme`]: Landsat `QA_PIXEL` + `QA_RADSAT` bits, or the Sentinel-2
//!   scene classification `SCL`);
//! * thermal → LST in °C (Landsat `ST_B10` / `ST_B6`; Sentinel-2 has no thermal band);
//! * the **tasseled-cap wetness coefficients** for that sensor *and level* ([`WetnessCoefficients`]).
//!
//! Profiles are built from metadata fields ([`LandsatMetadata`], [`Sentinel2Metadata`]), which the
//! I/O crate reads from `*_MTL.txt` / `*_MTL.xml` and `MTD_MSIL2A.xml`; unsupported products are
//! refused with [`SensorError`]: Collection 1, Level-1, Level-2 products of MSS, Sentinel-2 L1C and
//! L2A before processing baseline 02.00.
//!
//! ## Constants and their sources
//!
//! | product | reflectance | thermal | QA |
//! |---|---|---|---|
//! | Landsat 4–9 C2 L2 (LSDS-1618/1619 product guides) | `DN × 2.75e-5 − 0.2`, fill 0, valid DN 7273–43636 | `ST_B*`: K = `DN × 0.00341802 + 149.0`, fill 0 | `QA_PIXEL` bits 0 fill, 1 dilated cloud, 2 cirrus (OLI), 3 cloud, 4 shadow, 5 snow, 6 clear, 7 water; `QA_RADSAT` bit n−1 = band n saturated, bit 9 dropped pixel (TM/ETM+), bit 11 terrain occlusion (OLI) |
//! | Sentinel-2 L2A (ESA product specification; baseline 04.00 note) | `(DN + BOA_ADD_OFFSET) / QUANTIFICATION_VALUE`: offset −1000 from baseline 04.00 (read from `MTD_MSIL2A.xml`, 0 before), quantification 10000, fill 0 | — | `SCL` classes 0–11 |
//!
//! ## Wetness: which coefficient set for which level
//!
//! Collection 2 Level-2 and Sentinel-2 L2A are **surface** reflectance. The only tasseled-cap set
//! in METHOD §3 derived for reflectance-factor (surface-like) data is Crist (1985) for TM; Huang et
//! al. (2002, ETM+) and Baig et al. (2014, OLI) are at-satellite (TOA) sets, and Shi & Xu (2019,
//! Sentinel-2 MSI) is derived from at-sensor reflectance too. Applying a TOA set to surface
//! reflectance is the known mistake this module prevents: every surface-reflectance profile uses
//! **Crist (1985)** on the sensor's equivalent bands (TM/ETM+ 1, 2, 3, 4, 5, 7; OLI 2–7; MSI B2,
//! B3, B4, B8A, B11, B12): `0.0315 blue + 0.2021 green + 0.3102 red + 0.1594 NIR − 0.6806 SWIR1 −
//! 0.6109 SWIR2`. One set across Landsat 5/7/8/9 and Sentinel-2 also keeps WET comparable along a
//! mixed series. The TOA sets stay in [`WetnessCoefficients`] for reference; no profile uses them
//! (tested), and TOA products are refused.

use serde::{Deserialize, Serialize};

use crate::indicators::{ProductLevel, Sensor, WetnessCoefficients};

/// Errors of profile selection: the product is not one rsei can decode correctly.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SensorError {
    /// A product of a collection, level or baseline rsei refuses.
    #[error("{product}: unsupported product: {reason}")]
    Unsupported { product: String, reason: String },
    /// A metadata field needed to choose the profile is missing or unreadable.
    #[error("{product}: metadata field {field} is {problem}")]
    Metadata { product: String, field: String, problem: String },
}

/// A spectral or thermal role in the RSEI indicators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Blue,
    Green,
    Red,
    Nir,
    Swir1,
    Swir2,
    Thermal,
}

impl Role {
    /// The six reflective roles, in the order of [`SensorProfile::reflective`].
    pub const REFLECTIVE: [Role; 6] = [Role::Blue, Role::Green, Role::Red, Role::Nir, Role::Swir1, Role::Swir2];
}

/// `value = DN × scale + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Linear {
    pub scale: f64,
    pub offset: f64,
}

impl Linear {
    /// Decodes one DN (f64 arithmetic, one rounding to f32).
    #[inline]
    pub fn decode(&self, dn: f64) -> f32 {
        (dn * self.scale + self.offset) as f32
    }
}

/// The spacecraft of a scene.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Landsat4,
    Landsat5,
    Landsat7,
    Landsat8,
    Landsat9,
    Sentinel2A,
    Sentinel2B,
    Sentinel2C,
}

impl Platform {
    /// `LANDSAT_8`, `Sentinel-2A`, … as the metadata spells it.
    pub fn label(self) -> &'static str {
        match self {
            Platform::Landsat4 => "LANDSAT_4",
            Platform::Landsat5 => "LANDSAT_5",
            Platform::Landsat7 => "LANDSAT_7",
            Platform::Landsat8 => "LANDSAT_8",
            Platform::Landsat9 => "LANDSAT_9",
            Platform::Sentinel2A => "Sentinel-2A",
            Platform::Sentinel2B => "Sentinel-2B",
            Platform::Sentinel2C => "Sentinel-2C",
        }
    }
}

/// One band of a profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandSpec {
    pub role: Role,
    /// Band suffix in USGS / ESA file names: `SR_B4`, `ST_B10`, `B04`.
    pub name: &'static str,
    /// STAC asset key of the band (Planetary Computer `landsat-c2-l2`, Earth Search `sentinel-2-l2a`).
    pub stac_key: &'static str,
    /// Native cell size (m).
    pub native_res_m: f64,
}

/// How the QA layers are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QaScheme {
    /// Landsat Collection 2 `QA_PIXEL` (+ `QA_RADSAT`).
    LandsatC2 {
        /// Whether bit 2 (cirrus) is defined (OLI only).
        cirrus: bool,
        /// `QA_RADSAT` bits of the six reflective bands used (band n → bit n−1).
        radsat_bits: u16,
        /// `QA_RADSAT` bit that invalidates a cell besides saturation: 9 dropped pixel (TM/ETM+),
        /// 11 terrain occlusion (OLI).
        radsat_other_bit: u8,
    },
    /// Sentinel-2 L2A scene classification layer.
    SentinelScl,
}

/// What a scene's metadata says that decides its profile (Landsat MTL).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LandsatMetadata {
    /// `LANDSAT_PRODUCT_ID`, for messages.
    pub product_id: String,
    /// `SPACECRAFT_ID`: `LANDSAT_8`.
    pub spacecraft_id: String,
    /// `SENSOR_ID`: `OLI_TIRS`, `ETM`, `TM`.
    pub sensor_id: String,
    /// `COLLECTION_NUMBER`: `02`.
    pub collection_number: String,
    /// `PROCESSING_LEVEL` of the product: `L2SP`, `L2SR`, `L1TP`.
    pub processing_level: String,
    /// `DATE_ACQUIRED`: `2020-12-04`.
    pub date_acquired: String,
    /// Level-2 `REFLECTANCE_MULT_BAND_*` / `REFLECTANCE_ADD_BAND_*` when the file states them:
    /// checked against the profile, a disagreement refuses the scene.
    pub reflectance_mult: Option<f64>,
    pub reflectance_add: Option<f64>,
    /// Level-2 `TEMPERATURE_MULT_BAND_ST_*` / `TEMPERATURE_ADD_BAND_ST_*`, checked likewise.
    pub temperature_mult: Option<f64>,
    pub temperature_add: Option<f64>,
}

/// What `MTD_MSIL2A.xml` says that decides a Sentinel-2 profile.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sentinel2Metadata {
    /// `PRODUCT_URI` (the SAFE name), for messages.
    pub product: String,
    /// `SPACECRAFT_NAME`: `Sentinel-2B`.
    pub spacecraft: String,
    /// `PRODUCT_TYPE`: `S2MSI2A`.
    pub product_type: String,
    /// `PROCESSING_BASELINE`: `04.00`.
    pub processing_baseline: String,
    /// `BOA_QUANTIFICATION_VALUE` (10000).
    pub quantification: Option<f64>,
    /// `BOA_ADD_OFFSET` values (one per band id; −1000 from baseline 04.00).
    pub boa_add_offsets: Vec<f64>,
}

/// A sensor and processing level with everything needed to decode it. See the module docs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SensorProfile {
    /// Stable identifier, recorded in outputs: `landsat-oli-c2l2` (Landsat 8 and 9 share it),
    /// `landsat-etm-c2l2`, `landsat-tm-c2l2`, `sentinel2-msi-l2a`.
    pub id: &'static str,
    pub platform: Platform,
    pub sensor: Sensor,
    /// Level as the metadata names it: `L2SP`, `L2SR`, `L2A baseline 04.00`.
    pub level: String,
    /// The bands: six reflective ones, then thermal when the product has it.
    pub bands: Vec<BandSpec>,
    /// Reflectance encoding.
    pub reflectance: Linear,
    /// Valid DN range of the reflective bands (inclusive); the fill DN is 0.
    pub reflectance_valid_dn: (u32, u32),
    /// Thermal encoding to kelvin (`None`: no thermal band, e.g. Sentinel-2 or Landsat `L2SR`).
    pub thermal_kelvin: Option<Linear>,
    pub qa: QaScheme,
    pub wetness: WetnessCoefficients,
    /// Landsat 7 after the scan-line-corrector failure of 2003-05-31: gap stripes are fill.
    pub slc_off: bool,
}

/// Crist (1985) TM reflectance-factor wetness, applied to the equivalent bands of `sensor`
/// (slots: red, NIR, blue, green, NIR2 (unused), SWIR1, SWIR2).
const fn crist_1985(sensor: Sensor, source: &'static str) -> WetnessCoefficients {
    WetnessCoefficients {
        sensor,
        level: ProductLevel::SurfaceReflectance,
        source,
        coefficients: [0.3102, 0.1594, 0.0315, 0.2021, 0.0, -0.6806, -0.6109],
    }
}

/// Wetness of TM Collection 2 Level-2 surface reflectance: Crist (1985), derived for TM reflectance factors.
pub const WETNESS_TM_SR: WetnessCoefficients = crist_1985(Sensor::LandsatTm, "Crist 1985 (TM reflectance factor)");
/// Wetness of ETM+ C2 L2 surface reflectance: Crist (1985) on ETM+ bands 1–5, 7 (Huang et al. 2002 is TOA).
pub const WETNESS_ETM_SR: WetnessCoefficients =
    crist_1985(Sensor::LandsatEtm, "Crist 1985 (TM reflectance factor) on ETM+ surface reflectance; Huang et al. 2002 is TOA");
/// Wetness of OLI C2 L2 surface reflectance: Crist (1985) on OLI bands 2–7 (Baig et al. 2014 is TOA).
pub const WETNESS_OLI_SR: WetnessCoefficients =
    crist_1985(Sensor::LandsatOli, "Crist 1985 (TM reflectance factor) on OLI surface reflectance; Baig et al. 2014 is TOA");
/// Wetness of Sentinel-2 L2A: Crist (1985) on B2, B3, B4, B8A, B11, B12 (Shi & Xu 2019 is at-sensor).
pub const WETNESS_MSI_SR: WetnessCoefficients =
    crist_1985(Sensor::SentinelMsi, "Crist 1985 (TM reflectance factor) on MSI B2, B3, B4, B8A, B11, B12 L2A; Shi & Xu 2019 is at-sensor");

/// Landsat C2 L2 reflectance: `DN × 2.75e-5 − 0.2` (LSDS-1619).
pub const LANDSAT_C2_SR: Linear = Linear { scale: 2.75e-5, offset: -0.2 };
/// Landsat C2 L2 surface temperature: K = `DN × 0.00341802 + 149.0` (LSDS-1619).
pub const LANDSAT_C2_ST: Linear = Linear { scale: 0.00341802, offset: 149.0 };
/// Valid DN of C2 L2 reflectance (−0.0000… to 1.0; LSDS-1619 Table 6-1).
pub const LANDSAT_C2_SR_VALID: (u32, u32) = (7273, 43636);

const fn band(role: Role, name: &'static str, stac_key: &'static str, native_res_m: f64) -> BandSpec {
    BandSpec { role, name, stac_key, native_res_m }
}

fn unsupported(product: &str, reason: impl Into<String>) -> SensorError {
    SensorError::Unsupported { product: product.to_string(), reason: reason.into() }
}

impl SensorProfile {
    /// The profile of a Landsat product from its MTL fields.
    ///
    /// ```
    /// use rsei_core::sensor::{LandsatMetadata, SensorProfile, Role};
    /// let m = LandsatMetadata { spacecraft_id: "LANDSAT_9".into(), sensor_id: "OLI_TIRS".into(),
    ///     collection_number: "02".into(), processing_level: "L2SP".into(), ..Default::default() };
    /// let p = SensorProfile::from_landsat(&m).unwrap();
    /// assert_eq!((p.id, p.band(Role::Nir).unwrap().name), ("landsat-oli-c2l2", "SR_B5"));
    /// let c1 = LandsatMetadata { collection_number: "01".into(), ..m };
    /// assert!(SensorProfile::from_landsat(&c1).unwrap_err().to_string().contains("Collection 1"));
    /// ```
    pub fn from_landsat(m: &LandsatMetadata) -> Result<SensorProfile, SensorError> {
        let product = if m.product_id.is_empty() { "Landsat product".to_string() } else { m.product_id.clone() };
        let coll = m.collection_number.trim().trim_start_matches('0');
        if coll != "2" {
            let what = if coll == "1" { "Collection 1 (its QA bits and scale differ; use the Collection 2 Level-2 product)".to_string() } else { format!("collection {:?}", m.collection_number) };
            return Err(unsupported(&product, what));
        }
        let level = m.processing_level.trim().to_ascii_uppercase();
        let thermal = match level.as_str() {
            "L2SP" => true,
            "L2SR" => false,
            l if l.starts_with("L1") => {
                return Err(unsupported(&product, format!("processing level {l} (Level-1: DN or TOA, no surface reflectance); use the Level-2 product (L2SP)")))
            }
            "" => return Err(SensorError::Metadata { product, field: "PROCESSING_LEVEL".into(), problem: "missing".into() }),
            l => return Err(unsupported(&product, format!("processing level {l}"))),
        };
        let platform = match m.spacecraft_id.trim() {
            "LANDSAT_4" => Platform::Landsat4,
            "LANDSAT_5" => Platform::Landsat5,
            "LANDSAT_7" => Platform::Landsat7,
            "LANDSAT_8" => Platform::Landsat8,
            "LANDSAT_9" => Platform::Landsat9,
            "" => return Err(SensorError::Metadata { product, field: "SPACECRAFT_ID".into(), problem: "missing".into() }),
            s => return Err(unsupported(&product, format!("spacecraft {s} (Landsat 4, 5, 7, 8 and 9 are supported)"))),
        };
        let sensor_id = m.sensor_id.trim();
        let expected = match platform {
            Platform::Landsat4 | Platform::Landsat5 => "TM",
            Platform::Landsat7 => "ETM",
            _ => "OLI_TIRS",
        };
        if sensor_id != expected && !(expected == "OLI_TIRS" && sensor_id == "OLI") {
            return Err(unsupported(&product, format!("sensor {sensor_id:?} on {} (expected {expected}; MSS products have no Level-2)", platform.label())));
        }
        let slc_off = platform == Platform::Landsat7 && m.date_acquired.trim() > "2003-05-30";
        let differs = |stated: Option<f64>, ours: f64| stated.is_some_and(|v| (v - ours).abs() > 1e-9 * ours.abs().max(1.0));
        for (what, stated, ours) in [
            ("REFLECTANCE_MULT_BAND", m.reflectance_mult, LANDSAT_C2_SR.scale),
            ("REFLECTANCE_ADD_BAND", m.reflectance_add, LANDSAT_C2_SR.offset),
            ("TEMPERATURE_MULT_BAND_ST", m.temperature_mult, LANDSAT_C2_ST.scale),
            ("TEMPERATURE_ADD_BAND_ST", m.temperature_add, LANDSAT_C2_ST.offset),
        ] {
            if differs(stated, ours) {
                return Err(unsupported(&product, format!("the MTL states {what} = {:?}, but Collection 2 Level-2 is encoded with {ours}", stated.unwrap_or_default())));
            }
        }
        Ok(match platform {
            Platform::Landsat8 | Platform::Landsat9 => {
                let mut bands = vec![
                    band(Role::Blue, "SR_B2", "blue", 30.0),
                    band(Role::Green, "SR_B3", "green", 30.0),
                    band(Role::Red, "SR_B4", "red", 30.0),
                    band(Role::Nir, "SR_B5", "nir08", 30.0),
                    band(Role::Swir1, "SR_B6", "swir16", 30.0),
                    band(Role::Swir2, "SR_B7", "swir22", 30.0),
                ];
                if thermal {
                    bands.push(band(Role::Thermal, "ST_B10", "lwir11", 30.0));
                }
                SensorProfile {
                    id: "landsat-oli-c2l2",
                    platform,
                    sensor: Sensor::LandsatOli,
                    level,
                    bands,
                    reflectance: LANDSAT_C2_SR,
                    reflectance_valid_dn: LANDSAT_C2_SR_VALID,
                    thermal_kelvin: thermal.then_some(LANDSAT_C2_ST),
                    // bands 2..7 saturated: bits 1..6
                    qa: QaScheme::LandsatC2 { cirrus: true, radsat_bits: 0b111_1110, radsat_other_bit: 11 },
                    wetness: WETNESS_OLI_SR,
                    slc_off: false,
                }
            }
            _ => {
                let tm = platform != Platform::Landsat7;
                let mut bands = vec![
                    band(Role::Blue, "SR_B1", "blue", 30.0),
                    band(Role::Green, "SR_B2", "green", 30.0),
                    band(Role::Red, "SR_B3", "red", 30.0),
                    band(Role::Nir, "SR_B4", "nir08", 30.0),
                    band(Role::Swir1, "SR_B5", "swir16", 30.0),
                    band(Role::Swir2, "SR_B7", "swir22", 30.0),
                ];
                if thermal {
                    bands.push(band(Role::Thermal, "ST_B6", "lwir", 30.0));
                }
                SensorProfile {
                    id: if tm { "landsat-tm-c2l2" } else { "landsat-etm-c2l2" },
                    platform,
                    sensor: if tm { Sensor::LandsatTm } else { Sensor::LandsatEtm },
                    level,
                    bands,
                    reflectance: LANDSAT_C2_SR,
                    reflectance_valid_dn: LANDSAT_C2_SR_VALID,
                    thermal_kelvin: thermal.then_some(LANDSAT_C2_ST),
                    // bands 1..5 and 7: bits 0..4 and 6
                    qa: QaScheme::LandsatC2 { cirrus: false, radsat_bits: 0b101_1111, radsat_other_bit: 9 },
                    wetness: if tm { WETNESS_TM_SR } else { WETNESS_ETM_SR },
                    slc_off,
                }
            }
        })
    }

    /// The profile of a Sentinel-2 product from `MTD_MSIL2A.xml` fields. The BOA offset is the
    /// file's `BOA_ADD_OFFSET` (all bands must agree); a baseline ≥ 04.00 without one is refused
    /// rather than guessed, and a baseline < 04.00 must have none (offset 0).
    pub fn from_sentinel2(m: &Sentinel2Metadata) -> Result<SensorProfile, SensorError> {
        let product = if m.product.is_empty() { "Sentinel-2 product".to_string() } else { m.product.clone() };
        let pt = m.product_type.trim();
        if pt != "S2MSI2A" {
            return Err(unsupported(&product, format!("product type {pt:?} (only Level-2A S2MSI2A surface reflectance is supported; L1C is TOA)")));
        }
        let baseline = parse_baseline(&m.processing_baseline).ok_or_else(|| SensorError::Metadata {
            product: product.clone(),
            field: "PROCESSING_BASELINE".into(),
            problem: format!("unreadable ({:?})", m.processing_baseline),
        })?;
        if baseline < (2, 0) {
            return Err(unsupported(&product, format!("processing baseline {} (L2A before baseline 02.00 is not supported)", m.processing_baseline)));
        }
        let platform = match m.spacecraft.trim() {
            "Sentinel-2A" => Platform::Sentinel2A,
            "Sentinel-2B" => Platform::Sentinel2B,
            "Sentinel-2C" => Platform::Sentinel2C,
            s => return Err(unsupported(&product, format!("spacecraft {s:?}"))),
        };
        let offset = match m.boa_add_offsets.first() {
            Some(&o) => {
                if m.boa_add_offsets.iter().any(|&x| x != o) {
                    return Err(unsupported(&product, format!("BOA_ADD_OFFSET differs between bands ({:?})", m.boa_add_offsets)));
                }
                if baseline < (4, 0) && o != 0.0 {
                    return Err(unsupported(&product, format!("BOA_ADD_OFFSET {o} in a baseline {} product (offsets start with 04.00)", m.processing_baseline)));
                }
                o
            }
            None if baseline >= (4, 0) => {
                return Err(SensorError::Metadata {
                    product,
                    field: "BOA_ADD_OFFSET".into(),
                    problem: format!("missing in a baseline {} product (−1000 is expected from 04.00)", m.processing_baseline),
                })
            }
            None => 0.0,
        };
        let q = m.quantification.unwrap_or(10000.0);
        if q.is_nan() || q <= 0.0 {
            return Err(SensorError::Metadata { product, field: "BOA_QUANTIFICATION_VALUE".into(), problem: format!("{q}") });
        }
        Ok(SensorProfile {
            id: "sentinel2-msi-l2a",
            platform,
            sensor: Sensor::SentinelMsi,
            level: format!("L2A baseline {}", m.processing_baseline.trim()),
            bands: vec![
                band(Role::Blue, "B02", "blue", 10.0),
                band(Role::Green, "B03", "green", 10.0),
                band(Role::Red, "B04", "red", 10.0),
                band(Role::Nir, "B8A", "nir08", 20.0),
                band(Role::Swir1, "B11", "swir16", 20.0),
                band(Role::Swir2, "B12", "swir22", 20.0),
            ],
            reflectance: Linear { scale: 1.0 / q, offset: offset / q },
            // 1..65534: 0 is nodata, 65535 saturated
            reflectance_valid_dn: (1, 65534),
            thermal_kelvin: None,
            qa: QaScheme::SentinelScl,
            wetness: WETNESS_MSI_SR,
            slc_off: false,
        })
    }

    /// The band of a role.
    pub fn band(&self, role: Role) -> Option<&BandSpec> {
        self.bands.iter().find(|b| b.role == role)
    }

    /// The six reflective bands in [`Role::REFLECTIVE`] order.
    pub fn reflective(&self) -> Vec<&BandSpec> {
        Role::REFLECTIVE.iter().filter_map(|r| self.band(*r)).collect()
    }

    /// Whether two scenes can enter one composite: same processing family and level kind
    /// (surface reflectance with or without thermal is the same level; Landsat and Sentinel-2
    /// never mix in one composite).
    pub fn same_level(&self, other: &SensorProfile) -> bool {
        let fam = |p: &SensorProfile| p.id.starts_with("landsat");
        fam(self) == fam(other) && self.wetness.level == other.wetness.level
    }

    /// Decoded reflectance of a DN: `NaN` for fill and DN outside the valid range.
    #[inline]
    pub fn reflectance_of(&self, dn: u32) -> f32 {
        let (lo, hi) = self.reflectance_valid_dn;
        if dn < lo || dn > hi {
            f32::NAN
        } else {
            self.reflectance.decode(f64::from(dn))
        }
    }

    /// LST in °C of a thermal DN (`NaN` for fill 0 or without a thermal band).
    #[inline]
    pub fn lst_celsius_of(&self, dn: u32) -> f32 {
        match self.thermal_kelvin {
            Some(t) if dn != 0 => (t.scale * f64::from(dn) + t.offset - 273.15) as f32,
            _ => f32::NAN,
        }
    }
}

/// `04.00` → (4, 0); `N0400` style too.
fn parse_baseline(s: &str) -> Option<(u32, u32)> {
    let t = s.trim().trim_start_matches('N');
    if let Some((a, b)) = t.split_once('.') {
        return Some((a.parse().ok()?, b.parse().ok()?));
    }
    if t.len() == 4 {
        return Some((t[..2].parse().ok()?, t[2..].parse().ok()?));
    }
    None
}

/// Landsat `QA_PIXEL` bits (Collection 2, Landsat 4–9).
pub mod qa_pixel {
    pub const FILL: u16 = 1 << 0;
    pub const DILATED_CLOUD: u16 = 1 << 1;
    pub const CIRRUS: u16 = 1 << 2;
    pub const CLOUD: u16 = 1 << 3;
    pub const CLOUD_SHADOW: u16 = 1 << 4;
    pub const SNOW: u16 = 1 << 5;
    pub const CLEAR: u16 = 1 << 6;
    pub const WATER: u16 = 1 << 7;
}

/// Sentinel-2 SCL classes (ESA L2A product specification).
pub mod scl {
    pub const NO_DATA: u8 = 0;
    pub const SATURATED_OR_DEFECTIVE: u8 = 1;
    pub const DARK_AREA: u8 = 2;
    pub const CLOUD_SHADOW: u8 = 3;
    pub const VEGETATION: u8 = 4;
    pub const NOT_VEGETATED: u8 = 5;
    pub const WATER: u8 = 6;
    pub const UNCLASSIFIED: u8 = 7;
    pub const CLOUD_MEDIUM: u8 = 8;
    pub const CLOUD_HIGH: u8 = 9;
    pub const THIN_CIRRUS: u8 = 10;
    pub const SNOW: u8 = 11;
}

/// Which observations are valid: the configurable QA rules of sensor products.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensorQaRules {
    /// Landsat: reject dilated cloud (bit 1).
    pub dilated_cloud: bool,
    /// Landsat: reject cirrus (bit 2, OLI).
    pub cirrus: bool,
    /// Landsat: reject snow (bit 5).
    pub snow: bool,
    /// Landsat: reject saturated bands and dropped / terrain-occluded cells (`QA_RADSAT`).
    pub radsat: bool,
    /// Sentinel-2: SCL classes kept (default 4 vegetation, 5 not vegetated, 6 water).
    pub scl_valid: Vec<u8>,
}

impl Default for SensorQaRules {
    fn default() -> Self {
        SensorQaRules { dilated_cloud: true, cirrus: true, snow: true, radsat: true, scl_valid: vec![4, 5, 6] }
    }
}

/// Counts of a sensor QA pass (a mergeable accumulator: add the fields).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorQaReport {
    /// Observations examined.
    pub total: u64,
    /// Observations kept.
    pub valid: u64,
    /// Fill (QA fill bit, fill DN, SCL 0): Landsat 7 SLC-off gaps count here.
    pub fill: u64,
    /// Cloud, dilated cloud or cirrus (Landsat), SCL 8, 9, 10.
    pub cloud: u64,
    /// Cloud shadow (Landsat bit 4, SCL 3).
    pub shadow: u64,
    /// Snow (Landsat bit 5, SCL 11).
    pub snow: u64,
    /// Saturated, dropped or terrain-occluded (`QA_RADSAT`, SCL 1).
    pub saturated: u64,
    /// Other SCL classes not kept (2 dark area, 7 unclassified by default).
    pub other_class: u64,
    /// A reflective DN outside the valid range (QA otherwise clear).
    pub out_of_range: u64,
}

impl SensorQaReport {
    /// Adds another report.
    pub fn merge(&mut self, o: &SensorQaReport) {
        self.total += o.total;
        self.valid += o.valid;
        self.fill += o.fill;
        self.cloud += o.cloud;
        self.shadow += o.shadow;
        self.snow += o.snow;
        self.saturated += o.saturated;
        self.other_class += o.other_class;
        self.out_of_range += o.out_of_range;
    }
}

/// Why an observation is rejected (the first reason in this order), or `None` when kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    Fill,
    Cloud,
    Shadow,
    Snow,
    Saturated,
    OtherClass,
}

/// Decodes one Landsat C2 observation: `QA_PIXEL` word and `QA_RADSAT` word.
///
/// ```
/// use rsei_core::sensor::{landsat_rejection, Rejection, SensorQaRules, QaScheme};
/// let s = QaScheme::LandsatC2 { cirrus: true, radsat_bits: 0b111_1110, radsat_other_bit: 11 };
/// let r = SensorQaRules::default();
/// assert_eq!(landsat_rejection(21824, 0, &s, &r), None); // 21824: clear land, low confidences
/// assert_eq!(landsat_rejection(1, 0, &s, &r), Some(Rejection::Fill));
/// assert_eq!(landsat_rejection(22280, 0, &s, &r), Some(Rejection::Cloud)); // cloud bit 3 set
/// assert_eq!(landsat_rejection(21824, 1 << 3, &s, &r), Some(Rejection::Saturated)); // band 4
/// assert_eq!(landsat_rejection(21824, 1 << 0, &s, &r), None); // band 1 (coastal) is not used
/// ```
#[inline]
pub fn landsat_rejection(qa: u16, radsat: u16, scheme: &QaScheme, rules: &SensorQaRules) -> Option<Rejection> {
    use qa_pixel::*;
    let QaScheme::LandsatC2 { cirrus, radsat_bits, radsat_other_bit } = *scheme else { return Some(Rejection::OtherClass) };
    if qa & FILL != 0 {
        return Some(Rejection::Fill);
    }
    if qa & CLOUD != 0 || (rules.dilated_cloud && qa & DILATED_CLOUD != 0) || (cirrus && rules.cirrus && qa & CIRRUS != 0) {
        return Some(Rejection::Cloud);
    }
    if qa & CLOUD_SHADOW != 0 {
        return Some(Rejection::Shadow);
    }
    if rules.snow && qa & SNOW != 0 {
        return Some(Rejection::Snow);
    }
    if rules.radsat && (radsat & radsat_bits != 0 || radsat & (1u16 << radsat_other_bit) != 0) {
        return Some(Rejection::Saturated);
    }
    None
}

/// Decodes one Sentinel-2 SCL class.
#[inline]
pub fn scl_rejection(class: u8, rules: &SensorQaRules) -> Option<Rejection> {
    if rules.scl_valid.contains(&class) {
        return None;
    }
    Some(match class {
        scl::NO_DATA => Rejection::Fill,
        scl::CLOUD_MEDIUM | scl::CLOUD_HIGH | scl::THIN_CIRRUS => Rejection::Cloud,
        scl::CLOUD_SHADOW => Rejection::Shadow,
        scl::SNOW => Rejection::Snow,
        scl::SATURATED_OR_DEFECTIVE => Rejection::Saturated,
        _ => Rejection::OtherClass,
    })
}

impl SensorQaReport {
    /// Records one observation.
    #[inline]
    pub fn record(&mut self, r: Option<Rejection>, out_of_range: bool) {
        self.total += 1;
        match r {
            Some(Rejection::Fill) => self.fill += 1,
            Some(Rejection::Cloud) => self.cloud += 1,
            Some(Rejection::Shadow) => self.shadow += 1,
            Some(Rejection::Snow) => self.snow += 1,
            Some(Rejection::Saturated) => self.saturated += 1,
            Some(Rejection::OtherClass) => self.other_class += 1,
            None if out_of_range => self.out_of_range += 1,
            None => self.valid += 1,
        }
    }
}

/// How a series of scenes changes sensor: the rule for mixing Landsat 5/7/8/9 in one study.
///
/// * One composite holds scenes of **one level family** (Landsat C2 L2 *or* Sentinel-2 L2A):
///   mixing them is refused (`same_level`). Landsat 5, 7, 8 and 9 may share a composite: every
///   C2 L2 scene is decoded with its own profile (bands, QA, coefficients), and the indicators are
///   computed from reflectances on one surface-reflectance scale with one wetness set.
/// * Landsat 8 and 9 are one profile (`landsat-oli-c2l2`): no change is reported between them.
/// * Any other change of profile between consecutive years of a series is reported as a warning
///   (OLI and TM/ETM+ reflectances differ by a few percent: Roy et al. 2016), naming the years.
pub fn series_changes(years: &[(i32, Vec<&'static str>)]) -> Vec<String> {
    let mut out = Vec::new();
    for w in years.windows(2) {
        let (ya, a) = (&w[0].0, &w[0].1);
        let (yb, b) = (&w[1].0, &w[1].1);
        if a != b {
            out.push(format!("the series changes sensor between {ya} ({}) and {yb} ({}): values across the change mix sensors", a.join(" + "), b.join(" + ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(sc: &str, sensor: &str, level: &str) -> LandsatMetadata {
        LandsatMetadata {
            product_id: format!("{sc}_{level}"),
            spacecraft_id: sc.into(),
            sensor_id: sensor.into(),
            collection_number: "02".into(),
            processing_level: level.into(),
            date_acquired: "2019-07-01".into(),
            ..Default::default()
        }
    }

    #[test]
    fn landsat_profiles_by_metadata() {
        let l8 = SensorProfile::from_landsat(&meta("LANDSAT_8", "OLI_TIRS", "L2SP")).unwrap();
        let l9 = SensorProfile::from_landsat(&meta("LANDSAT_9", "OLI_TIRS", "L2SP")).unwrap();
        // Landsat 8 and 9 harmonised: every constant is the same
        assert_eq!((l8.id, &l8.bands, l8.reflectance, l8.thermal_kelvin, l8.qa, l8.wetness), (l9.id, &l9.bands, l9.reflectance, l9.thermal_kelvin, l9.qa, l9.wetness));
        assert_eq!(l8.band(Role::Thermal).unwrap().name, "ST_B10");
        let l7 = SensorProfile::from_landsat(&meta("LANDSAT_7", "ETM", "L2SP")).unwrap();
        assert_eq!((l7.id, l7.band(Role::Swir2).unwrap().name, l7.band(Role::Thermal).unwrap().name), ("landsat-etm-c2l2", "SR_B7", "ST_B6"));
        assert!(l7.slc_off, "2019 is after the SLC failure");
        let mut early = meta("LANDSAT_7", "ETM", "L2SP");
        early.date_acquired = "2002-07-01".into();
        assert!(!SensorProfile::from_landsat(&early).unwrap().slc_off);
        let l5 = SensorProfile::from_landsat(&meta("LANDSAT_5", "TM", "L2SR")).unwrap();
        assert_eq!((l5.id, l5.thermal_kelvin), ("landsat-tm-c2l2", None));
        // refused
        for (m, needle) in [
            (LandsatMetadata { collection_number: "01".into(), ..meta("LANDSAT_8", "OLI_TIRS", "L2SP") }, "Collection 1"),
            (meta("LANDSAT_8", "OLI_TIRS", "L1TP"), "Level-1"),
            (meta("LANDSAT_1", "MSS", "L1GS"), "L1GS"),
            (meta("LANDSAT_5", "MSS", "L2SP"), "MSS"),
        ] {
            let e = SensorProfile::from_landsat(&m).unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains(&m.product_id), "{e}");
        }
    }

    #[test]
    fn no_surface_profile_uses_a_toa_set() {
        use crate::indicators::ProductLevel;
        let ps = [
            SensorProfile::from_landsat(&meta("LANDSAT_8", "OLI_TIRS", "L2SP")).unwrap(),
            SensorProfile::from_landsat(&meta("LANDSAT_7", "ETM", "L2SP")).unwrap(),
            SensorProfile::from_landsat(&meta("LANDSAT_5", "TM", "L2SP")).unwrap(),
            SensorProfile::from_sentinel2(&s2("04.00", vec![-1000.0; 13])).unwrap(),
        ];
        for p in &ps {
            assert_eq!(p.wetness.level, ProductLevel::SurfaceReflectance, "{}", p.id);
            assert_ne!(p.wetness, WetnessCoefficients::LANDSAT_OLI_TOA);
            assert_ne!(p.wetness, WetnessCoefficients::LANDSAT_ETM_TOA);
            assert!(p.wetness.check_use(p.sensor, ProductLevel::SurfaceReflectance).is_none(), "{}", p.id);
            // Crist 1985 in slots (red, NIR, blue, green, –, SWIR1, SWIR2)
            assert_eq!(p.wetness.coefficients, [0.3102, 0.1594, 0.0315, 0.2021, 0.0, -0.6806, -0.6109]);
        }
    }

    fn s2(baseline: &str, offsets: Vec<f64>) -> Sentinel2Metadata {
        Sentinel2Metadata {
            product: format!("S2B_MSIL2A_N{}", baseline.replace('.', "")),
            spacecraft: "Sentinel-2B".into(),
            product_type: "S2MSI2A".into(),
            processing_baseline: baseline.into(),
            quantification: Some(10000.0),
            boa_add_offsets: offsets,
        }
    }

    #[test]
    fn sentinel2_offset_from_the_metadata() {
        let new = SensorProfile::from_sentinel2(&s2("04.00", vec![-1000.0; 13])).unwrap();
        // DN 1000 is reflectance 0 from baseline 04.00; DN 3000 is 0.2
        assert_eq!(new.reflectance_of(1000), 0.0);
        assert!((new.reflectance_of(3000) - 0.2).abs() < 1e-7);
        let old = SensorProfile::from_sentinel2(&s2("02.12", vec![])).unwrap();
        assert!((old.reflectance_of(3000) - 0.3).abs() < 1e-7);
        assert!(old.reflectance_of(0).is_nan() && old.reflectance_of(65535).is_nan());
        assert_eq!(new.band(Role::Nir).unwrap().name, "B8A");
        assert!(new.thermal_kelvin.is_none());
        for (m, needle) in [
            (s2("01.00", vec![]), "before baseline 02.00"),
            (s2("04.00", vec![]), "BOA_ADD_OFFSET"),
            (s2("03.01", vec![-1000.0]), "offsets start with 04.00"),
            (Sentinel2Metadata { product_type: "S2MSI1C".into(), ..s2("04.00", vec![-1000.0]) }, "L1C"),
        ] {
            let e = SensorProfile::from_sentinel2(&m).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn decoding_by_hand() {
        let p = SensorProfile::from_landsat(&meta("LANDSAT_8", "OLI_TIRS", "L2SP")).unwrap();
        // 10000 × 2.75e-5 − 0.2 = 0.075
        assert!((p.reflectance_of(10000) - 0.075).abs() < 1e-7);
        assert!(p.reflectance_of(0).is_nan() && p.reflectance_of(7272).is_nan() && p.reflectance_of(43637).is_nan());
        // ST: 44000 × 0.00341802 + 149 = 299.39288 K = 26.24288 °C
        assert!((p.lst_celsius_of(44000) - 26.24288).abs() < 1e-4);
        assert!(p.lst_celsius_of(0).is_nan());
    }

    #[test]
    fn qa_words_by_hand() {
        let s = QaScheme::LandsatC2 { cirrus: true, radsat_bits: 0b111_1110, radsat_other_bit: 11 };
        let tm = QaScheme::LandsatC2 { cirrus: false, radsat_bits: 0b101_1111, radsat_other_bit: 9 };
        let r = SensorQaRules::default();
        // 23888 = 0b0101_1101_0101_0000: bits 4 (shadow), 6, 8, 10, 11, 12, 14
        assert_eq!(landsat_rejection(23888, 0, &s, &r), Some(Rejection::Shadow));
        // 21826 = clear + dilated cloud (bit 1)
        assert_eq!(landsat_rejection(21826, 0, &s, &r), Some(Rejection::Cloud));
        let lax = SensorQaRules { dilated_cloud: false, ..SensorQaRules::default() };
        assert_eq!(landsat_rejection(21826, 0, &s, &lax), None);
        // cirrus bit on TM is undefined: ignored
        assert_eq!(landsat_rejection(21824 | 4, 0, &tm, &r), None);
        assert_eq!(landsat_rejection(21824 | 4, 0, &s, &r), Some(Rejection::Cloud));
        // snow (bit 5), dropped pixel (TM bit 9), terrain occlusion (OLI bit 11)
        assert_eq!(landsat_rejection(21824 | 32, 0, &s, &r), Some(Rejection::Snow));
        assert_eq!(landsat_rejection(21824, 1 << 9, &tm, &r), Some(Rejection::Saturated));
        assert_eq!(landsat_rejection(21824, 1 << 9, &s, &r), None);
        assert_eq!(landsat_rejection(21824, 1 << 11, &s, &r), Some(Rejection::Saturated));
        // SCL
        assert_eq!(scl_rejection(4, &r), None);
        assert_eq!(scl_rejection(9, &r), Some(Rejection::Cloud));
        assert_eq!(scl_rejection(0, &r), Some(Rejection::Fill));
        assert_eq!(scl_rejection(7, &r), Some(Rejection::OtherClass));
        let mut rep = SensorQaReport::default();
        rep.record(Some(Rejection::Cloud), false);
        rep.record(None, true);
        rep.record(None, false);
        assert_eq!((rep.total, rep.valid, rep.cloud, rep.out_of_range), (3, 1, 1, 1));
    }

    #[test]
    fn series_change_warnings() {
        let w = series_changes(&[(2012, vec!["landsat-etm-c2l2"]), (2013, vec!["landsat-etm-c2l2"]), (2014, vec!["landsat-oli-c2l2"]), (2022, vec!["landsat-oli-c2l2"])]);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("2013") && w[0].contains("2014"), "{w:?}");
    }
}
