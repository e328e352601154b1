//! Tests of the vector math: accuracy against the standard library over 10^7 random
//! inputs per function and lane type, special values and the slice drivers.

use super::*;
use crate::rules::{ElementwiseRule, Sigmoid, Softplus};

/// SplitMix64: a small, well-mixed generator, so the test needs no extra dependency.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// `+-2^e` with `e` uniform in `[lo, hi)`: every binade from subnormal to huge equally.
    fn log_uniform(&mut self, lo: f64, hi: f64, signed: bool) -> f64 {
        let m = self.uniform(lo, hi).exp2();
        if signed && self.next_u64() & 1 == 1 {
            -m
        } else {
            m
        }
    }
    /// Any bit pattern: NaNs, infinities, subnormals, huge and tiny values of both signs.
    fn any_bits(&mut self) -> f64 {
        f64::from_bits(self.next_u64())
    }
}

/// Distance in units in the last place; 0 for two NaNs or for `+0` against `-0`.
fn ulp_diff(a: f64, b: f64) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    // Maps the floats monotonically onto the integers.
    let key = |v: f64| {
        let i = v.to_bits() as i64;
        if i < 0 {
            (i64::MIN as i128) - i as i128
        } else {
            i as i128
        }
    };
    (key(a) - key(b)).unsigned_abs() as u64
}

const SAMPLES: usize = 10_000_000;
const BLOCK: usize = 1 << 14;
const MAX_ULP: u64 = 4;

/// Checks a vector function against `reference` over `SAMPLES` inputs from `sample`, on
/// the dispatched lane type (AVX2+FMA here when the CPU has it) and on `wide::f64x4`.
fn check_accuracy(
    name: &str,
    vector_dispatched: fn(&[f64], &mut [f64]),
    vector_portable: fn(wide::f64x4) -> wide::f64x4,
    reference: fn(f64) -> f64,
    sample: fn(&mut Rng) -> f64,
) {
    let mut rng = Rng(0x5EED ^ (name.len() as u64 * 0x1234_5678));
    let mut x = vec![0.0; BLOCK];
    let mut expected = vec![0.0; BLOCK];
    let mut got = vec![0.0; BLOCK];
    let mut worst = [(0u64, 0.0f64); 2];
    for _ in 0..SAMPLES / BLOCK + 1 {
        for (xi, ei) in x.iter_mut().zip(expected.iter_mut()) {
            *xi = sample(&mut rng);
            *ei = reference(*xi);
        }
        vector_dispatched(&x, &mut got);
        for (i, (&g, &e)) in got.iter().zip(&expected).enumerate() {
            let d = ulp_diff(g, e);
            if d > worst[0].0 {
                worst[0] = (d, x[i]);
            }
        }
        for (i, c) in x.chunks_exact(4).enumerate() {
            let g = vector_portable(wide::f64x4::new([c[0], c[1], c[2], c[3]])).to_array();
            for k in 0..4 {
                let d = ulp_diff(g[k], expected[4 * i + k]);
                if d > worst[1].0 {
                    worst[1] = (d, c[k]);
                }
            }
        }
    }
    for (path, (d, at)) in [format!("{:?}", simd_level()), "wide::f64x4".into()]
        .iter()
        .zip(worst)
    {
        println!("{name} [{path}]: max error {d} ulp (at x = {at:e})");
        assert!(
            d <= MAX_ULP,
            "{name} [{path}]: error {d} ulp at x = {at:e} ({:e}), expected {:e}",
            at,
            reference(at)
        );
    }
}

#[test]
fn exp_accuracy() {
    check_accuracy("exp", exp_slice, exp, f64::exp, |r| {
        match r.next_u64() % 5 {
            0 => r.uniform(-750.0, 712.0),
            1 => r.uniform(-746.0, -707.0), // subnormal results
            2 => r.log_uniform(-1074.0, 10.0, true),
            3 => r.uniform(-1.0, 1.0),
            _ => r.any_bits(),
        }
    });
}

#[test]
fn exp_m1_accuracy() {
    check_accuracy("exp_m1", exp_m1_slice, exp_m1, f64::exp_m1, |r| {
        match r.next_u64() % 4 {
            0 => r.uniform(-50.0, 712.0),
            1 => r.log_uniform(-1074.0, 10.0, true),
            2 => r.uniform(-1.0, 1.0),
            _ => r.any_bits(),
        }
    });
}

#[test]
fn ln_accuracy() {
    check_accuracy("ln", ln_slice, ln, f64::ln, |r| match r.next_u64() % 4 {
        0 => r.log_uniform(-1074.0, 1024.0, false),
        1 => r.uniform(0.5, 2.0), // around 1, where ln is small
        2 => r.uniform(0.0, 1e-300),
        _ => r.any_bits(),
    });
}

#[test]
fn ln_1p_accuracy() {
    check_accuracy("ln_1p", ln_1p_slice, ln_1p, f64::ln_1p, |r| {
        match r.next_u64() % 4 {
            0 => r.uniform(-1.0, 1.0),
            1 => r.log_uniform(-1074.0, 0.0, true),
            2 => r.log_uniform(0.0, 1024.0, false),
            _ => r.any_bits(),
        }
    });
}

#[test]
fn tanh_accuracy() {
    check_accuracy("tanh", tanh_slice, tanh, f64::tanh, |r| {
        match r.next_u64() % 4 {
            0 => r.uniform(-25.0, 25.0),
            1 => r.log_uniform(-1074.0, 10.0, true),
            2 => r.uniform(-1.0, 1.0),
            _ => r.any_bits(),
        }
    });
}

/// The scalar rule, on the standard library's `exp`.
fn sigmoid_reference(x: f64) -> f64 {
    Sigmoid.f(x)
}

#[test]
fn sigmoid_accuracy() {
    check_accuracy(
        "sigmoid",
        sigmoid_slice,
        sigmoid,
        sigmoid_reference,
        |r| match r.next_u64() % 4 {
            0 => r.uniform(-750.0, 750.0),
            1 => r.log_uniform(-1074.0, 10.0, true),
            2 => r.uniform(-40.0, 40.0),
            _ => r.any_bits(),
        },
    );
}

/// The scalar rule, on the standard library's `exp` and `ln_1p`.
fn softplus_reference(x: f64) -> f64 {
    Softplus.f(x)
}

#[test]
fn softplus_accuracy() {
    check_accuracy(
        "softplus",
        softplus_slice,
        softplus,
        softplus_reference,
        |r| match r.next_u64() % 4 {
            0 => r.uniform(-750.0, 750.0),
            1 => r.log_uniform(-1074.0, 10.0, true),
            2 => r.uniform(-40.0, 40.0),
            _ => r.any_bits(),
        },
    );
}

fn ulp_diff_f32(a: f32, b: f32) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    let key = |v: f32| {
        let i = v.to_bits() as i32;
        if i < 0 {
            i32::MIN as i64 - i as i64
        } else {
            i as i64
        }
    };
    (key(a) - key(b)).unsigned_abs()
}

#[test]
fn f32_accuracy() {
    type Pair = (&'static str, fn(&[f32], &mut [f32]), fn(f32) -> f32);
    let cases: [Pair; 5] = [
        ("exp", exp_slice_f32, f32::exp),
        ("exp_m1", exp_m1_slice_f32, f32::exp_m1),
        ("ln", ln_slice_f32, f32::ln),
        ("ln_1p", ln_1p_slice_f32, f32::ln_1p),
        ("tanh", tanh_slice_f32, f32::tanh),
    ];
    let mut rng = Rng(7);
    let x: Vec<f32> = (0..1_000_000)
        .map(|i| match i % 3 {
            0 => rng.uniform(-110.0, 100.0) as f32,
            1 => rng.log_uniform(-149.0, 128.0, true) as f32,
            _ => f32::from_bits(rng.next_u64() as u32),
        })
        .collect();
    let mut got = vec![0.0f32; x.len()];
    for (name, vector, reference) in cases {
        vector(&x, &mut got);
        let (d, at) = x
            .iter()
            .zip(&got)
            .map(|(&xi, &g)| (ulp_diff_f32(g, reference(xi)), xi))
            .max_by_key(|p| p.0)
            .unwrap_or((0, 0.0));
        println!("{name} f32: max error {d} ulp (at x = {at:e})");
        assert!(d <= MAX_ULP, "{name} f32: {d} ulp at {at:e}");
    }
}

/// The vector functions as one [`LaneFn`], to run the `f32` kernels through both `f32`
/// lane types.
#[derive(Clone, Copy, Debug)]
enum F32Fn {
    Exp,
    ExpM1,
    Ln,
    Ln1p,
    Tanh,
    Sigmoid,
    Softplus,
}

impl LaneFn for F32Fn {
    #[inline(always)]
    fn apply<V: FloatLanes>(self, v: V) -> V {
        match self {
            F32Fn::Exp => exp(v),
            F32Fn::ExpM1 => exp_m1(v),
            F32Fn::Ln => ln(v),
            F32Fn::Ln1p => ln_1p(v),
            F32Fn::Tanh => tanh(v),
            F32Fn::Sigmoid => sigmoid(v),
            F32Fn::Softplus => softplus(v),
        }
    }
}

/// `out[i] = f(x[i])` on `f32` lanes (`x.len()` a multiple of eight).
struct MapF32Lanes<'a> {
    f: F32Fn,
    x: &'a [f32],
    out: &'a mut [f32],
}

impl KernelF32 for MapF32Lanes<'_> {
    type Output = ();
    #[inline(always)]
    fn run<V: FloatLanes<Elem = f32>>(self) {
        for (xc, oc) in self
            .x
            .chunks_exact(V::LANES)
            .zip(self.out.chunks_exact_mut(V::LANES))
        {
            self.f.apply(V::load(xc)).store(oc);
        }
    }
}

/// How many inputs each `f32` accuracy test checks, per lane type. The crate's tests are
/// compiled with `opt-level = 3` (see the workspace `Cargo.toml`), where 10^7 inputs take
/// about a second per function and path.
const SAMPLES_F32: usize = 10_000_000;

/// Checks an `f32` vector function against the correctly rounded result (`reference`,
/// computed in `f64`, rounded to `f32`) over [`SAMPLES_F32`] inputs from `sample`, on
/// the dispatched `f32` lane type (AVX2+FMA when the CPU has it) and on `wide::f32x8`;
/// returns the worst error per path.
fn check_accuracy_f32(
    f: F32Fn,
    reference: fn(f64) -> f64,
    sample: fn(&mut Rng) -> f64,
) -> [u64; 2] {
    let name = format!("{f:?}");
    let mut rng = Rng(0xF32 ^ (name.len() as u64 * 0x9876_5431));
    let mut x = vec![0.0f32; BLOCK];
    let mut expected = vec![0.0f32; BLOCK];
    let mut got = vec![0.0f32; BLOCK];
    let mut worst = [(0u64, 0.0f32); 2];
    for _ in 0..SAMPLES_F32.div_ceil(BLOCK) {
        for (xi, ei) in x.iter_mut().zip(expected.iter_mut()) {
            *xi = sample(&mut rng) as f32;
            *ei = reference(f64::from(*xi)) as f32;
        }
        for (path, w) in worst.iter_mut().enumerate() {
            let kernel = MapF32Lanes {
                f,
                x: &x,
                out: &mut got,
            };
            if path == 0 {
                dispatch_f32(kernel);
            } else {
                kernel.run::<wide::f32x8>();
            }
            for (i, (&g, &e)) in got.iter().zip(&expected).enumerate() {
                let d = ulp_diff_f32(g, e);
                if d > w.0 {
                    *w = (d, x[i]);
                }
            }
        }
    }
    for (path, (d, at)) in [format!("{:?}", simd_level()), "wide::f32x8".into()]
        .iter()
        .zip(worst)
    {
        println!("{name} f32 lanes [{path}]: max error {d} ulp (at x = {at:e})");
        assert!(
            d <= MAX_ULP,
            "{name} f32 lanes [{path}]: error {d} ulp at x = {at:e}, expected {:e}",
            reference(f64::from(at)) as f32
        );
    }
    worst.map(|w| w.0)
}

/// Any `f32` bit pattern, widened.
fn any_bits_f32(r: &mut Rng) -> f64 {
    f64::from(f32::from_bits(r.next_u64() as u32))
}

#[test]
fn exp_f32_accuracy() {
    check_accuracy_f32(F32Fn::Exp, f64::exp, |r| match r.next_u64() % 5 {
        0 => r.uniform(-110.0, 92.0),
        1 => r.uniform(-104.0, -87.0), // subnormal results
        2 => r.log_uniform(-149.0, 7.0, true),
        3 => r.uniform(-1.0, 1.0),
        _ => any_bits_f32(r),
    });
}

#[test]
fn exp_m1_f32_accuracy() {
    check_accuracy_f32(F32Fn::ExpM1, f64::exp_m1, |r| match r.next_u64() % 4 {
        0 => r.uniform(-25.0, 92.0),
        1 => r.log_uniform(-149.0, 7.0, true),
        2 => r.uniform(-1.0, 1.0),
        _ => any_bits_f32(r),
    });
}

#[test]
fn ln_f32_accuracy() {
    check_accuracy_f32(F32Fn::Ln, f64::ln, |r| match r.next_u64() % 4 {
        0 => r.log_uniform(-149.0, 128.0, false),
        1 => r.uniform(0.5, 2.0), // around 1, where ln is small
        2 => r.uniform(0.0, 1e-37),
        _ => any_bits_f32(r),
    });
}

#[test]
fn ln_1p_f32_accuracy() {
    check_accuracy_f32(F32Fn::Ln1p, f64::ln_1p, |r| match r.next_u64() % 4 {
        0 => r.uniform(-1.0, 1.0),
        1 => r.log_uniform(-149.0, 0.0, true),
        2 => r.log_uniform(0.0, 128.0, false),
        _ => any_bits_f32(r),
    });
}

#[test]
fn tanh_f32_accuracy() {
    check_accuracy_f32(F32Fn::Tanh, f64::tanh, |r| match r.next_u64() % 4 {
        0 => r.uniform(-12.0, 12.0),
        1 => r.log_uniform(-149.0, 5.0, true),
        2 => r.uniform(-1.0, 1.0),
        _ => any_bits_f32(r),
    });
}

#[test]
fn sigmoid_f32_accuracy() {
    check_accuracy_f32(F32Fn::Sigmoid, sigmoid_reference, |r| {
        match r.next_u64() % 4 {
            0 => r.uniform(-110.0, 110.0),
            1 => r.log_uniform(-149.0, 7.0, true),
            2 => r.uniform(-20.0, 20.0),
            _ => any_bits_f32(r),
        }
    });
}

#[test]
fn softplus_f32_accuracy() {
    check_accuracy_f32(F32Fn::Softplus, softplus_reference, |r| {
        match r.next_u64() % 4 {
            0 => r.uniform(-110.0, 110.0),
            1 => r.log_uniform(-149.0, 7.0, true),
            2 => r.uniform(-20.0, 20.0),
            _ => any_bits_f32(r),
        }
    });
}

/// The `f32` kernels' special values, exactly (same sign of zero; any NaN), on both `f32`
/// lane types.
#[test]
fn special_values_f32() {
    let (inf, nan) = (f32::INFINITY, f32::NAN);
    let cases: [(F32Fn, &[(f32, f32)]); 7] = [
        (
            F32Fn::Exp,
            &[
                (0.0, 1.0),
                (-0.0, 1.0),
                (100.0, inf),
                (-110.0, 0.0),
                (inf, inf),
                (-inf, 0.0),
                (nan, nan),
            ],
        ),
        (
            F32Fn::ExpM1,
            &[
                (0.0, 0.0),
                (-0.0, -0.0),
                (100.0, inf),
                (-100.0, -1.0),
                (inf, inf),
                (-inf, -1.0),
                (nan, nan),
            ],
        ),
        (
            F32Fn::Ln,
            &[
                (1.0, 0.0),
                (0.0, -inf),
                (-0.0, -inf),
                (-1.0, nan),
                (inf, inf),
                (-inf, nan),
                (nan, nan),
            ],
        ),
        (
            F32Fn::Ln1p,
            &[
                (0.0, 0.0),
                (-0.0, -0.0),
                (-1.0, -inf),
                (-2.0, nan),
                (inf, inf),
                (-inf, nan),
                (nan, nan),
            ],
        ),
        (
            F32Fn::Tanh,
            &[
                (0.0, 0.0),
                (-0.0, -0.0),
                (20.0, 1.0),
                (-20.0, -1.0),
                (inf, 1.0),
                (-inf, -1.0),
                (nan, nan),
            ],
        ),
        (
            F32Fn::Sigmoid,
            &[
                (0.0, 0.5),
                (200.0, 1.0),
                (-200.0, 0.0),
                (inf, 1.0),
                (-inf, 0.0),
                (nan, nan),
            ],
        ),
        (
            F32Fn::Softplus,
            &[
                (200.0, 200.0),
                (-200.0, 0.0),
                (inf, inf),
                (-inf, 0.0),
                (nan, nan),
            ],
        ),
    ];
    for (f, cases) in cases {
        for &(x, expected) in cases {
            let input = [x; 8];
            for path in 0..2 {
                let mut out = [0.0f32; 8];
                let kernel = MapF32Lanes {
                    f,
                    x: &input,
                    out: &mut out,
                };
                if path == 0 {
                    dispatch_f32(kernel);
                } else {
                    kernel.run::<wide::f32x8>();
                }
                let got = out[0];
                let same = if expected.is_nan() {
                    got.is_nan()
                } else {
                    got == expected && got.is_sign_negative() == expected.is_sign_negative()
                };
                assert!(
                    same,
                    "{f:?}({x:e}) [path {path}] = {got:e}, expected {expected:e}"
                );
            }
        }
    }
}

/// `lanes_in_place_f32` (the rules' buffer pass) agrees with the lane kernels for every
/// length, the partial last group included.
#[test]
fn f32_in_place_matches_lanes_for_every_length() {
    let mut rng = Rng(11);
    for n in 0..20 {
        let x: Vec<f32> = (0..n).map(|_| rng.uniform(-5.0, 5.0) as f32).collect();
        let mut in_place = x.clone();
        lanes_in_place_f32(F32Fn::Tanh, &mut in_place);
        for i in 0..n {
            let mut out = [0.0f32; 8];
            dispatch_f32(MapF32Lanes {
                f: F32Fn::Tanh,
                x: &[x[i]; 8],
                out: &mut out,
            });
            assert_eq!(in_place[i].to_bits(), out[0].to_bits(), "n = {n}, i = {i}");
        }
    }
}

/// Applies `f` to one value through a slice kernel (dispatched) and through
/// `wide::f64x4`, and checks both give `expected` exactly (same sign of zero; any NaN).
fn check_special(
    name: &str,
    slice: fn(&[f64], &mut [f64]),
    portable: fn(wide::f64x4) -> wide::f64x4,
    cases: &[(f64, f64)],
) {
    for &(x, expected) in cases {
        let mut out = [0.0];
        slice(&[x], &mut out);
        let lanes = portable(wide::f64x4::splat(x)).to_array()[0];
        for (path, got) in [("dispatched", out[0]), ("wide::f64x4", lanes)] {
            let same = if expected.is_nan() {
                got.is_nan()
            } else {
                got == expected && got.is_sign_negative() == expected.is_sign_negative()
            };
            assert!(
                same,
                "{name}({x:e}) [{path}] = {got:e}, expected {expected:e}"
            );
        }
    }
}

#[test]
fn special_values() {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    check_special(
        "exp",
        exp_slice,
        exp,
        &[
            (0.0, 1.0),
            (-0.0, 1.0),
            (710.0, inf),
            (709.0, 709f64.exp()),
            (-746.0, 0.0),
            (-745.0, 5e-324),
            (1e300, inf),
            (-1e300, 0.0),
            (inf, inf),
            (-inf, 0.0),
            (nan, nan),
        ],
    );
    check_special(
        "exp_m1",
        exp_m1_slice,
        exp_m1,
        &[
            (0.0, 0.0),
            (-0.0, -0.0),
            (1e-300, 1e-300),
            (5e-324, 5e-324),
            (710.0, inf),
            (-1000.0, -1.0),
            (inf, inf),
            (-inf, -1.0),
            (nan, nan),
        ],
    );
    check_special(
        "ln",
        ln_slice,
        ln,
        &[
            (1.0, 0.0),
            (0.0, -inf),
            (-0.0, -inf),
            (-1.0, nan),
            (-inf, nan),
            (inf, inf),
            (5e-324, 5e-324f64.ln()),
            (f64::MAX, f64::MAX.ln()),
            (nan, nan),
        ],
    );
    check_special(
        "ln_1p",
        ln_1p_slice,
        ln_1p,
        &[
            (0.0, 0.0),
            (-0.0, -0.0),
            (-1.0, -inf),
            (-2.0, nan),
            (5e-324, 5e-324),
            (inf, inf),
            (f64::MAX, f64::MAX.ln()),
            (nan, nan),
        ],
    );
    check_special(
        "tanh",
        tanh_slice,
        tanh,
        &[
            (0.0, 0.0),
            (-0.0, -0.0),
            (5e-324, 5e-324),
            (-5e-324, -5e-324),
            (30.0, 1.0),
            (-30.0, -1.0),
            (1e300, 1.0),
            (inf, 1.0),
            (-inf, -1.0),
            (nan, nan),
        ],
    );
    check_special(
        "sigmoid",
        sigmoid_slice,
        sigmoid,
        &[
            (0.0, 0.5),
            (-1000.0, 0.0),
            (1000.0, 1.0),
            (inf, 1.0),
            (-inf, 0.0),
            (nan, nan),
        ],
    );
    check_special(
        "softplus",
        softplus_slice,
        softplus,
        &[
            (0.0, std::f64::consts::LN_2),
            (1000.0, 1000.0),
            (-1000.0, 0.0),
            (inf, inf),
            (-inf, 0.0),
            (nan, nan),
        ],
    );
}

#[test]
fn slice_forms_agree_for_every_length_and_tail() {
    let mut rng = Rng(3);
    for n in 0..13 {
        let x: Vec<f64> = (0..n).map(|_| rng.uniform(-3.0, 3.0)).collect();
        let mut out = vec![f64::NAN; n];
        tanh_slice(&x, &mut out);
        let mut in_place = x.clone();
        tanh_in_place(&mut in_place);
        for i in 0..n {
            assert!(ulp_diff(out[i], x[i].tanh()) <= MAX_ULP, "n = {n}, i = {i}");
            assert_eq!(out[i].to_bits(), in_place[i].to_bits(), "n = {n}, i = {i}");
        }
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut out32 = vec![f32::NAN; n];
        sigmoid_slice_f32(&x32, &mut out32);
        let mut in_place32 = x32.clone();
        sigmoid_in_place_f32(&mut in_place32);
        for i in 0..n {
            let expected = Sigmoid.f(x32[i]);
            assert!(
                ulp_diff_f32(out32[i], expected) <= MAX_ULP,
                "n = {n}, i = {i}"
            );
            assert_eq!(out32[i].to_bits(), in_place32[i].to_bits());
        }
    }
}

#[test]
#[should_panic(expected = "input has 3 elements but output has 2")]
fn slice_length_mismatch_names_both_lengths() {
    exp_slice(&[1.0, 2.0, 3.0], &mut [0.0; 2]);
}

#[test]
fn portable_level_can_be_forced_or_detected() {
    // On x86-64 the level follows the CPU (unless AUTODIFF_SIMD=portable); elsewhere it
    // is always portable.
    let level = simd_level();
    if cfg!(target_arch = "x86_64") && std::env::var("AUTODIFF_SIMD").as_deref() != Ok("portable") {
        let cpu = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        assert_eq!(level == SimdLevel::Avx2Fma, cpu);
    } else {
        assert_eq!(level, SimdLevel::Portable);
    }
}

/// Checks the NaN semantics of `Lanes::min`/`max` that the clamps rely on.
struct MinMaxNan;

impl Kernel for MinMaxNan {
    type Output = [[f64; 4]; 2];
    #[inline(always)]
    fn run<V: Lanes>(self) -> [[f64; 4]; 2] {
        let x = V::from_array([f64::NAN, 1.0, 3.0, -0.0]);
        let limit = V::splat(2.0);
        [limit.min(x).to_array(), limit.max(x).to_array()]
    }
}

#[test]
fn min_max_return_other_operand_on_nan() {
    for [min, max] in [dispatch(MinMaxNan), MinMaxNan.run::<wide::f64x4>()] {
        assert!(min[0].is_nan() && max[0].is_nan());
        assert_eq!(&min[1..], &[1.0, 2.0, -0.0]);
        assert_eq!(&max[1..], &[2.0, 3.0, 2.0]);
    }
}
