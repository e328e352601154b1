//! `Dual` against the op table's own derivative rules, against central finite
//! differences, and the lift/split round trips.

use nalgebra::{DMatrix, DVector, RowDVector, SMatrix, SVector};
use num_traits::{Float, FloatConst, One, Signed, Zero};

use super::{split_eps, split_re, Dual, DualParts};
use crate::rules::{BinaryRule, ElementwiseRule, PowI, Real};
use crate::tangent::Tangent;

type D = Dual<f64>;

/// `|a - b|` within `ulps` units in the last place of the larger (or of 1e-300).
fn within_ulps(a: f64, b: f64, ulps: f64) -> bool {
    a == b || (a - b).abs() <= ulps * f64::EPSILON * a.abs().max(b.abs()).max(1e-300)
}

/// 20 points strictly inside `(lo, hi)`, never `0` for a symmetric interval.
fn points(lo: f64, hi: f64, shift: f64) -> impl Iterator<Item = f64> {
    (0..20).map(move |i| lo + (hi - lo) * (i as f64 + shift) / 20.0)
}

fn check_unary<R: ElementwiseRule>(rule: R, name: &str, lo: f64, hi: f64) {
    for x in points(lo, hi, 0.5) {
        let y = rule.f(x);
        let d = rule.f(D::variable(x));
        assert!(
            within_ulps(d.re, y, 2.0),
            "{name}({x}): value {} vs {y}",
            d.re
        );
        let df = rule.df(x, y);
        // Ulps of the larger of `f'` and `f`: rules written in terms of the output round
        // like it (`sigmoid' = y (1 - y)` loses digits to `1 - y` near `y = 1`).
        assert!(
            (d.eps - df).abs() <= 8.0 * f64::EPSILON * df.abs().max(y.abs()),
            "{name}'({x}): dual {} vs rule {df}",
            d.eps
        );
        // A constant stays a constant.
        assert_eq!(rule.f(D::constant(x)).eps, 0.0, "{name}({x}) of a constant");
        // In single precision too (looser: the rule's formulas round in f32).
        let x32 = x as f32;
        let d32 = rule.f(Dual::variable(x32));
        let df32 = rule.df(x32, rule.f(x32));
        assert!(
            (d32.eps - df32).abs() <= 8.0 * f32::EPSILON * df32.abs().max(rule.f(x32).abs()),
            "{name}'({x32}) in f32: {} vs {df32}",
            d32.eps
        );
    }
}

fn check_binary<R: BinaryRule>(rule: R, name: &str, lo: f64, hi: f64) {
    for a in points(lo, hi, 0.5) {
        for b in points(lo, hi, 0.25) {
            let y = rule.f(a, b);
            let da = rule.f(D::variable(a), D::constant(b));
            let db = rule.f(D::constant(a), D::variable(b));
            assert!(
                within_ulps(da.re, y, 2.0),
                "{name}({a}, {b}): {} vs {y}",
                da.re
            );
            let (ra, rb) = (rule.da(a, b, y), rule.db(a, b, y));
            assert!(
                within_ulps(da.eps, ra, 8.0),
                "d{name}/da({a}, {b}): dual {} vs rule {ra}",
                da.eps
            );
            assert!(
                within_ulps(db.eps, rb, 8.0),
                "d{name}/db({a}, {b}): dual {} vs rule {rb}",
                db.eps
            );
            // Both seeded: the sum of the partials (the directional derivative along (1, 1)).
            let both = rule.f(D::variable(a), D::variable(b)).eps;
            assert!(
                (both - (ra + rb)).abs() <= 1e-14 * (1.0 + ra.abs() + rb.abs()),
                "{name}({a}, {b}) along (1, 1): {both} vs {}",
                ra + rb
            );
        }
    }
}

#[test]
fn every_unary_row_gives_its_own_derivative() {
    let mut n = 0;
    macro_rules! row {
        ($u:ident, $syn:ident $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
            check_unary(crate::rules::$u, stringify!($u), $lo, $hi);
            n += 1;
        };
    }
    autodiff_ops::for_each_unary_row!(row);
    assert!(n >= 25, "only {n} unary rows");
    for k in [-3, -2, -1, 0, 1, 2, 3, 5] {
        check_unary(PowI(k), &format!("powi({k})"), 0.2, 3.0);
        check_unary(PowI(k), &format!("powi({k})"), -3.0, -0.2);
    }
}

#[test]
fn every_binary_row_gives_its_own_partials() {
    let mut n = 0;
    macro_rules! row {
        ($b:ident, $syn:ident $name:ident, $tensor:tt, $torch:literal, $lo:literal, $hi:literal) => {
            check_binary(crate::rules::$b, stringify!($b), $lo, $hi);
            n += 1;
        };
    }
    autodiff_ops::for_each_binary_row!(row);
    assert!(n >= 9, "only {n} binary rows");
}

#[test]
fn singular_points_follow_the_table() {
    use crate::rules::{Abs, Max, Min, Relu};
    // abs'(0) = 0, relu'(0) = 0.
    assert_eq!(Float::abs(D::variable(0.0)).eps, Abs.df(0.0, 0.0));
    assert_eq!(Float::abs(D::variable(0.0)).eps, 0.0);
    assert_eq!(Float::abs(D::variable(-2.0)).eps, -1.0);
    assert_eq!(Relu.f(D::variable(0.0)).eps, 0.0);
    // max/min ties split evenly, as the rules' partials.
    for (a, b) in [
        (D::variable(1.0), D::constant(1.0)),
        (D::new(1.0, 3.0), D::new(1.0, 5.0)),
    ] {
        let (ra, rb) = (Max.da(1.0, 1.0, 1.0), Max.db(1.0, 1.0, 1.0));
        assert_eq!(Float::max(a, b).eps, ra * a.eps + rb * b.eps);
        let (ra, rb) = (Min.da(1.0, 1.0, 1.0), Min.db(1.0, 1.0, 1.0));
        assert_eq!(Float::min(a, b).eps, ra * a.eps + rb * b.eps);
    }
    // f64's NaN handling in `Float::max`: the other argument.
    let nan = D::constant(f64::NAN);
    assert_eq!(Float::max(nan, D::new(2.0, 1.0)).eps, 1.0);
    assert_eq!(Float::min(D::new(2.0, 1.0), nan).eps, 1.0);
    // powi(x, 0)' = 0; powf's partials at a = 0.
    assert_eq!(Float::powi(D::variable(0.0), 0).eps, 0.0);
    assert_eq!(Float::powf(D::constant(0.0), D::variable(2.0)).eps, 0.0);
    // sqrt'(0) = inf, but a constant's tangent stays 0.
    assert_eq!(Float::sqrt(D::variable(0.0)).eps, f64::INFINITY);
    assert_eq!(Float::sqrt(D::constant(0.0)).eps, 0.0);
    assert_eq!(Float::ln(D::constant(-1.0)).eps, 0.0);
    // Steps.
    for f in [
        Float::floor,
        Float::ceil,
        Float::round,
        Float::trunc,
        Float::signum,
    ] {
        assert_eq!(f(D::variable(1.3)).eps, 0.0);
    }
}

/// Central difference of `f` at `t = 0`.
fn fd(f: impl Fn(f64) -> f64) -> f64 {
    let h = 1e-6;
    (f(h) - f(-h)) / (2.0 * h)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn unary_float_methods_match_finite_differences() {
    type U = (&'static str, fn(D) -> D, fn(f64) -> f64, f64);
    let cases: Vec<U> = vec![
        ("exp", Float::exp, f64::exp, 0.7),
        ("exp2", Float::exp2, f64::exp2, 0.7),
        ("exp_m1", Float::exp_m1, f64::exp_m1, -0.4),
        ("ln", Float::ln, f64::ln, 1.7),
        ("ln_1p", Float::ln_1p, f64::ln_1p, 0.3),
        ("log2", Float::log2, f64::log2, 1.7),
        ("log10", Float::log10, f64::log10, 1.7),
        ("sqrt", Float::sqrt, f64::sqrt, 2.3),
        ("cbrt", Float::cbrt, f64::cbrt, -2.3),
        ("recip", Float::recip, f64::recip, -0.8),
        ("sin", Float::sin, f64::sin, 0.9),
        ("cos", Float::cos, f64::cos, 0.9),
        ("tan", Float::tan, f64::tan, 0.9),
        ("asin", Float::asin, f64::asin, 0.4),
        ("acos", Float::acos, f64::acos, 0.4),
        ("atan", Float::atan, f64::atan, 1.4),
        ("sinh", Float::sinh, f64::sinh, 0.9),
        ("cosh", Float::cosh, f64::cosh, 0.9),
        ("tanh", Float::tanh, f64::tanh, 0.9),
        ("asinh", Float::asinh, f64::asinh, 0.9),
        ("acosh", Float::acosh, f64::acosh, 1.9),
        ("atanh", Float::atanh, f64::atanh, 0.6),
        ("abs", Float::abs, f64::abs, -1.3),
        ("fract", Float::fract, f64::fract, 2.3),
        ("to_degrees", Float::to_degrees, f64::to_degrees, 0.3),
        ("to_radians", Float::to_radians, f64::to_radians, 30.0),
        ("powi3", |x| Float::powi(x, 3), |x| x.powi(3), -1.2),
        ("powi-2", |x| Float::powi(x, -2), |x| x.powi(-2), 1.2),
        ("sin_cos.0", |x| Float::sin_cos(x).0, |x| x.sin(), 0.4),
        ("sin_cos.1", |x| Float::sin_cos(x).1, |x| x.cos(), 0.4),
        ("neg", |x| -x, |x| -x, 0.4),
        ("signed_abs", |x| Signed::abs(&x), f64::abs, 0.4),
        (
            "nalgebra_sqrt",
            nalgebra::ComplexField::sqrt,
            f64::sqrt,
            3.1,
        ),
        (
            "nalgebra_modulus",
            nalgebra::ComplexField::modulus,
            f64::abs,
            -3.1,
        ),
        (
            "nalgebra_powf",
            |x| nalgebra::ComplexField::powf(x, D::c(1.5)),
            |x| x.powf(1.5),
            2.0,
        ),
        (
            "nalgebra_sinhc",
            nalgebra::ComplexField::sinhc,
            |x| x.sinh() / x,
            0.7,
        ),
    ];
    for (name, f, g, x) in cases {
        for v in [1.0, -0.5] {
            let d = f(D::new(x, v));
            assert_eq!(d.re, f(D::constant(x)).re, "{name}: value");
            assert!(
                close(d.re, g(x), 1e-15),
                "{name}({x}): {} vs {}",
                d.re,
                g(x)
            );
            let num = fd(|t| g(x + t * v));
            assert!(
                close(d.eps, num, 1e-7),
                "{name}'({x}) along {v}: {} vs {num}",
                d.eps
            );
        }
    }
}

#[test]
fn binary_float_methods_and_operators_match_finite_differences() {
    type B = (&'static str, fn(D, D) -> D, fn(f64, f64) -> f64, f64, f64);
    let cases: Vec<B> = vec![
        ("add", |a, b| a + b, |a, b| a + b, 0.3, -1.2),
        ("sub", |a, b| a - b, |a, b| a - b, 0.3, -1.2),
        ("mul", |a, b| a * b, |a, b| a * b, 0.3, -1.2),
        ("div", |a, b| a / b, |a, b| a / b, 0.3, -1.2),
        ("rem", |a, b| a % b, |a, b| a % b, 5.3, 1.2),
        ("powf", Float::powf, f64::powf, 1.3, 2.2),
        ("log", Float::log, f64::log, 3.3, 2.2),
        ("hypot", Float::hypot, f64::hypot, -1.3, 2.2),
        ("atan2", Float::atan2, f64::atan2, -1.3, 2.2),
        ("max", Float::max, f64::max, -1.3, 2.2),
        ("min", Float::min, f64::min, -1.3, 2.2),
        ("copysign", Float::copysign, f64::copysign, 1.3, -2.2),
        (
            "nalgebra_atan2",
            nalgebra::RealField::atan2,
            f64::atan2,
            0.6,
            -0.2,
        ),
        (
            "nalgebra_hypot",
            nalgebra::ComplexField::hypot,
            f64::hypot,
            0.6,
            -0.2,
        ),
        (
            "add_assign",
            |mut a, b| {
                a += b;
                a
            },
            |a, b| a + b,
            0.3,
            0.2,
        ),
        (
            "sub_assign",
            |mut a, b| {
                a -= b;
                a
            },
            |a, b| a - b,
            0.3,
            0.2,
        ),
        (
            "mul_assign",
            |mut a, b| {
                a *= b;
                a
            },
            |a, b| a * b,
            0.3,
            0.2,
        ),
        (
            "div_assign",
            |mut a, b| {
                a /= b;
                a
            },
            |a, b| a / b,
            0.3,
            0.2,
        ),
        (
            "rem_assign",
            |mut a, b| {
                a %= b;
                a
            },
            |a, b| a % b,
            0.7,
            0.2,
        ),
        (
            "mul_add",
            |a, b| Float::mul_add(a, b, a * a),
            |a, b| a.mul_add(b, a * a),
            0.7,
            -0.2,
        ),
        (
            "clamp",
            |a, b| Float::clamp(a, b - D::c(1.0), b + D::c(1.0)),
            |a, b| a.clamp(b - 1.0, b + 1.0),
            0.7,
            2.0,
        ),
    ];
    for (name, f, g, a, b) in cases {
        for (u, v) in [(1.0, 0.0), (0.0, 1.0), (0.7, -1.3)] {
            let d = f(D::new(a, u), D::new(b, v));
            assert!(
                close(d.re, g(a, b), 1e-15),
                "{name}({a}, {b}): {} vs {}",
                d.re,
                g(a, b)
            );
            let num = fd(|t| g(a + t * u, b + t * v));
            assert!(
                close(d.eps, num, 1e-7),
                "{name}'({a}, {b}) along ({u}, {v}): {} vs {num}",
                d.eps
            );
        }
    }
}

#[test]
fn comparisons_constants_and_conversions() {
    assert_eq!(D::new(1.0, 2.0), D::new(1.0, 3.0));
    assert!(D::new(1.0, 9.0) < D::new(2.0, -9.0));
    assert_eq!(D::zero().eps, 0.0);
    assert!(D::one().re == 1.0 && D::one().eps == 0.0);
    assert_eq!(D::c(0.25), D::constant(0.25));
    assert_eq!(<D as Real>::to_f64_lossless(D::new(1.5, 2.0)), 1.5);
    assert_eq!(D::PI().re, std::f64::consts::PI);
    assert_eq!(<D as nalgebra::RealField>::pi().re, std::f64::consts::PI);
    assert_eq!(<D as Float>::min_value().re, f64::MIN);
    assert_eq!(
        <D as num_traits::NumCast>::from(3_i32),
        Some(D::constant(3.0))
    );
    assert_eq!(
        num_traits::ToPrimitive::to_f64(&D::new(2.5, 1.0)),
        Some(2.5)
    );
    assert_eq!(format!("{:.1}", D::new(1.0, 2.0)), "1.0 + 2.0ε");
    let s: D = [D::new(1.0, 2.0), D::new(3.0, 4.0)].into_iter().sum();
    assert!(s.re == 4.0 && s.eps == 6.0);
    // The subset conversions nalgebra uses for `convert` and literals.
    let x: D = nalgebra::convert(2.0_f64);
    assert!(x.re == 2.0 && x.eps == 0.0);
    assert_eq!(nalgebra::try_convert::<D, f64>(D::new(2.0, 1.0)), None);
    assert_eq!(
        nalgebra::try_convert::<D, f32>(D::constant(2.0)),
        Some(2.0_f32)
    );
    assert!(approx::relative_eq!(
        D::new(1.0, 2.0),
        D::new(1.0, 2.0 + 1e-15),
        max_relative = D::c(1e-12)
    ));
    assert!(!approx::relative_eq!(
        D::new(1.0, 2.0),
        D::new(1.0, 2.1),
        max_relative = D::c(1e-12)
    ));
    // Tangent: a Vec of duals is one leaf.
    let mut v = vec![D::new(1.0, 2.0), D::new(3.0, 4.0)];
    v.add_assign(&v.clone());
    v.scale(D::c(0.5));
    assert!(v[1].re == 3.0 && v[1].eps == 4.0);
    assert_eq!(v.num_elements(), 2);
}

#[test]
fn elementwise_rules_in_place_and_nalgebra_methods_on_dual_matrices() {
    use crate::rules::{Exp, Tanh};
    let x: Vec<D> = (0..7).map(|i| D::new(i as f64 * 0.3 - 1.0, 1.0)).collect();
    let mut y = x.clone();
    Exp.f_in_place(&mut y);
    for (a, b) in x.iter().zip(&y) {
        assert!(b.re == a.re.exp() && b.eps == a.re.exp());
    }
    let mut y = x.clone();
    Tanh.f_in_place(&mut y);
    for (a, b) in x.iter().zip(&y) {
        assert_eq!(b.eps, 1.0 - a.re.tanh().powi(2));
    }

    // nalgebra's own product and norm on duals.
    let a = DMatrix::from_fn(3, 4, |i, j| {
        D::new((i + 2 * j) as f64 * 0.1, (i * j) as f64)
    });
    let b = DMatrix::from_fn(4, 2, |i, j| D::new(1.0 - (i + j) as f64 * 0.2, i as f64));
    let c = &a * &b;
    for i in 0..3 {
        for j in 0..2 {
            let r: D = (0..4).map(|p| a[(i, p)] * b[(p, j)]).sum();
            assert!((c[(i, j)].re - r.re).abs() < 1e-14 && (c[(i, j)].eps - r.eps).abs() < 1e-14);
        }
    }
    let xv = DVector::from_vec(vec![3.0, 4.0]);
    let tv = DVector::from_vec(vec![1.0, -2.0]);
    let n = xv.lift(&tv).norm();
    assert_eq!(n.re, 5.0);
    assert!((n.eps - (3.0 - 8.0) / 5.0).abs() < 1e-15);
}

#[test]
fn lift_and_split_round_trip() {
    let x = 1.5_f64;
    let d = x.lift(&0.25);
    assert!(d.re == 1.5 && d.eps == 0.25);
    assert_eq!(f64::split(d), (1.5, 0.25));
    assert_eq!(x.lift_constant().eps, 0.0);

    let m = DMatrix::from_fn(2, 3, |i, j| (i * 3 + j) as f64);
    let t = DMatrix::from_fn(2, 3, |i, j| (i + j) as f64 - 1.0);
    let lifted: DMatrix<D> = m.lift(&t);
    assert_eq!(DMatrix::split(lifted.clone()), (m.clone(), t.clone()));
    assert_eq!(split_re::<f64, DMatrix<f64>>(&lifted), m);
    let e: DMatrix<f64> = split_eps(&lifted);
    assert_eq!(e, t);
    assert!(m.lift_constant().iter().all(|d| d.eps == 0.0));

    let r = RowDVector::from_vec(vec![1.0_f32, 2.0]);
    assert_eq!(RowDVector::split(r.lift(&r)), (r.clone(), r.clone()));
    let s = SMatrix::<f64, 2, 2>::new(1.0, 2.0, 3.0, 4.0);
    let sl: SMatrix<D, 2, 2> = s.lift(&(s * 2.0));
    assert_eq!(SMatrix::split(sl), (s, s * 2.0));
    let sv = SVector::<f64, 3>::new(1.0, 2.0, 3.0);
    assert_eq!(
        SVector::<f64, 3>::eps_of(&sv.lift_constant()),
        SVector::<f64, 3>::zeros()
    );

    let v = vec![1.0, 2.0, 3.0];
    let w = vec![0.0, -1.0, 1.0];
    assert_eq!(Vec::split(v.lift(&w)), (v.clone(), w.clone()));
    let arr = [1.0, 2.0];
    assert_eq!(<[f64; 2]>::split(arr.lift(&[3.0, 4.0])), (arr, [3.0, 4.0]));

    let tup = (2.0, m.clone(), vec![s], [x; 3]);
    let tan = (1.0, t.clone(), vec![s * 3.0], [0.5; 3]);
    let lt = tup.lift(&tan);
    let (re, eps) = <(f64, DMatrix<f64>, Vec<SMatrix<f64, 2, 2>>, [f64; 3])>::split(lt);
    assert_eq!((re.0, re.1, re.2, re.3), tup);
    assert_eq!((eps.0, eps.1, eps.2, eps.3), tan);
    let one = (m.clone(),);
    assert_eq!(
        <(DMatrix<f64>,)>::split(one.lift_constant()).1 .0,
        m.map(|_| 0.0)
    );
}

#[test]
#[should_panic(expected = "another shape")]
fn lift_rejects_a_tangent_of_another_shape() {
    let _ = DMatrix::<f64>::zeros(2, 3).lift(&DMatrix::zeros(3, 2));
}

#[test]
#[should_panic(expected = "another length")]
fn lift_rejects_a_tangent_of_another_length() {
    let _ = vec![1.0_f64].lift(&vec![]);
}
