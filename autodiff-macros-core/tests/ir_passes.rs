//! The IR after lowering and after every pass: the verifier accepts it for programs using
//! every construct, and snapshots show it for a few (`INSTA_UPDATE=always` rewrites them).

use autodiff_macros_core::ir_after_each_pass;
use proc_macro2::TokenStream;
use quote::quote;

fn stages(attr: TokenStream, item: TokenStream) -> String {
    match ir_after_each_pass(attr, item) {
        Ok(stages) => stages
            .into_iter()
            .map(|(name, ir)| format!("== {name}\n{ir}"))
            .collect(),
        Err(e) => panic!("{e}"),
    }
}

fn programs() -> Vec<(TokenStream, TokenStream)> {
    vec![
        (
            quote!(),
            quote!(
                fn f(x: f64) -> f64 {
                    x * x
                }
            ),
        ),
        (
            quote!(wrt(x)),
            quote!(
                fn f(x: f64, n: usize) -> f64 {
                    let mut s = x;
                    let mut i = 0;
                    while s < 10.0 && i < n {
                        s = s * 1.5;
                        i += 1;
                        if i % 2 == 0 {
                            continue;
                        }
                        if s > 8.0 {
                            return s;
                        }
                    }
                    s
                }
            ),
        ),
        (
            quote!(wrt(x)),
            quote!(
                fn f(x: f64, k: u32, o: Option<f64>) -> f64 {
                    let Some(o) = o else {
                        return x;
                    };
                    let y = match k {
                        0 => x,
                        1 | 2 => x * o,
                        3..=5 => x.exp(),
                        _ => return -x,
                    };
                    if let Some(s) = Some(o) {
                        y * s
                    } else {
                        y
                    }
                }
            ),
        ),
        (
            quote!(),
            quote!(
                fn f(a: &[f64], b: [f64; 3], s: f64) -> f64 {
                    let d: f64 = a.iter().zip(b.iter()).map(|(x, y)| x * y * s).sum();
                    let scale = |v: f64| v * s;
                    let mut t = 0.0;
                    'outer: for (i, &v) in a.iter().enumerate() {
                        for j in 0..i {
                            if j > 1 {
                                continue 'outer;
                            }
                            t += v * (j as f64);
                        }
                        if t > 10.0 {
                            break 'outer;
                        }
                    }
                    let r = loop {
                        t = t * 2.0;
                        if t > 1.0 {
                            break t;
                        }
                    };
                    scale(d) + r + (t as f32 as f64)
                }
            ),
        ),
        (
            quote!(),
            quote!(
                fn f(w: &DMatrix<f64>, h0: &DMatrix<f64>) -> f64 {
                    let mut h = h0.clone();
                    for _ in 0..3 {
                        h = block(w, &h);
                    }
                    h.map(|e| (e * 2.0).tanh()).sum()
                }
            ),
        ),
    ]
}

#[test]
fn the_verifier_accepts_every_stage_of_every_program() {
    for (attr, item) in programs() {
        let src = item.to_string();
        if let Err(e) = ir_after_each_pass(attr, item) {
            panic!("{src}\n{e}");
        }
    }
}

#[test]
fn ir_of_a_while_loop_with_exits() {
    let (attr, item) = programs().swap_remove(1);
    insta::assert_snapshot!(stages(attr, item));
}

#[test]
fn ir_of_match_and_let_else() {
    let (attr, item) = programs().swap_remove(2);
    insta::assert_snapshot!(stages(attr, item));
}

#[test]
fn ir_of_sequences_closures_and_labelled_loops() {
    let (attr, item) = programs().swap_remove(3);
    insta::assert_snapshot!(stages(attr, item));
}

#[test]
fn ir_of_tuples_structs_constructors_and_from_fn() {
    // `stages` panics when the verifier rejects a stage.
    insta::assert_snapshot!(stages(
        quote!(),
        quote!(
            fn f(a: f64, x: &DVector<f64>) -> f64 {
                let (p, q) = polar(a, 2.0);
                let t = (p * 2.0, q);
                let m = Model { w: x * t.0, b: t.1 };
                let v = Vector3::new(a, m.b, 1.0);
                let d = DMatrix::from_fn(2, 2, |i, j| x[i] * a + (j as f64));
                let mut s = 0.0;
                for k in 0..2 {
                    let u = (s, a * (k as f64));
                    s = u.0 + u.1 * m.b;
                }
                loss(&m) + v.norm_squared() + d.sum() + vec![s, a][1]
            }
        )
    ));
}

/// Forward activity is a pass over the IR: a loop's body is lowered once even when its
/// carried values become differentiated only inside it, at every depth. (Before the pass,
/// lowering re-lowered a body until the carried values' activity settled, and an outer
/// loop's second lowering re-lowered the inner loops again: 9 bodies for these 3 loops.)
#[test]
fn each_loop_body_is_lowered_once() {
    let item = quote!(
        fn f(x: f64, n: usize) -> f64 {
            let mut s = 0.0;
            let mut t = 0.0;
            let mut u = 0.0;
            for _ in 0..n {
                for _ in 0..n {
                    for _ in 0..n {
                        u = u + x;
                    }
                    t = t + u;
                }
                s = s + t;
            }
            s
        }
    );
    let before = autodiff_macros_core::loop_bodies_lowered();
    stages(quote!(wrt(x)), item);
    assert_eq!(autodiff_macros_core::loop_bodies_lowered() - before, 3);
}

/// A choice of how to lower the body that read a carried value's activity is made again
/// when the loop's fixpoint changes it: in the first lowering `s` is a constant, so
/// `s * 2.0` is kept whole; once `s` is differentiated it is a multiplication.
#[test]
fn a_loop_body_whose_choices_change_is_lowered_again() {
    let item = quote!(
        fn f(x: f64, n: usize) -> f64 {
            let mut s = 0.0;
            for _ in 0..n {
                let y = s * 2.0;
                s = y + x;
            }
            s
        }
    );
    let before = autodiff_macros_core::loop_bodies_lowered();
    let ir = stages(quote!(wrt(x)), item);
    assert_eq!(autodiff_macros_core::loop_bodies_lowered() - before, 2);
    assert!(ir.contains("mul"), "{ir}");
}
