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

    /// `gx += g .* df(x, y)`; an empty `g` (the symbolic zero) adds nothing. Long
    /// matrices split across threads ([`crate::threads`]), which changes no element.
    fn vjp(&self, op: Op, y: &Self, g: &Self, gx: &mut Self) {
        if g.is_empty() {
            return;
        }
        check_cotangent(Op::TORCH_NAME, g.shape(), self.shape());
        check_cotangent(Op::TORCH_NAME, y.shape(), self.shape());
        ensure_shape(gx, self.nrows(), self.ncols());
        let (x, y, g) = (self.as_slice(), y.as_slice(), g.as_slice());
        crate::threads::for_chunks_mut(gx.as_mut_slice(), 1, |at, gx| {
            let r = at..at + gx.len();
            let x = x[r.clone()].iter().zip(&y[r.clone()]).zip(&g[r]);
            for (gx, ((&x, &y), &g)) in gx.iter_mut().zip(x) {
                *gx += g * op.df(x, y);
            }
        });
    }
}
