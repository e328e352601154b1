//! A smaller run of `examples/train.rs`: the Iris MLP on both engines.
//!
//! - the static engine reaches at least 90% test accuracy;
//! - both engines compute the same gradient (to 1e-10) on the same parameters, and it
//!   matches central differences;
//! - trained with the same seed and settings, both engines end at the same parameters;
//! - the same seed gives the same numbers.

use autodiff::data::{Dataset, Rng, Standardizer};
use autodiff::dynamic::{no_grad, Tensor};
use autodiff::nalgebra::{DMatrix, RowDVector};
use autodiff::prelude::*;
use autodiff::train::{History, Metrics, Trainer};

const IRIS_CSV: &str = include_str!("../data/iris.csv");

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: RowDVector<f64>,
}

#[differentiable(wrt(m))]
fn mlp_loss(m: &Mlp, x: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let hidden = (x * &m.w1 + &m.b1).tanh();
    let logits = hidden * &m.w2 + &m.b2;
    cross_entropy(&logits, labels)
}

#[derive(Debug, Clone, Tangent)]
struct TensorMlp {
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
}

fn row(v: &RowDVector<f64>) -> DMatrix<f64> {
    DMatrix::from_row_slice(1, v.len(), v.as_slice())
}

impl TensorMlp {
    fn from_mlp(m: &Mlp) -> Self {
        let leaf = |v: DMatrix<f64>| Tensor::from(v).requires_grad();
        TensorMlp {
            w1: leaf(m.w1.clone()),
            b1: leaf(row(&m.b1)),
            w2: leaf(m.w2.clone()),
            b2: leaf(row(&m.b2)),
        }
    }

    fn to_mlp(&self) -> Mlp {
        let row_vector = |t: &Tensor| RowDVector::from_row_slice(t.value().as_slice());
        Mlp {
            w1: self.w1.value(),
            b1: row_vector(&self.b1),
            w2: self.w2.value(),
            b2: row_vector(&self.b2),
        }
    }

    fn logits(&self, x: &Tensor) -> Tensor {
        (x.matmul(&self.w1) + &self.b1).tanh().matmul(&self.w2) + &self.b2
    }

    fn loss_and_grads(&self, x: &Tensor, labels: &[usize]) -> (f64, TensorMlp) {
        for p in [&self.w1, &self.b1, &self.w2, &self.b2] {
            p.zero_grad();
        }
        let loss = self.logits(x).cross_entropy(labels);
        loss.backward()
            .expect("the loss is a scalar that requires grad");
        let grads = TensorMlp {
            w1: self.w1.grad_or_zeros(),
            b1: self.b1.grad_or_zeros(),
            w2: self.w2.grad_or_zeros(),
            b2: self.b2.grad_or_zeros(),
        };
        (loss.item(), grads)
    }
}

/// Train and test sets (standardised with the training statistics) and the initial model.
struct Setup {
    train: Dataset,
    x_test: DMatrix<f64>,
    test_labels: Vec<usize>,
    model: Mlp,
}

fn setup(seed: u64) -> Setup {
    let iris = Dataset::from_csv(IRIS_CSV).unwrap();
    assert_eq!((iris.len(), iris.num_features()), (150, 4));
    assert_eq!(iris.class_counts(), [50, 50, 50]);
    let (train, test) = iris.stratified_split(0.2, seed).unwrap();
    let scaler = Standardizer::fit(&train.features);
    let train = Dataset::new(
        scaler.transform(&train.features).unwrap(),
        train.labels,
        train.class_names,
    )
    .unwrap();
    let mut rng = Rng::new(seed);
    let (w1, b1) = rng.linear_layer(4, 16);
    let (w2, b2) = rng.linear_layer(16, 3);
    Setup {
        x_test: scaler.transform(&test.features).unwrap(),
        test_labels: test.labels,
        train,
        model: Mlp { w1, b1, w2, b2 },
    }
}

fn accuracy(logits: &DMatrix<f64>, labels: &[usize]) -> f64 {
    let hits = logits
        .row_iter()
        .zip(labels)
        .filter(|(r, &l)| r.transpose().argmax().0 == l)
        .count();
    hits as f64 / labels.len() as f64
}

/// The class scores in plain nalgebra.
fn static_logits(m: &Mlp, x: &DMatrix<f64>) -> DMatrix<f64> {
    let mut hidden = x * &m.w1;
    for mut r in hidden.row_iter_mut() {
        r += &m.b1;
    }
    hidden.apply(|v| *v = v.tanh());
    let mut logits = hidden * &m.w2;
    for mut r in logits.row_iter_mut() {
        r += &m.b2;
    }
    logits
}

const EPOCHS: usize = 25;

fn trainer() -> Trainer<Adam> {
    Trainer::new(Adam::new(0.01))
        .epochs(EPOCHS)
        .clip_grad_norm(1.0)
        .progress(false)
}

fn train_static(s: &Setup) -> (Mlp, History) {
    let mut m = s.model.clone();
    let batches = s.train.batches(16);
    let history = trainer()
        .fit_with_eval(
            &mut m,
            &batches,
            |m, (x, labels)| {
                let (loss, g) = mlp_loss_grad(m, x, labels);
                (loss, g.m)
            },
            |m| Metrics {
                loss: Some(mlp_loss(m, &s.x_test, &s.test_labels)),
                accuracy: Some(accuracy(&static_logits(m, &s.x_test), &s.test_labels)),
            },
        )
        .unwrap();
    (m, history)
}

#[test]
fn the_static_engine_learns_iris() {
    let s = setup(42);
    let (m, history) = train_static(&s);
    let acc = accuracy(&static_logits(&m, &s.x_test), &s.test_labels);
    let first = &history.epochs[0];
    let last = history.last().unwrap();
    assert!(acc >= 0.9, "test accuracy {acc} after {EPOCHS} epochs");
    assert_eq!(last.eval_accuracy, Some(acc));
    assert!(
        last.train_loss < 0.25 * first.train_loss,
        "train loss {} -> {}",
        first.train_loss,
        last.train_loss
    );
    assert!(last.health.is_healthy(), "{}", last.health);

    // Same seed, same numbers.
    let (again, history_again) = train_static(&setup(42));
    assert_eq!(again, m);
    assert_eq!(history_again.batch_losses, history.batch_losses);
}

#[test]
fn both_engines_compute_the_same_gradient_as_central_differences() {
    let s = setup(7);
    let (x, labels) = (&s.train.features, &s.train.labels);
    // Not at the initial point only: also after a few steps, where the tanh units are
    // no longer all near 0.
    let mut m = s.model.clone();
    let mut opt = Adam::new(0.05);
    for step in 0..4 {
        let (loss_static, g_static) = mlp_loss_grad(&m, x, labels);
        let tensors = TensorMlp::from_mlp(&m);
        let (loss_dynamic, g_dynamic) = tensors.loss_and_grads(&Tensor::from(x.clone()), labels);
        assert!((loss_static - loss_dynamic).abs() < 1e-12, "step {step}");
        let g_dynamic = TensorMlp::to_mlp(&g_dynamic);
        let mut diff = g_static.m.clone();
        diff.scale(-1.0);
        diff.add_assign(&g_dynamic);
        let worst = diff.norm_squared().sqrt();
        assert!(worst < 1e-10, "step {step}: gradients differ by {worst:e}");
        assert!(
            g_static.m.norm_squared() > 1e-6,
            "a trivial gradient proves nothing"
        );

        gradcheck(
            |p: &Mlp| mlp_loss(p, x, labels),
            |p: &Mlp| mlp_loss_grad(p, x, labels).1.m,
            &m,
            1e-6,
            1e-6,
        )
        .unwrap();
        opt.step(&mut m, &g_static.m).unwrap();
    }
}

#[test]
fn both_engines_train_to_the_same_parameters() {
    let s = setup(3);
    let (m_static, h_static) = train_static(&s);

    let mut m = TensorMlp::from_mlp(&s.model);
    let batches: Vec<(Tensor, Vec<usize>)> = s
        .train
        .batches(16)
        .into_iter()
        .map(|(x, l)| (Tensor::from(x), l))
        .collect();
    let x_test = Tensor::from(s.x_test.clone());
    let h_dynamic = trainer()
        .fit_with_eval(
            &mut m,
            &batches,
            |m, (x, labels)| m.loss_and_grads(x, labels),
            |m| Metrics {
                loss: None,
                accuracy: Some(accuracy(
                    &no_grad(|| m.logits(&x_test)).value(),
                    &s.test_labels,
                )),
            },
        )
        .unwrap();

    let m_dynamic = m.to_mlp();
    let mut diff = m_static.clone();
    diff.scale(-1.0);
    diff.add_assign(&m_dynamic);
    let gap = diff.norm_squared().sqrt();
    assert!(
        gap < 1e-9,
        "after {EPOCHS} epochs the engines differ by {gap:e}"
    );
    let acc = h_dynamic.last().unwrap().eval_accuracy.unwrap();
    assert_eq!(Some(acc), h_static.last().unwrap().eval_accuracy);
    assert!(acc >= 0.9, "dynamic engine test accuracy {acc}");
}
