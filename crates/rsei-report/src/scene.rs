//! The drawing both back ends share: a list of primitives in CSS px (y down).
//!
//! Charts and maps are laid out once into a [`Scene`]; [`crate::svg`] writes it as SVG text and
//! [`crate::raster`] rasterises it with tiny-skia, so the two outputs cannot drift apart.

use crate::color::Rgba;
use crate::font::Weight;

/// One path segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Seg {
    M(f32, f32),
    L(f32, f32),
    Z,
}

/// How a path is stroked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stroke {
    pub color: Rgba,
    pub width: f32,
    /// Dash pattern in px (on, off, …); empty = solid.
    pub dash: Vec<f32>,
    /// Round caps and joins (lines with many vertices) instead of butt/miter (frames, ticks).
    pub round: bool,
}

impl Stroke {
    pub fn solid(color: Rgba, width: f32) -> Self {
        Stroke {
            color,
            width,
            dash: Vec::new(),
            round: false,
        }
    }
    pub fn line(color: Rgba, width: f32) -> Self {
        Stroke {
            color,
            width,
            dash: Vec::new(),
            round: true,
        }
    }
    pub fn dashed(color: Rgba, width: f32, on: f32, off: f32) -> Self {
        Stroke {
            color,
            width,
            dash: vec![on, off],
            round: false,
        }
    }
}

/// Marker shapes (for scatter points, line markers and box-plot outliers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerShape {
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// Horizontal placement of text relative to its anchor point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

/// A line of text; (`x`, `y`) is the anchor point on the baseline; `angle` rotates clockwise
/// (degrees) around it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Text {
    pub x: f32,
    pub y: f32,
    pub text: String,
    pub size: f32,
    pub weight: Weight,
    pub anchor: Anchor,
    pub angle: f32,
    pub color: Rgba,
}

/// A small RGBA image (straight alpha, row-major), drawn into a rectangle without smoothing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// A drawing primitive. `clip = true` clips it to the scene's clip rectangle (the plot area).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Prim {
    Path {
        segs: Vec<Seg>,
        fill: Option<Rgba>,
        stroke: Option<Stroke>,
        clip: bool,
    },
    Markers {
        shape: MarkerShape,
        centers: Vec<(f32, f32)>,
        radius: f32,
        fill: Option<Rgba>,
        stroke: Option<Stroke>,
        clip: bool,
    },
    Text(Text),
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        image: Image,
    },
    /// Starts a group (an SVG `<g>` with a class, for readers of the SVG); no visual effect.
    GroupStart(String),
    GroupEnd,
}

/// An axis-aligned rectangle (x, y = top-left).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub fn right(&self) -> f32 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f32 {
        self.y + self.h
    }
    pub fn segs(&self) -> Vec<Seg> {
        vec![
            Seg::M(self.x, self.y),
            Seg::L(self.right(), self.y),
            Seg::L(self.right(), self.bottom()),
            Seg::L(self.x, self.bottom()),
            Seg::Z,
        ]
    }
}

/// A complete drawing of `width` × `height` px.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scene {
    pub width: f32,
    pub height: f32,
    pub background: Option<Rgba>,
    pub clip: Option<Rect>,
    pub prims: Vec<Prim>,
    /// Accessible title (SVG `<title>`).
    pub title: String,
}

impl Scene {
    pub fn new(width: f32, height: f32, title: &str) -> Self {
        Scene {
            width,
            height,
            background: Some(Rgba::WHITE),
            clip: None,
            prims: Vec::new(),
            title: title.to_string(),
        }
    }
    pub fn push(&mut self, p: Prim) {
        self.prims.push(p);
    }
    pub fn group(&mut self, class: &str) {
        self.prims.push(Prim::GroupStart(class.to_string()));
    }
    pub fn end_group(&mut self) {
        self.prims.push(Prim::GroupEnd);
    }
    pub fn rect(&mut self, r: Rect, fill: Option<Rgba>, stroke: Option<Stroke>, clip: bool) {
        self.prims.push(Prim::Path {
            segs: r.segs(),
            fill,
            stroke,
            clip,
        });
    }
    pub fn line(&mut self, a: (f32, f32), b: (f32, f32), stroke: Stroke, clip: bool) {
        self.prims.push(Prim::Path {
            segs: vec![Seg::M(a.0, a.1), Seg::L(b.0, b.1)],
            fill: None,
            stroke: Some(stroke),
            clip,
        });
    }
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        x: f32,
        y: f32,
        text: &str,
        size: f32,
        weight: Weight,
        anchor: Anchor,
        angle: f32,
        color: Rgba,
    ) {
        if text.is_empty() {
            return;
        }
        self.prims.push(Prim::Text(Text {
            x,
            y,
            text: text.to_string(),
            size,
            weight,
            anchor,
            angle,
            color,
        }));
    }
}

/// Vertices of a marker of `shape` and radius `r` centred on (`cx`, `cy`); `None` for circles.
pub(crate) fn marker_polygon(
    shape: MarkerShape,
    cx: f32,
    cy: f32,
    r: f32,
) -> Option<Vec<(f32, f32)>> {
    match shape {
        MarkerShape::Circle => None,
        MarkerShape::Square => {
            let h = r * 0.886; // same area as the circle: side = r·√π
            Some(vec![
                (cx - h, cy - h),
                (cx + h, cy - h),
                (cx + h, cy + h),
                (cx - h, cy + h),
            ])
        }
        MarkerShape::Triangle => {
            let h = r * 1.35;
            Some(vec![
                (cx, cy - h),
                (cx + h * 0.866, cy + h * 0.5),
                (cx - h * 0.866, cy + h * 0.5),
            ])
        }
        MarkerShape::Diamond => {
            let h = r * 1.25;
            Some(vec![(cx, cy - h), (cx + h, cy), (cx, cy + h), (cx - h, cy)])
        }
    }
}

/// Clips a polygon to the rectangle `[x0, x1] × [y0, y1]` (Sutherland–Hodgman).
fn clip_polygon(pts: &[(f32, f32)], x0: f32, y0: f32, x1: f32, y1: f32) -> Vec<(f32, f32)> {
    // in f64: far-off vertices (1e12 px) would lose the visible part to f32 rounding
    let (x0, y0, x1, y1) = (x0 as f64, y0 as f64, x1 as f64, y1 as f64);
    let mut poly: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x as f64, y as f64)).collect();
    // each edge: inside test and intersection of segment a→b with the boundary
    for edge in 0..4 {
        if poly.is_empty() {
            break;
        }
        let inside = |p: (f64, f64)| match edge {
            0 => p.0 >= x0,
            1 => p.0 <= x1,
            2 => p.1 >= y0,
            _ => p.1 <= y1,
        };
        let cut = |a: (f64, f64), b: (f64, f64)| {
            let t = match edge {
                0 => (x0 - a.0) / (b.0 - a.0),
                1 => (x1 - a.0) / (b.0 - a.0),
                2 => (y0 - a.1) / (b.1 - a.1),
                _ => (y1 - a.1) / (b.1 - a.1),
            };
            (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
        };
        let input = std::mem::take(&mut poly);
        for i in 0..input.len() {
            let (a, b) = (input[(i + input.len() - 1) % input.len()], input[i]);
            match (inside(a), inside(b)) {
                (true, true) => poly.push(b),
                (true, false) => poly.push(cut(a, b)),
                (false, true) => {
                    poly.push(cut(a, b));
                    poly.push(b);
                }
                (false, false) => {}
            }
        }
    }
    poly.into_iter()
        .map(|(x, y)| (x as f32, y as f32))
        .collect()
}

/// Clips segment a→b to the rectangle (Liang–Barsky); `None` when it misses.
fn clip_segment(
    a: (f32, f32),
    b: (f32, f32),
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
) -> Option<((f32, f32), (f32, f32))> {
    let (a, b) = ((a.0 as f64, a.1 as f64), (b.0 as f64, b.1 as f64));
    let (x0, y0, x1, y1) = (x0 as f64, y0 as f64, x1 as f64, y1 as f64);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1).then(|| {
        let at = |t: f64| ((a.0 + t * dx) as f32, (a.1 + t * dy) as f32);
        (at(t0), at(t1))
    })
}

impl Scene {
    /// Clips geometry that reaches far outside the canvas (data far beyond a fixed axis range,
    /// outlines far off a map) to the canvas grown by its larger side on every edge. What is
    /// visible does not change; renderers never see huge or non-finite coordinates. Closed
    /// subpaths are clipped as polygons, open ones as polylines; markers and text outside are
    /// dropped.
    pub fn clip_to_bounds(&mut self) {
        let m = self.width.max(self.height);
        let (x0, y0, x1, y1) = (-m, -m, self.width + m, self.height + m);
        let ok = |x: f32, y: f32| {
            x.is_finite() && y.is_finite() && x >= x0 && x <= x1 && y >= y0 && y <= y1
        };
        for p in &mut self.prims {
            match p {
                Prim::Path { segs, .. } => {
                    let fine = segs.iter().all(|s| match *s {
                        Seg::M(x, y) | Seg::L(x, y) => ok(x, y),
                        Seg::Z => true,
                    });
                    if fine {
                        continue;
                    }
                    // split into subpaths
                    let mut out = Vec::new();
                    let mut sub: Vec<(f32, f32)> = Vec::new();
                    let flush = |sub: &mut Vec<(f32, f32)>, closed: bool, out: &mut Vec<Seg>| {
                        let pts: Vec<(f32, f32)> = sub
                            .drain(..)
                            .filter(|p| p.0.is_finite() && p.1.is_finite())
                            .collect();
                        if closed {
                            let c = clip_polygon(&pts, x0, y0, x1, y1);
                            if c.len() >= 2 {
                                out.push(Seg::M(c[0].0, c[0].1));
                                out.extend(c[1..].iter().map(|&(x, y)| Seg::L(x, y)));
                                out.push(Seg::Z);
                            }
                        } else {
                            let mut last: Option<(f32, f32)> = None;
                            for w in pts.windows(2) {
                                if let Some((a, b)) = clip_segment(w[0], w[1], x0, y0, x1, y1) {
                                    if last != Some(a) {
                                        out.push(Seg::M(a.0, a.1));
                                    }
                                    out.push(Seg::L(b.0, b.1));
                                    last = Some(b);
                                }
                            }
                        }
                    };
                    for s in segs.iter() {
                        match *s {
                            Seg::M(x, y) => {
                                flush(&mut sub, false, &mut out);
                                sub.push((x, y));
                            }
                            Seg::L(x, y) => sub.push((x, y)),
                            Seg::Z => flush(&mut sub, true, &mut out),
                        }
                    }
                    flush(&mut sub, false, &mut out);
                    *segs = out;
                }
                Prim::Markers { centers, .. } => centers.retain(|&(x, y)| ok(x, y)),
                Prim::Text(t) => {
                    if !ok(t.x, t.y) {
                        t.text.clear();
                    }
                }
                Prim::Image { .. } | Prim::GroupStart(_) | Prim::GroupEnd => {}
            }
        }
        self.prims
            .retain(|p| !matches!(p, Prim::Text(t) if t.text.is_empty()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_clipping_by_hand() {
        // triangle (−10, 0) (10, 0) (0, 10) clipped to x ≥ 0: (0, 0) (10, 0) (0, 10) as a set
        let c = clip_polygon(
            &[(-10.0, 0.0), (10.0, 0.0), (0.0, 10.0)],
            0.0,
            -100.0,
            100.0,
            100.0,
        );
        let mut s: Vec<(i32, i32)> = c
            .iter()
            .map(|p| (p.0.round() as i32, p.1.round() as i32))
            .collect();
        s.sort();
        s.dedup();
        assert_eq!(s, vec![(0, 0), (0, 10), (10, 0)]);
        // segment from (−5, 5) to (15, 5) in [0, 10]²: (0, 5)–(10, 5)
        assert_eq!(
            clip_segment((-5.0, 5.0), (15.0, 5.0), 0.0, 0.0, 10.0, 10.0),
            Some(((0.0, 5.0), (10.0, 5.0)))
        );
        assert_eq!(
            clip_segment((-5.0, 50.0), (15.0, 50.0), 0.0, 0.0, 10.0, 10.0),
            None
        );
    }

    #[test]
    fn far_geometry_is_clipped_visible_part_kept() {
        let mut sc = Scene::new(100.0, 100.0, "");
        // a bar from y = 50 up to y = −1e6, and a line through the canvas from far away
        sc.rect(
            Rect {
                x: 10.0,
                y: -1e6,
                w: 20.0,
                h: 1e6 + 50.0,
            },
            Some(Rgba::BLACK),
            None,
            false,
        );
        sc.line(
            (-1e12, 50.0),
            (1e12, 50.0),
            Stroke::solid(Rgba::BLACK, 1.0),
            false,
        );
        sc.clip_to_bounds();
        for p in &sc.prims {
            if let Prim::Path { segs, .. } = p {
                for s in segs {
                    if let Seg::M(x, y) | Seg::L(x, y) = *s {
                        assert!(
                            (-100.0..=200.0).contains(&x) && (-100.0..=200.0).contains(&y),
                            "({x}, {y})"
                        );
                    }
                }
            }
        }
        // the bar keeps its bottom edge at y = 50 and its sides at x = 10, 30
        let Prim::Path { segs, .. } = &sc.prims[0] else {
            panic!()
        };
        assert!(segs.contains(&Seg::L(30.0, 50.0)) || segs.contains(&Seg::M(30.0, 50.0)));
        let Prim::Path { segs, .. } = &sc.prims[1] else {
            panic!()
        };
        assert_eq!(segs, &vec![Seg::M(-100.0, 50.0), Seg::L(200.0, 50.0)]);
    }
}
