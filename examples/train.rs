//! The main example: train a small neural network on Fisher's Iris flowers.
//!
//! A 4-16-3 MLP (tanh hidden layer, softmax cross-entropy) classifies 150 flowers into
//! three species from four measurements. The loss is an ordinary Rust function with
//! `#[differentiable(wrt(m))]`; the model is a struct with `#[derive(Tangent)]`, so its
//! gradient is an `Mlp` too, and Adam, gradient clipping and the `Trainer` take it as it is.
//!
//! ```sh
//! cargo run --release --example train                      # compile-time gradients
//! cargo run --release --example train -- --engine dynamic  # the same run on the tape engine
//! cargo run --release --example train -- --epochs 50 --seed 7 --out /tmp/iris
//! ```
//!
//! It prints the progress and the test accuracy, and writes into the output directory
//! (default `target/train-output/`): the loss and accuracy curves (`history-<engine>.svg`
//! and `.png`) and the model's computation graph (`graph-<engine>.svg`). The same seed
//! gives the same numbers, on either engine.
//!
//! Predictions need no gradient, so they are plain Rust: `Mlp::logits` writes the network
//! with nalgebra and the prelude's `matmul` and `add_row` (the `x * w + b` of the
//! differentiable loss, computed by the same kernels).

use std::error::Error;
use std::path::PathBuf;

use autodiff::data::{Dataset, Rng, Standardizer};
use autodiff::dynamic::Tensor;
use autodiff::nalgebra::{DMatrix, RowDVector};
use autodiff::prelude::*;
use autodiff::train::{History, Metrics, Trainer};

/// The data set, bundled with the repository (see `data/README.md`).
const IRIS_CSV: &str = include_str!("../data/iris.csv");

/// The model: two dense layers, `x * w + b`.
#[derive(Debug, Clone, Tangent)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
}

/// Mean cross-entropy of the network's class scores (logits) `tanh(x w1 + b1) w2 + b2`
/// for the rows of `x`.
#[differentiable(wrt(m))]
fn mlp_loss(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let hidden = (x * &m.w1 + &m.b1).tanh();
    cross_entropy(&(hidden * &m.w2 + &m.b2), labels)
}

impl Mlp {
    /// The logits for the rows of `x`, in plain Rust (no gradient): the loss's network,
    /// with `b` added to every row by `add_row` (in `autodiff::prelude`).
    fn logits(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        let hidden = x.matmul(&self.w1).add_row(&self.b1).map(f64::tanh);
        hidden.matmul(&self.w2).add_row(&self.b2)
    }
}

/// The same model on the dynamic engine: each parameter a tensor that requires grad.
#[derive(Debug, Clone, Tangent)]
struct TensorMlp {
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
}

impl TensorMlp {
    fn from_mlp(m: &Mlp) -> Self {
        let leaf = |v: DMatrix<f64>| Tensor::from(v).requires_grad();
        TensorMlp {
            w1: leaf(m.w1.clone()),
            b1: leaf(DMatrix::from_row_slice(1, m.b1.len(), m.b1.as_slice())),
            w2: leaf(m.w2.clone()),
            b2: leaf(DMatrix::from_row_slice(1, m.b2.len(), m.b2.as_slice())),
        }
    }

    /// The forward pass, recording the graph.
    fn logits(&self, x: &Tensor) -> Tensor {
        let hidden = (x.matmul(&self.w1) + &self.b1).tanh();
        hidden.matmul(&self.w2) + &self.b2
    }

    /// `(loss, gradients)` for one batch: clear the gradients, forward, backward.
    fn loss_and_grads(
        &self,
        x: &Tensor,
        labels: &[usize],
    ) -> Result<(f64, TensorMlp), Box<dyn Error>> {
        self.zero_grad();
        let loss = self.logits(x).try_cross_entropy(labels)?;
        loss.backward()?;
        let grads = TensorMlp {
            w1: self.w1.grad_or_zeros(),
            b1: self.b1.grad_or_zeros(),
            w2: self.w2.grad_or_zeros(),
            b2: self.b2.grad_or_zeros(),
        };
        Ok((loss.item(), grads))
    }

    fn zero_grad(&self) {
        for p in [&self.w1, &self.b1, &self.w2, &self.b2] {
            p.zero_grad();
        }
    }
}

/// The fraction of rows whose largest score is at the label's index.
fn accuracy(logits: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let hits = logits
        .row_iter()
        .zip(labels)
        .filter(|(row, &label)| row.transpose().argmax().0 == label)
        .count();
    hits as f64 / labels.len() as f64
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Engine {
    Static,
    Dynamic,
}

/// Command-line settings.
struct Config {
    engine: Engine,
    epochs: usize,
    seed: u64,
    lr: f64,
    out: PathBuf,
}

const USAGE: &str = "usage: cargo run --release --example train -- \
    [--engine static|dynamic] [--epochs N] [--seed N] [--lr X] [--out DIR]";

fn parse_args() -> Result<Config, String> {
    let mut config = Config {
        engine: Engine::Static,
        epochs: 60,
        seed: 42,
        lr: 0.01,
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/train-output"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--engine" => {
                config.engine = match value()?.as_str() {
                    "static" => Engine::Static,
                    "dynamic" => Engine::Dynamic,
                    other => {
                        return Err(format!(
                            "unknown engine `{other}`; use static or dynamic\n{USAGE}"
                        ))
                    }
                }
            }
            "--epochs" => config.epochs = number(&flag, &value()?)?,
            "--seed" => config.seed = number(&flag, &value()?)?,
            "--lr" => config.lr = number(&flag, &value()?)?,
            "--out" => config.out = PathBuf::from(value()?),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(config)
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag} expects a number, got `{text}`\n{USAGE}"))
}

fn main() -> Result<(), Box<dyn Error>> {
    let config = match parse_args() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let started = std::time::Instant::now();

    // Data: 150 flowers, a stratified 80/20 split, features standardised with the
    // training set's mean and deviation.
    let iris = Dataset::from_csv(IRIS_CSV)?;
    let (train, test) = iris.stratified_split(0.2, config.seed)?;
    let scaler = Standardizer::fit(&train.features);
    let train = Dataset::new(
        scaler.transform(&train.features)?,
        train.labels,
        train.class_names,
    )?;
    let x_test = scaler.transform(&test.features)?;
    let batches = train.batches(16);
    println!(
        "Iris: {} flowers, {} features, classes {:?}; {} for training ({} batches of <= 16), {} for testing",
        iris.len(),
        iris.num_features(),
        iris.class_names,
        train.len(),
        batches.len(),
        test.len()
    );

    // Model: 4 -> 16 (tanh) -> 3, initialised as torch.nn.Linear does.
    let mut rng = Rng::new(config.seed);
    let (w1, b1) = rng.linear_layer(4, 16);
    let (w2, b2) = rng.linear_layer(16, 3);
    let model = Mlp { w1, b1, w2, b2 };
    println!(
        "model: 4-16-3 MLP, {} parameters; Adam(lr {}), clip_grad_norm(1.0), {} epochs, {:?} engine",
        model.num_elements(),
        config.lr,
        config.epochs,
        config.engine
    );

    let trainer = Trainer::new(Adam::new(config.lr))
        .epochs(config.epochs)
        .clip_grad_norm(1.0);
    let report_every = (config.epochs / 10).max(1);
    let mut epoch = 0;
    let mut report = |loss: f64, acc: f64| {
        epoch += 1;
        if epoch % report_every == 0 || epoch == 1 {
            // Printed above the progress bar, not into it.
            autodiff::train::println(format_args!(
                "  epoch {epoch:>4}: test loss {loss:.4}, test accuracy {:.1}%",
                100.0 * acc
            ));
        }
        Metrics {
            loss: Some(loss),
            accuracy: Some(acc),
        }
    };

    // The computation graph of the loss.
    let (history, graphs, final_logits) = match config.engine {
        Engine::Static => {
            let mut m = model;
            let mut trainer = trainer;
            // The gradient lives in the workspace: no buffer is allocated per batch.
            let mut ws = Workspace::new();
            let history = trainer.fit_in_with_eval(
                &mut ws,
                &mut m,
                &batches,
                |ws, m, (x, labels)| {
                    let (loss, grad) = mlp_loss_grad_with(ws, m, x, labels);
                    (loss, &grad.m)
                },
                |m| {
                    report(
                        mlp_loss(m, &x_test, &test.labels),
                        accuracy(&m.logits(&x_test), &test.labels),
                    )
                },
            )?;
            (history, vec![("", mlp_loss_graph())], m.logits(&x_test))
        }
        Engine::Dynamic => {
            let mut m = TensorMlp::from_mlp(&model);
            let x_test_t = Tensor::from(x_test.clone());
            let batches: Vec<(Tensor, Vec<usize>)> = batches
                .into_iter()
                .map(|(x, labels)| (Tensor::from(x), labels))
                .collect();
            let mut trainer = trainer;
            let mut failure = None;
            let history = trainer.fit_with_eval(
                &mut m,
                &batches,
                |m, (x, labels)| match m.loss_and_grads(x, labels) {
                    Ok(step) => step,
                    Err(e) => {
                        // Stop the run: a NaN loss ends `fit` with an error.
                        failure.get_or_insert(e.to_string());
                        (f64::NAN, m.zero_like())
                    }
                },
                |m| {
                    let logits = autodiff::dynamic::no_grad(|| m.logits(&x_test_t));
                    let loss = logits.cross_entropy(&test.labels).item();
                    report(loss, accuracy(&logits.value(), &test.labels))
                },
            );
            if let Some(e) = failure {
                return Err(e.into());
            }
            let history = history?;
            // The graph of one forward pass, as torchviz would draw it.
            let graph = m.logits(&x_test_t).cross_entropy(&test.labels).graph();
            let logits = autodiff::dynamic::no_grad(|| m.logits(&x_test_t)).value();
            (history, vec![("", graph)], logits)
        }
    };

    let test_accuracy = accuracy(&final_logits, &test.labels);
    print_summary(&history);
    println!(
        "final test accuracy: {:.1}% ({} of {} flowers)",
        100.0 * test_accuracy,
        (test_accuracy * test.len() as f64).round(),
        test.len()
    );

    std::fs::create_dir_all(&config.out)?;
    let name = match config.engine {
        Engine::Static => "static",
        Engine::Dynamic => "dynamic",
    };
    let mut files = vec![
        config.out.join(format!("history-{name}.svg")),
        config.out.join(format!("history-{name}.png")),
    ];
    history.save_svg(&files[0])?;
    history.save_png(&files[1])?;
    for (suffix, graph) in graphs {
        let path = config.out.join(format!("graph-{name}{suffix}.svg"));
        std::fs::write(&path, graph.to_svg())?;
        files.push(path);
    }
    println!("finished in {:.2?}; wrote", started.elapsed());
    for f in &files {
        println!("  {}", f.display());
    }
    Ok(())
}

/// The training loss, gradient norm and clipping of the last epoch, and the gradient
/// health of its last batch.
fn print_summary(history: &History) {
    let Some(last) = history.last() else { return };
    let clipped: usize = history.epochs.iter().map(|e| e.clipped_batches).sum();
    println!(
        "last epoch: train loss {:.4}, mean gradient norm {:.4}; clipping scaled {clipped} of {} batches over the run",
        last.train_loss,
        last.mean_grad_norm,
        history.batch_losses.len()
    );
    println!("gradient health at the last batch:\n{}", last.health);
}
