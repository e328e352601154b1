//! [`LineChart`]: named series of points drawn with plotters to SVG or PNG, optionally
//! on a logarithmic y axis (gradient norms span many orders of magnitude).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::plot::{drawing, finite_range, register_font, PlotError};

const WIDTH: u32 = 800;
const HEIGHT: u32 = 480;
/// Series with at most this many points get a marker at each point.
const MARKER_LIMIT: usize = 40;
/// A series ready to draw: its name and its drawable points.
type Drawable<'a> = (&'a str, Vec<(f64, f64)>);

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// A line chart of named series, for measurements a [`History`](super::History) does
/// not hold (per-layer gradient norms, a norm per step).
///
/// Points whose y is NaN or infinite (or not positive, on a log axis) are left out, so a
/// run that diverged is drawn up to its last finite value.
///
/// ```
/// use autodiff_train::train::LineChart;
/// let chart = LineChart::new("gradient norm per layer")
///     .x_label("layer")
///     .y_label("norm")
///     .log_y(true)
///     .series("sigmoid", [(1.0, 1e-6), (2.0, 1e-4), (3.0, 1e-2)])
///     .series("relu", [(1.0, 0.5), (2.0, 0.7), (3.0, 0.6)]);
/// let svg = chart.to_svg()?;
/// assert!(svg.starts_with("<svg") && svg.contains("sigmoid"));
/// # Ok::<(), autodiff_train::train::PlotError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    log_y: bool,
    series: Vec<(String, Vec<(f64, f64)>)>,
}

impl LineChart {
    /// An empty chart with a title.
    pub fn new(title: impl Into<String>) -> Self {
        LineChart {
            title: title.into(),
            ..LineChart::default()
        }
    }

    /// The x axis description.
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = label.into();
        self
    }

    /// The y axis description.
    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// A logarithmic y axis (default linear).
    pub fn log_y(mut self, log: bool) -> Self {
        self.log_y = log;
        self
    }

    /// Adds a series: a line through `points` `(x, y)`, named in the legend.
    pub fn series(
        mut self,
        name: impl Into<String>,
        points: impl IntoIterator<Item = (f64, f64)>,
    ) -> Self {
        self.series
            .push((name.into(), points.into_iter().collect()));
        self
    }

    /// The chart as an SVG document.
    ///
    /// # Errors
    /// When no series has a point that can be drawn.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        let series = self.drawable()?;
        register_font();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root, &series)?;
            root.present().map_err(drawing)?;
        }
        Ok(svg)
    }

    /// Writes the chart as an SVG file.
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let svg = self.to_svg()?;
        std::fs::write(path.as_ref(), svg).map_err(|e| PlotError::io(path.as_ref(), e))
    }

    /// Writes the chart as a PNG file.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
        let series = self.drawable()?;
        register_font();
        let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
        self.draw(&root, &series)?;
        root.present()
            .map_err(|e| PlotError::new(format!("cannot write {}: {e}", path.display())))
    }

    /// The points that can be drawn, series by series.
    fn drawable(&self) -> Result<Vec<Drawable<'_>>, PlotError> {
        let series: Vec<Drawable<'_>> = self
            .series
            .iter()
            .map(|(name, points)| {
                let kept = points
                    .iter()
                    .copied()
                    .filter(|&(x, y)| x.is_finite() && y.is_finite() && (!self.log_y || y > 0.0))
                    .collect();
                (name.as_str(), kept)
            })
            .collect();
        if series.iter().all(|(_, p)| p.is_empty()) {
            return Err(PlotError::new(format!(
                "the chart `{}` has no finite point to draw; add a series with finite values{}",
                self.title,
                if self.log_y {
                    " (> 0 on a log axis)"
                } else {
                    ""
                }
            )));
        }
        Ok(series)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        series: &[Drawable<'_>],
    ) -> Result<(), PlotError>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(drawing)?;
        let all = || series.iter().flat_map(|(_, p)| p.iter());
        let (x_lo, x_hi) = finite_range(all().map(|p| p.0)).unwrap_or((0.0, 1.0));
        let (y_lo, y_hi) = finite_range(all().map(|p| p.1)).unwrap_or((0.0, 1.0));
        let x_pad = ((x_hi - x_lo) * 0.03).max(0.5);
        let x_range = x_lo - x_pad..x_hi + x_pad;
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(70);
        if self.log_y {
            let range = (y_lo / 2.0..y_hi * 2.0).log_scale();
            let mut chart = builder
                .build_cartesian_2d(x_range, range)
                .map_err(drawing)?;
            chart
                .configure_mesh()
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .y_label_formatter(&|y| format!("{y:.0e}"))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(drawing)?;
            draw_series(&mut chart, series)
        } else {
            let pad = ((y_hi - y_lo) * 0.05).max(1e-12);
            let mut chart = builder
                .build_cartesian_2d(x_range, y_lo - pad..y_hi + pad)
                .map_err(drawing)?;
            chart
                .configure_mesh()
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(drawing)?;
            draw_series(&mut chart, series)
        }
    }
}

fn draw_series<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    series: &[Drawable<'_>],
) -> Result<(), PlotError>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate<From = (f64, f64)>,
{
    for (i, (name, points)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(drawing)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        if points.len() <= MARKER_LIMIT {
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(drawing)?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(drawing)
}

#[cfg(test)]
mod tests {
    use super::LineChart;

    #[test]
    fn non_finite_and_non_positive_points_are_left_out_on_a_log_axis() {
        let chart = LineChart::new("t")
            .log_y(true)
            .series("a", [(0.0, 1.0), (1.0, f64::NAN), (2.0, 0.0), (3.0, 1e3)]);
        let kept = chart.drawable().unwrap();
        assert_eq!(kept[0].1, [(0.0, 1.0), (3.0, 1e3)]);
        let svg = chart.to_svg().unwrap();
        assert!(svg.contains("<svg"));
    }

    #[test]
    fn nothing_to_draw_is_an_error() {
        let err = LineChart::new("empty")
            .log_y(true)
            .series("a", [(0.0, -1.0)])
            .to_svg()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the chart `empty` has no finite point to draw; add a series with finite values (> 0 on a log axis)"
        );
    }

    #[test]
    fn png_files_are_written() {
        let path = std::env::temp_dir().join(format!("line_chart_{}.png", std::process::id()));
        LineChart::new("linear")
            .series("a", (0..100).map(|i| (i as f64, (i as f64).sin())))
            .save_png(&path)
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(&bytes[..4], b"\x89PNG");
    }
}
