"""JAX (jit) on the benchmark workloads: float64, CPU, one thread.

Run by `cargo run --release -p xtask -- bench-report` under `taskset -c 1` (XLA's flags
alone do not keep it on one core); by hand:
`taskset -c 1 python benches/peers/jax_peer.py [--quick] [--only mlp,mlp_small]`.
Prints one JSON object (see harness.emit) on stdout. The inputs are the Rust benches'
(workloads.py reproduces their generator bit for bit).

What is timed, per workload (compilation happens in the warm-up, outside the timing):
- forward: `jax.jit(loss)`;
- gradient: `jax.jit(jax.value_and_grad(loss))`, waiting for the result;
- ADBench (`adbench/*`): GMM as ADBench's PyTorch module writes it (vectorised over
  points and components), `jax.jit(jax.value_and_grad(...))` in alphas, means, icf; BA's
  Jacobian as `jax.jit(jax.vmap(jax.jacrev(reprojection error)))` over the observations
  (ADBench's two rows per observation), the forward `jax.jit(jax.vmap(...))`; the LSTM
  with `lax.scan` over the characters, `jax.value_and_grad` in the main and extra
  parameters;
- training: the whole 1000-step loop compiled as one function with `lax.scan`, the loss,
  its gradient, `clip_grad_norm_` (max norm 1.0) and Adam (lr 0.01) written in jax.numpy
  exactly as `torch.nn.utils.clip_grad_norm_` and `torch.optim.Adam` with its defaults
  (betas 0.9, 0.999, eps 1e-8, no weight decay) compute them.
"""

import os

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

import harness  # noqa: E402
import workloads as wl  # noqa: E402

jax.config.update("jax_enable_x64", True)


def block(out):
    return jax.block_until_ready(out)


def grad_sq(grads):
    return float(sum(jnp.sum(g * g) for g in jax.tree_util.tree_leaves(grads)))


def tutorial(budget):
    w = jnp.asarray(wl.TUTORIAL["w"], dtype=jnp.float64)
    x = jnp.asarray(wl.TUTORIAL["x"], dtype=jnp.float64)

    def loss(w, x):
        return (w * x - 5.0) ** 2

    forward = jax.jit(loss)
    value_and_grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    return run(lambda: block(forward(w, x)), lambda: block(value_and_grad(w, x)), budget)


def elementwise(budget):
    a, b, x = (
        jnp.asarray(np.asarray(v, dtype=np.float64))
        for v in wl.elementwise_inputs(wl.ELEMENTWISE["n"], wl.ELEMENTWISE["seed"])
    )

    def loss(a, b, x):
        return jnp.sum(jnp.tanh(a * x + b) ** 2)

    forward = jax.jit(loss)
    value_and_grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    return run(
        lambda: block(forward(a, b, x)), lambda: block(value_and_grad(a, b, x)), budget
    )


def mlp_arrays(spec):
    params, x, labels = wl.mlp_workload(spec)
    ps = tuple(jnp.asarray(wl.to_numpy(params[k], np)) for k in ("w1", "b1", "w2", "b2"))
    ps = (ps[0], ps[1].reshape(-1), ps[2], ps[3].reshape(-1))
    return ps, jnp.asarray(wl.to_numpy(x, np)), jnp.asarray(np.asarray(labels, dtype=np.int64))


def mlp_loss(ps, x, labels):
    w1, b1, w2, b2 = ps
    logits = jnp.tanh(x @ w1 + b1) @ w2 + b2
    logp = jax.nn.log_softmax(logits, axis=1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))


def mlp(spec, budget):
    ps, x, labels = mlp_arrays(spec)
    forward = jax.jit(mlp_loss)
    value_and_grad = jax.jit(jax.value_and_grad(mlp_loss))
    return run(
        lambda: block(forward(ps, x, labels)),
        lambda: block(value_and_grad(ps, x, labels)),
        budget,
    )


def make_train(spec):
    """The whole training loop as one jitted function of (params, x, labels)."""
    steps, lr, max_norm = spec["steps"], spec["lr"], spec["max_norm"]
    beta1, beta2, eps = 0.9, 0.999, 1e-8  # torch.optim.Adam's defaults

    def train(ps, x, labels):
        def step(carry, _):
            ps, m, v, t = carry
            g = jax.grad(mlp_loss)(ps, x, labels)
            # clip_grad_norm_: total 2-norm, scale by max_norm / (norm + 1e-6) clamped to 1.
            norm = jnp.sqrt(sum(jnp.sum(gi * gi) for gi in g))
            coef = jnp.minimum(max_norm / (norm + 1e-6), 1.0)
            g = tuple(gi * coef for gi in g)
            # torch.optim.Adam (single-tensor path): lerp, addcmul, bias corrections.
            t = t + 1.0
            m = tuple(mi + (1.0 - beta1) * (gi - mi) for mi, gi in zip(m, g))
            v = tuple(beta2 * vi + (1.0 - beta2) * gi * gi for vi, gi in zip(v, g))
            step_size = lr / (1.0 - beta1**t)
            bc2_sqrt = jnp.sqrt(1.0 - beta2**t)
            ps = tuple(
                p - step_size * mi / (jnp.sqrt(vi) / bc2_sqrt + eps)
                for p, mi, vi in zip(ps, m, v)
            )
            return (ps, m, v, t), None

        zeros = tuple(jnp.zeros_like(p) for p in ps)
        init = (ps, zeros, zeros, jnp.asarray(0.0, dtype=jnp.float64))
        (ps, _, _, _), _ = lax.scan(step, init, None, length=steps)
        return ps

    return jax.jit(train)


def training(budget):
    spec = wl.TRAINING
    ps, x, labels = mlp_arrays(spec["model"])
    train = make_train(spec)
    trained = block(train(ps, x, labels))
    value = float(mlp_loss(trained, x, labels))
    timing = harness.measure(lambda: block(train(ps, x, labels)), budget, min_samples=5)
    return {"gradient_ns": timing["median_ns"], "value": value, "samples": timing["samples"]}


def gmm_loss(alphas, means, icf, x, gamma, m, log_gamma_c):
    """ADBench's `gmm_objective` (src/python/modules/PyTorch/gmm_objective.py) in jax.numpy."""
    n, d = x.shape
    k = alphas.shape[0]
    qdiags = jnp.exp(icf[:, :d])
    sum_qs = jnp.sum(icf[:, :d], axis=1)
    # L_k: the strictly lower triangle, column by column from icf[:, d:].
    rows, cols = np.tril_indices(d, -1)
    order = np.lexsort((rows, cols))  # column-major order of the strict lower triangle
    ls = jnp.zeros((k, d, d)).at[:, rows[order], cols[order]].set(icf[:, d:])
    xcentered = x[:, None, :] - means[None, :, :]  # n x k x d
    lx = qdiags[None, :, :] * xcentered + jnp.einsum("kij,nkj->nki", ls, xcentered)
    inner = alphas[None, :] + sum_qs[None, :] - 0.5 * jnp.sum(lx**2, axis=2)
    slse = jnp.sum(jax.scipy.special.logsumexp(inner, axis=1))
    constant = -n * d * 0.5 * np.log(2 * np.pi)
    wn = d + m + 1
    c = wn * d * np.log(gamma / np.sqrt(2)) - log_gamma_c
    prior = jnp.sum(
        0.5 * gamma * gamma * (jnp.sum(qdiags**2, axis=1) + jnp.sum(icf[:, d:] ** 2, axis=1))
        - m * sum_qs
    ) - k * c
    return constant + slse - n * jax.scipy.special.logsumexp(alphas) + prior


def ba_reproj(cam, x, w, feat):
    """ADBench's `compute_reproj_err` (src/python/modules/PyTorch/ba_objective.py)."""
    rot, xo = cam[0:3], x - cam[3:6]
    sqtheta = jnp.sum(rot**2)
    safe = jnp.where(sqtheta != 0.0, sqtheta, 1.0)
    theta = jnp.sqrt(safe)
    wv = rot / theta
    rotated = (
        xo * jnp.cos(theta) + jnp.cross(wv, xo) * jnp.sin(theta)
        + wv * jnp.dot(wv, xo) * (1.0 - jnp.cos(theta))
    )
    xcam = jnp.where(sqtheta != 0.0, rotated, xo + jnp.cross(rot, xo))
    proj = xcam[0:2] / xcam[2]
    rsq = jnp.sum(proj**2)
    proj = proj * (1.0 + cam[9] * rsq + cam[10] * rsq * rsq)
    return w * (proj * cam[6] + cam[7:9] - feat)


def lstm_loss(main_params, extra_params, state, sequence, l, b):
    """ADBench's `lstm_objective` (lstm.h): `lax.scan` over the characters."""
    mp = main_params.reshape(l, 2, 4, b)  # layer, weight/bias, gate, cell
    ep = extra_params.reshape(3, b)
    st = state.reshape(l, 2, b)

    def step(st, xs):
        x, ygold = xs
        out = x * ep[0]
        new = []
        for li in range(l):
            w, bias = mp[li, 0], mp[li, 1]
            hidden, cell = st[li, 0], st[li, 1]
            forget = 1.0 / (1.0 + jnp.exp(-(out * w[0] + bias[0])))
            ingate = 1.0 / (1.0 + jnp.exp(-(hidden * w[1] + bias[1])))
            outgate = 1.0 / (1.0 + jnp.exp(-(out * w[2] + bias[2])))
            change = jnp.tanh(hidden * w[3] + bias[3])
            cell = cell * forget + ingate * change
            hidden = outgate * jnp.tanh(cell)
            new.append(jnp.stack([hidden, cell]))
            out = hidden
        ypred = out * ep[1] + ep[2]
        lse = jnp.log(jnp.sum(jnp.exp(ypred)) + 2.0)
        return jnp.stack(new), jnp.sum(ygold * (ypred - lse))

    seq = sequence.reshape(-1, b)
    _, totals = lax.scan(step, st, (seq[:-1], seq[1:]))
    return -jnp.sum(totals) / ((seq.shape[0] - 1) * b)


def adbench(spec, budget):
    if spec["group"].startswith("adbench/lstm"):
        s = wl.read_lstm(spec["file"])
        args = tuple(
            jnp.asarray(np.asarray(s[k], dtype=np.float64))
            for k in ("main_params", "extra_params", "state", "sequence")
        )

        def loss(main_params, extra_params, state, sequence):
            return lstm_loss(main_params, extra_params, state, sequence, s["l"], s["b"])

        forward = jax.jit(loss)
        value_and_grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
        return run(lambda: block(forward(*args)), lambda: block(value_and_grad(*args)), budget)
    if spec["group"].startswith("adbench/gmm"):
        g = wl.read_gmm(spec["file"])
        args = tuple(jnp.asarray(np.asarray(g[k], dtype=np.float64)) for k in ("alphas", "means", "icf", "x"))
        lg = wl.log_gamma_distrib(0.5 * (g["d"] + g["m"] + 1), g["d"])

        def loss(alphas, means, icf, x):
            return gmm_loss(alphas, means, icf, x, g["gamma"], g["m"], lg)

        forward = jax.jit(loss)
        value_and_grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))
        return run(lambda: block(forward(*args)), lambda: block(value_and_grad(*args)), budget)
    b = wl.read_ba(spec["file"])
    obs = np.asarray(b["obs"], dtype=np.int64)
    cams = jnp.asarray(np.asarray(b["cams"])[obs[:, 0]])
    xs = jnp.asarray(np.asarray(b["x"])[obs[:, 1]])
    w = jnp.asarray(np.asarray(b["w"]))
    feats = jnp.asarray(np.asarray(b["feats"]))
    forward = jax.jit(jax.vmap(ba_reproj))
    jac = jax.jit(jax.vmap(jax.jacrev(ba_reproj, argnums=(0, 1, 2))))

    def gradient():
        err = forward(cams, xs, w, feats)
        jc, jx, jw = jac(cams, xs, w, feats)
        return block((jnp.sum(err**2), (jc, jx, jw, -2.0 * w)))

    return run(lambda: block(forward(cams, xs, w, feats)), gradient, budget)


def run(forward, gradient, budget):
    value, grads = gradient()
    fwd = harness.measure(forward, budget)
    grad = harness.measure(gradient, budget)
    return {
        "forward_ns": fwd["median_ns"],
        "gradient_ns": grad["median_ns"],
        "value": float(value),
        "grad_sq": grad_sq(grads),
        "samples": grad["samples"],
    }


def main():
    harness.run(
        __doc__, "jax", "JAX jit", jax.__version__, lambda: 1, tutorial, elementwise, mlp, training,
        adbench,
    )


if __name__ == "__main__":
    main()
