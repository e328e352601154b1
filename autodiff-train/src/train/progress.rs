//! The progress bar: indicatif on stderr, not drawn when stderr is not a terminal; and
//! [`println`] / [`suspend`], which print the caller's lines above it.
//!
//! While a [`Trainer`](super::Trainer) runs, its bar is the *active bar* of the thread:
//! [`suspend`] clears it, runs the caller's closure (which may print anything to stdout
//! or stderr) and draws it again below, like `tqdm.write`. The trainer's own epoch lines
//! go above the bar the same way, and the bar is cleared when the run ends, so a terminal
//! shows the epoch lines and one final line, no stale bar.
//!
//! A hidden bar is not created at all: a run without a terminal formats nothing per batch.
//! A drawn bar rebuilds its message (the epoch's running loss, and after the first second
//! the elapsed time and an estimate of the time left) on the first batch, at the end of
//! each epoch, and otherwise at most every 100 ms.

use std::cell::RefCell;
use std::fmt;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the message is rebuilt at most.
const MESSAGE_INTERVAL: Duration = Duration::from_millis(100);

/// Before this much time has passed, no time or estimate is shown (it would be `0s`).
const TIMING_AFTER: Duration = Duration::from_secs(1);

thread_local! {
    /// The bar of the trainer running on this thread, if it is drawn.
    static ACTIVE: RefCell<Option<ProgressBar>> = const { RefCell::new(None) };
}

/// Runs `f` with the progress bar of the training run on this thread (if one is drawn)
/// cleared, and draws the bar again afterwards: what `f` prints stays above the bar
/// instead of being mixed into it. Without a drawn bar, it just runs `f`.
///
/// Use it in the gradient or evaluation closure of [`Trainer`](super::Trainer), like
/// `tqdm.write` or indicatif's `ProgressBar::suspend`.
///
/// ```
/// use autodiff_optim::optim::Sgd;
/// use autodiff_train::train::{self, Metrics, Trainer};
///
/// let batches = [1.0_f64, 2.0];
/// let mut w = 0.0_f64;
/// let mut trainer = Trainer::new(Sgd::new(0.1)).epochs(3);
/// trainer.fit_with_eval(
///     &mut w,
///     &batches,
///     |w, x| ((w - x).powi(2), 2.0 * (w - x)),
///     |w| {
///         train::suspend(|| println!("w = {w:.3}"));
///         Metrics::default()
///     },
/// )?;
/// # Ok::<(), autodiff_train::train::TrainError>(())
/// ```
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    // A clone of the handle (a reference count), so that `f` may itself print through it.
    let bar = ACTIVE.with(|active| active.borrow().clone());
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// Prints `line` to stdout above the training run's progress bar ([`suspend`] around
/// `println!`).
pub fn println(line: impl fmt::Display) {
    suspend(|| std::println!("{line}"));
}

/// A progress bar over all the batches of a run.
pub(crate) struct Progress {
    /// `None` when not drawn.
    bar: Option<ProgressBar>,
    /// The active bar before this one (a trainer run inside another's closure).
    previous: Option<ProgressBar>,
    started: Instant,
    last_message: Instant,
    done: u64,
    total: u64,
}

impl Progress {
    /// A bar of `total` batches; drawn only when `show` and stderr is a terminal.
    pub(crate) fn new(total: u64, show: bool) -> Self {
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix} [{bar:32}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        let previous = match &bar {
            Some(bar) => ACTIVE.with(|active| active.borrow_mut().replace(bar.clone())),
            None => None,
        };
        let now = Instant::now();
        Progress {
            bar,
            previous,
            started: now,
            last_message: now,
            done: 0,
            total,
        }
    }

    /// Shows which epoch runs.
    pub(crate) fn epoch(&self, epoch: usize, last: usize) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(format!("epoch {epoch}/{last}"));
        }
    }

    /// One batch done, with the running mean loss of the epoch; `epoch_done` at the
    /// epoch's last batch (the message then shows the epoch's mean loss).
    pub(crate) fn batch(&mut self, running_loss: f64, epoch_done: bool) {
        self.done += 1;
        let Some(bar) = &self.bar else { return };
        let now = Instant::now();
        let due = now.duration_since(self.last_message) >= MESSAGE_INTERVAL;
        if due || epoch_done || self.done == 1 {
            self.last_message = now;
            bar.set_message(message(
                running_loss,
                now.duration_since(self.started),
                self.done,
                self.total,
            ));
        }
        bar.inc(1);
    }

    /// Prints a line (to stderr) above the bar; nothing when the bar is not drawn.
    pub(crate) fn println(&self, line: impl FnOnce() -> String) {
        if let Some(bar) = &self.bar {
            bar.println(line());
        }
    }

    /// Clears the bar and prints `line` in its place; nothing when the bar is not drawn.
    pub(crate) fn finish(mut self, line: impl FnOnce(Duration) -> String) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            eprintln!("{}", line(self.started.elapsed()));
            self.restore();
        }
    }

    /// Makes the previous bar (if any) the active one again.
    fn restore(&mut self) {
        let previous = self.previous.take();
        let _ = ACTIVE.try_with(|active| *active.borrow_mut() = previous);
    }

    /// Whether the bar is drawn.
    #[cfg(test)]
    pub(crate) fn is_hidden(&self) -> bool {
        self.bar.is_none()
    }
}

impl Drop for Progress {
    /// A run that ends early (an error, a panic in a closure) clears its bar too.
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            self.restore();
        }
    }
}

/// The bar's message: `loss 0.1234`, and from the first second on
/// `loss 0.1234, 3s elapsed, about 12s left`.
pub(crate) fn message(running_loss: f64, elapsed: Duration, done: u64, total: u64) -> String {
    let mut text = format!("loss {running_loss:.4}");
    if elapsed >= TIMING_AFTER && done > 0 {
        let left = elapsed.mul_f64(total.saturating_sub(done) as f64 / done as f64);
        text += &format!(
            ", {} elapsed, about {} left",
            duration_text(elapsed),
            duration_text(left)
        );
    }
    text
}

/// `<1s`, `42s`, `3m05s`, `2h07m`.
pub(crate) fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "<1s".to_string(),
        1..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_is_hidden_when_asked_or_when_stderr_is_not_a_terminal() {
        let hidden = Progress::new(10, false);
        assert!(hidden.is_hidden());
        hidden.finish(|_| unreachable!("a hidden bar prints nothing"));
        let shown = Progress::new(10, true);
        assert_eq!(shown.is_hidden(), !std::io::stderr().is_terminal());
        shown.finish(|t| format!("done in {t:?}"));
    }

    #[test]
    fn a_hidden_bar_formats_nothing() {
        let mut hidden = Progress::new(3, false);
        hidden.epoch(1, 1);
        for i in 0..3 {
            hidden.batch(0.5, i == 2);
        }
        hidden.println(|| unreachable!("a hidden bar formats no line"));
        assert_eq!(hidden.done, 3);
    }

    #[test]
    fn the_message_shows_time_only_after_the_first_second() {
        assert_eq!(
            message(0.25, Duration::from_millis(400), 4, 10),
            "loss 0.2500"
        );
        assert_eq!(
            message(0.125, Duration::from_secs(3), 3, 12),
            "loss 0.1250, 3s elapsed, about 9s left"
        );
        assert_eq!(
            message(1.0, Duration::from_millis(1500), 10, 10),
            "loss 1.0000, 1s elapsed, about <1s left"
        );
    }

    #[test]
    fn durations_read_like_a_clock() {
        let text = |s| duration_text(Duration::from_secs(s));
        assert_eq!(duration_text(Duration::from_millis(300)), "<1s");
        assert_eq!([text(42), text(185), text(7620)], ["42s", "3m05s", "2h07m"]);
    }

    #[test]
    fn without_a_drawn_bar_suspend_just_runs_the_closure() {
        assert_eq!(suspend(|| 7), 7);
    }
}
