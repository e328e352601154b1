//! Saving and loading a learning-rate schedule's state ([`ScheduleState`]) as a
//! safetensors file, next to the parameters and the optimizer, so that a resumed run
//! follows the learning rates of the uninterrupted one.
//!
//! The file holds `last_epoch` (`U64`, shape `[]`) and, for a schedule that computes from
//! its initial learning rate (cosine annealing), `base_lr` (`F64`, `[]`); its metadata
//! `scheduler` is the schedule's torch name (`StepLR`, `ExponentialLR`,
//! `CosineAnnealingLR`), so that a file of another kind of schedule is refused.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use super::{decode, encode, parse, read, write_with_metadata, Encoded, IoError, IoErrorKind};
use crate::optim::{LrScheduler, ScheduleState};

/// The metadata key that holds the schedule's kind.
const KIND_KEY: &str = "scheduler";

/// Writes the state of `scheduler` to `path`: `last_epoch`, `base_lr` when the schedule
/// has one, and the schedule's kind in the metadata.
///
/// To resume a run: save the parameters ([`save`](super::save)), the optimizer
/// ([`save_optimizer`](super::save_optimizer)) and the schedule; later, build the
/// optimizer and the schedule with the same settings, load the three files, and go on
/// (with a `Trainer`, also pass the epochs done to `initial_epoch`, so that the batches
/// are shuffled as they would have been).
///
/// ```
/// use autodiff_optim::io;
/// use autodiff_optim::optim::{CosineAnnealingLr, LearningRate, LrScheduler, Sgd};
///
/// let path = std::env::temp_dir().join(format!("autodiff-schedule-{}.safetensors", std::process::id()));
/// let mut opt = Sgd::new(0.1);
/// let mut schedule = CosineAnnealingLr::new(&opt, 10, 0.0);
/// for _ in 0..4 {
///     schedule.step(&mut opt);
/// }
/// io::save_scheduler(&schedule, &path)?;
///
/// // Later: the optimizer's learning rate comes from its own file (here set by hand).
/// let mut resumed_opt = Sgd::new(0.1);
/// resumed_opt.set_lr(opt.lr());
/// let mut resumed = CosineAnnealingLr::new(&resumed_opt, 10, 0.0);
/// io::load_scheduler(&mut resumed, &path)?;
/// assert_eq!(resumed.last_epoch(), 4);
/// schedule.step(&mut opt);
/// resumed.step(&mut resumed_opt);
/// assert_eq!(opt.lr().to_bits(), resumed_opt.lr().to_bits());
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`IoErrorKind::File`] when the file cannot be written.
pub fn save_scheduler<S: LrScheduler + ?Sized>(
    scheduler: &S,
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    let state = scheduler.state();
    let mut tensors = vec![(
        "last_epoch".to_string(),
        Encoded {
            dtype: Dtype::U64,
            shape: Vec::new(),
            bytes: state.last_epoch.to_le_bytes().to_vec(),
        },
    )];
    if let Some(base_lr) = state.base_lr {
        tensors.push(("base_lr".to_string(), encode(&[], &[base_lr])));
    }
    let metadata = HashMap::from([(KIND_KEY.to_string(), scheduler.kind().to_string())]);
    write_with_metadata(path.as_ref(), &tensors, Some(metadata))
}

/// Reads a file written by [`save_scheduler`] into `scheduler`, which must be of the same
/// kind and should be built with the same hyperparameters. On an error `scheduler` is as
/// it was.
///
/// # Errors
/// [`IoErrorKind::File`] or [`IoErrorKind::Damaged`] for an unreadable file;
/// [`IoErrorKind::Kind`] for the state of another kind of schedule;
/// [`IoErrorKind::Missing`], [`IoErrorKind::Unexpected`], [`IoErrorKind::Shape`] and
/// [`IoErrorKind::Dtype`] naming the tensor that does not fit.
pub fn load_scheduler<S: LrScheduler + ?Sized>(
    scheduler: &mut S,
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let file = parse(path, &bytes)?;
    let found = SafeTensors::read_metadata(&bytes)
        .ok()
        .and_then(|(_, m)| m.metadata().as_ref()?.get(KIND_KEY).cloned())
        .unwrap_or_default();
    if found != scheduler.kind() {
        let kind = IoErrorKind::Kind {
            expected: scheduler.kind().to_string(),
            found,
        };
        return Err(IoError::new(path, None, kind));
    }
    let mut in_file: Vec<String> = file.names().into_iter().map(String::from).collect();
    in_file.sort();
    let scalar = |name: &str, dtype: Dtype| {
        let t = file.tensor(name).map_err(|_| {
            let kind = IoErrorKind::Missing {
                in_file: in_file.clone(),
            };
            IoError::new(path, Some(name), kind)
        })?;
        if t.dtype() != dtype {
            let kind = IoErrorKind::Dtype {
                expected: format!("{dtype:?}"),
                found: format!("{:?}", t.dtype()),
            };
            return Err(IoError::new(path, Some(name), kind));
        }
        if !t.shape().is_empty() {
            let kind = IoErrorKind::Shape {
                expected: Vec::new(),
                found: t.shape().to_vec(),
            };
            return Err(IoError::new(path, Some(name), kind));
        }
        Ok(t)
    };
    let epoch = scalar("last_epoch", Dtype::U64)?;
    let last_epoch = u64::from_le_bytes(epoch.data().try_into().expect("8 bytes"));
    let base_lr = match file.tensor("base_lr") {
        Ok(_) => Some(decode::<f64>(&[], scalar("base_lr", Dtype::F64)?.data())[0]),
        Err(_) => None,
    };
    if let Some(extra) = in_file
        .iter()
        .find(|n| !matches!(n.as_str(), "last_epoch" | "base_lr"))
    {
        return Err(IoError::new(path, Some(extra), IoErrorKind::Unexpected));
    }
    scheduler
        .set_state(ScheduleState {
            last_epoch,
            base_lr,
        })
        .map_err(|message| IoError::new(path, None, IoErrorKind::Damaged(message)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{ExponentialLr, LearningRate, Sgd, StepLr};

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!(
            "autodiff-{name}-{}.safetensors",
            std::process::id()
        ))
    }

    #[test]
    fn a_step_schedule_resumes_where_it_stopped() {
        let path = temp("step-lr");
        let mut opt = Sgd::new(1.0);
        let mut schedule = StepLr::new(&opt, 3, 0.5);
        for _ in 0..5 {
            schedule.step(&mut opt);
        }
        save_scheduler(&schedule, &path).unwrap();
        let mut resumed = StepLr::new(&opt, 3, 0.5);
        load_scheduler(&mut resumed, &path).unwrap();
        assert_eq!(resumed.last_epoch(), 5);
        let mut resumed_opt = Sgd::new(opt.lr());
        schedule.step(&mut opt); // epoch 6: decay
        resumed.step(&mut resumed_opt);
        assert_eq!(resumed_opt.lr(), opt.lr());
        assert_eq!(opt.lr(), 0.25);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn the_state_of_another_kind_of_schedule_is_refused() {
        let path = temp("exp-lr");
        let opt = Sgd::new(1.0);
        let mut exp = ExponentialLr::new(&opt, 0.9);
        exp.step(&mut Sgd::new(1.0));
        save_scheduler(&exp, &path).unwrap();
        let mut step = StepLr::new(&opt, 2, 0.5);
        let err = load_scheduler(&mut step, &path).unwrap_err();
        assert!(matches!(err.kind(), IoErrorKind::Kind { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("holds the state of an ExponentialLR schedule, not of a StepLR"),
            "{err}"
        );
        assert_eq!(step.last_epoch(), 0, "unchanged");
        std::fs::remove_file(&path).unwrap();
    }
}
