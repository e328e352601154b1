"""JAX (jit) on the benchmark workloads: float64, CPU, one thread.

Run by `cargo run --release -p xtask -- bench-report` under `taskset -c 1` (XLA's flags
alone do not keep it on one core); by hand:
`taskset -c 1 python benches/peers/jax_peer.py [--quick] [--only mlp,mlp_small]`.
Prints one JSON object (see harness.emit) on stdout. The inputs are the Rust benches'
(workloads.py reproduces their generator bit for bit).

What is timed, per workload (compilation happens in the warm-up, outside the timing):
- forward: `jax.jit(loss)`;
- gradient: `jax.jit(jax.value_and_grad(loss))`, waiting for the result;
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
    harness.run(__doc__, "jax", "JAX jit", jax.__version__, lambda: 1, tutorial, elementwise, mlp, training)


if __name__ == "__main__":
    main()
