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

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use rsei_core::{Bounds, Crs};

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

/// Transforms points `(x, y)` from one CRS to another (traditional GIS order: x = easting or
/// longitude). A point that cannot be transformed is an error naming it.
pub fn reproject_points(points: &[(f64, f64)], from: &Crs, to: &Crs) -> Result<Vec<(f64, f64)>> {
    if points.is_empty() {
        return Ok(Vec::new());
    }
    let (s, t) = (spatial_ref(from)?, spatial_ref(to)?);
    let _q = QuietErrors::new();
    let ct = CoordTransform::new(&s, &t).map_err(|e| IoError::Crs {
        definition: format!("{from} → {to}"),
        reason: gdal_message(&e),
    })?;
    let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    ct.transform_coords(&mut xs, &mut ys, &mut [])
        .map_err(|e| IoError::Crs { definition: format!("{from} → {to}"), reason: gdal_message(&e) })?;
    let out: Vec<(f64, f64)> = xs.into_iter().zip(ys).collect();
    if let Some(i) = out.iter().position(|p| !(p.0.is_finite() && p.1.is_finite())) {
        return Err(IoError::Crs {
            definition: format!("{from} → {to}"),
            reason: format!("point {:?} cannot be transformed", points[i]),
        });
    }
    Ok(out)
}

/// The bounds in `to` that hold `bounds` given in `from`, with each edge densified by 21 points
/// (curved edges of the reprojected rectangle are covered).
pub fn transform_bounds(bounds: &Bounds, from: &Crs, to: &Crs) -> Result<Bounds> {
    let (s, t) = (spatial_ref(from)?, spatial_ref(to)?);
    let _q = QuietErrors::new();
    let ct = CoordTransform::new(&s, &t).map_err(|e| IoError::Crs {
        definition: format!("{from} → {to}"),
        reason: gdal_message(&e),
    })?;
    let b = ct
        .transform_bounds(&[bounds.xmin, bounds.ymin, bounds.xmax, bounds.ymax], 21)
        .map_err(|e| IoError::Crs { definition: format!("{from} → {to}"), reason: gdal_message(&e) })?;
    Ok(Bounds::new(b[0], b[1], b[2], b[3]))
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
    fn points_and_bounds_use_lon_lat_order() {
        let wgs = Crs::new("EPSG:4326");
        // Sinusoidal: x = R · λ · cos φ, y = R · φ. At λ = 10°, φ = 45°:
        // y = 6371007.181 · π/4 = 5003777.34 m; x = 6371007.181 · (π/18) · cos 45° = 786267.75 m
        let p = reproject_points(&[(10.0, 45.0)], &wgs, &Crs::modis_sinusoidal()).unwrap();
        assert!((p[0].1 - 5_003_777.34).abs() < 0.01, "{p:?}");
        assert!((p[0].0 - 786_267.75).abs() < 0.01, "{p:?}");
        // back again
        let q = reproject_points(&p, &Crs::modis_sinusoidal(), &wgs).unwrap();
        assert!((q[0].0 - 10.0).abs() < 1e-9 && (q[0].1 - 45.0).abs() < 1e-9);
        // UTM 32N: 9° E is the central meridian, so x = 500000 exactly
        let u = reproject_points(&[(9.0, 45.0)], &wgs, &Crs::new("EPSG:32632")).unwrap();
        assert!((u[0].0 - 500_000.0).abs() < 1e-6, "{u:?}");
        let b = transform_bounds(&Bounds::new(9.0, 45.0, 10.0, 46.0), &wgs, &Crs::modis_sinusoidal()).unwrap();
        // on the western edge (9° E) x = R · 9° · cos φ is smallest at the highest latitude, 46° N:
        // xmin = 6371007.181 · 0.15708 · 0.69466 = 695183.16 m; ymax = R · 46° = 5114972.39 m
        assert!((b.xmin - 695_183.16).abs() < 0.01, "{b:?}");
        assert!((b.ymax - 6_371_007.181 * 46f64.to_radians()).abs() < 1e-3, "{b:?}");
    }

    #[test]
    fn bad_definition_is_a_clear_error() {
        let e = spatial_ref(&Crs::new("EPSG:999999")).unwrap_err();
        assert!(matches!(e, IoError::Crs { .. }));
        assert!(e.to_string().contains("EPSG:999999"), "{e}");
        assert!(spatial_ref(&Crs::new("")).is_err());
    }
}
