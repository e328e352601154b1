//! `Adjoint` and `Cotangent` for containers of adjoints (`Vec`, arrays), so that a
//! `#[derive(Tangent)]` struct holding layers in a `Vec` can be a differentiated parameter.

use super::{Adjoint, Cotangent};

impl<X: Adjoint + Clone> Adjoint for Vec<X> {
    /// An empty `Vec`: the symbolic zero, sized by the first contribution.
    fn adjoint_zero() -> Self {
        Vec::new()
    }

    fn accumulate(&mut self, other: &Self) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            // Element by element from symbolic zeros, so that matrix elements take their
            // buffers from the workspace pool (a clone would not).
            self.extend(other.iter().map(|o| {
                let mut a = X::adjoint_zero();
                a.accumulate(o);
                a
            }));
            return;
        }
        assert_eq!(
            self.len(),
            other.len(),
            "adjoint length mismatch: {} elements against {}",
            self.len(),
            other.len()
        );
        for (a, b) in self.iter_mut().zip(other) {
            a.accumulate(b);
        }
    }

    /// By value throughout: `self` is never borrowed by a call that is not inlined, so the
    /// compiler keeps an adjoint moved through a loop in registers.
    #[inline(always)]
    fn accumulate_owned(&mut self, other: Self) {
        if self.is_empty() {
            *self = other;
        } else {
            *self = sum_owned(std::mem::take(self), other);
        }
    }

    fn recycle(self) {
        self.into_iter().for_each(X::recycle);
    }

    fn finish(self, primal: &Self) -> Self {
        if self.is_empty() {
            return primal.iter().map(|p| X::adjoint_zero().finish(p)).collect();
        }
        self.into_iter()
            .zip(primal)
            .map(|(a, p)| a.finish(p))
            .collect()
    }
}

/// `a + b` for two non-symbolic-zero adjoints, `b`'s buffers back to the pool.
#[inline(never)]
fn sum_owned<X: Adjoint + Clone>(mut a: Vec<X>, b: Vec<X>) -> Vec<X> {
    a.accumulate(&b);
    Adjoint::recycle(b);
    a
}

impl<X: Adjoint + Clone> Cotangent<Vec<X>> for Vec<X> {
    fn add_to(&self, acc: &mut Vec<X>) {
        acc.accumulate(self)
    }
    #[inline(always)]
    fn add_owned(self, acc: &mut Vec<X>) {
        acc.accumulate_owned(self)
    }
}

impl<X: Adjoint, const N: usize> Adjoint for [X; N] {
    fn adjoint_zero() -> Self {
        std::array::from_fn(|_| X::adjoint_zero())
    }

    fn accumulate(&mut self, other: &Self) {
        for (a, b) in self.iter_mut().zip(other) {
            a.accumulate(b);
        }
    }

    fn recycle(self) {
        self.into_iter().for_each(X::recycle);
    }

    fn finish(mut self, primal: &Self) -> Self {
        for (a, p) in self.iter_mut().zip(primal) {
            *a = std::mem::replace(a, X::adjoint_zero()).finish(p);
        }
        self
    }
}

impl<X: Adjoint, const N: usize> Cotangent<[X; N]> for [X; N] {
    fn add_to(&self, acc: &mut [X; N]) {
        acc.accumulate(self)
    }
}
