//! Fused loops on SIMD lanes: every rule's lane formulas against its scalar formulas, on
//! both lane types of each precision (`wide::f64x4` / `wide::f32x8` and, through
//! `simd::dispatch` / `simd::dispatch_f32`, the AVX2 types), and the
//! fused drivers (`fused_map`, `fused_map_vjp`, `fused_sum`, `fused_sum_vjp`) against the
//! same chain computed op by op, over every broadcast mode and shapes whose length is
//! not a multiple of four.

use autodiff_runtime::nalgebra::{DMatrix, RowDVector};
use autodiff_runtime::rules::*;
use autodiff_runtime::simd::{self, FloatLanes, Kernel, KernelF32, Lanes};

/// Distance in units in the last place (0 for equal values, both NaN, or equal infinities).
fn ulps(a: f64, b: f64) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
        return u64::MAX;
    }
    let key = |v: f64| {
        let bits = v.to_bits() as i64;
        if bits < 0 {
            i64::MIN - bits
        } else {
            bits
        }
    };
    key(a).abs_diff(key(b))
}

/// A deterministic spread of inputs: a linear congruential generator over `[lo, hi)`,
/// plus the special values every rule must get right.
fn inputs(lo: f64, hi: f64, n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    let mut v: Vec<f64> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((state >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect();
    v.extend([
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e-310,
        -1e-310,
        30.0,
        -30.0,
    ]);
    while !v.len().is_multiple_of(4) {
        v.push(0.5);
    }
    v
}

/// Checks `f_lanes` / `df_lanes` of a unary rule against `f` / `df` on lane type `V`:
/// `f` within `max_ulps` (0 for rules whose lane formula is their scalar formula),
/// `df` given the same `x` and `y` exactly, or within `max_ulps` when the derivative
/// itself calls vector math (`softplus' = sigmoid`).
fn check_unary<V: Lanes, R: ElementwiseRule + std::fmt::Debug>(rule: R, xs: &[f64], max_ulps: u64) {
    let df_ulps = if format!("{rule:?}") == "Softplus" {
        max_ulps
    } else {
        0
    };
    for c in xs.chunks_exact(4) {
        let x = V::load(c);
        let y = rule.f_lanes(x).to_array();
        let ys: [f64; 4] = std::array::from_fn(|i| rule.f(c[i]));
        let d = rule.df_lanes(x, V::from_array(ys)).to_array();
        for i in 0..4 {
            assert!(
                ulps(y[i], ys[i]) <= max_ulps,
                "{rule:?}.f_lanes({}) = {} but f = {}",
                c[i],
                y[i],
                ys[i]
            );
            let ds = rule.df(c[i], ys[i]);
            assert!(
                ulps(d[i], ds) <= df_ulps,
                "{rule:?}.df_lanes({}, {}) = {} but df = {}",
                c[i],
                ys[i],
                d[i],
                ds
            );
        }
    }
}

fn check_binary<V: Lanes, R: BinaryRule + std::fmt::Debug>(rule: R, xs: &[f64]) {
    for (ca, cb) in xs.chunks_exact(4).zip(xs.chunks_exact(4).rev()) {
        let (a, b) = (V::load(ca), V::load(cb));
        let y = rule.f_lanes(a, b);
        let (ya, da, db) = (
            y.to_array(),
            rule.da_lanes(a, b, y).to_array(),
            rule.db_lanes(a, b, y).to_array(),
        );
        for i in 0..4 {
            let ys = rule.f(ca[i], cb[i]);
            assert_eq!(ulps(ya[i], ys), 0, "{rule:?}.f_lanes({}, {})", ca[i], cb[i]);
            assert_eq!(
                ulps(da[i], rule.da(ca[i], cb[i], ys)),
                0,
                "{rule:?}.da_lanes"
            );
            assert_eq!(
                ulps(db[i], rule.db(ca[i], cb[i], ys)),
                0,
                "{rule:?}.db_lanes"
            );
        }
    }
}

/// Every rule on one lane type. The vector math (`exp`, `ln`, `tanh`, ...) is allowed the
/// 4 ulp of the `simd` module's contract; everything else must round as the scalar rule.
fn check_all<V: Lanes>() {
    let wide = inputs(-40.0, 40.0, 4000, 1);
    let positive = inputs(1e-3, 50.0, 4000, 2);
    let small = inputs(-1.5, 1.5, 4000, 3);
    // Every elementwise row of the op table: the rows with vector math (`simd`) within
    // the 4 ulp of the `simd` module's contract, the others exactly as the scalar rule.
    macro_rules! check_unary_row {
        ($u:ident, $syn:ident $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
            let xs = if $simd {
                wide.clone()
            } else {
                inputs($lo, $hi, 4000, 4)
            };
            check_unary::<V, _>($u, &xs, if $simd { 4 } else { 0 });
        };
    }
    macro_rules! check_binary_row {
        ($b:ident, $syn:ident $name:ident, $tensor:tt, $torch:literal, $lo:literal, $hi:literal) => {
            check_binary::<V, _>($b, &inputs($lo, $hi, 4000, 5));
        };
    }
    autodiff_ops::for_each_unary_row!(check_unary_row);
    autodiff_ops::for_each_binary_row!(check_binary_row);
    check_unary::<V, _>(Neg, &wide, 0);
    check_unary::<V, _>(Relu, &wide, 0);
    check_unary::<V, _>(Abs, &wide, 0);
    check_unary::<V, _>(Ln, &positive, 4);
    check_unary::<V, _>(Tan, &small, 0);
    for n in [0, 1, 2, 3, -1, -2] {
        check_unary::<V, _>(PowI(n), &small, 0);
    }
    check_binary::<V, _>(Powf, &positive);
}

struct AllRules;
impl Kernel for AllRules {
    type Output = ();
    fn run<V: Lanes>(self) {
        check_all::<V>()
    }
}

#[test]
fn lane_formulas_match_scalar_rules_on_wide_f64x4() {
    check_all::<simd::f64x4>();
}

#[test]
fn lane_formulas_match_scalar_rules_on_the_dispatched_lane_type() {
    simd::dispatch(AllRules);
}

/// [`ulps`] for `f32`.
fn ulps32(a: f32, b: f32) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
        return u64::MAX;
    }
    let key = |v: f32| {
        let bits = v.to_bits() as i32;
        i64::from(if bits < 0 { i32::MIN - bits } else { bits })
    };
    key(a).abs_diff(key(b))
}

/// [`check_unary`] on eight `f32` lanes: the rules' `f32` scalar formulas (the standard
/// library's `f32` functions) against the lane formulas.
fn check_unary32<V: FloatLanes<Elem = f32>, R: ElementwiseRule + std::fmt::Debug>(
    rule: R,
    xs: &[f64],
    max_ulps: u64,
) {
    let xs: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
    let df_ulps = if format!("{rule:?}") == "Softplus" {
        max_ulps
    } else {
        0
    };
    for c in xs.chunks_exact(8) {
        let mut y = [0.0f32; 8];
        rule.f_lanes(V::load(c)).store(&mut y);
        let ys: [f32; 8] = std::array::from_fn(|i| rule.f(c[i]));
        let mut d = [0.0f32; 8];
        rule.df_lanes(V::load(c), V::load(&ys)).store(&mut d);
        for i in 0..8 {
            assert!(
                ulps32(y[i], ys[i]) <= max_ulps,
                "{rule:?}.f_lanes({}) = {} but f = {} (f32)",
                c[i],
                y[i],
                ys[i]
            );
            let ds = rule.df(c[i], ys[i]);
            assert!(
                ulps32(d[i], ds) <= df_ulps,
                "{rule:?}.df_lanes({}, {}) = {} but df = {} (f32)",
                c[i],
                ys[i],
                d[i],
                ds
            );
        }
    }
}

/// [`check_binary`] on eight `f32` lanes.
fn check_binary32<V: FloatLanes<Elem = f32>, R: BinaryRule + std::fmt::Debug>(rule: R, xs: &[f64]) {
    let xs: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
    for (ca, cb) in xs.chunks_exact(8).zip(xs.chunks_exact(8).rev()) {
        let (a, b) = (V::load(ca), V::load(cb));
        let y = rule.f_lanes(a, b);
        let (mut ya, mut da, mut db) = ([0.0f32; 8], [0.0f32; 8], [0.0f32; 8]);
        y.store(&mut ya);
        rule.da_lanes(a, b, y).store(&mut da);
        rule.db_lanes(a, b, y).store(&mut db);
        for i in 0..8 {
            let ys = rule.f(ca[i], cb[i]);
            assert_eq!(
                ulps32(ya[i], ys),
                0,
                "{rule:?}.f_lanes({}, {})",
                ca[i],
                cb[i]
            );
            assert_eq!(
                ulps32(da[i], rule.da(ca[i], cb[i], ys)),
                0,
                "{rule:?}.da_lanes"
            );
            assert_eq!(
                ulps32(db[i], rule.db(ca[i], cb[i], ys)),
                0,
                "{rule:?}.db_lanes"
            );
        }
    }
}

/// [`check_all`] on an `f32` lane type: the vector math within 4 `f32` ulp of the
/// standard library's `f32` functions, everything else rounding as the scalar rule.
fn check_all32<V: FloatLanes<Elem = f32>>() {
    let wide = inputs(-40.0, 40.0, 4000, 1);
    let positive = inputs(1e-3, 50.0, 4000, 2);
    let small = inputs(-1.5, 1.5, 4000, 3);
    macro_rules! check_unary_row {
        ($u:ident, $syn:ident $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
            let xs = if $simd {
                wide.clone()
            } else {
                inputs($lo, $hi, 4000, 4)
            };
            check_unary32::<V, _>($u, &xs, if $simd { 4 } else { 0 });
        };
    }
    macro_rules! check_binary_row {
        ($b:ident, $syn:ident $name:ident, $tensor:tt, $torch:literal, $lo:literal, $hi:literal) => {
            check_binary32::<V, _>($b, &inputs($lo, $hi, 4000, 5));
        };
    }
    autodiff_ops::for_each_unary_row!(check_unary_row);
    autodiff_ops::for_each_binary_row!(check_binary_row);
    check_unary32::<V, _>(Relu, &wide, 0);
    check_unary32::<V, _>(Abs, &wide, 0);
    check_unary32::<V, _>(Ln, &positive, 4);
    for n in [0, 1, 2, 3, -1, -2] {
        check_unary32::<V, _>(PowI(n), &small, 0);
    }
    check_binary32::<V, _>(Powf, &positive);
}

struct AllRules32;
impl KernelF32 for AllRules32 {
    type Output = ();
    fn run<V: FloatLanes<Elem = f32>>(self) {
        check_all32::<V>()
    }
}

#[test]
fn lane_formulas_match_scalar_rules_on_wide_f32x8() {
    check_all32::<simd::f32x8>();
}

#[test]
fn lane_formulas_match_scalar_rules_on_the_dispatched_f32_lane_type() {
    simd::dispatch_f32(AllRules32);
}

/// `tanh(a .* x + b)`, the chain the macro fuses, written as the macro writes it.
struct Chain;
impl FusedMap<3> for Chain {
    #[inline(always)]
    fn eval<V: FusedValue>(&self, [a, x, b]: [V; 3]) -> V {
        let ax = binary(Mul, &a, &x);
        let u = binary(Add, &ax, &b);
        unary(Tanh, &u)
    }
}
impl FusedVjp<3> for Chain {
    #[inline(always)]
    fn vjp<V: FusedValue>(&self, [a, x, b]: [V; 3], y: V, g: V) -> (V, [V; 3]) {
        let ax = binary(Mul, &a, &x);
        let u = binary(Add, &ax, &b);
        let t = binary(Saved(Tanh), &u, &y);
        let (mut du, mut dax, mut da, mut dx, mut db) = (
            adjoint_zero::<V>(),
            adjoint_zero::<V>(),
            adjoint_zero::<V>(),
            adjoint_zero::<V>(),
            adjoint_zero::<V>(),
        );
        binary_vjp_lhs(Saved(Tanh), &u, &y, &t, &g, &mut du);
        binary_vjp_lhs(Add, &ax, &b, &u, &du, &mut dax);
        binary_vjp_rhs(Add, &ax, &b, &u, &du, &mut db);
        binary_vjp_lhs(Mul, &a, &x, &ax, &dax, &mut da);
        binary_vjp_rhs(Mul, &a, &x, &ax, &dax, &mut dx);
        (t, [da, dx, db])
    }
}

/// The same chain with the sum's cotangent `g` and no saved output.
struct SumChain;
impl FusedMap<3> for SumChain {
    fn eval<V: FusedValue>(&self, e: [V; 3]) -> V {
        Chain.eval(e)
    }
}
impl FusedVjp<3> for SumChain {
    fn vjp<V: FusedValue>(&self, e: [V; 3], _y: V, g: V) -> (V, [V; 3]) {
        let t = Chain.eval(e);
        Chain.vjp(e, t, g)
    }
}

fn matrix(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let v = inputs(-1.5, 1.5, rows * cols, seed);
    DMatrix::from_column_slice(rows, cols, &v[..rows * cols])
}

fn close(a: &DMatrix<f64>, b: &DMatrix<f64>, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for (x, y) in a.iter().zip(b.iter()) {
        assert!(
            (x - y).abs() <= 1e-14 * (1.0 + y.abs()),
            "{what}: {x} vs {y}\n{a}\n{b}"
        );
    }
}

/// The chain op by op, and its vjp op by op, as unfused code computes them.
fn unfused(
    a: &DMatrix<f64>,
    x: &DMatrix<f64>,
    b: &RowDVector<f64>,
    g: &DMatrix<f64>,
) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>, RowDVector<f64>) {
    let ax = binary(ComponentMul, a, x);
    let u = binary(Add, &ax, b);
    let t = unary(Tanh, &u);
    let mut du = DMatrix::zeros(0, 0);
    let mut dax = DMatrix::zeros(0, 0);
    let mut da = DMatrix::zeros(0, 0);
    let mut db = RowDVector::zeros(0);
    unary_vjp(Tanh, &u, &t, g, &mut du);
    binary_vjp_lhs(Add, &ax, b, &u, &du, &mut dax);
    binary_vjp_rhs(Add, &ax, b, &u, &du, &mut db);
    binary_vjp_lhs(ComponentMul, a, x, &ax, &dax, &mut da);
    (t, du, da, db)
}

#[test]
fn fused_map_and_vjp_match_the_ops_with_a_row_broadcast() {
    for (rows, cols) in [(1, 1), (3, 5), (4, 4), (7, 3), (150, 16), (2, 9)] {
        let (a, x) = (matrix(rows, cols, 10), matrix(rows, cols, 11));
        let b = RowDVector::from_iterator(cols, inputs(-1.0, 1.0, cols, 12).into_iter().take(cols));
        let g = matrix(rows, cols, 13);
        let t: DMatrix<f64> = fused_map((&a, &x, &b), Chain);
        let (t_ref, _, da_ref, db_ref) = unfused(&a, &x, &b, &g);
        close(&t, &t_ref, "value");
        let mut da = DMatrix::zeros(0, 0);
        let mut db = RowDVector::zeros(0);
        fused_map_vjp(
            (&a, &x, &b),
            &t,
            &g,
            (Some(&mut da), None, Some(&mut db)),
            Chain,
        );
        close(&da, &da_ref, "da");
        close(
            &DMatrix::from_row_slice(1, cols, db.as_slice()),
            &DMatrix::from_row_slice(1, cols, db_ref.as_slice()),
            "db",
        );
        // A second vjp adds into the adjoints that now hold values.
        fused_map_vjp(
            (&a, &x, &b),
            &t,
            &g,
            (Some(&mut da), None, Some(&mut db)),
            Chain,
        );
        close(&da, &(&da_ref * 2.0), "da accumulated");
    }
}

#[test]
fn fused_loops_broadcast_columns_and_scalars() {
    let (rows, cols) = (6, 5);
    let a = matrix(rows, cols, 20);
    let x = DMatrix::from_column_slice(rows, 1, &inputs(-1.0, 1.0, rows, 21)[..rows]);
    let b = 0.25;
    let g = matrix(rows, cols, 22);
    let t: DMatrix<f64> = fused_map((&a, &x, &b), Chain);
    let mut da = DMatrix::zeros(0, 0);
    let mut dx = DMatrix::zeros(0, 0);
    let mut db = -0.0;
    fused_map_vjp(
        (&a, &x, &b),
        &t,
        &g,
        (Some(&mut da), Some(&mut dx), Some(&mut db)),
        Chain,
    );
    for j in 0..cols {
        for i in 0..rows {
            let u = a[(i, j)] * x[i] + b;
            assert!((t[(i, j)] - u.tanh()).abs() < 1e-15);
            let du = g[(i, j)] * (1.0 - t[(i, j)] * t[(i, j)]);
            assert!((da[(i, j)] - du * x[i]).abs() < 1e-14);
        }
    }
    let dx_ref: Vec<f64> = (0..rows)
        .map(|i| {
            (0..cols)
                .map(|j| g[(i, j)] * (1.0 - t[(i, j)] * t[(i, j)]) * a[(i, j)])
                .sum()
        })
        .collect();
    let db_ref: f64 = (0..rows * cols).map(|k| g[k] * (1.0 - t[k] * t[k])).sum();
    for i in 0..rows {
        assert!(
            (dx[i] - dx_ref[i]).abs() < 1e-13,
            "{} vs {}",
            dx[i],
            dx_ref[i]
        );
    }
    assert!((db - db_ref).abs() < 1e-13, "{db} vs {db_ref}");
}

#[test]
fn fused_sum_gives_the_value_and_the_gradient_in_one_loop() {
    for n in [1, 3, 4, 5, 1001] {
        let (a, x, b) = (matrix(n, 1, 30), matrix(n, 1, 31), matrix(n, 1, 32));
        let s = fused_sum((&a, &x, &b), SumChain);
        let t: DMatrix<f64> = fused_map((&a, &x, &b), Chain);
        let s_ref: f64 = t.iter().sum();
        assert!(
            (s - s_ref).abs() < 1e-12 * (1.0 + s_ref.abs()),
            "{s} vs {s_ref}"
        );
        let g = 1.5;
        let mut da = DMatrix::zeros(0, 0);
        let mut db = DMatrix::zeros(0, 0);
        let v = fused_sum_vjp(
            (&a, &x, &b),
            &g,
            (Some(&mut da), None, Some(&mut db)),
            SumChain,
        );
        assert!((v - s).abs() < 1e-12 * (1.0 + s.abs()));
        for i in 0..n {
            let du = g * (1.0 - t[i] * t[i]);
            assert!((db[i] - du).abs() < 1e-15, "{} vs {du}", db[i]);
            assert!((da[i] - du * x[i]).abs() < 1e-15);
        }
    }
}

#[test]
fn fresh_gradients_overwrite_stale_pooled_buffers_and_existing_ones_are_added_into() {
    use autodiff_runtime::nalgebra::Dyn;
    use autodiff_runtime::workspace::{pooled_zeros, recycle_value, Workspace};
    for n in [3, 8, 1001] {
        let (a, x, b) = (matrix(n, 1, 40), matrix(n, 1, 41), matrix(n, 1, 42));
        let g = 0.75;
        // Reference: both adjoints fresh, no pool.
        let (mut da_ref, mut db_ref) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
        let v_ref = fused_sum_vjp(
            (&a, &x, &b),
            &g,
            (Some(&mut da_ref), None, Some(&mut db_ref)),
            SumChain,
        );
        let mut ws: Workspace<()> = Workspace::new();
        let (v, da, db) = ws.scope(|| {
            // Buffers full of NaN go back to the pool: a fresh adjoint that reused one
            // without writing every element would show it.
            let stale: Vec<DMatrix<f64>> = (0..4)
                .map(|_| {
                    let mut m: DMatrix<f64> = pooled_zeros(Dyn(n), Dyn(1));
                    m.fill(f64::NAN);
                    m
                })
                .collect();
            let stale_ptrs: Vec<*const f64> = stale.iter().map(|m| m.as_ptr()).collect();
            stale.into_iter().for_each(recycle_value);
            let mut da = DMatrix::zeros(0, 0);
            // `db` already holds a contribution: the loop adds into it.
            let mut db = DMatrix::from_element(n, 1, 1.0);
            let v = fused_sum_vjp(
                (&a, &x, &b),
                &g,
                (Some(&mut da), None, Some(&mut db)),
                SumChain,
            );
            assert!(
                stale_ptrs.contains(&da.as_ptr()),
                "da reuses a stale buffer"
            );
            (v, da, db)
        });
        assert_eq!(v.to_bits(), v_ref.to_bits());
        for i in 0..n {
            assert_eq!(da[i].to_bits(), da_ref[i].to_bits(), "da[{i}] of {n}");
            assert_eq!(
                db[i].to_bits(),
                (1.0 + db_ref[i]).to_bits(),
                "db[{i}] of {n}"
            );
        }
    }
}

/// `f32` chains run on eight `f32` lanes: the arithmetic rounds as the scalar ops, `tanh`
/// is the `f32` vector kernel, within 4 ulp of the standard library's `f32::tanh`. (This
/// test asserted bit-equality with the scalar `f32` chain while `f32` ran one element at
/// a time.) 21 elements: two full groups of eight and a partial one.
#[test]
fn fused_loops_run_on_f32_lanes() {
    let a = DMatrix::<f32>::from_fn(7, 3, |i, j| (i as f32 - 2.0) * 0.3 + j as f32 * 0.1);
    let x = DMatrix::<f32>::from_fn(7, 3, |i, j| 0.5 - (i * j) as f32 * 0.05);
    let b = 0.125f32;
    let t: DMatrix<f32> = fused_map((&a, &x, &b), Chain);
    for k in 0..21 {
        let scalar = (a[k] * x[k] + b).tanh();
        assert!(ulps32(t[k], scalar) <= 4, "{} vs {scalar}", t[k]);
    }
}

#[test]
#[should_panic(expected = "cannot broadcast a 2x3 matrix to the chain's 4x3 result")]
fn a_shape_that_does_not_broadcast_names_both_shapes() {
    let a = DMatrix::<f64>::zeros(4, 3);
    let x = DMatrix::<f64>::zeros(2, 3);
    let _: DMatrix<f64> = fused_map((&a, &x, &0.0), Chain);
}
