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
