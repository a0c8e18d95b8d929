//! Errors of the I/O crate.
//!
//! Every variant names the input at fault (file, and layer or band where it matters) so that a
//! message printed by the command line tells the user which file to look at and why.

use std::fmt;
use std::path::PathBuf;

use gdal::errors::GdalError;
use rsei_core::CoreError;
use thiserror::Error;

/// Everything that can go wrong while reading, writing or warping rasters.
#[derive(Debug, Error)]
pub enum IoError {
    /// GDAL could not open a file (missing, truncated, not a raster GDAL knows, …).
    #[error("cannot open {}: {}", .path.display(), gdal_message(.source))]
    Open {
        path: PathBuf,
        #[source]
        source: Box<GdalError>,
    },
    /// A layer (subdataset, band) was asked for that the file does not hold.
    #[error("{}: layer {layer:?} not found (available: {})", .path.display(), LayerList(.available))]
    MissingLayer { path: PathBuf, layer: String, available: Vec<String> },
    /// The file cannot be identified as a MODIS product granule or layer.
    #[error("{} is not a usable MODIS file: {reason}", .path.display())]
    NotModis { path: PathBuf, reason: String },
    /// A MODIS product that this engine does not read.
    #[error("{}: product {product} is not handled (handled: {handled})", .path.display())]
    UnsupportedProduct { path: PathBuf, product: String, handled: String },
    /// A layer of a handled product that this engine does not read (e.g. MOD13A1 EVI).
    #[error("{}: layer {layer:?} of {product} is not one rsei reads (it reads: {handled})", .path.display())]
    UnsupportedLayer { path: PathBuf, product: String, layer: String, handled: String },
    /// The raster's grid is unusable or does not fit what was asked (rotation, cell size, alignment).
    /// A Landsat / Sentinel-2 scene that cannot be used (unsupported level, missing band, bad metadata).
    #[error("{}: {reason}", .path.display())]
    Scene { path: PathBuf, reason: String },
    #[error("{}: grid problem: {reason}", .path.display())]
    Grid { path: PathBuf, reason: String },
    /// The values of a layer cannot be decoded (unexpected data type, scale, pre-scaled data …).
    #[error("{}: cannot decode layer {layer}: {reason}", .path.display())]
    Encoding { path: PathBuf, layer: String, reason: String },
    /// Reading a window of a band failed.
    #[error("{}: reading {window} of layer {layer} failed: {}", .path.display(), gdal_message(.source))]
    Read {
        path: PathBuf,
        layer: String,
        window: String,
        #[source]
        source: Box<GdalError>,
    },
    /// Writing an output raster failed; the target was left untouched.
    #[error("cannot write {}: {reason}", .path.display())]
    Write { path: PathBuf, reason: String },
    /// A CRS definition that GDAL/PROJ does not understand.
    #[error("invalid CRS {definition:?}: {reason}")]
    Crs { definition: String, reason: String },
    /// An option value outside its allowed range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption { name: String, reason: String },
    /// Any other GDAL failure, with what was being done.
    #[error("{context}: {}", gdal_message(.source))]
    Gdal {
        context: String,
        #[source]
        source: Box<GdalError>,
    },
    /// A file-system error on a named file.
    #[error("{}: {source}", .path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An error of the numeric core (grid mismatch, window out of bounds …).
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Result type of the I/O crate.
pub type Result<T, E = IoError> = std::result::Result<T, E>;

/// The human part of a GDAL error (GDAL's own message, without the error class and number).
pub fn gdal_message(e: &GdalError) -> String {
    match e {
        GdalError::CplError { msg, .. } if !msg.trim().is_empty() => msg.trim().to_string(),
        GdalError::NullPointer { method_name, msg } => {
            if msg.trim().is_empty() {
                format!("{method_name} failed")
            } else {
                msg.trim().to_string()
            }
        }
        other => other.to_string(),
    }
}

struct LayerList<'a>(&'a [String]);

impl fmt::Display for LayerList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{l:?}")?;
        }
        Ok(())
    }
}

impl IoError {
    /// An [`IoError::Open`] for `path`.
    pub fn open(path: impl Into<PathBuf>, source: GdalError) -> Self {
        IoError::Open { path: path.into(), source: Box::new(source) }
    }
    /// A [`IoError::Gdal`] with a context.
    pub fn gdal(context: impl Into<String>, source: GdalError) -> Self {
        IoError::Gdal { context: context.into(), source: Box::new(source) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_layer() {
        let e = IoError::MissingLayer {
            path: PathBuf::from("/data/a.hdf"),
            layer: "sur_refl_b01".into(),
            available: vec!["NDVI".into(), "EVI".into()],
        };
        let s = e.to_string();
        assert!(s.contains("/data/a.hdf"), "{s}");
        assert!(s.contains("\"sur_refl_b01\""), "{s}");
        assert!(s.contains("\"NDVI\", \"EVI\""), "{s}");
        let g = IoError::Open {
            path: PathBuf::from("x.tif"),
            source: Box::new(GdalError::CplError { class: 3, number: 4, msg: "x.tif: No such file".into() }),
        };
        assert_eq!(g.to_string(), "cannot open x.tif: x.tif: No such file");
    }
}
