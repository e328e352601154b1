//! Saving and loading an optimizer's state ([`OptimizerState`]) as a safetensors file, so
//! that training stopped, saved, loaded (in a new process) and resumed follows the same
//! trajectory bit for bit.
//!
//! The file holds `step` (`U64`, shape `[]`), `lr` (`F64`, `[]`) and, after the first
//! step, one `F64` tensor of shape `[n]` per buffer, named as torch names them
//! (`exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` for Adam; `momentum_buffer` for SGD;
//! `square_avg`, `grad_avg`, `momentum_buffer` for RMSprop), in the flat order of the
//! parameters' `Tangent`.

use std::collections::HashSet;
use std::path::Path;

use safetensors::Dtype;

use super::{decode, encode, parse, read, write, Encoded, IoError, IoErrorKind};
use crate::optim::{OptimizerState, SavedState};

/// Writes the state of `optimizer` (step count, learning rate, buffers) to `path` as a
/// safetensors file (`step`, `lr` and one `F64` tensor per buffer, named as torch names
/// them). Save the parameters next to it with
/// [`save`](super::save).
///
/// ```
/// use autodiff_optim::io;
/// use autodiff_optim::optim::{Adam, Optimizer};
///
/// let dir = std::env::temp_dir();
/// let (p_path, o_path) = (
///     dir.join(format!("autodiff-resume-params-{}.safetensors", std::process::id())),
///     dir.join(format!("autodiff-resume-adam-{}.safetensors", std::process::id())),
/// );
/// let grad = |p: &[f64; 2]| [2.0 * (p[0] - 3.0), 2.0 * (p[1] + 1.0)];
///
/// let (mut p, mut opt) = ([0.0_f64, 0.0], Adam::new(0.1));
/// for _ in 0..5 {
///     let g = grad(&p);
///     opt.step(&mut p, &g)?;
/// }
/// io::save(&p, &p_path)?;
/// io::save_optimizer(&opt, &o_path)?;
///
/// // Later, from the files alone:
/// let (mut q, mut resumed) = ([0.0_f64; 2], Adam::new(0.1));
/// io::load(&mut q, &p_path)?;
/// io::load_optimizer(&mut resumed, &o_path)?;
/// for _ in 0..5 {
///     let (g, h) = (grad(&p), grad(&q));
///     opt.step(&mut p, &g)?;
///     resumed.step(&mut q, &h)?;
/// }
/// assert_eq!(p, q); // bit for bit
/// # std::fs::remove_file(&p_path)?;
/// # std::fs::remove_file(&o_path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`IoErrorKind::File`] when the file cannot be written.
pub fn save_optimizer<O: OptimizerState + ?Sized>(
    optimizer: &O,
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    let state = optimizer.state();
    let mut tensors = vec![
        (
            "step".to_string(),
            Encoded {
                dtype: Dtype::U64,
                shape: Vec::new(),
                bytes: state.steps.to_le_bytes().to_vec(),
            },
        ),
        ("lr".to_string(), encode(&[], &[state.lr])),
    ];
    if let Some(buffers) = &state.buffers {
        for (name, buffer) in optimizer.buffer_names().iter().zip(buffers) {
            tensors.push((name.to_string(), encode(&[buffer.len()], buffer)));
        }
    }
    write(path.as_ref(), &tensors)
}

/// Reads a file written by [`save_optimizer`] into `optimizer`, which must be of the same
/// kind (the same buffer names) and should be built with the same hyperparameters: the
/// step count, the learning rate and the buffers are restored. Every tensor is checked
/// before anything changes, so on an error `optimizer` is as it was.
///
/// # Errors
/// [`IoErrorKind::File`] or [`IoErrorKind::Damaged`] for an unreadable file;
/// [`IoErrorKind::Missing`], [`IoErrorKind::Unexpected`], [`IoErrorKind::Shape`] and
/// [`IoErrorKind::Dtype`] naming the tensor that does not fit (a file of another
/// optimizer has unexpected buffer names; buffers must all be there or all absent, of one
/// length).
pub fn load_optimizer<O: OptimizerState + ?Sized>(
    optimizer: &mut O,
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let file = parse(path, &bytes)?;
    let mut in_file: Vec<String> = file.names().into_iter().map(String::from).collect();
    in_file.sort();
    let missing = |name: &str| {
        let kind = IoErrorKind::Missing {
            in_file: in_file.clone(),
        };
        IoError::new(path, Some(name), kind)
    };
    let tensor = |name: &str, dtype: Dtype, shape: Option<&[usize]>| {
        let t = file.tensor(name).map_err(|_| missing(name))?;
        if t.dtype() != dtype {
            let kind = IoErrorKind::Dtype {
                expected: format!("{dtype:?}"),
                found: format!("{:?}", t.dtype()),
            };
            return Err(IoError::new(path, Some(name), kind));
        }
        let wrong_rank = shape.is_none() && t.shape().len() != 1;
        if wrong_rank || shape.is_some_and(|s| s != t.shape()) {
            let expected = shape.map_or_else(|| vec![t.shape().iter().product()], <[_]>::to_vec);
            let kind = IoErrorKind::Shape {
                expected,
                found: t.shape().to_vec(),
            };
            return Err(IoError::new(path, Some(name), kind));
        }
        Ok(t)
    };

    let step = tensor("step", Dtype::U64, Some(&[]))?;
    let steps = u64::from_le_bytes(step.data().try_into().expect("8 bytes"));
    let lr = decode::<f64>(&[], tensor("lr", Dtype::F64, Some(&[]))?.data())[0];
    let names = optimizer.buffer_names();
    let present = names.iter().filter(|n| file.tensor(n).is_ok()).count();
    let buffers = if present == 0 {
        None
    } else {
        let mut buffers = Vec::with_capacity(names.len());
        let mut len = None;
        for name in names {
            let t = tensor(name, Dtype::F64, len.map(|n| [n]).as_ref().map(|s| &s[..]))?;
            len = Some(t.shape()[0]);
            buffers.push(decode::<f64>(t.shape(), t.data()));
        }
        Some(buffers)
    };
    let known: HashSet<&str> = names.iter().copied().chain(["step", "lr"]).collect();
    if let Some(extra) = in_file.iter().find(|n| !known.contains(n.as_str())) {
        return Err(IoError::new(path, Some(extra), IoErrorKind::Unexpected));
    }
    optimizer
        .set_state(SavedState { steps, lr, buffers })
        .map_err(|message| IoError::new(path, None, IoErrorKind::Damaged(message)))
}
