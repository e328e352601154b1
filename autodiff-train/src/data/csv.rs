//! The CSV reader behind [`Dataset::from_csv`](super::Dataset::from_csv).

use nalgebra::DMatrix;

use super::{DataError, Dataset};

/// The two header layouts.
enum Header {
    /// `n_samples,n_features,class names...` (scikit-learn's bundled CSV files).
    Sklearn {
        samples: usize,
        features: usize,
        classes: Vec<String>,
    },
    /// Column names; the last one is the label.
    Names(usize),
}

fn fields(line: &str) -> Vec<&str> {
    line.split(',').map(str::trim).collect()
}

fn parse_header(cells: &[&str]) -> Header {
    if let [samples, features, classes @ ..] = cells {
        if let (Ok(samples), Ok(features)) = (samples.parse(), features.parse()) {
            if !classes.is_empty() {
                return Header::Sklearn {
                    samples,
                    features,
                    classes: classes.iter().map(|c| c.to_string()).collect(),
                };
            }
        }
    }
    Header::Names(cells.len())
}

pub(super) fn parse(text: &str) -> Result<Dataset, DataError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(DataError::Invalid(
            "the CSV text is empty; expected a header line and one line per example".into(),
        ));
    };
    let header_cells = fields(header);
    let header = parse_header(&header_cells);
    let columns = match &header {
        Header::Sklearn { features, .. } => features + 1,
        Header::Names(n) => *n,
    };
    if columns < 2 {
        return Err(DataError::Parse {
            line: header_line,
            message: format!(
                "the header has {columns} column(s); expected at least one feature and the label"
            ),
        });
    }

    let mut values = Vec::new();
    let mut label_cells = Vec::new();
    for (line, content) in lines {
        let cells = fields(content);
        if cells.len() != columns {
            return Err(DataError::Parse {
                line,
                message: format!(
                    "{} columns, but the header announces {columns} ({} features and the label)",
                    cells.len(),
                    columns - 1
                ),
            });
        }
        for (j, cell) in cells[..columns - 1].iter().enumerate() {
            let v: f64 = cell.parse().map_err(|_| DataError::Parse {
                line,
                message: format!("feature {j} is `{cell}`, not a number"),
            })?;
            values.push(v);
        }
        label_cells.push((line, cells[columns - 1].to_string()));
    }
    let rows = label_cells.len();
    let features = DMatrix::from_row_slice(rows, columns - 1, &values);

    let (labels, class_names) = match header {
        Header::Sklearn {
            samples, classes, ..
        } => {
            if samples != rows {
                return Err(DataError::Parse {
                    line: header_line,
                    message: format!(
                        "the header announces {samples} examples, the file has {rows}"
                    ),
                });
            }
            let mut labels = Vec::with_capacity(rows);
            for (line, cell) in &label_cells {
                match cell.parse::<usize>() {
                    Ok(l) if l < classes.len() => labels.push(l),
                    _ => {
                        return Err(DataError::Parse {
                            line: *line,
                            message: format!(
                                "the label `{cell}` is not a class index below {}",
                                classes.len()
                            ),
                        })
                    }
                }
            }
            (labels, classes)
        }
        Header::Names(_) => labels_by_name(&label_cells),
    };
    Dataset::new(features, labels, class_names)
}

/// Class indices for label cells that are indices (`0`, `2`, ...) or names (numbered in
/// order of first appearance).
fn labels_by_name(cells: &[(usize, String)]) -> (Vec<usize>, Vec<String>) {
    let indices: Option<Vec<usize>> = cells.iter().map(|(_, c)| c.parse().ok()).collect();
    if let Some(indices) = indices {
        let classes = indices.iter().max().map_or(0, |m| m + 1);
        return (indices, (0..classes).map(|c| c.to_string()).collect());
    }
    let mut names: Vec<String> = Vec::new();
    let labels = cells
        .iter()
        .map(|(_, c)| match names.iter().position(|n| n == c) {
            Some(i) => i,
            None => {
                names.push(c.clone());
                names.len() - 1
            }
        })
        .collect();
    (labels, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_columns_with_class_names() {
        let d = parse("x,y,kind\n1,2,cat\n3,4,dog\n\n5,6,cat\n").unwrap();
        assert_eq!(d.labels, [0, 1, 0]);
        assert_eq!(d.class_names, ["cat", "dog"]);
        assert_eq!(
            d.features,
            DMatrix::from_row_slice(3, 2, &[1., 2., 3., 4., 5., 6.])
        );
        let d = parse("x,label\n1,2\n3,0\n").unwrap();
        assert_eq!((d.labels, d.class_names.len()), (vec![2, 0], 3));
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("2,1,a,b\n1.0,0\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "CSV line 1: the header announces 2 examples, the file has 1"
        );
        let err = parse("x,y,kind\n1,2,cat\n3,cat\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "CSV line 3: 2 columns, but the header announces 3 (2 features and the label)"
        );
        let err = parse("x,kind\noops,cat\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "CSV line 2: feature 0 is `oops`, not a number"
        );
        let err = parse("1,1,a\n1.0,1\n").unwrap_err();
        assert!(
            err.to_string().contains("not a class index below 1"),
            "{err}"
        );
        assert!(parse("\n").is_err());
    }
}
