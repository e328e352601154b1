//! Drawing a [`History`] with plotters: a loss panel, and an accuracy panel when the
//! run recorded accuracy. Text is rendered with a bundled DejaVu Sans (ASCII subset,
//! `assets/DejaVuSans-ascii.ttf`), so PNG output needs no system fonts.

use std::fmt;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::history::History;

/// Why a plot could not be drawn or written.
#[derive(Debug)]
pub struct PlotError {
    message: String,
}

impl PlotError {
    pub(super) fn new(message: impl Into<String>) -> Self {
        PlotError {
            message: message.into(),
        }
    }

    pub(crate) fn io(path: &Path, err: std::io::Error) -> Self {
        PlotError::new(format!("cannot write {}: {err}", path.display()))
    }
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PlotError {}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 420;
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-ascii.ttf");

pub(super) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled font is valid; if registration failed, text would be missing, not wrong.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

fn check(history: &History) -> Result<(), PlotError> {
    if history.epochs.is_empty() && history.batch_losses.is_empty() {
        return Err(PlotError::new(
            "the history is empty: train for at least one epoch before plotting",
        ));
    }
    Ok(())
}

pub(crate) fn svg_string(history: &History) -> Result<String, PlotError> {
    check(history)?;
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, history)?;
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

pub(crate) fn png_file(history: &History, path: &Path) -> Result<(), PlotError> {
    check(history)?;
    register_font();
    let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    draw(&root, history)?;
    root.present()
        .map_err(|e| PlotError::new(format!("cannot write {}: {e}", path.display())))
}

pub(super) fn drawing<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> PlotError {
    PlotError::new(format!("plotting failed: {e}"))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    history: &History,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(drawing)?;
    let has_accuracy = history.epochs.iter().any(|e| e.eval_accuracy.is_some());
    if has_accuracy {
        let (left, right) = root.split_horizontally(WIDTH * 3 / 5);
        draw_loss(&left, history)?;
        draw_accuracy(&right, history)?;
    } else {
        draw_loss(root, history)?;
    }
    Ok(())
}

pub(super) fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

fn draw_loss<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    history: &History,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let epochs = history.epochs.len().max(1) as f64;
    let per_epoch = history.batch_losses.len() as f64 / epochs;
    // Batch k (0-based) ends at epoch (k + 1) / batches_per_epoch.
    let batch_points: Vec<(f64, f64)> = history
        .batch_losses
        .iter()
        .enumerate()
        .map(|(k, l)| ((k + 1) as f64 / per_epoch.max(1.0), *l))
        .filter(|(_, l)| l.is_finite())
        .collect();
    let train: Vec<(f64, f64)> = history
        .epochs
        .iter()
        .map(|e| (e.epoch as f64, e.train_loss))
        .collect();
    let eval: Vec<(f64, f64)> = history
        .epochs
        .iter()
        .filter_map(|e| e.eval_loss.map(|l| (e.epoch as f64, l)))
        .collect();
    let (lo, hi) = finite_range(batch_points.iter().chain(&train).chain(&eval).map(|p| p.1))
        .unwrap_or((0.0, 1.0));
    let pad = ((hi - lo) * 0.05).max(1e-12);
    let y_lo = if lo >= 0.0 {
        (lo - pad).max(0.0)
    } else {
        lo - pad
    };

    let mut chart = ChartBuilder::on(area)
        .caption("loss", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..epochs, y_lo..hi + pad)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(drawing)?;

    let light = RGBColor(150, 170, 220);
    chart
        .draw_series(LineSeries::new(batch_points, light.stroke_width(1)))
        .map_err(drawing)?
        .label("train (batch)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], light));
    chart
        .draw_series(LineSeries::new(train, BLUE.stroke_width(2)))
        .map_err(drawing)?
        .label("train (epoch mean)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLUE.stroke_width(2)));
    if !eval.is_empty() {
        chart
            .draw_series(LineSeries::new(eval, RED.stroke_width(2)))
            .map_err(drawing)?
            .label("eval")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(drawing)
}

fn draw_accuracy<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    history: &History,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let epochs = history.epochs.len().max(1) as f64;
    let points: Vec<(f64, f64)> = history
        .epochs
        .iter()
        .filter_map(|e| e.eval_accuracy.map(|a| (e.epoch as f64, a)))
        .collect();
    let mut chart = ChartBuilder::on(area)
        .caption("accuracy", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..epochs, 0.0..1.0)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(drawing)?;
    let green = RGBColor(30, 140, 60);
    chart
        .draw_series(LineSeries::new(points.clone(), green.stroke_width(2)))
        .map_err(drawing)?;
    chart
        .draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, green.filled())),
        )
        .map_err(drawing)?;
    Ok(())
}
