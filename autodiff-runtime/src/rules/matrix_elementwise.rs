//! Unary elementwise rules ([`ElementwiseRule`]) applied to nalgebra matrices.
//!
//! The forward pass maps `f` over the elements; the reverse pass is one loop,
//! `gx[i] += g[i] * df(x[i], y[i])`, into the existing adjoint buffer.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

use super::matrix::{check_cotangent, ensure_shape};
use super::{ElementwiseRule, Real, UnaryOp};

impl<Op: ElementwiseRule, T: Real, R: Dim, C: Dim> UnaryOp<Op> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = Self;

    /// One pass over the elements, vectorized where the rule has a SIMD kernel.
    #[inline]
    fn forward(&self, op: Op) -> Self {
        let mut y = crate::workspace::pooled_copy(self);
        op.f_in_place(y.as_mut_slice());
        y
    }

    /// `gx += g .* df(x, y)`; an empty `g` (the symbolic zero) adds nothing.
    fn vjp(&self, op: Op, y: &Self, g: &Self, gx: &mut Self) {
        if g.is_empty() {
            return;
        }
        check_cotangent(Op::TORCH_NAME, g.shape(), self.shape());
        check_cotangent(Op::TORCH_NAME, y.shape(), self.shape());
        ensure_shape(gx, self.nrows(), self.ncols());
        let x = self.as_slice().iter().zip(y.as_slice()).zip(g.as_slice());
        for (gx, ((&x, &y), &g)) in gx.as_mut_slice().iter_mut().zip(x) {
            *gx += g * op.df(x, y);
        }
    }
}
