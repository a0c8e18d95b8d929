//! CRS handling: from the core's definition text to GDAL `SpatialRef`s and back, normalised.
//!
//! The core [`Crs`] is only text (WKT, PROJ string or `AUTH:CODE`), compared byte for byte by
//! `Grid::check_aligned`. Files describe the same CRS in many ways (the MODIS sinusoidal is an
//! "unnamed" WKT in HDF-EOS, another WKT in GeoTIFF, a PROJ string in our core), so every CRS that
//! enters the engine from a file goes through [`normalize_crs`]: it becomes the PROJ string PROJ
//! exports for it, e.g. `+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs` — the
//! same text as [`Crs::modis_sinusoidal`]. CRSs without a PROJ-string form keep their WKT2 text.
//!
//! Every `SpatialRef` made here uses the traditional GIS axis order (x = easting/longitude,
//! y = northing/latitude), whatever the authority says.
//!
//! ```
//! use rsei_core::Crs;
//! use rsei_io::crs::{crs_equivalent, normalize_crs};
//! let wgs84 = normalize_crs(&Crs::new("EPSG:4326")).unwrap();
//! assert_eq!(wgs84.as_str(), "+proj=longlat +datum=WGS84 +no_defs");
//! assert!(crs_equivalent(&Crs::new("EPSG:4326"), &Crs::new("+proj=longlat +datum=WGS84")).unwrap());
//! ```

use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use rsei_core::Crs;

use crate::error::{gdal_message, IoError, Result};
use crate::gdalutil::QuietErrors;

/// A GDAL `SpatialRef` for a core CRS, with traditional GIS axis order (x = lon/easting).
pub fn spatial_ref(crs: &Crs) -> Result<SpatialRef> {
    let def = crs.as_str();
    if def.is_empty() {
        return Err(IoError::Crs { definition: String::new(), reason: "empty CRS definition".into() });
    }
    let _q = QuietErrors::new();
    let mut srs = SpatialRef::from_definition(def)
        .map_err(|e| IoError::Crs { definition: def.to_string(), reason: gdal_message(&e) })?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// The normalised core CRS of a GDAL `SpatialRef`: its PROJ string if it has one, else its WKT.
pub fn crs_from_spatial_ref(srs: &SpatialRef) -> Result<Crs> {
    let _q = QuietErrors::new();
    match srs.to_proj4() {
        Ok(p) if !p.trim().is_empty() => Ok(Crs::new(p.trim())),
        _ => srs
            .to_wkt()
            .map(Crs::new)
            .map_err(|e| IoError::Crs { definition: "(from file)".into(), reason: gdal_message(&e) }),
    }
}

/// Normalises a CRS definition (see the module docs): equal CRSs give equal text.
pub fn normalize_crs(crs: &Crs) -> Result<Crs> {
    crs_from_spatial_ref(&spatial_ref(crs)?)
}

/// Whether two CRS definitions describe the same CRS, whatever their text: GDAL's `OSRIsSame`, or
/// else equal normalised (PROJ-string) forms. The second test matters for CRSs whose datum is only
/// an ellipsoid with differing names (the MODIS sphere is "unknown" in one file, "Not specified
/// (based on custom spheroid)" in another, which `OSRIsSame` calls different).
pub fn crs_equivalent(a: &Crs, b: &Crs) -> Result<bool> {
    if a == b {
        return Ok(true);
    }
    let sa = spatial_ref(a)?;
    let sb = spatial_ref(b)?;
    // `PartialEq` of the safe crate is `OSRIsSame(a, b) == 1`.
    if sa == sb {
        return Ok(true);
    }
    Ok(crs_from_spatial_ref(&sa)? == crs_from_spatial_ref(&sb)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modis_sinusoidal_forms_normalise_to_the_core_text() {
        let wkt = r#"PROJCS["unnamed",GEOGCS["Unknown datum based upon the custom spheroid",DATUM["Not specified (based on custom spheroid)",SPHEROID["Custom spheroid",6371007.181,0]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Sinusoidal"],PARAMETER["longitude_of_center",0],PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["Meter",1]]"#;
        let n = normalize_crs(&Crs::new(wkt)).unwrap();
        assert_eq!(n, Crs::modis_sinusoidal());
        assert_eq!(normalize_crs(&Crs::modis_sinusoidal()).unwrap(), Crs::modis_sinusoidal());
        assert!(crs_equivalent(&Crs::new(wkt), &Crs::modis_sinusoidal()).unwrap());
        assert!(!crs_equivalent(&Crs::new("EPSG:32632"), &Crs::modis_sinusoidal()).unwrap());
    }

    #[test]
    fn bad_definition_is_a_clear_error() {
        let e = spatial_ref(&Crs::new("EPSG:999999")).unwrap_err();
        assert!(matches!(e, IoError::Crs { .. }));
        assert!(e.to_string().contains("EPSG:999999"), "{e}");
        assert!(spatial_ref(&Crs::new("")).is_err());
    }
}
