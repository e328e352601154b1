//! `while`, `loop`, `break`/`continue` (also labelled), early `return`, `match`, `if let`
//! and `let .. else`: gradients against central differences in f64 and f32, and against
//! the dynamic engine running the same program on tensors (which records the path the
//! forward pass takes, as the static reverse pass replays it).

use autodiff::dynamic::Tensor;

/// How `activate` squashes its input.
#[derive(Clone, Copy, Debug)]
pub enum Act {
    Relu,
    Tanh,
    Scale(f64),
}

/// The programs, stamped out for one float type (the static engine's own f32 and f64).
macro_rules! programs {
    ($m:ident, $T:ident) => {
        pub mod $m {
            use super::Act;
            use autodiff::prelude::*;

            /// Newton's iteration for sqrt(a), to a tolerance: a data-dependent `while`.
            #[differentiable]
            pub fn newton_sqrt(a: $T) -> $T {
                let mut x = a;
                let mut steps = 0;
                while (x * x - a).abs() > 1e-6 * a && steps < 50 {
                    x = 0.5 * (x + a / x);
                    steps += 1;
                }
                x
            }

            /// Guard clauses: early `return`s at the top level.
            #[differentiable]
            pub fn guarded(x: $T) -> $T {
                if x < 0.0 {
                    return 0.0;
                }
                let y = x * x;
                if y > 4.0 {
                    return y.sqrt() * 2.0;
                }
                y * 3.0
            }

            /// `match` on an enum with a binding and a guard, as the function's value.
            #[differentiable(wrt(x))]
            pub fn activate(x: $T, act: Act) -> $T {
                match act {
                    Act::Relu => {
                        if x > 0.0 {
                            x
                        } else {
                            0.0
                        }
                    }
                    Act::Tanh => x.tanh(),
                    Act::Scale(s) if s > 0.0 => x * (s as $T),
                    Act::Scale(_) => -x,
                }
            }

            /// `if let` with a binding.
            #[differentiable(wrt(x))]
            pub fn with_scale(x: $T, scale: Option<$T>) -> $T {
                if let Some(s) = scale {
                    x * s
                } else {
                    x
                }
            }

            /// `loop` with `break` and `continue`.
            #[differentiable(wrt(x))]
            pub fn counted(x: $T, n: usize) -> $T {
                let mut acc = x;
                let mut i = 0;
                loop {
                    if i >= n {
                        break;
                    }
                    i += 1;
                    if i % 3 == 0 {
                        continue;
                    }
                    acc = acc * 1.1 + x.sin();
                }
                acc
            }

            /// `return` from inside a `for` loop.
            #[differentiable(wrt(x))]
            pub fn escape(x: $T, n: usize) -> $T {
                let mut s = x;
                for k in 0..n {
                    s = s * x;
                    if s > 100.0 {
                        return s + k as $T;
                    }
                }
                s * 2.0
            }

            /// `let .. else` with an early return.
            #[differentiable(wrt(x))]
            pub fn let_else(x: $T, scale: Option<$T>) -> $T {
                let Some(s) = scale else {
                    return x * 10.0;
                };
                x * s
            }

            /// `match` on an integer with `|`, a range and an arm that returns.
            #[differentiable(wrt(x))]
            pub fn by_count(x: $T, k: u32) -> $T {
                let y = match k {
                    0 => x,
                    1 | 2 => x * x,
                    3..=5 => x.exp(),
                    _ => return -x,
                };
                y + 1.0
            }

            /// Labelled `break` and `continue` out of nested loops, and a `loop` whose
            /// value is its `break`'s.
            #[differentiable(wrt(x))]
            pub fn nested_exits(x: $T, n: usize) -> $T {
                let mut s = x;
                'rows: for i in 0..n {
                    for j in 0..n {
                        if j > i {
                            continue 'rows;
                        }
                        s = s * 0.9 + x * (j as $T);
                        if s > 50.0 {
                            break 'rows;
                        }
                    }
                }
                let mut t = s;
                let r = loop {
                    t = t * 1.5;
                    if t > 10.0 {
                        break t + x;
                    }
                };
                r
            }

            /// `while let` over a countdown.
            #[differentiable(wrt(x))]
            pub fn countdown(x: $T, n: u32) -> $T {
                let mut left = Some(n);
                let mut s = x;
                while let Some(k) = left {
                    s = s * x + (k as $T);
                    left = if k == 0 { None } else { Some(k - 1) };
                }
                s
            }
        }
    };
}

programs!(f64s, f64);
programs!(f32s, f32);

fn central_difference(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    (f(x + h) - f(x - h)) / (2.0 * h)
}

fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * (1.0 + want.abs()),
        "{what}: {got} vs {want}"
    );
}

/// Checks `grad` against central differences of `f` at `x` in f64, and the f32 twin.
fn check(what: &str, f: impl Fn(f64) -> f64, grad: impl Fn(f64) -> (f64, f64), x: f64) {
    let (v, g) = grad(x);
    assert_eq!(v, f(x), "{what}: value");
    assert_close(what, g, central_difference(&f, x, 1e-6), 1e-6);
}

fn check32(what: &str, f: impl Fn(f32) -> f32, grad: impl Fn(f32) -> (f32, f32), x: f32) {
    let (v, g) = grad(x);
    assert_eq!(v, f(x), "{what}: value");
    let fd = central_difference(|x| f64::from(f(x as f32)), f64::from(x), 1e-2);
    assert_close(what, f64::from(g), fd, 2e-2);
}

#[test]
fn while_with_a_data_dependent_exit() {
    for a in [0.5, 2.0, 9.0] {
        check(
            "newton",
            f64s::newton_sqrt,
            |a| {
                let (v, g) = f64s::newton_sqrt_grad(a);
                (v, g.a)
            },
            a,
        );
        // d sqrt(a) / da = 1 / (2 sqrt(a)).
        assert_close(
            "newton exact",
            f64s::newton_sqrt_grad(a).1.a,
            0.5 / a.sqrt(),
            1e-5,
        );
        let (_, g) = f32s::newton_sqrt_grad(a as f32);
        assert_close("newton f32", f64::from(g.a), 0.5 / a.sqrt(), 1e-3);
    }
}

#[test]
fn early_returns() {
    for x in [-1.0, 0.5, 1.5, 3.0] {
        check(
            "guarded",
            f64s::guarded,
            |x| {
                let (v, g) = f64s::guarded_grad(x);
                (v, g.x)
            },
            x,
        );
        check32(
            "guarded f32",
            f32s::guarded,
            |x| {
                let (v, g) = f32s::guarded_grad(x);
                (v, g.x)
            },
            x as f32,
        );
    }
    for n in [0, 1, 3, 8] {
        for x in [1.5, 3.0] {
            check(
                "escape",
                |x| f64s::escape(x, n),
                |x| {
                    let (v, g) = f64s::escape_grad(x, n);
                    (v, g.x)
                },
                x,
            );
            check32(
                "escape f32",
                |x| f32s::escape(x, n),
                |x| {
                    let (v, g) = f32s::escape_grad(x, n);
                    (v, g.x)
                },
                x as f32,
            );
        }
    }
    for s in [Some(3.0), None] {
        check(
            "let_else",
            |x| f64s::let_else(x, s),
            |x| {
                let (v, g) = f64s::let_else_grad(x, s);
                (v, g.x)
            },
            0.7,
        );
        let s32 = s.map(|s| s as f32);
        check32(
            "let_else f32",
            |x| f32s::let_else(x, s32),
            |x| {
                let (v, g) = f32s::let_else_grad(x, s32);
                (v, g.x)
            },
            0.7,
        );
    }
}

#[test]
fn match_and_if_let() {
    for act in [Act::Relu, Act::Tanh, Act::Scale(2.0), Act::Scale(-1.0)] {
        for x in [-0.4, 0.7] {
            check(
                "activate",
                |x| f64s::activate(x, act),
                |x| {
                    let (v, g) = f64s::activate_grad(x, act);
                    (v, g.x)
                },
                x,
            );
            check32(
                "activate f32",
                |x| f32s::activate(x, act),
                |x| {
                    let (v, g) = f32s::activate_grad(x, act);
                    (v, g.x)
                },
                x as f32,
            );
        }
    }
    for k in 0..8 {
        check(
            "by_count",
            |x| f64s::by_count(x, k),
            |x| {
                let (v, g) = f64s::by_count_grad(x, k);
                (v, g.x)
            },
            0.7,
        );
        check32(
            "by_count f32",
            |x| f32s::by_count(x, k),
            |x| {
                let (v, g) = f32s::by_count_grad(x, k);
                (v, g.x)
            },
            0.7,
        );
    }
    for s in [Some(3.0), None] {
        assert_eq!(f64s::with_scale_grad(0.7, s).1.x, s.unwrap_or(1.0));
        assert_eq!(
            f32s::with_scale_grad(0.7, s.map(|s| s as f32)).1.x,
            s.unwrap_or(1.0) as f32
        );
    }
}

#[test]
fn loops_with_break_and_continue() {
    for n in [0, 1, 5, 10] {
        check(
            "counted",
            |x| f64s::counted(x, n),
            |x| {
                let (v, g) = f64s::counted_grad(x, n);
                (v, g.x)
            },
            0.3,
        );
        check32(
            "counted f32",
            |x| f32s::counted(x, n),
            |x| {
                let (v, g) = f32s::counted_grad(x, n);
                (v, g.x)
            },
            0.3,
        );
        check(
            "nested_exits",
            |x| f64s::nested_exits(x, n),
            |x| {
                let (v, g) = f64s::nested_exits_grad(x, n);
                (v, g.x)
            },
            1.3,
        );
        check(
            "countdown",
            |x| f64s::countdown(x, n as u32),
            |x| {
                let (v, g) = f64s::countdown_grad(x, n as u32);
                (v, g.x)
            },
            0.9,
        );
    }
}

/// The dynamic engine's value and gradient of `f` at `x`.
fn dynamic(f: impl Fn(&Tensor) -> Tensor, x: f64) -> (f64, f64) {
    let t = Tensor::scalar(x).requires_grad();
    let y = f(&t);
    y.backward().expect("backward");
    (y.item(), t.grad().map_or(0.0, |g| g.item()))
}

#[test]
fn the_static_engine_agrees_with_the_dynamic_one() {
    let tol = 1e-12;
    // `newton_sqrt` on tensors: the same while loop, the condition read with `item()`.
    for a in [0.5, 2.0, 9.0] {
        let (dv, dg) = dynamic(
            |a| {
                let mut x = a.clone();
                let mut steps = 0;
                while ((&x * &x - a).abs().item()) > 1e-6 * a.item() && steps < 50 {
                    x = 0.5 * (&x + a / &x);
                    steps += 1;
                }
                x
            },
            a,
        );
        let (v, g) = f64s::newton_sqrt_grad(a);
        assert_close("newton value", v, dv, tol);
        assert_close("newton grad", g.a, dg, tol);
    }
    // `escape` on tensors: a return from inside the loop.
    for n in [0, 2, 8] {
        let (dv, dg) = dynamic(
            |x| {
                let mut s = x.clone();
                for k in 0..n {
                    s = &s * x;
                    if s.item() > 100.0 {
                        return &s + k as f64;
                    }
                }
                &s * 2.0
            },
            3.0,
        );
        let (v, g) = f64s::escape_grad(3.0, n);
        assert_close("escape value", v, dv, tol);
        assert_close("escape grad", g.x, dg, tol);
    }
    // `counted` on tensors.
    for n in [0, 4, 10] {
        let (dv, dg) = dynamic(
            |x| {
                let mut acc = x.clone();
                let mut i = 0;
                loop {
                    if i >= n {
                        break;
                    }
                    i += 1;
                    if i % 3 == 0 {
                        continue;
                    }
                    acc = &acc * 1.1 + x.sin();
                }
                acc
            },
            0.3,
        );
        let (v, g) = f64s::counted_grad(0.3, n);
        assert_close("counted value", v, dv, tol);
        assert_close("counted grad", g.x, dg, tol);
    }
    // `activate` on tensors.
    for act in [Act::Relu, Act::Tanh, Act::Scale(2.0), Act::Scale(-1.0)] {
        let (dv, dg) = dynamic(
            |x| match act {
                Act::Relu => {
                    if x.item() > 0.0 {
                        x.clone()
                    } else {
                        x * 0.0
                    }
                }
                Act::Tanh => x.tanh(),
                Act::Scale(s) if s > 0.0 => x * s,
                Act::Scale(_) => -x,
            },
            0.7,
        );
        let (v, g) = f64s::activate_grad(0.7, act);
        assert_close("activate value", v, dv, tol);
        assert_close("activate grad", g.x, dg, tol);
    }
}

#[autodiff::prelude::differentiable]
fn skip_rest(x: f64) -> f64 {
    let mut s = x;
    'outer: for _i in 0..1 {
        for _j in 0..1 {
            continue 'outer;
        }
        s = s * 10.0;
    }
    s
}

#[autodiff::prelude::differentiable]
fn labelled_value(x: f64) -> f64 {
    let r = 'a: loop {
        for _j in 0..1 {
            break 'a x * 2.0;
        }
        break x;
    };
    r
}

#[test]
fn labelled_exits_from_nested_loops_reach_the_outer_loop() {
    let (v, g) = skip_rest_grad(0.5);
    assert_eq!((v, g.x), (0.5, 1.0));
    let (v, g) = labelled_value_grad(0.5);
    assert_eq!((v, g.x), (1.0, 2.0));
}
