//! Neural-network ops: `softmax`, `log_softmax`, `logsumexp`, `cross_entropy`, `mse`.
//!
//! Softmax-type ops work on *groups* of elements: each row of a matrix (PyTorch's
//! `dim=-1` on a 2-D tensor), or the whole vector for a column-vector type (`DVector`,
//! `SVector`), which plays the part of PyTorch's 1-D tensor. Everything is computed
//! relative to the group's maximum, so logits of any finite size (`1000`, `-1000`)
//! give finite values and gradients. As in PyTorch, infinite or NaN logits propagate
//! (`softmax([inf, 0])` is NaN).
//!
//! The row-wise loops stride through nalgebra's column-major storage instead of copying
//! rows out: no temporaries, in the forward or the reverse pass.
//!
//! # Panics
//! `cross_entropy` panics if the number of labels differs from the number of rows or a
//! label is not a valid class index; `mse` panics if the shapes differ. The messages
//! name the sizes involved.

use nalgebra::allocator::Allocator;
use nalgebra::{DVector, DefaultAllocator, Dim, Dyn, OMatrix, U1};
use num_traits::Float;

use super::matrix::{check_cotangent, ensure_shape};
use super::{BinaryOp, OpName, Real, UnaryOp};

/// Row-wise softmax `y_ij = e^(x_ij) / sum_k e^(x_ik)` (over the whole vector for a
/// column-vector type); `dx_ij = y_ij (g_ij - sum_k g_ik y_ik)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Softmax;

/// Row-wise log-softmax `y_ij = x_ij - logsumexp_k x_ik` (over the whole vector for a
/// column-vector type); `dx_ij = g_ij - e^(y_ij) sum_k g_ik`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogSoftmax;

/// `ln sum_ij e^(x_ij)` over all elements, a scalar; `dx_ij = g e^(x_ij - y)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogSumExp;

/// Softmax cross-entropy between a matrix of logits (one row per sample) and class
/// labels (`&[usize]`, `Vec<usize>`, `[usize; N]`, one per row):
/// `y = (1/N) sum_i (logsumexp_k x_ik - x_i,label_i)`, the mean of
/// `-log_softmax(x)[i, label_i]` as in PyTorch's `cross_entropy`;
/// `dx_ik = (g/N) (softmax(x)_ik - [k == label_i])`.
///
/// The labels are data, not differentiable: `vjp_rhs` adds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CrossEntropy;

/// Mean squared error `y = (1/n) sum_i (p_i - t_i)^2` between a prediction and a target
/// of the same shape (PyTorch's `mse_loss`); `dp_i = (2g/n)(p_i - t_i)`, `dt_i = -dp_i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mse;

/// The groups a softmax normalises over, as strided index sets of the column-major data:
/// element `e` of group `k` is at `k * group_step + e * elem_step`.
#[derive(Clone, Copy, Debug)]
struct Groups {
    count: usize,
    len: usize,
    group_step: usize,
    elem_step: usize,
}

impl Groups {
    /// Rows, or the whole vector for a column-vector type (`C` fixed at 1).
    fn of<C: Dim>(rows: usize, cols: usize) -> Self {
        if C::try_to_usize() == Some(1) {
            Groups {
                count: 1,
                len: rows,
                group_step: 0,
                elem_step: 1,
            }
        } else {
            Groups {
                count: rows,
                len: cols,
                group_step: 1,
                elem_step: rows,
            }
        }
    }

    /// The data indices of group `k`.
    #[inline(always)]
    fn indices(&self, k: usize) -> impl Iterator<Item = usize> {
        let (start, step) = (k * self.group_step, self.elem_step);
        (0..self.len).map(move |e| start + e * step)
    }
}

/// The maximum of group `k`, ignoring NaN (`-inf` for an empty or all-NaN group).
#[inline]
fn group_max<T: Real>(x: &[T], groups: &Groups, k: usize) -> T {
    let mut m = T::neg_infinity();
    for i in groups.indices(k) {
        if x[i] > m {
            m = x[i];
        }
    }
    m
}

/// `ln sum e^x` over group `k` as the pair `(m, ln sum e^(x - m))` with `m` the maximum:
/// the shifted values `x - m - ln_sum` are then exact to rounding even where `m` is large
/// (`-1000 - logsumexp` would lose the low digits). An infinite maximum gives
/// `(m, 0)`: the result is `m` itself (`+inf`, or `-inf` when every element is `-inf`).
#[inline]
fn group_logsumexp<T: Real>(x: &[T], groups: &Groups, k: usize) -> (T, T) {
    let m = group_max(x, groups, k);
    if m.is_infinite() {
        return (m, T::zero());
    }
    let mut s = T::zero();
    for i in groups.indices(k) {
        s += Float::exp(x[i] - m);
    }
    (m, Float::ln(s))
}

/// Scratch space of `n` elements, from the installed workspace pool where there is one
/// (give it back with [`crate::workspace::recycle_value`]).
fn scratch<T: Real>(n: usize) -> DVector<T> {
    crate::workspace::pooled_zeros(Dyn(n), U1)
}

/// Every group's `(m, ln sum e^(x - m))` (see [`group_logsumexp`]), with the `exp` and
/// `ln` on the vectorised kernels of [`crate::simd`]. Returns scratch vectors (see
/// [`scratch`]).
fn all_logsumexp<T: Real>(x: &[T], groups: &Groups) -> (DVector<T>, DVector<T>) {
    let (m, ln_sum, e, s) = all_softmax_parts(x, groups);
    crate::workspace::recycle_value(e);
    crate::workspace::recycle_value(s);
    (m, ln_sum)
}

/// Every group's maximum `m`, `ln sum e^(x - m)` (0 where `m` is infinite, as in
/// [`group_logsumexp`]), the elements `e^(x - shift)` (`shift` = `m`, or 0 where `m` is
/// infinite) and their sums per group, as scratch vectors. For row groups the loops run
/// down the columns of the column-major data (contiguous), with one vectorised `exp` pass
/// over all elements and one `ln` pass over the sums.
fn all_softmax_parts<T: Real>(
    x: &[T],
    groups: &Groups,
) -> (DVector<T>, DVector<T>, DVector<T>, DVector<T>) {
    let (count, len) = (groups.count, groups.len);
    let mut m = scratch::<T>(count);
    for k in 0..count {
        m[k] = group_max(x, groups, k);
    }
    let shift = |k: usize| if m[k].is_infinite() { T::zero() } else { m[k] };
    let mut e = scratch::<T>(x.len());
    if groups.group_step == 1 {
        // Row groups: element `i` of column `j` belongs to row `i`.
        for (out, col) in e
            .as_mut_slice()
            .chunks_exact_mut(count.max(1))
            .zip(x.chunks_exact(count.max(1)))
        {
            for (k, (o, &v)) in out.iter_mut().zip(col).enumerate() {
                *o = v - shift(k);
            }
        }
    } else {
        for k in 0..count {
            for i in groups.indices(k) {
                e[i] = x[i] - shift(k);
            }
        }
    }
    super::ElementwiseRule::f_in_place(super::Exp, e.as_mut_slice());
    let mut s = scratch::<T>(count);
    if groups.group_step == 1 {
        for col in e.as_slice().chunks_exact(count.max(1)).take(len) {
            for (s, &v) in s.iter_mut().zip(col) {
                *s += v;
            }
        }
    } else {
        for k in 0..count {
            for i in groups.indices(k) {
                s[k] += e[i];
            }
        }
    }
    let mut ln_sum = crate::workspace::pooled_copy(&s);
    super::ElementwiseRule::f_in_place(super::Ln, ln_sum.as_mut_slice());
    for (l, &m) in ln_sum.iter_mut().zip(m.iter()) {
        if m.is_infinite() {
            *l = T::zero();
        }
    }
    (m, ln_sum, e, s)
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<Softmax> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = Self;

    fn forward(&self, _op: Softmax) -> Self {
        let groups = Groups::of::<C>(self.nrows(), self.ncols());
        let x = self.as_slice();
        let mut out = crate::workspace::pooled_copy(self);
        let y = out.as_mut_slice();
        for k in 0..groups.count {
            let m = group_max(x, &groups, k);
            let mut s = T::zero();
            for i in groups.indices(k) {
                let e = Float::exp(x[i] - m);
                y[i] = e;
                s += e;
            }
            let r = Float::recip(s);
            for i in groups.indices(k) {
                y[i] *= r;
            }
        }
        out
    }

    fn vjp(&self, _op: Softmax, y: &Self, g: &Self, gx: &mut Self) {
        if g.is_empty() {
            return;
        }
        check_cotangent(<Softmax as OpName>::TORCH_NAME, g.shape(), self.shape());
        check_cotangent(<Softmax as OpName>::TORCH_NAME, y.shape(), self.shape());
        ensure_shape(gx, self.nrows(), self.ncols());
        let groups = Groups::of::<C>(self.nrows(), self.ncols());
        let (y, g, gx) = (y.as_slice(), g.as_slice(), gx.as_mut_slice());
        for k in 0..groups.count {
            let mut dot = T::zero();
            for i in groups.indices(k) {
                dot += g[i] * y[i];
            }
            for i in groups.indices(k) {
                gx[i] += y[i] * (g[i] - dot);
            }
        }
    }
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<LogSoftmax> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = Self;

    fn forward(&self, _op: LogSoftmax) -> Self {
        let groups = Groups::of::<C>(self.nrows(), self.ncols());
        let x = self.as_slice();
        let mut out = crate::workspace::pooled_copy(self);
        let y = out.as_mut_slice();
        for k in 0..groups.count {
            let (m, ln_sum) = group_logsumexp(x, &groups, k);
            for i in groups.indices(k) {
                y[i] = (x[i] - m) - ln_sum;
            }
        }
        out
    }

    fn vjp(&self, _op: LogSoftmax, y: &Self, g: &Self, gx: &mut Self) {
        if g.is_empty() {
            return;
        }
        check_cotangent(<LogSoftmax as OpName>::TORCH_NAME, g.shape(), self.shape());
        check_cotangent(<LogSoftmax as OpName>::TORCH_NAME, y.shape(), self.shape());
        ensure_shape(gx, self.nrows(), self.ncols());
        let groups = Groups::of::<C>(self.nrows(), self.ncols());
        let (y, g, gx) = (y.as_slice(), g.as_slice(), gx.as_mut_slice());
        for k in 0..groups.count {
            let mut sum = T::zero();
            for i in groups.indices(k) {
                sum += g[i];
            }
            for i in groups.indices(k) {
                gx[i] += g[i] - Float::exp(y[i]) * sum;
            }
        }
    }
}

impl<T: Real, R: Dim, C: Dim> UnaryOp<LogSumExp> for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;

    fn forward(&self, _op: LogSumExp) -> T {
        let all = Groups {
            count: 1,
            len: self.len(),
            group_step: 0,
            elem_step: 1,
        };
        let (m, ln_sum) = group_logsumexp(self.as_slice(), &all, 0);
        m + ln_sum
    }

    fn vjp(&self, _op: LogSumExp, y: &T, g: &T, gx: &mut Self) {
        ensure_shape(gx, self.nrows(), self.ncols());
        let (y, g) = (*y, *g);
        for (gx, &x) in gx.as_mut_slice().iter_mut().zip(self.as_slice()) {
            *gx += g * Float::exp(x - y);
        }
    }
}

/// Checks the labels against the logits' groups and returns them.
fn check_labels<'a>(labels: &'a [usize], groups: &Groups, shape: (usize, usize)) -> &'a [usize] {
    assert!(
        labels.len() == groups.count,
        "cross_entropy: {} labels for logits of shape {}x{} ({} samples); give one class index per sample",
        labels.len(),
        shape.0,
        shape.1,
        groups.count
    );
    if let Some((i, &l)) = labels.iter().enumerate().find(|&(_, &l)| l >= groups.len) {
        panic!(
            "cross_entropy: label {l} of sample {i} is out of range for {} classes (logits of shape {}x{}); labels are class indices 0..{}",
            groups.len, shape.0, shape.1, groups.len
        );
    }
    labels
}

/// `sum_k (logsumexp_k - x_k,label_k)` from each group's maximum and `ln sum e^(x - m)`:
/// the cross-entropy before the mean.
fn label_loss_sum<T: Real>(
    x: &[T],
    groups: &Groups,
    labels: &[usize],
    m: &DVector<T>,
    ln_sum: &DVector<T>,
) -> T {
    let mut total = T::zero();
    for (k, &label) in labels.iter().enumerate() {
        let target = x[k * groups.group_step + label * groups.elem_step];
        total += (m[k] - target) + ln_sum[k];
    }
    total
}

/// `gx[k, label_k] -= scale` for every group: the one-hot part of the cross-entropy's
/// gradient.
fn subtract_at_labels<T: Real>(gx: &mut [T], groups: &Groups, labels: &[usize], scale: T) {
    for (k, &label) in labels.iter().enumerate() {
        gx[k * groups.group_step + label * groups.elem_step] -= scale;
    }
}

impl<T, R, C, L> BinaryOp<CrossEntropy, L> for OMatrix<T, R, C>
where
    T: Real,
    R: Dim,
    C: Dim,
    L: AsRef<[usize]>,
    DefaultAllocator: Allocator<R, C>,
{
    type Output = T;

    fn forward(&self, _op: CrossEntropy, labels: &L) -> T {
        let groups = Groups::of::<C>(self.nrows(), self.ncols());
        let labels = check_labels(labels.as_ref(), &groups, self.shape());
        let x = self.as_slice();
        let (m, ln_sum) = all_logsumexp(x, &groups);
        let total = label_loss_sum(x, &groups, labels, &m, &ln_sum);
        crate::workspace::recycle_value(m);
        crate::workspace::recycle_value(ln_sum);
        total / T::c(groups.count as f64)
    }

    fn vjp_lhs(&self, _op: CrossEntropy, labels: &L, _y: &T, g: &T, gx: &mut Self) {
        let groups = Groups::of::<C>(self.nrows(), self.ncols());
        let labels = check_labels(labels.as_ref(), &groups, self.shape());
        ensure_shape(gx, self.nrows(), self.ncols());
        let scale = *g / T::c(groups.count as f64);
        let (x, gx) = (self.as_slice(), gx.as_mut_slice());
        let (m, ln_sum) = all_logsumexp(x, &groups);
        // p = softmax(x) = e^((x - m) - ln_sum), one vectorised exp pass.
        let mut p = scratch::<T>(x.len());
        for k in 0..groups.count {
            for i in groups.indices(k) {
                p[i] = (x[i] - m[k]) - ln_sum[k];
            }
        }
        super::ElementwiseRule::f_in_place(super::Exp, p.as_mut_slice());
        for (gx, &p) in gx.iter_mut().zip(p.iter()) {
            *gx += scale * p;
        }
        crate::workspace::recycle_value(p);
        crate::workspace::recycle_value(m);
        crate::workspace::recycle_value(ln_sum);
        subtract_at_labels(gx, &groups, labels, scale);
    }

    /// Labels are not differentiable: nothing is added.
    fn vjp_rhs(&self, _op: CrossEntropy, _labels: &L, _y: &T, _g: &T, _gb: &mut L) {}

    /// The loss and its gradient from one softmax: the row maxima, `e^(x - m)` and the
    /// row sums serve both (the separate vjp computes them again). The value is computed
    /// exactly as [`Self::forward`] computes it; the gradient is `scale (e / s - onehot)`.
    fn forward_vjp_lhs(&self, _op: CrossEntropy, labels: &L, g: &T, gx: &mut Self) -> T {
        let groups = Groups::of::<C>(self.nrows(), self.ncols());
        let labels = check_labels(labels.as_ref(), &groups, self.shape());
        ensure_shape(gx, self.nrows(), self.ncols());
        let x = self.as_slice();
        let (m, ln_sum, e, s) = all_softmax_parts(x, &groups);
        let total = label_loss_sum(x, &groups, labels, &m, &ln_sum);
        let scale = *g / T::c(groups.count as f64);
        let gx = gx.as_mut_slice();
        for k in 0..groups.count {
            if m[k].is_infinite() {
                // The forward's convention (ln_sum = 0): e^(x - m), as the separate vjp.
                for i in groups.indices(k) {
                    gx[i] += scale * Float::exp(x[i] - m[k]);
                }
            } else {
                let r = T::one() / s[k];
                for i in groups.indices(k) {
                    gx[i] += scale * (e[i] * r);
                }
            }
        }
        subtract_at_labels(gx, &groups, labels, scale);
        for v in [m, ln_sum, e, s] {
            crate::workspace::recycle_value(v);
        }
        total / T::c(groups.count as f64)
    }
}

fn check_mse(a: (usize, usize), b: (usize, usize)) {
    assert!(
        a == b,
        "mse: the prediction is {}x{} but the target is {}x{}; they must have the same shape",
        a.0,
        a.1,
        b.0,
        b.1
    );
}

impl<T, R1, C1, R2, C2> BinaryOp<Mse, OMatrix<T, R2, C2>> for OMatrix<T, R1, C1>
where
    T: Real,
    R1: Dim,
    C1: Dim,
    R2: Dim,
    C2: Dim,
    DefaultAllocator: Allocator<R1, C1> + Allocator<R2, C2>,
{
    type Output = T;

    fn forward(&self, _op: Mse, target: &OMatrix<T, R2, C2>) -> T {
        check_mse(self.shape(), target.shape());
        let mut s = T::zero();
        for (&p, &t) in self.as_slice().iter().zip(target.as_slice()) {
            let d = p - t;
            s += d * d;
        }
        s / T::c(self.len() as f64)
    }

    fn vjp_lhs(&self, _op: Mse, target: &OMatrix<T, R2, C2>, _y: &T, g: &T, gp: &mut Self) {
        check_mse(self.shape(), target.shape());
        ensure_shape(gp, self.nrows(), self.ncols());
        let scale = T::c(2.0) * *g / T::c(self.len() as f64);
        for (gp, (&p, &t)) in gp
            .as_mut_slice()
            .iter_mut()
            .zip(self.as_slice().iter().zip(target.as_slice()))
        {
            *gp += scale * (p - t);
        }
    }

    fn vjp_rhs(
        &self,
        _op: Mse,
        target: &OMatrix<T, R2, C2>,
        _y: &T,
        g: &T,
        gt: &mut OMatrix<T, R2, C2>,
    ) {
        check_mse(self.shape(), target.shape());
        ensure_shape(gt, target.nrows(), target.ncols());
        let scale = T::c(2.0) * *g / T::c(self.len() as f64);
        for (gt, (&p, &t)) in gt
            .as_mut_slice()
            .iter_mut()
            .zip(self.as_slice().iter().zip(target.as_slice()))
        {
            *gt -= scale * (p - t);
        }
    }
}

/// `mse` of two scalars: `(p - t)^2`.
impl<T: Real> BinaryOp<Mse, T> for T {
    type Output = T;
    #[inline]
    fn forward(&self, _op: Mse, t: &T) -> T {
        (*self - *t) * (*self - *t)
    }
    #[inline]
    fn vjp_lhs(&self, _op: Mse, t: &T, _y: &T, g: &T, gp: &mut T) {
        *gp += (T::one() + T::one()) * *g * (*self - *t);
    }
    #[inline]
    fn vjp_rhs(&self, _op: Mse, t: &T, _y: &T, g: &T, gt: &mut T) {
        *gt -= (T::one() + T::one()) * *g * (*self - *t);
    }
}
