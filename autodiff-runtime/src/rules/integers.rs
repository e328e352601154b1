//! Integers and `bool` inside differentiated values: the `usize` of a `(f64, usize)`
//! tuple carried through a loop, joined by a branch or returned by a callee. They carry
//! no gradient (as PyTorch's integer tensors have none): their adjoint is a value that
//! stays zero, and `+ - * /` between them computes as written with a zero
//! vector-Jacobian product. The macro cannot see that a component is an integer, so it
//! treats the component as it treats the aggregate; these impls make that exact.

use super::{Add, Adjoint, BinaryOp, Cotangent, Div, Mul, Sub};

macro_rules! no_gradient {
    ($($t:ty),*) => {$(
        impl Adjoint for $t {
            #[inline(always)]
            fn adjoint_zero() -> Self {
                <$t>::default()
            }
            #[inline(always)]
            fn accumulate(&mut self, _other: &Self) {}
            #[inline(always)]
            fn finish(self, _primal: &Self) -> Self {
                <$t>::default()
            }
        }

        impl Cotangent<$t> for $t {
            #[inline(always)]
            fn add_to(&self, _acc: &mut $t) {}
        }
    )*};
}
no_gradient!(usize, isize, u8, u16, u32, u64, i8, i16, i32, i64, bool);

macro_rules! integer_arithmetic {
    ($($t:ty),*) => {$(
        integer_arithmetic!(@op $t, Add, +);
        integer_arithmetic!(@op $t, Sub, -);
        integer_arithmetic!(@op $t, Mul, *);
        integer_arithmetic!(@op $t, Div, /);
    )*};
    (@op $t:ty, $marker:ident, $op:tt) => {
        impl BinaryOp<$marker, $t> for $t {
            type Output = $t;
            #[inline(always)]
            fn forward(&self, _op: $marker, b: &$t) -> $t {
                *self $op *b
            }
            #[inline(always)]
            fn vjp_lhs(&self, _op: $marker, _b: &$t, _y: &$t, _g: &$t, _ga: &mut $t) {}
            #[inline(always)]
            fn vjp_rhs(&self, _op: $marker, _b: &$t, _y: &$t, _g: &$t, _gb: &mut $t) {}
        }
    };
}
integer_arithmetic!(usize, isize, u32, u64, i32, i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_compute_as_written_and_pass_no_gradient() {
        assert_eq!(BinaryOp::<Add, usize>::forward(&3usize, Add, &4), 7);
        assert_eq!(BinaryOp::<Div, i32>::forward(&-7i32, Div, &2), -3);
        let mut g = 5usize;
        BinaryOp::<Mul, usize>::vjp_lhs(&3usize, Mul, &4, &12, &1, &mut g);
        assert_eq!(g, 5);
        let mut a = usize::adjoint_zero();
        a.accumulate(&9);
        assert_eq!(a.finish(&2), 0);
        let mut t = <(f64, usize)>::adjoint_zero();
        t.accumulate(&(1.5, 3));
        assert_eq!(t.finish(&(0.0, 7)), (1.5, 0));
    }
}
