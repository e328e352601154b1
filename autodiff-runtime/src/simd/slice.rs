//! Slice kernels: each vector function applied over a slice, four lanes at a time; long
//! slices split across threads ([`crate::threads`]), which changes no element.

use crate::threads::for_chunks_mut;

use super::{
    dispatch, dispatch_f32, exp, exp_m1, ln, ln_1p, sigmoid, softplus, tanh, FloatLanes, Kernel,
    KernelF32, Lanes,
};

/// A lanewise function the slice drivers apply.
pub(crate) trait LaneFn: Copy + Send + Sync {
    /// The function on lanes of either precision.
    fn apply<V: FloatLanes>(self, v: V) -> V;
}

#[track_caller]
fn check_len(what: &str, x: usize, out: usize) {
    assert!(
        x == out,
        "simd::{what}: input has {x} elements but output has {out}; pass an output slice of the same length"
    );
}

/// `out[i] = f(x[i])`.
struct MapF64<'a, F> {
    f: F,
    x: &'a [f64],
    out: &'a mut [f64],
}

impl<F: LaneFn> Kernel for MapF64<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<V: Lanes>(self) {
        let Self { f, x, out } = self;
        let split = x.len() - x.len() % 4;
        let (x_body, x_tail) = x.split_at(split);
        let (out_body, out_tail) = out.split_at_mut(split);
        for (xc, oc) in x_body.chunks_exact(4).zip(out_body.chunks_exact_mut(4)) {
            f.apply(V::load(xc)).store(oc);
        }
        if !x_tail.is_empty() {
            let mut buf = [0.0; 4];
            buf[..x_tail.len()].copy_from_slice(x_tail);
            let y = f.apply(V::from_array(buf)).to_array();
            out_tail.copy_from_slice(&y[..x_tail.len()]);
        }
    }
}

/// `x[i] = f(x[i])`.
struct MapF64InPlace<'a, F> {
    f: F,
    x: &'a mut [f64],
}

impl<F: LaneFn> Kernel for MapF64InPlace<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<V: Lanes>(self) {
        let Self { f, x } = self;
        let mut chunks = x.chunks_exact_mut(4);
        for c in &mut chunks {
            f.apply(V::load(c)).store(c);
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            let mut buf = [0.0; 4];
            buf[..tail.len()].copy_from_slice(tail);
            let y = f.apply(V::from_array(buf)).to_array();
            let n = tail.len();
            tail.copy_from_slice(&y[..n]);
        }
    }
}

/// `out[i] = f(x[i] as f64) as f32`.
struct MapF32<'a, F> {
    f: F,
    x: &'a [f32],
    out: &'a mut [f32],
}

impl<F: LaneFn> Kernel for MapF32<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<V: Lanes>(self) {
        let Self { f, x, out } = self;
        let split = x.len() - x.len() % 4;
        let (x_body, x_tail) = x.split_at(split);
        let (out_body, out_tail) = out.split_at_mut(split);
        for (xc, oc) in x_body.chunks_exact(4).zip(out_body.chunks_exact_mut(4)) {
            let v = V::from_f32_array([xc[0], xc[1], xc[2], xc[3]]);
            oc.copy_from_slice(&f.apply(v).to_f32_array());
        }
        if !x_tail.is_empty() {
            let mut buf = [0.0f32; 4];
            buf[..x_tail.len()].copy_from_slice(x_tail);
            let y = f.apply(V::from_f32_array(buf)).to_f32_array();
            out_tail.copy_from_slice(&y[..x_tail.len()]);
        }
    }
}

/// `x[i] = f(x[i] as f64) as f32`.
struct MapF32InPlace<'a, F> {
    f: F,
    x: &'a mut [f32],
}

impl<F: LaneFn> Kernel for MapF32InPlace<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<V: Lanes>(self) {
        let Self { f, x } = self;
        let mut chunks = x.chunks_exact_mut(4);
        for c in &mut chunks {
            let y = f.apply(V::from_f32_array([c[0], c[1], c[2], c[3]]));
            c.copy_from_slice(&y.to_f32_array());
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            let n = tail.len();
            let mut buf = [0.0f32; 4];
            buf[..n].copy_from_slice(tail);
            let y = f.apply(V::from_f32_array(buf)).to_f32_array();
            tail.copy_from_slice(&y[..n]);
        }
    }
}

/// `x[i] = f(x[i])` on eight `f32` lanes at a time, computed in `f32`.
struct MapF32x8InPlace<'a, F> {
    f: F,
    x: &'a mut [f32],
}

impl<F: LaneFn> KernelF32 for MapF32x8InPlace<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run<V: FloatLanes<Elem = f32>>(self) {
        let Self { f, x } = self;
        let mut chunks = x.chunks_exact_mut(V::LANES);
        for c in &mut chunks {
            f.apply(V::load(c)).store(c);
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            let n = tail.len();
            let mut buf = [0.0f32; super::MAX_LANES];
            buf[..n].copy_from_slice(tail);
            let mut out = [0.0f32; super::MAX_LANES];
            f.apply(V::load(&buf)).store(&mut out);
            tail.copy_from_slice(&out[..n]);
        }
    }
}

/// `x[i] = f(x[i])` in place, four lanes at a time on the best lane type: the one
/// generic kernel behind every rule's vectorized buffer pass.
///
/// Slices of [`crate::threads::PARALLEL_MIN_ELEMS`] elements per thread or more are split
/// across threads (at multiples of four elements, so every element is computed as on one
/// thread).
pub(crate) fn lanes_in_place_f64<F: LaneFn>(f: F, x: &mut [f64]) {
    for_chunks_mut(x, 4, |_, x| dispatch(MapF64InPlace { f, x }))
}

/// `x[i] = f(x[i])` in place for `f32` slices, eight lanes at a time on the best `f32`
/// lane type, computed in `f32` (the `f32` vector math).
pub(crate) fn lanes_in_place_f32<F: LaneFn>(f: F, x: &mut [f32]) {
    for_chunks_mut(x, 8, |_, x| dispatch_f32(MapF32x8InPlace { f, x }))
}

macro_rules! slice_fns {
    ($(
        $math:literal, $lane_fn:ident = $vector:ident,
        $slice:ident, $in_place:ident, $slice_f32:ident, $in_place_f32:ident;
    )*) => {$(
        #[derive(Clone, Copy)]
        struct $lane_fn;

        impl LaneFn for $lane_fn {
            #[inline(always)]
            fn apply<V: FloatLanes>(self, v: V) -> V {
                $vector(v)
            }
        }

        #[doc = concat!("`out[i] = ", $math, "` for `x[i]`, vectorized (see [`", stringify!($vector), "`]).")]
        ///
        /// # Panics
        /// If `x` and `out` differ in length.
        #[track_caller]
        pub fn $slice(x: &[f64], out: &mut [f64]) {
            check_len(stringify!($slice), x.len(), out.len());
            for_chunks_mut(out, 4, |at, out| {
                dispatch(MapF64 { f: $lane_fn, x: &x[at..at + out.len()], out })
            })
        }

        #[doc = concat!("`x[i] = ", $math, "` in place, vectorized (see [`", stringify!($vector), "`]).")]
        pub fn $in_place(x: &mut [f64]) {
            lanes_in_place_f64($lane_fn, x)
        }

        #[doc = concat!("`out[i] = ", $math, "` for `f32` slices: computed in `f64`, rounded once to `f32`.")]
        ///
        /// # Panics
        /// If `x` and `out` differ in length.
        #[track_caller]
        pub fn $slice_f32(x: &[f32], out: &mut [f32]) {
            check_len(stringify!($slice_f32), x.len(), out.len());
            for_chunks_mut(out, 4, |at, out| {
                dispatch(MapF32 { f: $lane_fn, x: &x[at..at + out.len()], out })
            })
        }

        #[doc = concat!("`x[i] = ", $math, "` in place for `f32` slices (computed in `f64`).")]
        pub fn $in_place_f32(x: &mut [f32]) {
            for_chunks_mut(x, 4, |_, x| dispatch(MapF32InPlace { f: $lane_fn, x }))
        }
    )*};
}

slice_fns! {
    "e^x[i]", ExpFn = exp, exp_slice, exp_in_place, exp_slice_f32, exp_in_place_f32;
    "e^x[i] - 1", ExpM1Fn = exp_m1,
        exp_m1_slice, exp_m1_in_place, exp_m1_slice_f32, exp_m1_in_place_f32;
    "ln x[i]", LnFn = ln, ln_slice, ln_in_place, ln_slice_f32, ln_in_place_f32;
    "ln(1 + x[i])", Ln1pFn = ln_1p,
        ln_1p_slice, ln_1p_in_place, ln_1p_slice_f32, ln_1p_in_place_f32;
    "tanh x[i]", TanhFn = tanh, tanh_slice, tanh_in_place, tanh_slice_f32, tanh_in_place_f32;
    "sigmoid(x[i]) = 1 / (1 + e^-x[i])", SigmoidFn = sigmoid,
        sigmoid_slice, sigmoid_in_place, sigmoid_slice_f32, sigmoid_in_place_f32;
    "softplus(x[i]) = ln(1 + e^x[i])", SoftplusFn = softplus,
        softplus_slice, softplus_in_place, softplus_slice_f32, softplus_in_place_f32;
}
