//! Every scalar op of the static engine at singular points, very large and very small
//! inputs, NaN and infinity, and f32 overflow.
//!
//! The expected values are the table in `docs/singular_points.md` (PyTorch's formula at each
//! point, from its `derivatives.yaml`). This test reads that table, so the documentation
//! and the test cannot drift apart: every row is checked against `name_grad` of the function
//! whose body is the row's `op`, and every function below must appear in the table.

const TABLE: &str = include_str!("../docs/singular_points.md");

/// One `#[differentiable]` function of `x` per op, in f64 and in f32, and a lookup from the
/// op's text (the table's `op` column) to its value and gradient.
macro_rules! unary_ops {
    ($($key:literal => $module:ident |$x:ident| $body:expr;)*) => {
        $(
            // Not every generated item (`_vjp`, `_graph`, the f32 version) is used for every op.
            #[allow(dead_code)]
            mod $module {
                use autodiff::prelude::*;

                #[differentiable]
                pub fn double($x: f64) -> f64 {
                    $body
                }

                #[differentiable]
                pub fn single($x: f32) -> f32 {
                    $body
                }
            }
        )*

        const UNARY_OPS: &[&str] = &[$($key),*];

        fn unary(op: &str, dtype: &str, x: f64) -> Option<(f64, f64)> {
            match (op, dtype) {
                $(
                    ($key, "f64") => {
                        let (v, g) = $module::double_grad(x);
                        assert_same_value(v, $module::double(x), $key);
                        Some((v, g.$x))
                    }
                    ($key, "f32") => {
                        let (v, g) = $module::single_grad(x as f32);
                        assert_same_value(v as f64, $module::single(x as f32) as f64, $key);
                        Some((v as f64, g.$x as f64))
                    }
                )*
                _ => None,
            }
        }
    };
}

/// Like [`unary_ops`] for functions of `a` and `b`.
macro_rules! binary_ops {
    ($($key:literal => $module:ident |$a:ident, $b:ident| $body:expr;)*) => {
        $(
            // Not every generated item (`_vjp`, `_graph`, the f32 version) is used for every op.
            #[allow(dead_code)]
            mod $module {
                use autodiff::prelude::*;

                #[differentiable]
                pub fn double($a: f64, $b: f64) -> f64 {
                    $body
                }

                #[differentiable]
                pub fn single($a: f32, $b: f32) -> f32 {
                    $body
                }
            }
        )*

        const BINARY_OPS: &[&str] = &[$($key),*];

        fn binary(op: &str, dtype: &str, a: f64, b: f64) -> Option<(f64, f64, f64)> {
            match (op, dtype) {
                $(
                    ($key, "f64") => {
                        let (v, g) = $module::double_grad(a, b);
                        assert_same_value(v, $module::double(a, b), $key);
                        Some((v, g.$a, g.$b))
                    }
                    ($key, "f32") => {
                        let (v, g) = $module::single_grad(a as f32, b as f32);
                        assert_same_value(v as f64, $module::single(a as f32, b as f32) as f64, $key);
                        Some((v as f64, g.$a as f64, g.$b as f64))
                    }
                )*
                _ => None,
            }
        }
    };
}

/// Like [`unary_ops`] for functions of three arguments (`clamp`, `mul_add`).
macro_rules! ternary_ops {
    ($($key:literal => $module:ident |$a:ident, $b:ident, $c:ident| $body:expr;)*) => {
        $(
            // Not every generated item (`_vjp`, `_graph`, the f32 version) is used for every op.
            #[allow(dead_code)]
            mod $module {
                use autodiff::prelude::*;

                #[differentiable]
                pub fn double($a: f64, $b: f64, $c: f64) -> f64 {
                    $body
                }

                #[differentiable]
                pub fn single($a: f32, $b: f32, $c: f32) -> f32 {
                    $body
                }
            }
        )*

        const TERNARY_OPS: &[&str] = &[$($key),*];

        fn ternary(op: &str, dtype: &str, a: f64, b: f64, c: f64) -> Option<(f64, [f64; 3])> {
            match (op, dtype) {
                $(
                    ($key, "f64") => {
                        let (v, g) = $module::double_grad(a, b, c);
                        assert_same_value(v, $module::double(a, b, c), $key);
                        Some((v, [g.$a, g.$b, g.$c]))
                    }
                    ($key, "f32") => {
                        let (a, b, c) = (a as f32, b as f32, c as f32);
                        let (v, g) = $module::single_grad(a, b, c);
                        assert_same_value(v as f64, $module::single(a, b, c) as f64, $key);
                        Some((v as f64, [g.$a as f64, g.$b as f64, g.$c as f64]))
                    }
                )*
                _ => None,
            }
        }
    };
}

/// One module per unary and binary row of the op table (`autodiff_ops::for_each_op!`),
/// keyed by the row's usage as the table's `op` column writes it (`x.exp()`, `relu(x)`,
/// `a + b`, `a.atan2(b)`): a row added to the op table is checked here with no edit.
macro_rules! table_ops {
    (
        unary: [$({ $u:ident, $usyn:ident $uname:ident, $($urest:tt)* }),* $(,)?],
        binary: [$({ $b:ident, $bsyn:ident $bname:ident, $($brest:tt)* }),* $(,)?],
        param: [$($prest:tt)*],
        structural: [$($srest:tt)*],
    ) => {
        $(table_ops!(@unary $usyn $uname, $u);)*
        $(table_ops!(@binary $bsyn $bname, $b);)*

        const TABLE_UNARY_OPS: &[&str] = &[$($u::KEY),*];
        const TABLE_BINARY_OPS: &[&str] = &[$($b::KEY),*];

        fn table_unary(op: &str, dtype: &str, x: f64) -> Option<(f64, f64)> {
            $(if op == $u::KEY { return $u::eval(dtype, x); })*
            None
        }

        fn table_binary(op: &str, dtype: &str, a: f64, b: f64) -> Option<(f64, f64, f64)> {
            $(if op == $b::KEY { return $b::eval(dtype, a, b); })*
            None
        }
    };
    (@unary operator $name:ident, $u:ident) => {
        table_ops!(@unary_module $u, "-x", [x] [-x]);
    };
    (@unary method $name:ident, $u:ident) => {
        table_ops!(@unary_module $u, concat!("x.", stringify!($name), "()"), [x] [x.$name()]);
    };
    (@unary function $name:ident, $u:ident) => {
        table_ops!(@unary_module $u, concat!(stringify!($name), "(x)"), [x] [$name(x)]);
    };
    (@binary operator add, $b:ident) => { table_ops!(@binary_module $b, "a + b", [a b] [a + b]); };
    (@binary operator sub, $b:ident) => { table_ops!(@binary_module $b, "a - b", [a b] [a - b]); };
    (@binary operator mul, $b:ident) => { table_ops!(@binary_module $b, "a * b", [a b] [a * b]); };
    (@binary operator div, $b:ident) => { table_ops!(@binary_module $b, "a / b", [a b] [a / b]); };
    (@binary method $name:ident, $b:ident) => {
        table_ops!(@binary_module $b, concat!("a.", stringify!($name), "(b)"), [a b] [a.$name(b)]);
    };
    (@unary_module $u:ident, $key:expr, [$x:ident] [$($body:tt)*]) => {
        // Not every generated item (`_vjp`, `_graph`) is used.
        #[allow(dead_code, non_snake_case)]
        mod $u {
            use autodiff::prelude::*;

            pub const KEY: &str = $key;

            #[differentiable]
            pub fn double($x: f64) -> f64 {
                $($body)*
            }

            #[differentiable]
            pub fn single($x: f32) -> f32 {
                $($body)*
            }

            pub fn eval(dtype: &str, x: f64) -> Option<(f64, f64)> {
                match dtype {
                    "f64" => {
                        let (v, g) = double_grad(x);
                        super::assert_same_value(v, double(x), KEY);
                        Some((v, g.$x))
                    }
                    "f32" => {
                        let (v, g) = single_grad(x as f32);
                        super::assert_same_value(v as f64, single(x as f32) as f64, KEY);
                        Some((v as f64, g.$x as f64))
                    }
                    _ => None,
                }
            }
        }
    };
    (@binary_module $m:ident, $key:expr, [$a:ident $b:ident] [$($body:tt)*]) => {
        #[allow(dead_code, non_snake_case)]
        mod $m {
            use autodiff::prelude::*;

            pub const KEY: &str = $key;

            #[differentiable]
            pub fn double($a: f64, $b: f64) -> f64 {
                $($body)*
            }

            #[differentiable]
            pub fn single($a: f32, $b: f32) -> f32 {
                $($body)*
            }

            pub fn eval(dtype: &str, a: f64, b: f64) -> Option<(f64, f64, f64)> {
                match dtype {
                    "f64" => {
                        let (v, g) = double_grad(a, b);
                        super::assert_same_value(v, double(a, b), KEY);
                        Some((v, g.$a, g.$b))
                    }
                    "f32" => {
                        let (v, g) = single_grad(a as f32, b as f32);
                        super::assert_same_value(v as f64, single(a as f32, b as f32) as f64, KEY);
                        Some((v as f64, g.$a as f64, g.$b as f64))
                    }
                    _ => None,
                }
            }
        }
    };
}

autodiff_ops::for_each_op!(table_ops);

unary_ops! {
    "x.powi(0)" => powi_0 |x| x.powi(0);
    "x.powi(1)" => powi_1 |x| x.powi(1);
    "x.powi(2)" => powi_2 |x| x.powi(2);
    "x.powi(-1)" => powi_neg1 |x| x.powi(-1);
    "x.powf(0.0)" => powf_0 |x| x.powf(0.0);
    "x.powf(0.5)" => powf_half |x| x.powf(0.5);
    "x * 0.0" => times_zero |x| x * 0.0;
    "x - x" => minus_self |x| x - x;
}

// Written out rather than through `unary_ops!`: a non-differentiable method (`floor`) on a
// parameter whose name comes from a `macro_rules!` argument does not compile yet (the
// renamed variable takes the argument's hygiene), so this one is spelled by hand.
#[allow(dead_code)]
mod floor {
    use autodiff::prelude::*;

    #[differentiable]
    pub fn double(x: f64) -> f64 {
        x.floor()
    }
}

/// Ops written out by hand, like `floor` above; checked in f64 only.
const HAND_WRITTEN_OPS: &[&str] = &["x.floor()"];

fn unary_any(op: &str, dtype: &str, x: f64) -> Option<(f64, f64)> {
    match (op, dtype) {
        ("x.floor()", "f64") => {
            let (v, g) = floor::double_grad(x);
            Some((v, g.x))
        }
        _ => unary(op, dtype, x).or_else(|| table_unary(op, dtype, x)),
    }
}

binary_ops! {
    "(a * b).sin() + a" => chain |a, b| (a * b).sin() + a;
}

ternary_ops! {
    "x.clamp(lo, hi)" => clamp |x, lo, hi| x.clamp(lo, hi);
    "a.mul_add(b, c)" => mul_add |a, b, c| a.mul_add(b, c);
}

/// `name_grad` returns the same value as the forward function `name` (NaN matches NaN).
fn assert_same_value(from_grad: f64, forward: f64, op: &str) {
    assert!(
        from_grad == forward || (from_grad.is_nan() && forward.is_nan()),
        "`{op}`: name_grad gives {from_grad:e}, the forward function {forward:e}"
    );
}

/// One row of the table: `op`, `dtype`, `kind`, `input`, `value`, `gradient`.
struct Row<'a> {
    line: usize,
    op: &'a str,
    dtype: &'a str,
    kind: &'a str,
    input: Vec<f64>,
    value: f64,
    gradient: Vec<f64>,
}

/// `+inf`, `-inf`, `NaN`, `-0`, `1e-300`, or a pair `(a, b)`.
fn numbers(cell: &str) -> Vec<f64> {
    cell.trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(|s| match s.trim() {
            "+inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            other => other
                .parse()
                .unwrap_or_else(|e| panic!("bad number `{other}` in the table: {e}")),
        })
        .collect()
}

fn rows(table: &str) -> Vec<Row<'_>> {
    table
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("| `"))
        .map(|(i, l)| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // cells[0] is the empty text before the first `|`.
            Row {
                line: i + 1,
                op: cells[1].trim_matches('`'),
                dtype: cells[2],
                kind: cells[3],
                input: numbers(cells[4]),
                value: numbers(cells[5])[0],
                gradient: numbers(cells[6]),
            }
        })
        .collect()
}

/// Equal as PyTorch's tests compare: NaN matches NaN, infinities and zeros match exactly
/// (either sign of zero), finite values to a relative tolerance.
fn same(actual: f64, expected: f64, rel: f64) -> bool {
    if expected.is_nan() || actual.is_nan() {
        return expected.is_nan() && actual.is_nan();
    }
    if expected.is_infinite() || expected == 0.0 {
        return actual == expected;
    }
    (actual - expected).abs() <= rel * expected.abs()
}

/// `f32` values are expected in f32: the table's decimal is rounded to f32 first.
fn expected_in(dtype: &str, v: f64) -> f64 {
    if dtype == "f32" {
        v as f32 as f64
    } else {
        v
    }
}

#[test]
fn every_row_of_the_singular_point_table_holds() {
    let rows = rows(TABLE);
    assert!(rows.len() > 150, "the table has only {} rows", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let rel = if row.dtype == "f32" { 1e-6 } else { 1e-12 };
        let (value, gradient) = match row.input[..] {
            [x] => {
                let x = expected_in(row.dtype, x);
                let (v, g) = unary_any(row.op, row.dtype, x)
                    .unwrap_or_else(|| panic!("line {}: no function for `{}`", row.line, row.op));
                (v, vec![g])
            }
            [a, b] => {
                let (a, b) = (expected_in(row.dtype, a), expected_in(row.dtype, b));
                let (v, ga, gb) = binary(row.op, row.dtype, a, b)
                    .or_else(|| table_binary(row.op, row.dtype, a, b))
                    .unwrap_or_else(|| panic!("line {}: no function for `{}`", row.line, row.op));
                (v, vec![ga, gb])
            }
            [a, b, c] => {
                let (v, g) = ternary(row.op, row.dtype, a, b, c)
                    .unwrap_or_else(|| panic!("line {}: no function for `{}`", row.line, row.op));
                (v, g.to_vec())
            }
            _ => panic!(
                "line {}: input must be one number, a pair or a triple",
                row.line
            ),
        };
        assert_eq!(gradient.len(), row.gradient.len(), "line {}", row.line);
        let value_ok = same(value, expected_in(row.dtype, row.value), rel);
        let grad_ok = gradient
            .iter()
            .zip(&row.gradient)
            .all(|(&g, &e)| same(g, expected_in(row.dtype, e), rel));
        if !(value_ok && grad_ok) {
            failures.push(format!(
                "line {}: `{}` ({}, {}) at {:?}: got value {value:e} gradient {gradient:?}, \
                 the table says value {:e} gradient {:?}",
                row.line, row.op, row.dtype, row.kind, row.input, row.value, row.gradient
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows disagree with docs/singular_points.md:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn every_op_has_rows_for_nan_and_for_extreme_or_singular_inputs() {
    let rows = rows(TABLE);
    for op in UNARY_OPS
        .iter()
        .chain(TABLE_UNARY_OPS)
        .chain(BINARY_OPS)
        .chain(TABLE_BINARY_OPS)
        .chain(TERNARY_OPS)
        .chain(HAND_WRITTEN_OPS)
    {
        let kinds: Vec<&str> = rows
            .iter()
            .filter(|r| r.op == *op)
            .map(|r| r.kind)
            .collect();
        assert!(
            !kinds.is_empty(),
            "`{op}` has no row in docs/singular_points.md"
        );
        assert!(
            kinds.len() >= 2,
            "`{op}` needs at least two rows in docs/singular_points.md, has {kinds:?}"
        );
    }
    // Every elementwise row of the op table, and these hand-written ops, have a NaN row.
    for op in TABLE_UNARY_OPS
        .iter()
        .chain(TABLE_BINARY_OPS)
        .copied()
        .chain([
            "-x",
            "x.exp()",
            "x.ln()",
            "x.sqrt()",
            "x.recip()",
            "x.sin()",
            "x.tanh()",
            "x.abs()",
            "relu(x)",
            "sigmoid(x)",
            "softplus(x)",
            "x.powi(0)",
            "a.powf(b)",
            "a.max(b)",
            "a / b",
            "x.atan()",
            "x.asin()",
            "x.acos()",
            "x.asinh()",
            "x.acosh()",
            "x.atanh()",
            "x.cbrt()",
            "x.exp2()",
            "a.atan2(b)",
            "a.hypot(b)",
            "x.clamp(lo, hi)",
            "a.mul_add(b, c)",
        ])
    {
        assert!(
            rows.iter().any(|r| r.op == op && r.kind == "NaN"),
            "`{op}` has no NaN row"
        );
    }
    assert!(
        rows.iter()
            .filter(|r| r.dtype == "f32" && r.kind == "overflow")
            .count()
            >= 5,
        "too few f32 overflow rows"
    );
}

#[test]
fn vjp_scales_the_same_gradients_at_singular_points() {
    // `name_vjp(.., d_out)` multiplies by the cotangent: d_out = 2 doubles finite gradients,
    // keeps infinities and NaN, and keeps PyTorch's zeros (abs at 0, relu at 0).
    let (_, g) = Sqrt::double_vjp(0.0, 2.0);
    assert_eq!(g.x, f64::INFINITY);
    let (_, g) = Abs::double_vjp(0.0, 2.0);
    assert_eq!(g.x, 0.0);
    let (_, g) = Relu::double_vjp(f64::NAN, 2.0);
    assert_eq!(g.x, 2.0);
    let (_, g) = Max::double_vjp(1.0, 1.0, 2.0);
    assert_eq!((g.a, g.b), (1.0, 1.0));
    let (v, g) = Div::double_vjp(1e200, 1e200, 2.0);
    assert_eq!(v, 1.0);
    assert!(same(g.b, -2e-200, 1e-12), "{}", g.b);
}

#[test]
fn every_elementwise_row_of_the_op_table_has_rows_here() {
    // A new unary, binary or three-operand row of `autodiff-ops/src/table.rs` needs its
    // rows in docs/singular_points.md; its function comes from the table (`table_ops!`).
    use autodiff_ops::{Arity, Section, OPS};
    let rows = rows(TABLE);
    for op in OPS.iter().filter(|op| {
        matches!(op.section, Section::Unary | Section::Binary) || op.arity == Arity::Ternary
    }) {
        let usage = op.usage();
        assert!(
            rows.iter().any(|r| r.op == usage),
            "`{usage}` ({}) has no row in docs/singular_points.md",
            op.marker
        );
    }
}
