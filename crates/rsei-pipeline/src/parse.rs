//! Parsers of the small text values users write (years, season dates, normalisation, options
//! files), shared by the command line, the study files and library callers. Errors are
//! [`Error::InvalidOption`] or [`Error::InvalidInput`] naming the value.

use std::path::Path;

use rsei_core::model::Normalisation;

use crate::error::{Error, Result};

fn bad(option: &str, msg: String) -> Error {
    Error::option(option, msg)
}

/// Parses a season date `MM-DD`.
///
/// ```
/// assert_eq!(rsei_pipeline::parse::month_day("06-01").unwrap(), (6, 1));
/// assert!(rsei_pipeline::parse::month_day("June").is_err());
/// ```
pub fn month_day(s: &str) -> Result<(u8, u8)> {
    let e = || bad("season", format!("season date {s:?} is not MM-DD"));
    let (m, d) = s.trim().split_once('-').ok_or_else(e)?;
    let m: u8 = m.parse().map_err(|_| e())?;
    let d: u8 = d.parse().map_err(|_| e())?;
    Ok((m, d))
}

/// Parses `2019`, `2001-2022` or `2005,2010,2015` (combinations allowed: `2001-2003,2010`);
/// sorted, without duplicates, from 1982 (Landsat 4 TM, the first Collection 2 Level-2 product;
/// MODIS runs need 2000 onwards and say so when a year has no granule).
///
/// ```
/// assert_eq!(rsei_pipeline::parse::years("2001-2003,2010").unwrap(), vec![2001, 2002, 2003, 2010]);
/// ```
pub fn years(s: &str) -> Result<Vec<i32>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let e = || bad("years", format!("years {s:?}: cannot read {part:?} (use 2019, 2001-2022 or 2005,2010)"));
        if let Some((a, b)) = part.split_once('-') {
            let a: i32 = a.trim().parse().map_err(|_| e())?;
            let b: i32 = b.trim().parse().map_err(|_| e())?;
            if b < a {
                return Err(e());
            }
            out.extend(a..=b);
        } else {
            out.push(part.parse().map_err(|_| e())?);
        }
    }
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        return Err(bad("years", format!("years {s:?}: no year given")));
    }
    if let Some(y) = out.iter().find(|&&y| !(1982..=2100).contains(&y)) {
        return Err(bad("years", format!("year {y} is outside the satellite record rsei reads (Landsat from 1982, MODIS from 2000)")));
    }
    Ok(out)
}

/// Parses `minmax`, `percentile:LO:HI` or `fixed:` and the eight bounds (lo, hi of NDVI, WET,
/// NDBSI, LST).
///
/// ```
/// use rsei_core::model::Normalisation;
/// assert_eq!(rsei_pipeline::parse::normalisation("percentile:1:99").unwrap(), Normalisation::Percentile { lo: 1.0, hi: 99.0 });
/// ```
pub fn normalisation(s: &str) -> Result<Normalisation> {
    let l = s.trim().to_ascii_lowercase();
    if l == "minmax" || l == "min-max" {
        return Ok(Normalisation::MinMax);
    }
    let parts: Vec<&str> = l.split(':').collect();
    if parts.len() == 3 && parts[0] == "percentile" {
        let lo: f64 = parts[1].parse().map_err(|_| bad("normalisation", format!("normalisation {s:?}: bad lower percentile")))?;
        let hi: f64 = parts[2].parse().map_err(|_| bad("normalisation", format!("normalisation {s:?}: bad upper percentile")))?;
        return Ok(Normalisation::Percentile { lo, hi });
    }
    if parts.len() == 9 && parts[0] == "fixed" {
        let mut v = [0f64; 8];
        for (k, p) in parts[1..].iter().enumerate() {
            v[k] = p.parse().map_err(|_| bad("normalisation", format!("normalisation {s:?}: bound {} ({p:?}) is not a number", k + 1)))?;
        }
        let n = Normalisation::Fixed { ndvi: [v[0], v[1]], wet: [v[2], v[3]], ndbsi: [v[4], v[5]], lst: [v[6], v[7]] };
        n.validate().map_err(|e| bad("normalisation", format!("normalisation {s:?}: {e}")))?;
        return Ok(n);
    }
    Err(bad("normalisation", format!("normalisation {s:?}: use minmax, percentile:LO:HI (e.g. percentile:1:99) or fixed:NDVI_LO:NDVI_HI:WET_LO:WET_HI:NDBSI_LO:NDBSI_HI:LST_LO:LST_HI")))
}

/// One of a fixed set of named choices (case-insensitive) for the flag `--name`.
pub fn choice<T: Copy>(name: &str, v: &str, choices: &[(&str, T)]) -> Result<T> {
    let l = v.trim().to_ascii_lowercase();
    choices.iter().find(|(k, _)| *k == l).map(|(_, t)| *t).ok_or_else(|| {
        bad(name, format!("--{name} {v:?}: expected one of {}", choices.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")))
    })
}

/// The options of an options file (TOML; keys not given keep their defaults), or the defaults
/// without one. An unreadable or invalid file is an [`Error::InvalidInput`] naming the file.
pub fn options_file<T: serde::de::DeserializeOwned + Default>(path: Option<&Path>) -> Result<T> {
    let Some(p) = path else { return Ok(T::default()) };
    let text = std::fs::read_to_string(p).map_err(|e| Error::input(p, format!("reading options file {}: {e}", p.display())))?;
    toml::from_str::<T>(&text).map_err(|e| Error::input(p, format!("{}: {e}", p.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_ranges_lists_and_errors() {
        assert_eq!(years("2019").ok(), Some(vec![2019]));
        assert_eq!(years("2003-2001").ok(), None);
        assert_eq!(years("2002, 2001-2002").ok(), Some(vec![2001, 2002]));
        for bad in ["", "20x", "1890", "2001-"] {
            let e = years(bad).unwrap_err();
            assert!(e.is_usage(), "{bad}: {e}");
            assert!(matches!(e, Error::InvalidOption { ref option, .. } if option == "years"));
        }
    }

    #[test]
    fn options_files_name_the_file() {
        #[derive(serde::Deserialize, Default, Debug)]
        #[serde(deny_unknown_fields)]
        struct O {
            #[allow(dead_code)]
            a: Option<u8>,
        }
        let dir = std::env::temp_dir().join(format!("rsei-parse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let f = dir.join("o.toml");
        std::fs::write(&f, "b = 1").ok();
        let e = options_file::<O>(Some(&f)).unwrap_err();
        assert!(e.to_string().contains("o.toml") && e.is_usage(), "{e}");
        assert!(options_file::<O>(Some(&dir.join("none.toml"))).unwrap_err().to_string().contains("none.toml"));
        assert!(options_file::<O>(None).is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }
}
