//! `x.clone()` of a borrowed differentiated value (`h0.clone()` with `h0: &DMatrix<f64>`):
//! an owned copy whose cotangent is passed back unchanged.
//!
//! `#[differentiable]` calls it as it calls another differentiable function: `name` for
//! the value, `__ad_pullback_name` for the value and its pullback, `__ad_wrt_name` for
//! which operands take a gradient, `__ad_vjp_name` for both at once.

/// An owned copy of `x`.
#[inline]
pub fn clone_value<T: Clone>(x: &T) -> T {
    x.clone()
}

/// `clone_value` with its pullback, in the calling convention of `#[differentiable]` callees.
#[doc(hidden)]
#[inline]
pub fn __ad_pullback_clone_value<T: Clone>(x: &T) -> (T, impl FnOnce(T) -> (T,)) {
    (x.clone(), |g: T| (g,))
}

/// `clone_value`'s value and vector-Jacobian product in one call.
#[doc(hidden)]
#[inline]
pub fn __ad_vjp_clone_value<T: Clone>(x: &T, g: T) -> (T, (T,)) {
    (x.clone(), (g,))
}

/// The operand of `clone_value` takes a gradient.
#[doc(hidden)]
#[allow(non_upper_case_globals)]
pub const __ad_wrt_clone_value: [bool; 1] = [true];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cotangent_passes_through() {
        let x = vec![1.0, 2.0];
        let (y, pb) = __ad_pullback_clone_value(&x);
        assert_eq!(y, x);
        assert_eq!(pb(vec![3.0, 4.0]), (vec![3.0, 4.0],));
        assert_eq!(__ad_vjp_clone_value(&2.0, 5.0), (2.0, (5.0,)));
    }
}
