//! The `reads` of every unary row of the op table is true of its rule: the dynamic engine
//! keeps only what the row says the derivative reads, so a derivative that read the other
//! value would be silently wrong. Each rule is evaluated with the value it claims not to
//! read replaced by a different one, and must not change.

use autodiff_ops::Reads;
use autodiff_runtime::rules::*;

fn check<R: ElementwiseRule + std::fmt::Debug>(rule: R, lo: f64, hi: f64) {
    for k in 0..=20 {
        let x = lo + (hi - lo) * (0.02 + 0.96 * k as f64 / 20.0);
        if x.abs() < 0.1 {
            continue;
        }
        let y = rule.f(x);
        let df = rule.df(x, y);
        let other = 0.37 * x + 0.11;
        match R::READS {
            Reads::Input => assert_eq!(rule.df(x, other), df, "{rule:?} reads its output"),
            Reads::Output => assert_eq!(rule.df(other, y), df, "{rule:?} reads its input"),
            Reads::Nothing => assert_eq!(rule.df(other, other), df, "{rule:?} reads a value"),
            Reads::Both => {}
        }
    }
}

macro_rules! reads_test {
    ($u:ident, $syn:ident $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
        #[test]
        #[allow(non_snake_case)]
        fn $u() {
            check(autodiff_runtime::rules::$u, $lo, $hi);
        }
    };
}

autodiff_ops::for_each_unary_row!(reads_test);

#[test]
fn powi_reads_its_input() {
    for n in [-2, 0, 1, 2, 3] {
        check(PowI(n), -2.0, 2.0);
    }
}

/// The same for a binary row: the dynamic engine checks only the values `reads` names
/// for in-place updates, so a partial that read another value would miss one.
fn check_binary<R: BinaryRule + std::fmt::Debug>(rule: R, lo: f64, hi: f64) {
    for k in 0..=20 {
        for l in 0..=20 {
            let a = lo + (hi - lo) * (0.02 + 0.96 * k as f64 / 20.0);
            let b = lo + (hi - lo) * (0.03 + 0.95 * l as f64 / 20.0);
            if a.abs() < 0.1 || b.abs() < 0.1 || a == b {
                continue;
            }
            let y = rule.f(a, b);
            let (da, db) = (rule.da(a, b, y), rule.db(a, b, y));
            let other = 0.37 * y + 0.11;
            match R::READS {
                Reads::Input => {
                    assert_eq!(rule.da(a, b, other), da, "{rule:?} reads its output");
                    assert_eq!(rule.db(a, b, other), db, "{rule:?} reads its output");
                }
                Reads::Nothing => {
                    assert_eq!(rule.da(other, other, other), da, "{rule:?} reads a value");
                    assert_eq!(rule.db(other, other, other), db, "{rule:?} reads a value");
                }
                Reads::Output | Reads::Both => {}
            }
        }
    }
}

macro_rules! binary_reads_test {
    ($b:ident, $syn:ident $name:ident, $tensor:tt, $torch:literal, $lo:literal, $hi:literal) => {
        #[test]
        #[allow(non_snake_case)]
        fn $b() {
            check_binary(autodiff_runtime::rules::$b, $lo, $hi);
        }
    };
}

autodiff_ops::for_each_binary_row!(binary_reads_test);
