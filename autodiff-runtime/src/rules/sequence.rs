//! Slices, `Vec`s and arrays of floats as differentiated values.
//!
//! `#[differentiable]` reads every sequence parameter (`&[T]`, `Vec<T>`, `&Vec<T>`,
//! `[T; N]`, `&[T; N]`) as a slice, `x[i]` as [`Index`] on it, and gives it an adjoint of
//! the gradient's type (`Vec<T>`, or `[T; N]` for arrays) sized when it is declared
//! ([`seq_adjoint`]), so that every contribution lands in place.

use super::{Index, Real, UnaryOp};

impl<T: Real> UnaryOp<Index> for [T] {
    type Output = T;

    #[inline(always)]
    fn forward(&self, op: Index) -> T {
        self[check(op.0, self.len())]
    }

    #[inline(always)]
    fn vjp(&self, op: Index, _y: &T, g: &T, gx: &mut [T]) {
        let i = check(op.0, self.len());
        assert_eq!(
            gx.len(),
            self.len(),
            "index: the adjoint has {} elements for a slice of {}",
            gx.len(),
            self.len()
        );
        gx[i] += *g;
    }
}

/// A `Vec` field of a differentiated struct (`self.c[k]`): its adjoint is the field of
/// the struct's adjoint, an empty `Vec` (the symbolic zero) until the first contribution.
impl<T: Real> UnaryOp<Index> for Vec<T> {
    type Output = T;

    #[inline(always)]
    fn forward(&self, op: Index) -> T {
        self.as_slice().forward(op)
    }

    #[inline(always)]
    fn vjp(&self, op: Index, y: &T, g: &T, gx: &mut Vec<T>) {
        if gx.is_empty() {
            // A new vector by value: `gx` is not borrowed by a call that is not inlined.
            *gx = vec![T::zero(); self.len()];
        }
        self.as_slice().vjp(op, y, g, gx.as_mut_slice())
    }
}

/// An array field of a differentiated struct: its adjoint is an array of zeros.
impl<T: Real, const N: usize> UnaryOp<Index> for [T; N] {
    type Output = T;

    #[inline(always)]
    fn forward(&self, op: Index) -> T {
        self.as_slice().forward(op)
    }

    #[inline(always)]
    fn vjp(&self, op: Index, y: &T, g: &T, gx: &mut [T; N]) {
        self.as_slice().vjp(op, y, g, gx.as_mut_slice())
    }
}

#[inline(always)]
fn check(i: usize, len: usize) -> usize {
    super::bounds::check_seq(i, len, "a slice")
}

/// The gradient type of a sequence: `Vec<T>` for slices and vectors, `[T; N]` for arrays.
pub trait SeqAdjoint<T>: Sized {
    /// Zeros, one per element of `primal`.
    fn seq_zero(primal: &[T]) -> Self;
}

impl<T: Real> SeqAdjoint<T> for Vec<T> {
    fn seq_zero(primal: &[T]) -> Self {
        vec![T::zero(); primal.len()]
    }
}

impl<T: Real, const N: usize> SeqAdjoint<T> for [T; N] {
    fn seq_zero(primal: &[T]) -> Self {
        assert_eq!(
            primal.len(),
            N,
            "an array of {N} elements has {}",
            primal.len()
        );
        [T::zero(); N]
    }
}

/// The zero adjoint of the sequence `primal`, of the gradient's type.
#[inline]
pub fn seq_adjoint<T, A: SeqAdjoint<T>>(primal: &[T]) -> A {
    A::seq_zero(primal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{unary, unary_vjp};

    #[test]
    fn index_reads_and_adds_into_its_element() {
        let x: &[f64] = &[1.0, 2.0, 3.0];
        assert_eq!(unary(Index(1), x), 2.0);
        let mut g: Vec<f64> = seq_adjoint(x);
        unary_vjp(Index(2), x, &3.0, &1.5, &mut g);
        unary_vjp(Index(2), x, &3.0, &1.0, &mut g);
        assert_eq!(g, vec![0.0, 0.0, 2.5]);
        let mut a: [f64; 3] = seq_adjoint(x);
        unary_vjp(Index(0), x, &1.0, &2.0, &mut a);
        assert_eq!(a, [2.0, 0.0, 0.0]);
    }

    #[test]
    fn a_vec_field_sizes_its_empty_adjoint() {
        let x = vec![1.0_f64, 2.0];
        let mut g: Vec<f64> = Vec::new();
        unary_vjp(Index(1), &x, &2.0, &4.0, &mut g);
        assert_eq!(g, vec![0.0, 4.0]);
    }

    #[test]
    #[should_panic(expected = "out of bounds for a slice of 3 elements")]
    fn an_index_past_the_end_names_the_length() {
        let x: &[f64] = &[1.0, 2.0, 3.0];
        let _ = unary(Index(3), x);
    }
}
