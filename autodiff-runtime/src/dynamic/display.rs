//! `Display` and `Debug` for [`Tensor`], following PyTorch's `torch/_tensor_str.py`
//! with its default print options (precision 4, line width 80, summarizing above 1000
//! elements with 3 items at each edge).
//!
//! An n x 1 column (and so a 1x1 scalar) prints as PyTorch prints a 1-d tensor,
//! `tensor([9.])`; any other shape as a 2-d tensor, one row per line. Numbers follow
//! PyTorch's formatter: if every finite nonzero value is an integer they print as
//! `2.`; otherwise with 4 decimals (`0.1235`); scientific notation (`1.0000e-05`)
//! when the largest magnitude exceeds 1e8, or is over 1000 times the smallest, or (for
//! non-integers) the smallest is below 1e-4. All numbers are right-aligned to one width.

use std::fmt;

use nalgebra::DMatrix;

use super::tensor::Tensor;

const PRECISION: usize = 4;
const LINE_WIDTH: usize = 80;
const THRESHOLD: usize = 1000;
const EDGE_ITEMS: usize = 3;
const PREFIX: &str = "tensor(";

/// PyTorch's `_Formatter`: one number format and width for the whole tensor.
struct NumberFormat {
    int_mode: bool,
    sci_mode: bool,
    width: usize,
}

/// Python's `'{:.4e}'`: a two-digit, signed exponent (`1.2346e+05`).
fn python_sci(v: f64) -> String {
    if !v.is_finite() {
        return python_non_finite(v);
    }
    let s = format!("{v:.PRECISION$e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let exp: i32 = exp.parse().unwrap_or(0);
            let sign = if exp < 0 { '-' } else { '+' };
            format!("{mantissa}e{sign}{:02}", exp.abs())
        }
        None => s,
    }
}

/// Python's spelling of non-finite floats.
fn python_non_finite(v: f64) -> String {
    if v.is_nan() {
        "nan".to_string()
    } else if v > 0.0 {
        "inf".to_string()
    } else {
        "-inf".to_string()
    }
}

/// Python's `'{:.Nf}'`.
fn python_fixed(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        python_non_finite(v)
    }
}

impl NumberFormat {
    fn new(values: &[f64]) -> Self {
        let mut format = NumberFormat {
            int_mode: true,
            sci_mode: false,
            width: 1,
        };
        let finite: Vec<f64> = values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && *v != 0.0)
            .collect();
        if finite.is_empty() {
            return format;
        }
        let (min, max) = finite.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v.abs()), hi.max(v.abs()))
        });
        format.int_mode = finite.iter().all(|v| *v == v.ceil());
        let spread = max / min > 1000.0 || max > 1.0e8;
        format.sci_mode = if format.int_mode {
            spread
        } else {
            spread || min < 1.0e-4
        };
        format.width = finite
            .iter()
            .map(|&v| match (format.sci_mode, format.int_mode) {
                (true, _) => python_sci(v).len(),
                (false, true) => python_fixed(v, 0).len() + 1,
                (false, false) => python_fixed(v, PRECISION).len(),
            })
            .max()
            .unwrap_or(1);
        format
    }

    fn format(&self, v: f64) -> String {
        let s = if self.sci_mode {
            python_sci(v)
        } else if self.int_mode {
            let mut s = python_fixed(v, 0);
            if v.is_finite() {
                s.push('.');
            }
            s
        } else {
            python_fixed(v, PRECISION)
        };
        format!("{s:>width$}", width = self.width)
    }
}

/// The indices shown of a dimension of length `n`: all, or the edges when summarizing.
fn shown(n: usize, summarize: bool) -> (Vec<usize>, bool) {
    if summarize && n > 2 * EDGE_ITEMS {
        ((0..EDGE_ITEMS).chain(n - EDGE_ITEMS..n).collect(), true)
    } else {
        ((0..n).collect(), false)
    }
}

/// PyTorch's `_vector_str`: elements wrapped to the line width, continuation lines
/// indented under the opening bracket.
fn vector_str(items: &[f64], elided: bool, indent: usize, format: &NumberFormat) -> String {
    let per_line = ((LINE_WIDTH - indent) / (format.width + 2)).max(1);
    let mut data: Vec<String> = items.iter().map(|&v| format.format(v)).collect();
    if elided {
        data.insert(EDGE_ITEMS, " ...".to_string());
    }
    let lines: Vec<String> = data.chunks(per_line).map(|line| line.join(", ")).collect();
    format!(
        "[{}]",
        lines.join(&format!(",\n{}", " ".repeat(indent + 1)))
    )
}

/// The bracketed body of `value` (PyTorch's `_tensor_str`), and whether it is empty.
fn body(value: &DMatrix<f64>) -> String {
    let (rows, cols) = value.shape();
    if value.is_empty() {
        return "[]".to_string();
    }
    let summarize = value.len() > THRESHOLD;
    let indent = PREFIX.len();
    if cols == 1 {
        let (idx, elided) = shown(rows, summarize);
        let items: Vec<f64> = idx.iter().map(|&i| value[(i, 0)]).collect();
        let format = NumberFormat::new(&items);
        return vector_str(&items, elided, indent, &format);
    }
    let (row_idx, rows_elided) = shown(rows, summarize);
    let (col_idx, cols_elided) = shown(cols, summarize);
    let shown_values: Vec<f64> = row_idx
        .iter()
        .flat_map(|&i| col_idx.iter().map(move |&j| value[(i, j)]))
        .collect();
    let format = NumberFormat::new(&shown_values);
    let mut lines: Vec<String> = shown_values
        .chunks(col_idx.len())
        .map(|row| vector_str(row, cols_elided, indent + 1, &format))
        .collect();
    if rows_elided {
        lines.insert(EDGE_ITEMS, "...".to_string());
    }
    format!(
        "[{}]",
        lines.join(&format!(",\n{}", " ".repeat(indent + 1)))
    )
}

/// PyTorch's `_add_suffixes`: `, suffix` on the last line, or on a new line when the
/// line would pass the line width.
fn add_suffixes(mut s: String, suffixes: &[String]) -> String {
    let indent = PREFIX.len();
    // Python: len(s) - s.rfind("\n") + 1, where rfind gives -1 when there is no newline.
    let mut last_line = match s.rfind('\n') {
        Some(p) => s.len() - p + 1,
        None => s.len() + 2,
    };
    for suffix in suffixes {
        if last_line + suffix.len() + 2 > LINE_WIDTH {
            s.push_str(",\n");
            s.push_str(&" ".repeat(indent));
            s.push_str(suffix);
            last_line = indent + suffix.len();
        } else {
            s.push_str(", ");
            s.push_str(suffix);
            last_line += suffix.len() + 2;
        }
    }
    s.push(')');
    s
}

/// The PyTorch rendering of `t`.
fn render(t: &Tensor) -> String {
    let data = t.data.borrow();
    let value = &*t.storage.borrow();
    let mut suffixes = Vec::new();
    if value.is_empty() && value.ncols() != 1 {
        suffixes.push(format!("size=({}, {})", value.nrows(), value.ncols()));
    }
    match &data.grad_fn {
        Some(node) => suffixes.push(format!("grad_fn=<{}>", node.name)),
        None if data.requires_grad => suffixes.push("requires_grad=True".to_string()),
        None => {}
    }
    add_suffixes(format!("{PREFIX}{}", body(value)), &suffixes)
}

impl fmt::Display for Tensor {
    /// Prints like PyTorch: `tensor([9.], grad_fn=<PowBackward0>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self))
    }
}

impl fmt::Debug for Tensor {
    /// The same text as `Display`, as PyTorch's `repr` and `str` agree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self))
    }
}
