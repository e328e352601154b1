//! `x.map(|e| ...)`: an elementwise closure whose derivative `#[differentiable]` derives
//! from the closure body (the macro writes a second closure that returns `d_out * f'(e)`).

use super::matrix::ensure_shape;
use super::Real;
use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

/// A value whose elements can be mapped by a scalar closure.
pub trait MapElements: Sized {
    /// The element type.
    type Elem: Real;
    /// `f` applied to every element.
    fn map_elements(&self, f: impl FnMut(Self::Elem) -> Self::Elem) -> Self;
    /// Adds `vjp(x_i, g_i)` into `gx_i` for every element, where `vjp(e, d)` returns
    /// `d * f'(e)`. An empty `g` (a symbolic zero) adds nothing.
    fn map_vjp(
        &self,
        g: &Self,
        gx: &mut Self,
        vjp: impl FnMut(Self::Elem, Self::Elem) -> Self::Elem,
    );
}

impl<T: Real> MapElements for T {
    type Elem = T;
    #[inline(always)]
    fn map_elements(&self, mut f: impl FnMut(T) -> T) -> T {
        f(*self)
    }
    #[inline(always)]
    fn map_vjp(&self, g: &T, gx: &mut T, mut vjp: impl FnMut(T, T) -> T) {
        *gx += vjp(*self, *g);
    }
}

impl<T: Real, R: Dim, C: Dim> MapElements for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Elem = T;

    #[inline]
    fn map_elements(&self, f: impl FnMut(T) -> T) -> Self {
        let (rows, cols) = self.shape_generic();
        crate::workspace::pooled_from_iter(rows, cols, self.as_slice().iter().copied().map(f))
    }

    #[inline]
    fn map_vjp(&self, g: &Self, gx: &mut Self, mut vjp: impl FnMut(T, T) -> T) {
        if g.is_empty() {
            return;
        }
        ensure_shape(gx, self.nrows(), self.ncols());
        for ((acc, &x), &d) in gx.iter_mut().zip(self.iter()).zip(g.iter()) {
            *acc += vjp(x, d);
        }
    }
}

/// Forward of `x.map(f)`.
#[inline(always)]
pub fn map<X: MapElements>(x: &X, f: impl FnMut(X::Elem) -> X::Elem) -> X {
    x.map_elements(f)
}

/// Reverse of `x.map(f)`: `gx += g .* f'(x)`, with `vjp(e, d) = d * f'(e)`.
#[inline(always)]
pub fn map_vjp<X: MapElements>(
    x: &X,
    g: &X,
    gx: &mut X,
    vjp: impl FnMut(X::Elem, X::Elem) -> X::Elem,
) {
    x.map_vjp(g, gx, vjp)
}
