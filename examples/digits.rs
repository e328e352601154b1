//! A second real data set: handwritten digits, an f32 MLP, saved and loaded back.
//!
//! The UCI optical recognition of handwritten digits (1,797 images of 8x8 pixels with
//! values 0 to 16, ten classes; bundled as `data/digits.csv.gz`, see `data/README.md`).
//! A 64-64-10 MLP in `f32` (ReLU hidden layer, softmax cross-entropy) is trained with the
//! crate's `Trainer` and Adam on a stratified 80/20 split fixed by the seed; then the
//! parameters are written with `autodiff::io::save`, read into a fresh model with
//! `autodiff::io::load`, and the loaded model is evaluated: it must give the same
//! accuracy, which must be at least 95%.
//!
//! ```sh
//! cargo run --release --example digits
//! cargo run --release --example digits -- --epochs 40 --seed 7 --out /tmp/digits
//! ```
//!
//! It prints the test accuracy every few epochs, the time taken, and writes
//! `digits-mlp.safetensors` into the output directory (default `target/digits-output/`),
//! a file Python reads with `safetensors.numpy.load_file`.

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use autodiff::data::{Rng, Standardizer};
use autodiff::nalgebra::{DMatrix, RowDVector};
use autodiff::prelude::*;
use autodiff::train::{Metrics, Trainer};

mod digits_data;

/// Two dense layers, `x * w + b`, in single precision.
#[derive(Debug, Clone, PartialEq, Tangent)]
struct Mlp {
    w1: DMatrix<f32>,
    b1: RowDVector<f32>,
    w2: DMatrix<f32>,
    b2: RowDVector<f32>,
}

impl Mlp {
    /// A `inputs -> hidden -> classes` network initialised as `torch.nn.Linear` does.
    fn new(rng: &mut Rng, inputs: usize, hidden: usize, classes: usize) -> Self {
        let (w1, b1) = rng.linear_layer(inputs, hidden);
        let (w2, b2) = rng.linear_layer(hidden, classes);
        Mlp {
            w1: w1.cast(),
            b1: b1.cast(),
            w2: w2.cast(),
            b2: b2.cast(),
        }
    }

    /// The class scores for the rows of `x`, in plain Rust (no gradient): `add_row` adds
    /// the bias to every row, as `x * w + b` does in the differentiable loss.
    fn logits(&self, x: &DMatrix<f32>) -> DMatrix<f32> {
        let hidden = relu(&x.matmul(&self.w1).add_row(&self.b1));
        hidden.matmul(&self.w2).add_row(&self.b2)
    }
}

/// Mean softmax cross-entropy of the network's scores for the rows of `x`.
#[differentiable(wrt(m))]
fn mlp_loss(m: &Mlp, x: &DMatrix<f32>, labels: &[usize]) -> f32 {
    let hidden = relu(&(x * &m.w1 + &m.b1));
    cross_entropy(&(hidden * &m.w2 + &m.b2), labels)
}

/// The fraction of rows whose largest score is at the label's index.
fn accuracy(logits: &DMatrix<f32>, labels: &[usize]) -> f64 {
    let hits = logits
        .row_iter()
        .zip(labels)
        .filter(|(row, &label)| row.transpose().argmax().0 == label)
        .count();
    hits as f64 / labels.len() as f64
}

/// Command-line settings.
struct Config {
    epochs: usize,
    seed: u64,
    out: PathBuf,
}

const USAGE: &str =
    "usage: cargo run --release --example digits -- [--epochs N] [--seed N] [--out DIR]";

fn parse_args() -> Result<Config, String> {
    let mut config = Config {
        epochs: 20,
        seed: 42,
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/digits-output"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next();
        let value = || value.ok_or_else(|| format!("{flag} needs a value\n{USAGE}"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{flag} expects a whole number, got `{text}`\n{USAGE}"))
        };
        match flag.as_str() {
            "--epochs" => config.epochs = number(value()?)? as usize,
            "--seed" => config.seed = number(value()?)?,
            "--out" => config.out = PathBuf::from(value()?),
            _ => return Err(format!("unknown argument `{flag}`\n{USAGE}")),
        }
    }
    Ok(config)
}

fn main() -> Result<(), Box<dyn Error>> {
    let config = match parse_args() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();

    // Data: a stratified 80/20 split, pixels standardised with the training set's mean
    // and deviation (in f64, then stored as f32).
    let digits = digits_data::load_digits()?;
    let (train, test) = digits.stratified_split(0.2, config.seed)?;
    let scaler = Standardizer::fit(&train.features);
    let x_train: DMatrix<f32> = scaler.transform(&train.features)?.cast();
    let x_test: DMatrix<f32> = scaler.transform(&test.features)?.cast();
    let batches: Vec<(DMatrix<f32>, Vec<usize>)> = x_train
        .row_iter()
        .collect::<Vec<_>>()
        .chunks(32)
        .zip(train.labels.chunks(32))
        .map(|(rows, labels)| (DMatrix::from_rows(rows), labels.to_vec()))
        .collect();
    println!(
        "digits: {} images of 8x8 pixels, {} classes; {} for training ({} batches of <= 32), {} for testing",
        digits.len(),
        digits.num_classes(),
        train.len(),
        batches.len(),
        test.len()
    );

    let mut rng = Rng::new(config.seed);
    let mut model = Mlp::new(&mut rng, 64, 64, 10);
    println!(
        "model: 64-64-10 MLP (ReLU), f32, {} parameters; Adam(lr 0.005), {} epochs",
        model.num_elements(),
        config.epochs
    );

    let report_every = (config.epochs / 6).max(1);
    let mut epoch = 0;
    let mut trainer = Trainer::new(Adam::new(0.005))
        .epochs(config.epochs)
        .progress(false);
    let history = trainer.fit_with_eval(
        &mut model,
        &batches,
        |m, (x, labels)| {
            let (loss, grad) = mlp_loss_grad(m, x, labels);
            (f64::from(loss), grad.m)
        },
        |m| {
            epoch += 1;
            let acc = accuracy(&m.logits(&x_test), &test.labels);
            let loss = f64::from(mlp_loss(m, &x_test, &test.labels));
            if epoch % report_every == 0 || epoch == 1 {
                println!(
                    "  epoch {epoch:>3}: test loss {loss:.4}, test accuracy {:.1}%",
                    100.0 * acc
                );
            }
            Metrics {
                loss: Some(loss),
                accuracy: Some(acc),
            }
        },
    )?;
    let trained_in = started.elapsed();
    let trained_accuracy = accuracy(&model.logits(&x_test), &test.labels);
    let last = history.last().ok_or("no epoch was run")?;
    println!(
        "trained in {trained_in:.2?}: train loss {:.4}, test accuracy {:.1}% ({} of {} images)",
        last.train_loss,
        100.0 * trained_accuracy,
        (trained_accuracy * test.len() as f64).round(),
        test.len()
    );

    // Save, load into a fresh model (other initial weights), evaluate the loaded one.
    std::fs::create_dir_all(&config.out)?;
    let path = config.out.join("digits-mlp.safetensors");
    autodiff::io::save(&model, &path)?;
    let mut loaded = Mlp::new(&mut Rng::new(config.seed + 1), 64, 64, 10);
    autodiff::io::load(&mut loaded, &path)?;
    let loaded_accuracy = accuracy(&loaded.logits(&x_test), &test.labels);
    println!(
        "saved to {} ({} bytes) and loaded into a fresh model: test accuracy {:.1}%",
        path.display(),
        std::fs::metadata(&path)?.len(),
        100.0 * loaded_accuracy
    );
    assert_eq!(
        loaded, model,
        "the loaded parameters differ from the saved ones"
    );
    assert_eq!(loaded_accuracy, trained_accuracy);
    assert!(
        loaded_accuracy >= 0.95,
        "test accuracy {:.1}% is below 95%",
        100.0 * loaded_accuracy
    );
    println!("finished in {:.2?}", started.elapsed());
    Ok(())
}
