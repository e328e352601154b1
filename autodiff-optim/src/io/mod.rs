//! Saving and loading parameters as [safetensors](https://huggingface.co/docs/safetensors)
//! files, like PyTorch's `torch.save(model.state_dict())` / `load_state_dict`.
//!
//! [`save`] writes any [`Tangent`] value (a `#[derive(Tangent)]` model struct, a tuple, a
//! `Vec` of matrices, dynamic-engine tensors) as one tensor per leaf, named by the leaf's
//! dotted path ([`Tangent::visit_named`]: `w1`, `layers.0.w`, `0`; a value that is a
//! single leaf gets the empty name), in its own dtype (`F32` or `F64`) and with its shape
//! ([`Tangent::visit_named_shaped`]): `[]` for a scalar, `[n]` for a `Vec` of scalars,
//! `[rows, cols]` for a matrix, in row-major order as safetensors requires, so that
//! Python's `safetensors.numpy.load_file` or `safetensors.torch.load_file` reads it as it
//! is. [`load`] reads such a file, or one written by Python with the same names, shapes
//! and dtypes, into a value of the same structure.
//!
//! To stop a run and resume it bit for bit, save the optimizer's state
//! ([`save_optimizer`] / [`load_optimizer`]) and the learning-rate schedule's
//! ([`save_scheduler`] / [`load_scheduler`]) next to the parameters.
//!
//! ```
//! use autodiff_optim::io;
//! use autodiff_runtime::nalgebra::{DMatrix, RowDVector};
//!
//! let path = std::env::temp_dir().join(format!("autodiff-io-doc-{}.safetensors", std::process::id()));
//! let trained = vec![
//!     (DMatrix::from_row_slice(2, 3, &[1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0]), RowDVector::from_element(3, 0.5)),
//!     (DMatrix::from_element(3, 1, -1.0), RowDVector::from_element(1, 0.25)),
//! ];
//! io::save(&trained, &path)?; // tensors "0.0" [2, 3], "0.1" [1, 3], "1.0" [3, 1], "1.1" [1, 1]
//!
//! let mut model = vec![
//!     (DMatrix::zeros(2, 3), RowDVector::zeros(3)),
//!     (DMatrix::zeros(3, 1), RowDVector::zeros(1)),
//! ];
//! io::load(&mut model, &path)?;
//! assert_eq!(model, trained);
//!
//! // A model of another shape is refused, and left as it was.
//! let mut wider = vec![
//!     (DMatrix::<f32>::zeros(2, 4), RowDVector::zeros(4)),
//!     (DMatrix::zeros(4, 1), RowDVector::zeros(1)),
//! ];
//! let err = io::load(&mut wider, &path).unwrap_err();
//! assert_eq!(err.tensor(), Some("0.0"));
//! assert!(wider[0].0.iter().all(|&x| x == 0.0));
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensorError, SafeTensors, View};

mod optimizer;
mod scheduler;
pub use optimizer::{load_optimizer, save_optimizer};
pub use scheduler::{load_scheduler, save_scheduler};

use autodiff_runtime::rules::Real;
use autodiff_runtime::tangent::Tangent;

/// Why [`save`] or [`load`] failed: the file, the tensor concerned (when there is one),
/// and what went wrong.
#[derive(Debug)]
pub struct IoError {
    path: PathBuf,
    tensor: Option<String>,
    kind: IoErrorKind,
}

/// What went wrong in an [`IoError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum IoErrorKind {
    /// Reading or writing the file failed.
    File(std::io::Error),
    /// The file is not a valid safetensors file (a bad header, or truncated: then the
    /// error's tensor is the first one cut off).
    Damaged(String),
    /// The parameters have this tensor, the file does not.
    Missing {
        /// The names the file has, sorted.
        in_file: Vec<String>,
    },
    /// The file has this tensor, the parameters do not.
    Unexpected,
    /// The tensor's shape in the file is not the parameter's.
    Shape {
        /// The parameter's shape.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// The tensor's dtype in the file is not the parameter's (`F32` or `F64`).
    Dtype {
        /// The parameter's dtype.
        expected: String,
        /// The dtype in the file.
        found: String,
    },
    /// The file holds the state of another kind of learning-rate schedule
    /// ([`load_scheduler`]).
    Kind {
        /// The schedule's kind (`StepLR`).
        expected: String,
        /// The kind in the file (empty when the file does not say).
        found: String,
    },
    /// Two leaves of the value have the same name (a hand-written `Tangent` impl whose
    /// `visit_named` repeats a path), so the file could not tell them apart.
    DuplicateName,
}

impl IoError {
    /// The file that was being read or written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name of the tensor concerned, if the error is about one (`""` is the name of
    /// a value that is a single leaf).
    pub fn tensor(&self) -> Option<&str> {
        self.tensor.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &IoErrorKind {
        &self.kind
    }

    pub(crate) fn new(path: &Path, tensor: Option<&str>, kind: IoErrorKind) -> Self {
        IoError {
            path: path.to_path_buf(),
            tensor: tensor.map(str::to_string),
            kind,
        }
    }
}

fn tensor_name(name: &str) -> String {
    if name.is_empty() {
        "`` (the value itself)".to_string()
    } else {
        format!("`{name}`")
    }
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        let tensor = tensor_name(self.tensor.as_deref().unwrap_or(""));
        match &self.kind {
            IoErrorKind::File(e) => write!(f, "`{path}`: {e}"),
            IoErrorKind::Damaged(message) => match &self.tensor {
                Some(_) => write!(
                    f,
                    "`{path}` is not a valid safetensors file: tensor {tensor}: {message}"
                ),
                None => write!(f, "`{path}` is not a valid safetensors file: {message}"),
            },
            IoErrorKind::Missing { in_file } => {
                write!(
                    f,
                    "`{path}` has no tensor {tensor}, which the parameters have; the file has "
                )?;
                if in_file.is_empty() {
                    return write!(f, "no tensors");
                }
                let shown: Vec<String> = in_file.iter().take(12).map(|n| tensor_name(n)).collect();
                write!(f, "{}", shown.join(", "))?;
                if in_file.len() > shown.len() {
                    write!(f, " and {} more", in_file.len() - shown.len())?;
                }
                Ok(())
            }
            IoErrorKind::Unexpected => write!(
                f,
                "`{path}` has a tensor {tensor} that the parameters do not have \
                 (a model of another structure?)"
            ),
            IoErrorKind::Shape { expected, found } => write!(
                f,
                "tensor {tensor} has shape {found:?} in `{path}`, the parameter has {expected:?}"
            ),
            IoErrorKind::Dtype { expected, found } => write!(
                f,
                "tensor {tensor} is {found} in `{path}`, the parameter is {expected}; \
                 convert the file or load into a model of that precision"
            ),
            IoErrorKind::Kind { expected, found } if found.is_empty() => write!(
                f,
                "`{path}` does not hold the state of a learning-rate schedule (no `scheduler` \
                 metadata); expected a {expected}"
            ),
            IoErrorKind::Kind { expected, found } => write!(
                f,
                "`{path}` holds the state of {} {found} schedule, not of {} {expected}; \
                 load it into a schedule of that kind",
                article(found),
                article(expected)
            ),
            IoErrorKind::DuplicateName => write!(
                f,
                "two leaves of the parameters are named {tensor}, so `{path}` could not \
                 tell them apart (a `Tangent` impl whose `visit_named` repeats a path)"
            ),
        }
    }
}

/// `a` or `an` before a schedule's name (`an ExponentialLR`).
fn article(word: &str) -> &'static str {
    if word.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            IoErrorKind::File(e) => Some(e),
            _ => None,
        }
    }
}

/// The safetensors dtype of `S` (`f32` or `f64`, the only [`Real`] types).
fn dtype_of<S: Real>() -> Dtype {
    if std::mem::size_of::<S>() == 4 {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// The order in which a leaf's column-major elements are written row-major: for each
/// row-major position, the column-major index of the element that goes there.
fn for_each_row_major(shape: &[usize], len: usize, mut f: impl FnMut(usize, usize)) {
    match shape {
        [rows, cols] => {
            let (rows, cols) = (*rows, *cols);
            for i in 0..rows {
                for j in 0..cols {
                    f(i * cols + j, j * rows + i);
                }
            }
        }
        // Scalars and vectors (and any other leaf a `Tangent` reports flat): the orders agree.
        _ => (0..len).for_each(|k| f(k, k)),
    }
}

/// One leaf, encoded for the file.
pub(crate) struct Encoded {
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
}

impl View for &Encoded {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

pub(crate) fn encode<S: Real>(shape: &[usize], leaf: &[S]) -> Encoded {
    let width = std::mem::size_of::<S>();
    let mut bytes = vec![0u8; std::mem::size_of_val(leaf)];
    for_each_row_major(shape, leaf.len(), |out, from| {
        let x = leaf[from].to_f64_lossless();
        let chunk = &mut bytes[out * width..(out + 1) * width];
        if width == 4 {
            chunk.copy_from_slice(&(x as f32).to_le_bytes());
        } else {
            chunk.copy_from_slice(&x.to_le_bytes());
        }
    });
    Encoded {
        dtype: dtype_of::<S>(),
        shape: shape.to_vec(),
        bytes,
    }
}

pub(crate) fn decode<S: Real>(shape: &[usize], bytes: &[u8]) -> Vec<S> {
    let width = std::mem::size_of::<S>();
    let len = bytes.len() / width;
    let mut out = vec![S::c(0.0); len];
    for_each_row_major(shape, len, |from, to| {
        let chunk = &bytes[from * width..(from + 1) * width];
        out[to] = if width == 4 {
            S::c(f32::from_le_bytes(chunk.try_into().expect("4 bytes")) as f64)
        } else {
            S::c(f64::from_le_bytes(chunk.try_into().expect("8 bytes")))
        };
    });
    out
}

/// Writes `params` to `path` as a safetensors file: one tensor per leaf, named by its
/// dotted path, with its shape (`[rows, cols]` for a matrix, row-major) and dtype (see
/// the [module docs](self)). The file is written to a temporary file next to `path` and
/// renamed, so an existing checkpoint is replaced whole or not at all.
///
/// ```
/// use autodiff_optim::io;
/// use autodiff_runtime::nalgebra::DMatrix;
///
/// let path = std::env::temp_dir().join(format!("autodiff-save-doc-{}.safetensors", std::process::id()));
/// let params = (DMatrix::from_row_slice(2, 2, &[1.0_f64, 2.0, 3.0, 4.0]), 0.5_f64);
/// io::save(&params, &path)?; // tensors "0" (F64, [2, 2]: 1, 2, 3, 4) and "1" (F64, [])
///
/// let mut back = (DMatrix::zeros(2, 2), 0.0);
/// io::load(&mut back, &path)?;
/// assert_eq!(back, params);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`IoErrorKind::File`] when the file cannot be written; [`IoErrorKind::DuplicateName`]
/// when two leaves have the same path (only a hand-written `Tangent` impl can do that).
pub fn save<P: Tangent + ?Sized>(params: &P, path: impl AsRef<Path>) -> Result<(), IoError> {
    let path = path.as_ref();
    let mut tensors: Vec<(String, Encoded)> = Vec::new();
    params.visit_named_shaped("", &mut |name, shape, leaf| {
        tensors.push((name.to_string(), encode(shape, leaf)))
    });
    let mut seen = HashSet::with_capacity(tensors.len());
    if let Some((name, _)) = tensors.iter().find(|(name, _)| !seen.insert(name.as_str())) {
        return Err(IoError::new(path, Some(name), IoErrorKind::DuplicateName));
    }
    write(path, &tensors)
}

/// Writes `tensors` to `path` (through a temporary file next to it).
pub(crate) fn write(path: &Path, tensors: &[(String, Encoded)]) -> Result<(), IoError> {
    write_with_metadata(path, tensors, None)
}

/// [`write`] with the header's `__metadata__` map.
pub(crate) fn write_with_metadata(
    path: &Path,
    tensors: &[(String, Encoded)],
    metadata: Option<std::collections::HashMap<String, String>>,
) -> Result<(), IoError> {
    let views = tensors.iter().map(|(name, t)| (name.as_str(), t));
    safetensors::serialize_to_file(views, metadata, path).map_err(|e| match e {
        SafeTensorError::IoError(e) => IoError::new(path, None, IoErrorKind::File(e)),
        other => IoError::new(path, None, IoErrorKind::Damaged(other.to_string())),
    })
}

/// The bytes of the file at `path`.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, IoError> {
    std::fs::read(path).map_err(|e| IoError::new(path, None, IoErrorKind::File(e)))
}

/// `bytes` (the file at `path`) parsed, or the error naming what is damaged.
pub(crate) fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>, IoError> {
    SafeTensors::deserialize(bytes).map_err(|e| damaged(path, bytes, e))
}

/// A leaf of the value being loaded: its name, shape and length.
struct Slot {
    name: String,
    shape: Vec<usize>,
    len: usize,
}

/// Reads the safetensors file at `path` into `params`, which must have the structure of
/// the value saved: the same tensor names, shapes and dtypes, no more and no fewer (as
/// PyTorch's `load_state_dict` with `strict=True`). Every tensor is checked before any
/// is written, so on an error `params` is unchanged. Files written by Python's
/// `safetensors` (`save_file({"w1": w1, ...})`, row-major arrays) load.
///
/// ```
/// use autodiff_optim::io::{self, IoErrorKind};
/// use autodiff_runtime::nalgebra::DMatrix;
///
/// let path = std::env::temp_dir().join(format!("autodiff-load-doc-{}.safetensors", std::process::id()));
/// io::save(&vec![DMatrix::from_element(2, 3, 1.5_f32)], &path)?;
///
/// let mut same = vec![DMatrix::<f32>::zeros(2, 3)];
/// io::load(&mut same, &path)?;
/// assert_eq!(same[0][(1, 2)], 1.5);
///
/// let mut transposed = vec![DMatrix::<f32>::zeros(3, 2)];
/// let err = io::load(&mut transposed, &path).unwrap_err();
/// assert!(matches!(err.kind(), IoErrorKind::Shape { .. }));
/// assert!(err.to_string().starts_with("tensor `0` has shape [2, 3] in"));
/// assert!(transposed[0].iter().all(|&x| x == 0.0));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`IoErrorKind::File`] when the file cannot be read; [`IoErrorKind::Damaged`] when it
/// is not a valid safetensors file (naming the first tensor cut off when it is
/// truncated); [`IoErrorKind::Missing`], [`IoErrorKind::Unexpected`],
/// [`IoErrorKind::Shape`] and [`IoErrorKind::Dtype`] naming the first tensor that does
/// not match, parameters first (in their order), then the file's extra names (sorted).
pub fn load<P: Tangent + ?Sized>(params: &mut P, path: impl AsRef<Path>) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let file = parse(path, &bytes)?;

    let mut slots = Vec::new();
    params.visit_named_shaped("", &mut |name, shape, leaf| {
        slots.push(Slot {
            name: name.to_string(),
            shape: shape.to_vec(),
            len: leaf.len(),
        })
    });
    let dtype = dtype_of::<P::Scalar>();
    let mut values: Vec<Vec<P::Scalar>> = Vec::with_capacity(slots.len());
    for slot in &slots {
        let name = Some(slot.name.as_str());
        let tensor = file.tensor(&slot.name).map_err(|_| {
            let mut in_file: Vec<String> = file.names().into_iter().map(String::from).collect();
            in_file.sort();
            IoError::new(path, name, IoErrorKind::Missing { in_file })
        })?;
        if tensor.dtype() != dtype {
            let kind = IoErrorKind::Dtype {
                expected: format!("{dtype:?}"),
                found: format!("{:?}", tensor.dtype()),
            };
            return Err(IoError::new(path, name, kind));
        }
        if tensor.shape() != slot.shape.as_slice() {
            let kind = IoErrorKind::Shape {
                expected: slot.shape.clone(),
                found: tensor.shape().to_vec(),
            };
            return Err(IoError::new(path, name, kind));
        }
        values.push(decode(&slot.shape, tensor.data()));
    }
    let expected: HashSet<&str> = slots.iter().map(|s| s.name.as_str()).collect();
    let mut extra: Vec<&str> = file
        .names()
        .into_iter()
        .filter(|n| !expected.contains(n))
        .collect();
    extra.sort_unstable();
    if let Some(name) = extra.first() {
        return Err(IoError::new(path, Some(name), IoErrorKind::Unexpected));
    }

    // Everything checked: write. `visit_mut` walks the leaves in the order of
    // `visit_named_shaped` (the `Tangent` contract).
    let mut next = values.iter().zip(&slots);
    params.visit_mut(&mut |leaf| {
        let (value, slot) = next
            .next()
            .expect("Tangent: `visit_mut` visits more leaves than `visit_named_shaped`");
        assert_eq!(
            (leaf.len(), value.len()),
            (slot.len, slot.len),
            "Tangent: `visit_mut` and `visit_named_shaped` disagree on the leaf `{}`",
            slot.name
        );
        leaf.copy_from_slice(value);
    });
    Ok(())
}

/// The error for a file safetensors refuses; for a truncated one, the tensor cut off.
fn damaged(path: &Path, bytes: &[u8], error: SafeTensorError) -> IoError {
    let message = error.to_string();
    if let SafeTensorError::MetadataIncompleteBuffer = error {
        if let Some((name, needed, available)) = first_cut_tensor(bytes) {
            let kind = IoErrorKind::Damaged(format!(
                "the file is truncated: this tensor needs data bytes up to {needed}, \
                 the file has {available}"
            ));
            return IoError::new(path, Some(&name), kind);
        }
        let kind = IoErrorKind::Damaged(
            "the data does not end where the last tensor does (truncated or padded)".into(),
        );
        return IoError::new(path, None, kind);
    }
    if let SafeTensorError::InvalidOffset(name) = &error {
        return IoError::new(path, Some(name), IoErrorKind::Damaged(message));
    }
    if let SafeTensorError::InvalidHeaderLength = error {
        let kind = IoErrorKind::Damaged(format!(
            "{message}: the header is cut off (a truncated file of {} bytes?)",
            bytes.len()
        ));
        return IoError::new(path, None, kind);
    }
    IoError::new(path, None, IoErrorKind::Damaged(message))
}

/// In a file whose header is whole but whose data is short: the tensor whose data
/// starts first among those that end past the data, with the bytes it needs and the
/// bytes there are.
fn first_cut_tensor(bytes: &[u8]) -> Option<(String, usize, usize)> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let header = bytes.get(8..8usize.checked_add(n)?)?;
    let available = bytes.len() - 8 - n;
    let header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(header).ok()?;
    header
        .iter()
        .filter(|(name, _)| name.as_str() != "__metadata__")
        .filter_map(|(name, info)| {
            let offsets = info.get("data_offsets")?.as_array()?;
            let start = offsets.first()?.as_u64()? as usize;
            let end = offsets.get(1)?.as_u64()? as usize;
            (end > available).then(|| (start, name.clone(), end))
        })
        .min()
        .map(|(_, name, end)| (name, end, available))
}
