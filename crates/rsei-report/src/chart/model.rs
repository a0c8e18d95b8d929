//! The declarative chart description.

use crate::color::Rgba;
pub use crate::scene::MarkerShape;

/// A chart: title, axes, series, legend and annotations. Render it with [`crate::to_svg`] or
/// [`crate::to_png`].
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Title above the plot; empty for none (figure captions often carry the title instead).
    pub title: String,
    pub x_axis: Axis,
    pub y_axis: Axis,
    /// Secondary y axis on the right, for series with [`Series::secondary`] set (e.g. mine counts
    /// beside a mean-RSEI profile).
    pub y2_axis: Option<Axis>,
    /// Drawn in order (later series on top), except that filled kinds (heat map, areas,
    /// histograms, bars, boxes) are always drawn below lines and points.
    pub series: Vec<Series>,
    pub legend: Legend,
    pub annotations: Vec<Annotation>,
}

impl Chart {
    /// A chart with the given title and axes, no series, an automatic legend.
    pub fn new(title: impl Into<String>, x_axis: Axis, y_axis: Axis) -> Self {
        Chart {
            title: title.into(),
            x_axis,
            y_axis,
            y2_axis: None,
            series: Vec::new(),
            legend: Legend::default(),
            annotations: Vec::new(),
        }
    }
    /// Adds a series (builder style).
    pub fn with_series(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }
    /// Adds an annotation (builder style).
    pub fn with_annotation(mut self, a: Annotation) -> Self {
        self.annotations.push(a);
        self
    }
    /// Sets the secondary y axis (builder style).
    pub fn with_y2_axis(mut self, a: Axis) -> Self {
        self.y2_axis = Some(a);
        self
    }
    /// Sets the legend (builder style).
    pub fn with_legend(mut self, l: Legend) -> Self {
        self.legend = l;
        self
    }
}

/// How an axis maps values.
#[derive(Debug, Clone, PartialEq)]
pub enum AxisScale {
    /// Continuous, linear, with nice ticks.
    Linear,
    /// Named categories at positions 0, 1, …, n−1 (a series places an item in category `i` at
    /// coordinate `i as f64`). On a y axis the first category is at the top.
    Categories(Vec<String>),
}

/// One axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// What is measured, e.g. `"Distance to mine"`.
    pub title: String,
    /// Unit shown in parentheses after the title, e.g. `"km"` → "Distance to mine (km)".
    pub unit: Option<String>,
    pub scale: AxisScale,
    /// Fixed range (linear axes); `None` = from the data, widened to whole tick steps.
    pub range: Option<(f64, f64)>,
    /// Keep 0 inside the automatic range (bars and histograms always do on their value axis).
    pub include_zero: bool,
    /// Light grid lines at the ticks.
    pub grid: bool,
    /// Decimals of tick labels; `None` = as many as the tick step needs.
    pub decimals: Option<usize>,
}

impl Axis {
    /// A linear axis with an optional unit; grid lines off (turn on with [`Axis::with_grid`]).
    pub fn linear(title: impl Into<String>, unit: Option<&str>) -> Self {
        Axis {
            title: title.into(),
            unit: unit.map(str::to_string),
            scale: AxisScale::Linear,
            range: None,
            include_zero: false,
            grid: false,
            decimals: None,
        }
    }
    /// A category axis.
    pub fn categories<S: Into<String>>(
        title: impl Into<String>,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        Axis {
            title: title.into(),
            unit: None,
            scale: AxisScale::Categories(names.into_iter().map(Into::into).collect()),
            range: None,
            include_zero: false,
            grid: false,
            decimals: None,
        }
    }
    /// Fixes the range.
    pub fn with_range(mut self, min: f64, max: f64) -> Self {
        self.range = Some((min, max));
        self
    }
    /// Turns grid lines on.
    pub fn with_grid(mut self) -> Self {
        self.grid = true;
        self
    }
    /// Keeps zero in the automatic range.
    pub fn with_zero(mut self) -> Self {
        self.include_zero = true;
        self
    }
    /// The axis title as printed: `title (unit)`.
    pub fn label(&self) -> String {
        match &self.unit {
            Some(u) if !u.is_empty() => format!("{} ({u})", self.title),
            _ => self.title.clone(),
        }
    }
    pub(crate) fn category_names(&self) -> Option<&[String]> {
        match &self.scale {
            AxisScale::Categories(c) => Some(c),
            AxisScale::Linear => None,
        }
    }
}

/// One data series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text; empty = not in the legend.
    pub name: String,
    /// `None` = the next palette colour ([`crate::color::series_color`]); alpha is honoured.
    pub color: Option<Rgba>,
    /// Plot against the secondary y axis.
    pub secondary: bool,
    pub kind: SeriesKind,
}

/// Five-number summary of one box, plus outliers, at `position` on the category axis.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxItem {
    pub position: f64,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
    /// Points beyond the whiskers, drawn individually.
    pub outliers: Vec<f64>,
}

/// What a series draws. Points are `(x, y)` in data units; non-finite values leave gaps.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesKind {
    /// A polyline, optional markers, optional band (`(low, high)` per point, e.g. mean ± sd).
    Line {
        points: Vec<(f64, f64)>,
        marker: Option<MarkerShape>,
        band: Option<Vec<(f64, f64)>>,
        dashed: bool,
    },
    /// Points; `one_to_one` draws the y = x line over the common range (predicted vs observed).
    Scatter {
        points: Vec<(f64, f64)>,
        marker: MarkerShape,
        one_to_one: bool,
    },
    /// Bars `(position, value)` from 0; several bar series are grouped side by side. `horizontal`
    /// bars grow along x from a category (or position) on the y axis. `value_decimals` prints the
    /// value at the end of each bar.
    Bars {
        bars: Vec<(f64, f64)>,
        horizontal: bool,
        value_decimals: Option<usize>,
    },
    /// A filled area between the curve and y = 0 (e.g. a density), translucent, with an outline.
    Area { points: Vec<(f64, f64)> },
    /// A histogram: `edges.len() == counts.len() + 1`, drawn as a filled step outline.
    Histogram { edges: Vec<f64>, counts: Vec<f64> },
    /// Box plots at category positions; several box series (e.g. years) are grouped side by side.
    BoxPlot { boxes: Vec<BoxItem> },
    /// A matrix of values (rows = y categories, top first; columns = x categories) coloured on a
    /// diverging scale centred on the middle of `range`, each cell printed with `decimals`.
    /// NaN cells are grey and blank. `scale_title` labels the colour bar (e.g. "Pearson r").
    HeatMap {
        values: Vec<Vec<f64>>,
        range: (f64, f64),
        decimals: usize,
        scale_title: String,
    },
}

impl Series {
    fn of(name: impl Into<String>, kind: SeriesKind) -> Self {
        Series {
            name: name.into(),
            color: None,
            secondary: false,
            kind,
        }
    }
    /// A plain line.
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series::of(
            name,
            SeriesKind::Line {
                points,
                marker: None,
                band: None,
                dashed: false,
            },
        )
    }
    /// A line with a shaded band (`(low, high)` per point).
    pub fn line_with_band(
        name: impl Into<String>,
        points: Vec<(f64, f64)>,
        band: Vec<(f64, f64)>,
    ) -> Self {
        Series::of(
            name,
            SeriesKind::Line {
                points,
                marker: None,
                band: Some(band),
                dashed: false,
            },
        )
    }
    /// A scatter of points.
    pub fn scatter(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series::of(
            name,
            SeriesKind::Scatter {
                points,
                marker: MarkerShape::Circle,
                one_to_one: false,
            },
        )
    }
    /// Vertical bars.
    pub fn bars(name: impl Into<String>, bars: Vec<(f64, f64)>) -> Self {
        Series::of(
            name,
            SeriesKind::Bars {
                bars,
                horizontal: false,
                value_decimals: None,
            },
        )
    }
    /// Horizontal bars (e.g. importance per driver on a category y axis).
    pub fn horizontal_bars(name: impl Into<String>, bars: Vec<(f64, f64)>) -> Self {
        Series::of(
            name,
            SeriesKind::Bars {
                bars,
                horizontal: true,
                value_decimals: None,
            },
        )
    }
    /// A filled area down to zero (densities).
    pub fn area(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series::of(name, SeriesKind::Area { points })
    }
    /// A histogram from bin edges and counts (or densities).
    pub fn histogram(name: impl Into<String>, edges: Vec<f64>, counts: Vec<f64>) -> Self {
        Series::of(name, SeriesKind::Histogram { edges, counts })
    }
    /// Box plots.
    pub fn boxes(name: impl Into<String>, boxes: Vec<BoxItem>) -> Self {
        Series::of(name, SeriesKind::BoxPlot { boxes })
    }
    /// A heat map (both axes must be category axes matching the matrix).
    pub fn heat_map(
        values: Vec<Vec<f64>>,
        range: (f64, f64),
        decimals: usize,
        scale_title: impl Into<String>,
    ) -> Self {
        Series::of(
            "",
            SeriesKind::HeatMap {
                values,
                range,
                decimals,
                scale_title: scale_title.into(),
            },
        )
    }
    /// Sets the colour.
    pub fn with_color(mut self, c: Rgba) -> Self {
        self.color = Some(c);
        self
    }
    /// Plots against the secondary y axis.
    pub fn on_secondary_axis(mut self) -> Self {
        self.secondary = true;
        self
    }
    /// Adds markers to a line or changes the marker of a scatter.
    pub fn with_marker(mut self, m: MarkerShape) -> Self {
        match &mut self.kind {
            SeriesKind::Line { marker, .. } => *marker = Some(m),
            SeriesKind::Scatter { marker, .. } => *marker = m,
            _ => {}
        }
        self
    }
    /// Dashes a line.
    pub fn dashed(mut self) -> Self {
        if let SeriesKind::Line { dashed, .. } = &mut self.kind {
            *dashed = true;
        }
        self
    }
    /// Adds the 1:1 line to a scatter.
    pub fn with_one_to_one(mut self) -> Self {
        if let SeriesKind::Scatter { one_to_one, .. } = &mut self.kind {
            *one_to_one = true;
        }
        self
    }
    /// Prints bar values with `decimals` at the bar ends.
    pub fn with_value_labels(mut self, decimals: usize) -> Self {
        if let SeriesKind::Bars { value_decimals, .. } = &mut self.kind {
            *value_decimals = Some(decimals);
        }
        self
    }
}

/// A corner of the plot area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

/// Where the legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegendPosition {
    /// Inside the plot, in the corner that covers the least data; outside on the right when every
    /// corner would cover some.
    #[default]
    Auto,
    Inside(Corner),
    /// Outside, right of the plot.
    Right,
    /// Outside, below the x-axis title, entries in rows.
    Bottom,
    Hidden,
}

/// Legend settings. Entries are the named series, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Legend {
    pub position: LegendPosition,
    /// Optional heading (e.g. "Year").
    pub title: Option<String>,
}

/// Extra marks on a chart.
#[derive(Debug, Clone, PartialEq)]
pub enum Annotation {
    /// A vertical reference line at `x`, labelled at its top.
    VLine { x: f64, label: String },
    /// A horizontal reference line at `y` (on the secondary axis if `secondary`), labelled at its
    /// right end.
    HLine {
        y: f64,
        label: String,
        secondary: bool,
    },
    /// Text centred at a data point.
    Text { x: f64, y: f64, text: String },
    /// A boxed note in a corner of the plot (e.g. "R² = 0.947\nRMSE = 0.038"); `\n` breaks lines.
    Note { text: String, corner: Corner },
}
