//! The progress bar: indicatif on stderr, hidden when stderr is not a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over all the batches of a run.
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `total` batches; drawn only when `show` and stderr is a terminal.
    pub(crate) fn new(total: u64, show: bool) -> Self {
        let target = if show && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:32}] {pos}/{len} {msg} ({elapsed} < {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        Progress { bar }
    }

    /// Shows which epoch runs.
    pub(crate) fn epoch(&self, epoch: usize, epochs: usize) {
        self.bar.set_prefix(format!("epoch {epoch}/{epochs}"));
    }

    /// One batch done, with the running mean loss of the epoch.
    pub(crate) fn batch(&self, running_loss: f64) {
        self.bar.set_message(format!("loss {running_loss:.4}"));
        self.bar.inc(1);
    }

    /// Prints a line above the bar; nothing when the bar is hidden.
    pub(crate) fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            return;
        }
        self.bar.println(line);
    }

    /// Leaves the bar at its final state.
    pub(crate) fn finish(&self) {
        self.bar.finish();
    }

    /// Whether the bar is drawn.
    #[cfg(test)]
    pub(crate) fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }
}

#[cfg(test)]
mod tests {
    use super::Progress;
    use std::io::IsTerminal;

    #[test]
    fn the_bar_is_hidden_when_asked_or_when_stderr_is_not_a_terminal() {
        assert!(Progress::new(10, false).is_hidden());
        let shown = Progress::new(10, true);
        assert_eq!(shown.is_hidden(), !std::io::stderr().is_terminal());
        shown.finish();
    }
}
