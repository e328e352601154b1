//! Matrices as adjoints: the symbolic (empty) zero, in-place accumulation, shape checks.
//!
//! The adjoint of a matrix with a dynamic dimension starts *empty* (0 rows or 0
//! columns): no shape is needed before the first contribution arrives, and a value that
//! receives none costs nothing. Every vector-Jacobian product sizes an empty adjoint to
//! its primal's shape with [`ensure_shape`] before adding into it. Statically sized
//! matrices have only one shape, so their zero is a real zero.
//!
//! Shape errors are programming errors in the differentiated code, like nalgebra's own
//! shape errors: they panic, and the message names both shapes.

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

use super::{Adjoint, Real};

impl<T: Real, R: Dim, C: Dim> Adjoint for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    /// An empty matrix where a dimension is dynamic (`DMatrix` is 0x0, `DVector` 0x1);
    /// zeros for a statically sized matrix.
    #[inline]
    fn adjoint_zero() -> Self {
        let rows = R::try_to_usize().unwrap_or(0);
        let cols = C::try_to_usize().unwrap_or(0);
        Self::zeros_generic(R::from_usize(rows), C::from_usize(cols))
    }

    /// `self += other`; an empty `self` takes `other`'s shape first, an empty `other`
    /// adds nothing.
    ///
    /// # Panics
    /// If both are non-empty and their shapes differ.
    fn accumulate(&mut self, other: &Self) {
        if other.is_empty() {
            return;
        }
        ensure_shape(self, other.nrows(), other.ncols());
        for (a, &b) in self.as_mut_slice().iter_mut().zip(other.as_slice()) {
            *a += b;
        }
    }

    /// An empty `self` takes `other` itself.
    #[inline]
    fn accumulate_owned(&mut self, other: Self) {
        if self.is_empty() && !other.is_empty() {
            *self = other;
        } else {
            self.accumulate(&other);
            other.recycle();
        }
    }

    /// The adjoint itself, or zeros of `primal`'s shape if it is still empty.
    ///
    /// # Panics
    /// If the adjoint is non-empty and its shape is not `primal`'s.
    fn finish(mut self, primal: &Self) -> Self {
        ensure_shape(&mut self, primal.nrows(), primal.ncols());
        self
    }

    /// Gives a dynamically sized matrix's buffer to the installed workspace pool.
    #[inline]
    fn recycle(self) {
        crate::workspace::recycle_value(self)
    }
}

/// Makes `acc` a `rows x cols` adjoint: an empty `acc` becomes zeros of that shape, one
/// of that shape is left as it is.
///
/// Every matrix vector-Jacobian product calls this on its output adjoint before adding
/// into it, so adjoints can start as the empty symbolic zero of [`Adjoint::adjoint_zero`].
///
/// ```
/// use autodiff_runtime::nalgebra::DMatrix;
/// use autodiff_runtime::rules::{adjoint_zero, ensure_shape};
///
/// let mut acc: DMatrix<f64> = adjoint_zero();
/// ensure_shape(&mut acc, 2, 3);
/// assert_eq!(acc, DMatrix::zeros(2, 3));
/// ```
///
/// # Panics
/// If `acc` is neither empty nor `rows x cols`; the message names both shapes.
#[inline]
pub fn ensure_shape<T: Real, R: Dim, C: Dim>(acc: &mut OMatrix<T, R, C>, rows: usize, cols: usize)
where
    DefaultAllocator: Allocator<R, C>,
{
    if acc.shape() == (rows, cols) {
        return;
    }
    assert!(
        acc.is_empty(),
        "adjoint shape mismatch: the adjoint is {}x{} but its value is {rows}x{cols}; an adjoint \
         must start empty (`adjoint_zero`) or have its value's shape",
        acc.nrows(),
        acc.ncols()
    );
    *acc = zeros(rows, cols, "adjoint");
}

/// [`ensure_shape`] for an adjoint whose every element the caller writes before reading
/// any: a symbolic zero becomes a `rows x cols` buffer from the workspace pool without
/// being zeroed ([`crate::workspace::pooled_for_overwrite`]).
///
/// # Panics
/// As [`ensure_shape`].
pub(crate) fn ensure_shape_for_overwrite<T: Real, R: Dim, C: Dim>(
    acc: &mut OMatrix<T, R, C>,
    rows: usize,
    cols: usize,
) where
    DefaultAllocator: Allocator<R, C>,
{
    if acc.is_empty() && acc.shape() != (rows, cols) {
        check_fixed::<R, C>(rows, cols, "adjoint");
        *acc = crate::workspace::pooled_for_overwrite(R::from_usize(rows), C::from_usize(cols));
    } else {
        ensure_shape(acc, rows, cols);
    }
}

/// Zeros of shape `rows x cols` in a matrix type whose dimensions may be fixed; from the
/// installed workspace pool where there is one.
///
/// # Panics
/// If a fixed dimension of the type differs from the requested one; `what` names the
/// matrix in the message.
pub(crate) fn zeros<T: Real, R: Dim, C: Dim>(
    rows: usize,
    cols: usize,
    what: &str,
) -> OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    check_fixed::<R, C>(rows, cols, what);
    crate::workspace::pooled_zeros(R::from_usize(rows), C::from_usize(cols))
}

/// Panics unless a `rows x cols` matrix fits the fixed dimensions of `OMatrix<_, R, C>`;
/// `what` names the matrix in the message.
#[track_caller]
fn check_fixed<R: Dim, C: Dim>(rows: usize, cols: usize, what: &str) {
    let fixed = (R::try_to_usize(), C::try_to_usize());
    assert!(
        fixed.0.is_none_or(|r| r == rows) && fixed.1.is_none_or(|c| c == cols),
        "the {what} is {rows}x{cols}, which does not fit its fixed-size type ({}x{}); use \
         dynamically sized matrices (`DMatrix`) or put the larger operand on the left",
        fixed.0.map_or("n".to_string(), |r| r.to_string()),
        fixed.1.map_or("n".to_string(), |c| c.to_string()),
    );
}

/// Panics unless a cotangent `g` has the shape of the value `y` it belongs to.
#[inline]
pub(crate) fn check_cotangent(op: &str, g: (usize, usize), y: (usize, usize)) {
    assert!(
        g == y,
        "{}: the cotangent is {}x{} but the op's result is {}x{}",
        label(op),
        g.0,
        g.1,
        y.0,
        y.1
    );
}

/// A short op label for messages: the PyTorch name without its `Backward` suffix
/// (`"AddBackward0"` gives `"Add"`).
pub(crate) fn label(torch_name: &str) -> &str {
    torch_name
        .find("Backward")
        .map_or(torch_name, |i| &torch_name[..i])
}

impl<T: Real, R: Dim, C: Dim> super::Cotangent<OMatrix<T, R, C>> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    #[inline]
    fn add_to(&self, acc: &mut OMatrix<T, R, C>) {
        super::Adjoint::accumulate(acc, self)
    }
    #[inline]
    fn add_owned(self, acc: &mut OMatrix<T, R, C>) {
        super::Adjoint::accumulate_owned(acc, self)
    }
}
