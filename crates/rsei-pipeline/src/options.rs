//! Every option of an RSEI run, with the defaults of METHOD.md, as one serialisable value.
//!
//! The same structure is filled from command-line flags, from a study file (TOML) and is written
//! into every manifest, so an output always says exactly how it was made.

use std::path::PathBuf;

use rsei_core::composite::CompositeOptions;
use rsei_core::indicators::{Resample, WaterOptions};
use rsei_core::model::RseiOptions;
use rsei_core::qa::{Mod09Rules, Mod11Rules, Mod13Rules};
use rsei_core::zonal::PixelRule;
use serde::{Deserialize, Serialize};

/// Where NDVI comes from (METHOD §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NdviSource {
    /// MOD13A1 `500m 16 days NDVI` (the paper's source, default).
    #[default]
    Mod13a1,
    /// (ρ2 − ρ1)/(ρ2 + ρ1) from the MOD09A1 composite.
    Mod09a1,
}

/// Which satellites' products enter the composites.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platforms {
    /// Terra (MOD…), as in the paper.
    #[default]
    Terra,
    /// Aqua (MYD…).
    Aqua,
    /// Terra and Aqua together.
    Both,
}

impl Platforms {
    /// Whether a product of this platform is used.
    pub fn accepts(self, p: rsei_io::products::Platform) -> bool {
        use rsei_io::products::Platform;
        matches!((self, p), (Platforms::Both, _) | (Platforms::Terra, Platform::Terra) | (Platforms::Aqua, Platform::Aqua))
    }
}

/// QA rules of the three products.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QaOptions {
    /// MOD09A1 state/QC rules.
    pub mod09: Mod09Rules,
    /// MOD11A2 QC rules.
    pub mod11: Mod11Rules,
    /// MOD13A1 reliability rules.
    pub mod13: Mod13Rules,
}

/// Compression of output rasters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputCompression {
    /// LZW.
    Lzw,
    #[default]
    /// DEFLATE (default).
    Deflate,
    /// ZSTD.
    Zstd,
}

impl OutputCompression {
    /// The writer's compression.
    pub fn to_io(self) -> rsei_io::Compression {
        match self {
            OutputCompression::Lzw => rsei_io::Compression::Lzw,
            OutputCompression::Deflate => rsei_io::Compression::Deflate,
            OutputCompression::Zstd => rsei_io::Compression::Zstd,
        }
    }
}

/// Output grid and files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputOptions {
    /// Output CRS (`EPSG:n`, PROJ string or WKT). `None`: the native MODIS sinusoidal grid.
    pub crs: Option<String>,
    /// Output cell size in CRS units (with `crs`; default 500).
    pub resolution: Option<f64>,
    /// Resampling of continuous layers when warping to `crs` (nearest for classes and counts).
    pub resampling: rsei_io::warp::Resampling,
    /// Compression of the output rasters.
    pub compression: OutputCompression,
    /// Build overviews in the COGs.
    pub overviews: bool,
    /// Also write a PNG map of RSEI.
    pub map_png: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        Self {
            crs: None,
            resolution: None,
            resampling: rsei_io::warp::Resampling::Bilinear,
            compression: OutputCompression::Deflate,
            overviews: true,
            map_png: true,
        }
    }
}

/// All options of an RSEI computation (METHOD §1–4).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RseiRunOptions {
    /// Growing season, window of years, reducer, minimum observations, order of operations.
    pub composite: CompositeOptions,
    /// QA rules.
    pub qa: QaOptions,
    /// NDVI source.
    pub ndvi_source: NdviSource,
    /// Terra, Aqua or both.
    pub platforms: Platforms,
    /// LST 1 km → 500 m: nearest (default) or bilinear.
    pub lst_resample: Resample,
    /// Water detection.
    pub water: WaterOptions,
    /// Normalisation and PCA.
    pub rsei: RseiOptions,
    /// Which cells belong to the study area: centre inside (default) or any coverage.
    pub clip_rule: PixelRule,
    /// Output grid and files.
    pub output: OutputOptions,
}

impl RseiRunOptions {
    /// Checks every option (before any long work starts).
    pub fn validate(&self) -> crate::Result<()> {
        self.composite.validate()?;
        self.qa.mod09.validate()?;
        self.qa.mod11.validate()?;
        self.qa.mod13.validate()?;
        if let rsei_core::model::Normalisation::Percentile { lo, hi } = self.rsei.normalisation {
            crate::ensure!(lo >= 0.0 && hi <= 100.0 && lo < hi, "normalisation percentiles need 0 ≤ lo < hi ≤ 100, got {lo} and {hi}");
        }
        self.rsei.normalisation.validate()?;
        if let Some(r) = self.output.resolution {
            crate::ensure!(r.is_finite() && r > 0.0, "output resolution must be a positive number, got {r}");
            crate::ensure!(self.output.crs.is_some(), "an output resolution needs an output CRS (--crs)");
        }
        Ok(())
    }
}

/// The inputs of one run (besides the options).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInputs {
    /// Folders of MODIS granules.
    pub data: Vec<PathBuf>,
    /// Optional land-cover raster (any CRS/resolution; classes per `water.landcover_water_classes`).
    pub landcover: Option<PathBuf>,
}
