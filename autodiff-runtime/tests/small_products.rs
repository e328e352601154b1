//! Memory safety of the matrix-product path at the sizes where nalgebra 0.35's `gemm`
//! misreads row-strided views (any dimension of 5 or less), and a source check that the
//! runtime never calls that `gemm` or builds a strided view at all.
//!
//! Every product shape `m x k` times `k x n` with `m, k, n` in `1..=5`, with plain and
//! transposed operands (`A B`, `A^T B`, `A B^T`, `A^T B^T`), in f64 and f32, through the
//! static engine's rules and through the dynamic engine: forward values and both adjoints
//! against the textbook triple loop. Shapes across the blocked-kernel threshold (8) and the
//! 16x150 times 150x3 case that made nalgebra read out of bounds are included. Run under
//! valgrind (see `docs/memory_safety.md`) these tests show no invalid read or write.

use autodiff_runtime::dynamic::Tensor;
use autodiff_runtime::nalgebra::DMatrix;
use autodiff_runtime::rules::*;

/// Deterministic data in [-2, 2), different for each seed.
fn data(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    DMatrix::from_fn(rows, cols, |_, _| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0
    })
}

/// `a b` by the triple loop over explicit indices: the independent reference.
fn naive(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    assert_eq!(a.ncols(), b.nrows());
    let mut c = DMatrix::zeros(a.nrows(), b.ncols());
    for i in 0..a.nrows() {
        for j in 0..b.ncols() {
            let mut s = 0.0;
            for p in 0..a.ncols() {
                s += a[(i, p)] * b[(p, j)];
            }
            c[(i, j)] = s;
        }
    }
    c
}

/// The transpose by explicit indices.
fn naive_t(a: &DMatrix<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(a.ncols(), a.nrows(), |i, j| a[(j, i)])
}

fn assert_close(actual: &DMatrix<f64>, expected: &DMatrix<f64>, tol: f64, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
    for (x, y) in actual.iter().zip(expected.iter()) {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}: {x} vs {y}\nactual {actual}\nexpected {expected}"
        );
    }
}

/// Shapes `(m, k, n)`: all of 1..=5 cubed, plus shapes across the blocked threshold.
fn shapes() -> Vec<(usize, usize, usize)> {
    let mut s = Vec::new();
    for m in 1..=5 {
        for k in 1..=5 {
            for n in 1..=5 {
                s.push((m, k, n));
            }
        }
    }
    s.extend([
        (8, 8, 8),
        (9, 5, 8),
        (8, 9, 3),
        (16, 150, 3),
        (3, 150, 16),
        (12, 10, 9),
    ]);
    s
}

/// `Y = A B` with `A` given as stored (`a_t` false) or as the transpose of what is stored
/// (`a_t` true), likewise `B`; forward and both adjoints through the static rules,
/// accumulating into a non-empty adjoint and into the symbolic-zero (empty) adjoint.
fn check_static(m: usize, k: usize, n: usize, a_t: bool, b_t: bool, seed: u64) {
    let stored_a = if a_t {
        data(k, m, seed)
    } else {
        data(m, k, seed)
    };
    let stored_b = if b_t {
        data(n, k, seed + 1)
    } else {
        data(k, n, seed + 1)
    };
    let a = if a_t {
        unary(Transpose, &stored_a)
    } else {
        stored_a.clone()
    };
    let b = if b_t {
        unary(Transpose, &stored_b)
    } else {
        stored_b.clone()
    };
    let (ra, rb) = (
        if a_t {
            naive_t(&stored_a)
        } else {
            stored_a.clone()
        },
        if b_t {
            naive_t(&stored_b)
        } else {
            stored_b.clone()
        },
    );
    let what = format!("{m}x{k} * {k}x{n} (a transposed: {a_t}, b transposed: {b_t})");

    let y = binary(Mul, &a, &b);
    assert_close(&y, &naive(&ra, &rb), 1e-12, &format!("{what}: value"));

    let g = data(m, n, seed + 2);
    // Into the empty (symbolic zero) adjoint.
    let mut ga: DMatrix<f64> = adjoint_zero();
    binary_vjp_lhs(Mul, &a, &b, &y, &g, &mut ga);
    assert_close(
        &ga,
        &naive(&g, &naive_t(&rb)),
        1e-12,
        &format!("{what}: dA"),
    );
    let mut gb: DMatrix<f64> = adjoint_zero();
    binary_vjp_rhs(Mul, &a, &b, &y, &g, &mut gb);
    assert_close(
        &gb,
        &naive(&naive_t(&ra), &g),
        1e-12,
        &format!("{what}: dB"),
    );

    // Into adjoints that already hold a value: the kernels add.
    let start_a = data(m, k, seed + 3);
    let mut ga2 = start_a.clone();
    binary_vjp_lhs(Mul, &a, &b, &y, &g, &mut ga2);
    assert_close(
        &ga2,
        &(&start_a + &ga),
        1e-12,
        &format!("{what}: dA accumulates"),
    );
    let start_b = data(k, n, seed + 4);
    let mut gb2 = start_b.clone();
    binary_vjp_rhs(Mul, &a, &b, &y, &g, &mut gb2);
    assert_close(
        &gb2,
        &(&start_b + &gb),
        1e-12,
        &format!("{what}: dB accumulates"),
    );

    // The adjoint of a transposed operand flows back through `Transpose`.
    if a_t {
        let mut g_stored: DMatrix<f64> = adjoint_zero();
        unary_vjp(Transpose, &stored_a, &a, &ga, &mut g_stored);
        assert_close(
            &g_stored,
            &naive_t(&ga),
            0.0,
            &format!("{what}: d(stored A)"),
        );
    }

    // f32 through the same kernels.
    let (a32, b32) = (a.map(|v| v as f32), b.map(|v| v as f32));
    let y32 = binary(Mul, &a32, &b32);
    assert_close(&y32.map(f64::from), &y, 1e-5, &format!("{what}: f32 value"));
    let g32 = g.map(|v| v as f32);
    let mut ga32 = adjoint_zero();
    binary_vjp_lhs(Mul, &a32, &b32, &y32, &g32, &mut ga32);
    assert_close(&ga32.map(f64::from), &ga, 1e-5, &format!("{what}: f32 dA"));
    let mut gb32 = adjoint_zero();
    binary_vjp_rhs(Mul, &a32, &b32, &y32, &g32, &mut gb32);
    assert_close(&gb32.map(f64::from), &gb, 1e-5, &format!("{what}: f32 dB"));
}

#[test]
fn small_and_transposed_products_match_the_triple_loop() {
    let mut seed = 1;
    for (m, k, n) in shapes() {
        for (a_t, b_t) in [(false, false), (true, false), (false, true), (true, true)] {
            check_static(m, k, n, a_t, b_t, seed);
            seed += 10;
        }
    }
}

#[test]
fn dynamic_engine_small_and_transposed_products_match_the_triple_loop() {
    let mut seed = 7;
    for (m, k, n) in shapes() {
        // Y = A^T B^T with A stored k x m and B stored n x k; loss = sum(Y * W).
        let sa = data(k, m, seed);
        let sb = data(n, k, seed + 1);
        let w = data(m, n, seed + 2);
        seed += 10;
        let ta = Tensor::from(sa.clone()).requires_grad();
        let tb = Tensor::from(sb.clone()).requires_grad();
        let y = ta.t().matmul(&tb.t());
        let (ra, rb) = (naive_t(&sa), naive_t(&sb));
        let what = format!("dynamic {m}x{k} * {k}x{n}");
        assert_close(&y.value(), &naive(&ra, &rb), 1e-12, &what);
        let loss = (&y * &Tensor::from(w.clone())).sum();
        loss.backward().unwrap();
        // d loss / dY = W; dA = W B^T, dB = A^T W, then transposed back to storage.
        let ga = naive(&w, &naive_t(&rb));
        let gb = naive(&naive_t(&ra), &w);
        assert_close(
            &ta.grad().unwrap().value(),
            &naive_t(&ga),
            1e-12,
            &format!("{what}: dA"),
        );
        assert_close(
            &tb.grad().unwrap().value(),
            &naive_t(&gb),
            1e-12,
            &format!("{what}: dB"),
        );
    }
}

/// The runtime's sources, without comments, as `(path, line number, code)`.
fn runtime_code_lines() -> Vec<(String, usize, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root];
    let mut out = Vec::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                files.push(entry.unwrap().path());
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("").to_string();
                out.push((path.display().to_string(), i + 1, code));
            }
        }
    }
    assert!(
        out.len() > 1000,
        "found only {} lines of runtime source",
        out.len()
    );
    out
}

/// Whether a line of code (comments removed) calls nalgebra's in-place products (`gemm`,
/// `gemm_tr`, `gemm_ad`) or builds a strided view; `matrixmultiply::{dgemm, sgemm}` with
/// explicit strides, behind the bounds asserts of `rules/gemm.rs`, is the allowed kernel.
fn uses_nalgebra_gemm_or_strides(code: &str) -> bool {
    // nalgebra's `ViewStorage::from_raw_parts` builds strided views; the standard
    // library's `slice::from_raw_parts` (the fused loops' checked cursors) does not.
    let raw_view = code
        .match_indices("from_raw_parts")
        .any(|(i, _)| !code[..i].ends_with("slice::"));
    let strided = code.contains("with_strides") || raw_view;
    let gemm = code.match_indices("gemm").any(|(i, _)| {
        let after = &code[i + 4..];
        let is_call =
            after.starts_with('(') || after.starts_with("_tr(") || after.starts_with("_ad(");
        let before = &code[..i];
        let kernel = before.ends_with("matrixmultiply::d") || before.ends_with("matrixmultiply::s");
        is_call && !kernel
    });
    strided || gemm
}

#[test]
fn the_source_check_recognises_the_hazard() {
    assert!(uses_nalgebra_gemm_or_strides("out.gemm(1.0, &a, &b, 0.0);"));
    assert!(uses_nalgebra_gemm_or_strides(
        "dw.gemm_tr(1.0, &x, &g, 1.0);"
    ));
    assert!(uses_nalgebra_gemm_or_strides(
        "let v = DMatrixView::from_slice_with_strides(s, r, c, k, 1);"
    ));
    assert!(uses_nalgebra_gemm_or_strides(
        "ViewStorage::from_raw_parts(ptr, shape, strides)"
    ));
    assert!(!uses_nalgebra_gemm_or_strides(
        "V::load_elems(unsafe { std::slice::from_raw_parts(p, V::LANES) })"
    ));
    assert!(!uses_nalgebra_gemm_or_strides("matrixmultiply::dgemm("));
    assert!(!uses_nalgebra_gemm_or_strides(
        "add_mul_bt(m, n, k, g, b, c);"
    ));
}

#[test]
fn the_runtime_never_calls_nalgebra_gemm_or_builds_strided_views() {
    let offending: Vec<String> = runtime_code_lines()
        .into_iter()
        .filter(|(_, _, code)| uses_nalgebra_gemm_or_strides(code))
        .map(|(path, line, code)| format!("{path}:{line}: {}", code.trim()))
        .collect();
    assert!(
        offending.is_empty(),
        "the runtime must not use nalgebra's gemm or strided views (nalgebra 0.35 reads out \
         of bounds for small dims); use rules/gemm.rs:\n{}",
        offending.join("\n")
    );
}
