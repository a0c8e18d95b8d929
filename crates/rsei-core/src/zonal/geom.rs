//! Polygon validation and preparation: the one place where user geometry is checked.
//!
//! A [`PreparedPolygon`] holds the rings of a (multi)polygon as plain vertex lists (no closing
//! duplicate, no repeated consecutive vertex) together with its bounds. Preparation refuses, with a
//! message naming the part, ring and vertex:
//! - an empty geometry (no part),
//! - a non-finite coordinate (NaN or ±∞),
//! - a ring with fewer than 3 distinct points.
//!
//! Rings may come in any orientation: the algorithms orient them themselves. Self-intersections
//! are not detected here (that is GEOS's job in the I/O layer, which repairs them with `MakeValid`).

use geo_types::{LineString, MultiPolygon, Polygon};

use crate::error::{CoreError, Result};
use crate::grid::Bounds;

/// One ring of a polygon: distinct consecutive vertices, the closing vertex not repeated.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ring {
    /// Vertices (x, y) in map coordinates.
    pub pts: Vec<(f64, f64)>,
    /// True for an interior ring (a hole).
    pub hole: bool,
}

impl Ring {
    /// Twice the signed area by the shoelace formula (> 0 for counter-clockwise in a y-up frame).
    pub fn signed_area2(&self) -> f64 {
        signed_area2(&self.pts)
    }
}

/// Twice the signed area of a closed vertex list (shoelace), computed relative to the first
/// vertex to keep the products small.
pub(crate) fn signed_area2(pts: &[(f64, f64)]) -> f64 {
    if pts.len() < 3 {
        return 0.0;
    }
    let (ox, oy) = pts[0];
    let mut s = 0.0;
    for i in 1..pts.len() - 1 {
        let (ax, ay) = (pts[i].0 - ox, pts[i].1 - oy);
        let (bx, by) = (pts[i + 1].0 - ox, pts[i + 1].1 - oy);
        s += ax * by - bx * ay;
    }
    s
}

/// A validated (multi)polygon ready for rasterisation: parts, each a list of rings (exterior first).
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedPolygon {
    pub(crate) parts: Vec<Vec<Ring>>,
    bounds: Bounds,
}

impl PreparedPolygon {
    /// Validates and prepares a multipolygon.
    ///
    /// ```
    /// use geo_types::{polygon, MultiPolygon};
    /// use rsei_core::zonal::PreparedPolygon;
    /// let sq = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 2.0), (x: 0.0, y: 2.0)];
    /// let p = PreparedPolygon::new(&MultiPolygon(vec![sq])).unwrap();
    /// assert_eq!(p.area(), 4.0);
    /// let bad = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
    /// assert!(PreparedPolygon::new(&MultiPolygon(vec![bad])).is_err());
    /// ```
    pub fn new(mp: &MultiPolygon<f64>) -> Result<Self> {
        if mp.0.is_empty() {
            return Err(CoreError::InvalidGeometry("empty geometry: the multipolygon has no polygon".into()));
        }
        let mut parts = Vec::with_capacity(mp.0.len());
        let mut bounds: Option<Bounds> = None;
        for (pi, poly) in mp.0.iter().enumerate() {
            let mut rings = Vec::with_capacity(1 + poly.interiors().len());
            rings.push(prepare_ring(poly.exterior(), pi, 0, false)?);
            for (ri, hole) in poly.interiors().iter().enumerate() {
                rings.push(prepare_ring(hole, pi, ri + 1, true)?);
            }
            for p in &rings[0].pts {
                let b = Bounds { xmin: p.0, ymin: p.1, xmax: p.0, ymax: p.1 };
                bounds = Some(match bounds {
                    None => b,
                    Some(a) => a.union(&b),
                });
            }
            parts.push(rings);
        }
        // `bounds` is set: every part has an exterior ring of at least 3 points.
        let bounds = bounds.ok_or_else(|| CoreError::InvalidGeometry("empty geometry".into()))?;
        Ok(Self { parts, bounds })
    }

    /// Validates and prepares a single polygon.
    pub fn from_polygon(p: &Polygon<f64>) -> Result<Self> {
        Self::new(&MultiPolygon(vec![p.clone()]))
    }

    /// Bounds of the exterior rings (map coordinates).
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// Planar area in squared map units: Σ |exterior| − Σ |holes| over the parts (shoelace).
    /// Meaningful for valid polygons (holes inside their shell, parts disjoint).
    pub fn area(&self) -> f64 {
        let mut a = 0.0;
        for part in &self.parts {
            for r in part {
                let s = 0.5 * r.signed_area2().abs();
                a += if r.hole { -s } else { s };
            }
        }
        a
    }

    /// Number of parts (polygons).
    pub fn num_parts(&self) -> usize {
        self.parts.len()
    }

    /// Total number of vertices over all rings.
    pub fn num_vertices(&self) -> usize {
        self.parts.iter().flatten().map(|r| r.pts.len()).sum()
    }
}

/// Checks a multipolygon without keeping the prepared form (see [`PreparedPolygon::new`]).
pub fn validate_multipolygon(mp: &MultiPolygon<f64>) -> Result<()> {
    PreparedPolygon::new(mp).map(|_| ())
}

fn prepare_ring(ls: &LineString<f64>, part: usize, ring: usize, hole: bool) -> Result<Ring> {
    let what = if hole { "interior ring" } else { "exterior ring" };
    let mut pts: Vec<(f64, f64)> = Vec::with_capacity(ls.0.len());
    for (vi, c) in ls.0.iter().enumerate() {
        if !(c.x.is_finite() && c.y.is_finite()) {
            return Err(CoreError::InvalidGeometry(format!(
                "part {part}, {what} {ring}, vertex {vi}: non-finite coordinate ({}, {})",
                c.x, c.y
            )));
        }
        if pts.last() != Some(&(c.x, c.y)) {
            pts.push((c.x, c.y));
        }
    }
    while pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    let mut distinct = pts.clone();
    distinct.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    distinct.dedup();
    if distinct.len() < 3 {
        return Err(CoreError::InvalidGeometry(format!(
            "part {part}, {what} {ring}: {} distinct point(s), a ring needs at least 3",
            distinct.len()
        )));
    }
    Ok(Ring { pts, hole })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use geo_types::{polygon, Coord};

    #[test]
    fn rejects_bad_rings_with_a_precise_message() {
        let nan = polygon![(x: 0.0, y: 0.0), (x: f64::NAN, y: 1.0), (x: 1.0, y: 1.0)];
        let e = PreparedPolygon::from_polygon(&nan).unwrap_err().to_string();
        assert!(e.contains("part 0, exterior ring 0, vertex 1: non-finite"), "{e}");

        let two = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
        let e = PreparedPolygon::from_polygon(&two).unwrap_err().to_string();
        assert!(e.contains("2 distinct point"), "{e}");

        let hole_bad = Polygon::new(
            LineString::from(vec![(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]),
            vec![LineString::from(vec![(1.0, 1.0), (2.0, 2.0)])],
        );
        let e = PreparedPolygon::from_polygon(&hole_bad).unwrap_err().to_string();
        assert!(e.contains("interior ring 1"), "{e}");

        let e = PreparedPolygon::new(&MultiPolygon(vec![])).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");

        let inf = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: f64::INFINITY), (x: 1.0, y: 1.0)];
        assert!(PreparedPolygon::from_polygon(&inf).is_err());
    }

    #[test]
    fn strips_duplicates_and_computes_area_with_holes() {
        // 4×4 square with a 1×2 hole: area 16 − 2 = 14; closing and repeated vertices dropped.
        let p = Polygon::new(
            LineString(vec![
                Coord { x: 0.0, y: 0.0 },
                Coord { x: 4.0, y: 0.0 },
                Coord { x: 4.0, y: 0.0 },
                Coord { x: 4.0, y: 4.0 },
                Coord { x: 0.0, y: 4.0 },
                Coord { x: 0.0, y: 0.0 },
            ]),
            vec![LineString::from(vec![(1.0, 1.0), (1.0, 3.0), (2.0, 3.0), (2.0, 1.0), (1.0, 1.0)])],
        );
        let pp = PreparedPolygon::from_polygon(&p).unwrap();
        assert_eq!(pp.parts[0][0].pts.len(), 4);
        assert_eq!(pp.area(), 14.0);
        assert_eq!(pp.bounds(), Bounds::new(0.0, 0.0, 4.0, 4.0));
        assert_eq!(pp.num_vertices(), 8);
    }
}
