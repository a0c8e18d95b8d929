//! Where an area lies (its bounds in longitude/latitude and web mercator) and the value ranges of
//! its layers, as the legends and colour ramps use them.

use std::sync::Arc;

use crate::catalog::{Area, AreaGeo};
use crate::geo::{self, Dir};
use crate::layers::{nice_bound, nice_range, quantile, LayerId};
use crate::raster::{FileProblem, RasterInfo};

/// Least-squares slope of `v` over `t`, with at least 3 values.
pub(crate) fn slope(t: &[f64], v: &[f32]) -> f32 {
    let pts: Vec<(f64, f64)> = t.iter().zip(v).filter(|(_, v)| v.is_finite()).map(|(&t, &v)| (t, f64::from(v))).collect();
    if pts.len() < 3 {
        return f32::NAN;
    }
    let n = pts.len() as f64;
    let (mt, mv) = (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = pts.iter().map(|p| (p.0 - mt).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mt) * (p.1 - mv)).sum();
    if sxx > 0.0 {
        (sxy / sxx) as f32
    } else {
        f32::NAN
    }
}

/// Where an area lies, and which of its files cannot be read.
pub(crate) fn area_geo(area: &Area) -> Result<AreaGeo, FileProblem> {
    let mut problems = Vec::new();
    let mut first: Option<RasterInfo> = None;
    for layers in area.years.values() {
        for f in layers.values() {
            match f.info() {
                Ok(i) => {
                    if first.is_none() && layers.get(&LayerId::Rsei).is_some_and(|r| Arc::ptr_eq(r, f)) {
                        first = Some(i.clone());
                    }
                }
                Err(p) => problems.push(p),
            }
        }
    }
    let info = match first {
        Some(i) => i,
        None => {
            return Err(problems.into_iter().next().unwrap_or(FileProblem { file: area.id.clone(), reason: "no RSEI raster can be read".into() }));
        }
    };
    // the outline of the grid, densified, to longitude/latitude
    let n = 32;
    let (w, h) = (info.width as f64, info.height as f64);
    let mut pts = Vec::new();
    for k in 0..=n {
        let t = k as f64 / n as f64;
        pts.extend([(t * w, 0.0), (t * w, h), (0.0, t * h), (w, t * h)]);
    }
    let (mut xs, mut ys): (Vec<f64>, Vec<f64>) = pts.iter().map(|&(c, r)| info.xy(c, r)).unzip();
    geo::transform(&info.crs, Dir::SrcToLonLat, &mut xs, &mut ys).map_err(|e| FileProblem { file: area.id.clone(), reason: e })?;
    let (mut b, mut any) = ([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY], false);
    for (&x, &y) in xs.iter().zip(&ys) {
        if x.is_finite() && y.is_finite() {
            b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            any = true;
        }
    }
    if !any {
        return Err(FileProblem { file: area.id.clone(), reason: "the raster's corners cannot be brought to longitude/latitude".into() });
    }
    let (mx0, my0) = geo::lonlat_to_merc(b[0], b[1]);
    let (mx1, my1) = geo::lonlat_to_merc(b[2], b[3]);
    Ok(AreaGeo { info, bounds: b, merc: (mx0, my0, mx1, my1), problems })
}

/// 2nd–98th percentile of each extra raster of an area (decimated to 256 cells a side).
pub(crate) fn extra_ranges(area: &Area) -> Vec<Option<(f32, f32)>> {
    area.extras
        .iter()
        .map(|e| {
            let (_, _, d) = e.file.decimated(256).ok()?;
            let mut v: Vec<f32> = d.into_iter().filter(|x| x.is_finite()).collect();
            Some(nice_range(quantile(&mut v, 0.02)?, quantile(&mut v, 0.98)?))
        })
        .collect()
}

/// Value ranges of the ranged layers of an area (2nd to 98th percentile over all years, read
/// from overviews decimated to at most 256 cells a side; symmetric for change and trend).
pub(crate) fn area_ranges(area: &Area) -> std::collections::HashMap<LayerId, (f32, f32)> {
    const SIDE: usize = 256;
    let mut out = std::collections::HashMap::new();
    let decimated = |l: LayerId, y: i32| area.file(l, y).and_then(|f| f.decimated(SIDE).ok());
    for layer in area.layers().into_iter().filter(|l| l.ranged() && !l.computed()) {
        let mut v: Vec<f32> = Vec::new();
        for y in area.years_of(layer) {
            if let Some((_, _, d)) = decimated(layer, y) {
                v.extend(d.into_iter().filter(|x| x.is_finite()));
            }
        }
        let lo = quantile(&mut v, 0.02);
        let hi = quantile(&mut v, 0.98);
        if let (Some(lo), Some(hi)) = (lo, hi) {
            out.insert(layer, nice_range(lo, hi));
        }
    }
    let years = area.years_of(LayerId::Rsei);
    let rsei: Vec<(i32, Vec<f32>)> = years.iter().filter_map(|&y| decimated(LayerId::Rsei, y).map(|(_, _, d)| (y, d))).collect();
    let same = rsei.windows(2).all(|w| w[0].1.len() == w[1].1.len());
    if rsei.len() >= 2 && same {
        let mut m = 0f64;
        for (_, v) in &rsei[1..] {
            let mut d: Vec<f32> = v.iter().zip(&rsei[0].1).map(|(a, b)| (a - b).abs()).filter(|x| x.is_finite()).collect();
            m = m.max(quantile(&mut d, 0.98).unwrap_or(0.0));
        }
        let b = nice_bound(m, 0.05);
        out.insert(LayerId::Change, (-b, b));
    }
    if rsei.len() >= 3 && same {
        let ts: Vec<f64> = rsei.iter().map(|(y, _)| f64::from(*y)).collect();
        let mut s: Vec<f32> = (0..rsei[0].1.len())
            .map(|i| slope(&ts, &rsei.iter().map(|(_, v)| v[i]).collect::<Vec<_>>()).abs())
            .filter(|x| x.is_finite())
            .collect();
        let b = nice_bound(quantile(&mut s, 0.98).unwrap_or(0.0), 0.005);
        out.insert(LayerId::Trend, (-b, b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_needs_three_values() {
        assert!(slope(&[1.0, 2.0], &[0.0, 1.0]).is_nan());
        assert!((slope(&[2018.0, 2019.0, 2020.0, 2021.0], &[0.5, 0.6, f32::NAN, 0.8]) - 0.1).abs() < 1e-6);
    }
}

