//! `autodiff::io::{save, load}`: safetensors files of any `Tangent` value, round trips,
//! the layout other tools read (names, shapes, row-major), every refusal (naming the
//! tensor and leaving the parameters unchanged), and a file written by Python.

use std::path::PathBuf;

use autodiff::dynamic::Tensor;
use autodiff::io::{self, IoErrorKind};
use autodiff::nalgebra::{DMatrix, DVector, RowDVector, SMatrix};
use autodiff::optim::OptimizerState;
use autodiff::prelude::*;

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Mlp<T: Real> {
    w1: DMatrix<T>,
    b1: RowDVector<T>,
    w2: DMatrix<T>,
    b2: T,
}

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Layer {
    w: DMatrix<f32>,
    b: RowDVector<f32>,
}

/// The model `tools/make_safetensors_fixture.py` writes the fixture for.
#[derive(Debug, Clone, PartialEq, Tangent)]
struct Deep {
    layers: Vec<Layer>,
    scale: f32,
}

/// A fresh file name in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "autodiff-io-test-{}-{name}.safetensors",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn mlp<T: Real>(seed: f64) -> Mlp<T> {
    Mlp {
        w1: DMatrix::from_fn(2, 3, |i, j| T::c(seed + (i * 3 + j) as f64 / 8.0)),
        b1: RowDVector::from_fn(3, |_, j| T::c(seed - j as f64 * 0.3)),
        w2: DMatrix::from_fn(3, 1, |i, _| T::c(seed * i as f64 - 0.1)),
        b2: T::c(-seed / 3.0),
    }
}

fn zeros_mlp<T: Real>() -> Mlp<T> {
    mlp::<T>(1.0).zero_like()
}

fn deep(seed: f32) -> Deep {
    Deep {
        layers: vec![
            Layer {
                w: DMatrix::from_fn(2, 3, |i, j| seed + (i * 3 + j) as f32),
                b: RowDVector::from_fn(3, |_, j| seed * j as f32),
            },
            Layer {
                w: DMatrix::from_fn(3, 1, |i, _| -seed * i as f32),
                b: RowDVector::from_element(1, seed / 7.0),
            },
        ],
        scale: seed * 0.5,
    }
}

/// The names, dtypes and shapes in a file, read with the safetensors crate itself (not
/// through `autodiff::io`), sorted by name.
fn header(path: &std::path::Path) -> Vec<(String, String, Vec<usize>)> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let json: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let mut out: Vec<_> = json
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .map(|(k, v)| {
            let shape = v["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            (k.clone(), v["dtype"].as_str().unwrap().to_string(), shape)
        })
        .collect();
    out.sort();
    out
}

/// The raw little-endian f32 data of tensor `name` (in the file's, row-major, order).
fn raw_f32(path: &std::path::Path, name: &str) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let json: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let offsets = &json[name]["data_offsets"];
    let (start, end) = (
        offsets[0].as_u64().unwrap() as usize,
        offsets[1].as_u64().unwrap() as usize,
    );
    bytes[8 + n + start..8 + n + end]
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn round_trip_struct<T: Real>(dtype: &str) {
    let file = TempFile::new(&format!("mlp-{dtype}"));
    let saved = mlp::<T>(0.75);
    io::save(&saved, &file.0).unwrap();
    let expected: Vec<(String, String, Vec<usize>)> = vec![
        ("b1".into(), dtype.into(), vec![1, 3]),
        ("b2".into(), dtype.into(), vec![]),
        ("w1".into(), dtype.into(), vec![2, 3]),
        ("w2".into(), dtype.into(), vec![3, 1]),
    ];
    assert_eq!(header(&file.0), expected);
    let mut loaded = zeros_mlp::<T>();
    io::load(&mut loaded, &file.0).unwrap();
    assert_eq!(loaded, saved);
}

#[test]
fn a_derived_struct_round_trips_in_f64_and_f32() {
    round_trip_struct::<f64>("F64");
    round_trip_struct::<f32>("F32");
}

#[test]
fn matrices_are_written_row_major_with_their_shape() {
    let file = TempFile::new("row-major");
    let m = DMatrix::from_row_slice(2, 3, &[1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let column = DVector::from_vec(vec![7.0_f32, 8.0]);
    let fixed = SMatrix::<f32, 2, 2>::new(1.0, 2.0, 3.0, 4.0);
    io::save(&(m, column, fixed, vec![9.0_f32, 10.0]), &file.0).unwrap();
    assert_eq!(
        header(&file.0),
        [
            ("0".to_string(), "F32".to_string(), vec![2, 3]),
            ("1".to_string(), "F32".to_string(), vec![2, 1]),
            ("2".to_string(), "F32".to_string(), vec![2, 2]),
            ("3".to_string(), "F32".to_string(), vec![2]),
        ]
    );
    assert_eq!(raw_f32(&file.0, "0"), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(raw_f32(&file.0, "1"), [7.0, 8.0]);
    assert_eq!(raw_f32(&file.0, "2"), [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(raw_f32(&file.0, "3"), [9.0, 10.0]);
}

#[test]
fn a_vec_of_matrices_and_a_tuple_round_trip() {
    let file = TempFile::new("vec");
    let layers = vec![
        DMatrix::from_fn(3, 2, |i, j| (i as f64 - 1.5) * (j as f64 + 0.25)),
        DMatrix::from_fn(2, 4, |i, j| (i * 4 + j) as f64 * -0.125),
        DMatrix::zeros(0, 3),
    ];
    io::save(&layers, &file.0).unwrap();
    let mut back = layers.zero_like();
    back[0][(0, 0)] = 99.0;
    io::load(&mut back, &file.0).unwrap();
    assert_eq!(back, layers);

    let file = TempFile::new("tuple");
    let tuple = (
        DMatrix::from_fn(2, 2, |i, j| (i + 2 * j) as f32 + 0.5),
        RowDVector::from_element(2, -3.0_f32),
        [1.0_f32, 2.0, 3.0],
        4.5_f32,
    );
    io::save(&tuple, &file.0).unwrap();
    let names: Vec<String> = header(&file.0).into_iter().map(|h| h.0).collect();
    assert_eq!(names, ["0", "1", "2", "3"]);
    let mut back = tuple.zero_like();
    io::load(&mut back, &file.0).unwrap();
    assert_eq!(back, tuple);
}

#[test]
fn nested_structs_are_named_by_their_paths() {
    let file = TempFile::new("deep");
    let saved = deep(2.0);
    io::save(&saved, &file.0).unwrap();
    let names: Vec<String> = header(&file.0).into_iter().map(|h| h.0).collect();
    assert_eq!(
        names,
        [
            "layers.0.b",
            "layers.0.w",
            "layers.1.b",
            "layers.1.w",
            "scale"
        ]
    );
    let mut back = deep(0.0);
    io::load(&mut back, &file.0).unwrap();
    assert_eq!(back, saved);
}

#[test]
fn dynamic_engine_tensors_round_trip_and_stay_trainable() {
    let file = TempFile::new("tensors");
    let w = Tensor::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).requires_grad();
    let b = Tensor::vector(&[0.5, -0.5]);
    io::save(&(w.clone(), b.clone()), &file.0).unwrap();
    assert_eq!(header(&file.0)[0].2, vec![2, 3]);

    let loaded = (Tensor::zeros(2, 3).requires_grad(), Tensor::zeros(2, 1));
    let mut handles = loaded.clone();
    io::load(&mut handles, &file.0).unwrap();
    assert_eq!(loaded.0.value(), w.value());
    assert_eq!(loaded.1.value(), b.value());
    // The loaded leaf is still a parameter: its gradient flows.
    (&loaded.0 * 2.0).sum().backward().unwrap();
    assert_eq!(
        loaded.0.grad().unwrap().value(),
        DMatrix::from_element(2, 3, 2.0)
    );
}

/// Runs `load` of `file` into `target` and checks that it fails naming `tensor` and
/// leaves `target` unchanged.
fn refused<P: Tangent + Clone + PartialEq + std::fmt::Debug>(
    file: &TempFile,
    mut target: P,
    tensor: &str,
) -> io::IoError {
    let before = target.clone();
    let err = io::load(&mut target, &file.0).unwrap_err();
    assert_eq!(err.tensor(), Some(tensor), "{err}");
    assert!(err.to_string().contains(&format!("`{tensor}`")), "{err}");
    assert_eq!(target, before, "a refused load changed the parameters");
    err
}

#[test]
fn a_missing_name_is_refused_and_names_the_tensor() {
    let file = TempFile::new("missing");
    let mut smaller = deep(3.0);
    smaller.layers.pop();
    io::save(&smaller, &file.0).unwrap();
    let err = refused(&file, deep(1.0), "layers.1.w");
    assert!(matches!(err.kind(), IoErrorKind::Missing { .. }));
    assert!(err
        .to_string()
        .contains("the file has `layers.0.b`, `layers.0.w`, `scale`"));
}

#[test]
fn an_extra_name_is_refused_and_names_the_tensor() {
    let file = TempFile::new("extra");
    io::save(&deep(3.0), &file.0).unwrap();
    let mut smaller = deep(1.0);
    smaller.layers.pop();
    let err = refused(&file, smaller, "layers.1.b");
    assert!(matches!(err.kind(), IoErrorKind::Unexpected));
}

#[test]
fn a_wrong_shape_is_refused_and_names_the_tensor() {
    let file = TempFile::new("shape");
    io::save(&deep(3.0), &file.0).unwrap();
    let mut wider = deep(1.0);
    wider.layers[1].w = DMatrix::zeros(1, 3);
    let err = refused(&file, wider, "layers.1.w");
    match err.kind() {
        IoErrorKind::Shape { expected, found } => {
            assert_eq!(
                (expected.as_slice(), found.as_slice()),
                (&[1, 3][..], &[3, 1][..])
            )
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "tensor `layers.1.w` has shape [3, 1] in `{}`, the parameter has [1, 3]",
            file.0.display()
        )
    );
}

#[test]
fn a_wrong_dtype_is_refused_and_names_the_tensor() {
    let file = TempFile::new("dtype");
    io::save(&mlp::<f64>(3.0), &file.0).unwrap();
    let err = refused(&file, mlp::<f32>(1.0), "w1");
    match err.kind() {
        IoErrorKind::Dtype { expected, found } => {
            assert_eq!((expected.as_str(), found.as_str()), ("F32", "F64"))
        }
        other => panic!("expected a dtype error, got {other:?}"),
    }
}

#[test]
fn a_truncated_file_is_refused_and_names_the_tensor_cut_off() {
    let file = TempFile::new("truncated");
    io::save(&deep(3.0), &file.0).unwrap();
    let bytes = std::fs::read(&file.0).unwrap();
    // The data is sorted by name: `scale` (4 bytes) is last, `layers.1.w` before it.
    std::fs::write(&file.0, &bytes[..bytes.len() - 6]).unwrap();
    let err = refused(&file, deep(1.0), "layers.1.w");
    assert!(matches!(err.kind(), IoErrorKind::Damaged(_)));
    assert!(err.to_string().contains("truncated"), "{err}");

    // Cut inside the header: no tensor can be named, and it is still an error.
    std::fs::write(&file.0, &bytes[..20]).unwrap();
    let mut target = deep(1.0);
    let err = io::load(&mut target, &file.0).unwrap_err();
    assert!(matches!(err.kind(), IoErrorKind::Damaged(_)), "{err}");
    assert_eq!(target, deep(1.0));
}

#[test]
fn a_file_that_does_not_exist_is_an_error_with_its_path() {
    let file = TempFile::new("absent");
    let mut target = deep(1.0);
    let err = io::load(&mut target, &file.0).unwrap_err();
    assert!(matches!(err.kind(), IoErrorKind::File(_)));
    assert_eq!(err.path(), file.0.as_path());
    assert_eq!(err.tensor(), None);
}

/// Element k (row-major) of tensor number t in the fixture: `t + 1 + k / 10`, computed in
/// f64 and rounded to f32 once, as the script does.
fn fixture_value(t: usize, k: usize) -> f32 {
    (t as f64 + 1.0 + k as f64 / 10.0) as f32
}

#[test]
fn a_file_written_by_python_safetensors_loads() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/python_mlp.safetensors"
    );
    let mut model = deep(0.0);
    io::load(&mut model, path).unwrap();
    let matrix = |t: usize, rows: usize, cols: usize| {
        DMatrix::from_fn(rows, cols, |i, j| fixture_value(t, i * cols + j))
    };
    let expected = Deep {
        layers: vec![
            Layer {
                w: matrix(0, 2, 3),
                b: RowDVector::from_fn(3, |_, j| fixture_value(1, j)),
            },
            Layer {
                w: matrix(2, 3, 1),
                b: RowDVector::from_element(1, fixture_value(3, 0)),
            },
        ],
        scale: fixture_value(4, 0),
    };
    assert_eq!(model, expected);
    assert_eq!(model.layers[0].w[(1, 0)], 1.3); // row 1, column 0: k = 3

    // And what `save` writes of it has the fixture's names, shapes and data.
    let file = TempFile::new("python-again");
    io::save(&model, &file.0).unwrap();
    assert_eq!(header(&file.0), header(std::path::Path::new(path)));
    for name in [
        "layers.0.w",
        "layers.0.b",
        "layers.1.w",
        "layers.1.b",
        "scale",
    ] {
        assert_eq!(
            raw_f32(&file.0, name),
            raw_f32(std::path::Path::new(path), name)
        );
    }
}

/// A deterministic, nonlinear gradient of the parameters (the same for every run).
fn grad_of<P: Tangent + Clone>(p: &P) -> P {
    let mut g = p.clone();
    g.visit_mut(&mut |leaf| {
        for x in leaf {
            let v = *x;
            *x = v * v * v - <P::Scalar as Real>::c(0.5) * v + <P::Scalar as Real>::c(0.1);
        }
    });
    g
}

/// Runs `total` steps in one go, and `stop` steps, a save of parameters and optimizer,
/// a load into fresh values (`fresh` and `new_opt`) and the remaining steps; the final
/// parameters and optimizer states must be equal bit for bit.
fn resumes_bit_for_bit<P, O>(start: P, fresh: P, make_opt: impl Fn() -> O, name: &str)
where
    P: Tangent + Clone + PartialEq + std::fmt::Debug,
    O: Optimizer<P> + OptimizerState,
{
    let (total, stop) = (12, 5);
    let mut reference = start.clone();
    let mut opt = make_opt();
    for i in 0..total {
        if i == 3 {
            opt.set_lr(opt.lr() * 0.5); // a schedule's change, which the state keeps
        }
        let g = grad_of(&reference);
        opt.step(&mut reference, &g).unwrap();
    }

    let mut first = start;
    let mut opt = make_opt();
    for i in 0..stop {
        if i == 3 {
            opt.set_lr(opt.lr() * 0.5);
        }
        let g = grad_of(&first);
        opt.step(&mut first, &g).unwrap();
    }
    let (params_file, opt_file) = (
        TempFile::new(&format!("{name}-params")),
        TempFile::new(&format!("{name}-opt")),
    );
    io::save(&first, &params_file.0).unwrap();
    io::save_optimizer(&opt, &opt_file.0).unwrap();
    drop((first, opt));

    let mut resumed = fresh;
    let mut opt = make_opt();
    io::load(&mut resumed, &params_file.0).unwrap();
    io::load_optimizer(&mut opt, &opt_file.0).unwrap();
    assert_eq!(opt.steps_taken(), stop as u64);
    for _ in stop..total {
        let g = grad_of(&resumed);
        opt.step(&mut resumed, &g).unwrap();
    }
    assert_eq!(resumed, reference, "{name}: the resumed run diverged");
}

#[test]
fn training_saved_and_resumed_follows_the_same_trajectory_bit_for_bit() {
    let adam = || Adam::new(0.05).amsgrad(true).weight_decay(0.01);
    resumes_bit_for_bit(mlp::<f64>(0.4), zeros_mlp::<f64>(), adam, "adam-f64");
    resumes_bit_for_bit(mlp::<f32>(0.4), zeros_mlp::<f32>(), adam, "adam-f32");
    resumes_bit_for_bit(deep(0.3), deep(0.0), || AdamW::new(0.02), "adamw");
    let sgd = || Sgd::new(0.01).momentum(0.9).nesterov(true);
    resumes_bit_for_bit(mlp::<f64>(0.4), zeros_mlp::<f64>(), sgd, "sgd");
    let rms = || RmsProp::new(0.01).momentum(0.5).centered(true);
    resumes_bit_for_bit(mlp::<f64>(0.4), zeros_mlp::<f64>(), rms, "rmsprop");
}

#[test]
fn optimizer_state_files_name_their_buffers_and_are_checked() {
    let file = TempFile::new("adam-state");
    let mut p = mlp::<f64>(0.4);
    let mut adam = Adam::new(0.1);
    // Before the first step: only the step count and the learning rate.
    io::save_optimizer(&adam, &file.0).unwrap();
    let names: Vec<String> = header(&file.0).into_iter().map(|h| h.0).collect();
    assert_eq!(names, ["lr", "step"]);
    let g = grad_of(&p);
    adam.step(&mut p, &g).unwrap();
    io::save_optimizer(&adam, &file.0).unwrap();
    assert_eq!(
        header(&file.0),
        [
            ("exp_avg".to_string(), "F64".to_string(), vec![13]),
            ("exp_avg_sq".to_string(), "F64".to_string(), vec![13]),
            ("lr".to_string(), "F64".to_string(), vec![]),
            ("max_exp_avg_sq".to_string(), "F64".to_string(), vec![13]),
            ("step".to_string(), "U64".to_string(), vec![]),
        ]
    );

    // An Adam state does not load into SGD, which is left as it was.
    let mut sgd = Sgd::new(0.5).momentum(0.9);
    let mut q = mlp::<f64>(0.4);
    let g = grad_of(&q);
    sgd.step(&mut q, &g).unwrap();
    let before = sgd.state();
    let err = io::load_optimizer(&mut sgd, &file.0).unwrap_err();
    assert_eq!(err.tensor(), Some("exp_avg"), "{err}");
    assert!(matches!(err.kind(), IoErrorKind::Unexpected));
    assert_eq!(sgd.state(), before);

    // A parameter file is not an optimizer state.
    let params_file = TempFile::new("not-a-state");
    io::save(&p, &params_file.0).unwrap();
    let before = adam.state();
    let err = io::load_optimizer(&mut adam, &params_file.0).unwrap_err();
    assert_eq!(err.tensor(), Some("step"), "{err}");
    assert_eq!(adam.state(), before);
}
