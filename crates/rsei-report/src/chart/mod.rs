//! Charts: one declarative model ([`Chart`]), two back ends ([`to_svg`], [`to_png`]).
//!
//! A chart is laid out once into a list of drawing primitives which the SVG writer and the
//! tiny-skia rasteriser both consume, so the SVG in an HTML report and the PNG in a paper are the
//! same picture. Sizes are CSS px; `to_png`'s `scale` multiplies them (2 = sharp on high-density
//! screens and in print).
//!
//! Series kinds: lines (markers, ± bands), scatter (optional 1:1 line), grouped or horizontal
//! bars, filled areas (densities), histograms, grouped box plots, heat maps with printed values;
//! annotations: vertical/horizontal reference lines, text, corner notes. A secondary y axis
//! serves e.g. mine counts beside a mean-RSEI latitude profile.
//!
//! ```
//! use rsei_report::chart::{Axis, Chart, Series};
//! let chart = Chart::new("Mean RSEI by distance to mine", Axis::linear("Distance", Some("km")), Axis::linear("RSEI", None))
//!     .with_series(Series::line("2019", vec![(0.0, 0.31), (1.0, 0.38), (2.0, 0.45), (3.0, 0.47)]));
//! let svg = rsei_report::to_svg(&chart, 480.0, 320.0).unwrap();
//! assert!(svg.contains("Distance (km)"));
//! let png = rsei_report::to_png(&chart, 480.0, 320.0, 2.0).unwrap();
//! assert_eq!(&png[1..4], b"PNG");
//! ```

mod layout;
mod model;

pub use model::*;

use crate::Result;

/// The chart as a standalone SVG 1.1 document of `width` × `height` px.
///
/// Errors: [`crate::ReportError::InvalidChart`] for inconsistent descriptions (heat-map matrix
/// vs. axes, histogram edges vs. counts, band length, unordered box statistics, secondary series
/// without a secondary axis, mixed bar orientations, bad fixed ranges),
/// [`crate::ReportError::NoData`] when an automatic axis has no finite value,
/// [`crate::ReportError::InvalidSize`] when the canvas is too small for axes and labels.
pub fn to_svg(chart: &Chart, width: f64, height: f64) -> Result<String> {
    let scene = layout::layout(chart, width as f32, height as f32)?;
    crate::svg::scene_to_svg(&scene)
}

/// The same drawing as [`to_svg`], rasterised to an RGBA PNG of
/// `round(width·scale)` × `round(height·scale)` pixels.
pub fn to_png(chart: &Chart, width: f64, height: f64, scale: f64) -> Result<Vec<u8>> {
    let scene = layout::layout(chart, width as f32, height as f32)?;
    crate::raster::scene_to_png(&scene, scale as f32, &format!("chart \"{}\"", chart.title))
}
