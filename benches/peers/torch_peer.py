"""PyTorch eager on the benchmark workloads: float64, CPU, one thread.

Run by `cargo run --release -p xtask -- bench-report` under `taskset -c 1`; by hand:
`taskset -c 1 python benches/peers/torch_peer.py [--quick] [--only mlp,mlp_small]`.
Prints one JSON object (see harness.emit) on stdout. The inputs are the Rust benches'
(workloads.py reproduces their generator bit for bit).

What is timed, per workload, as a PyTorch user writes it:
- forward: the loss under `torch.no_grad()`;
- gradient: clear the gradients (`p.grad = None`, as `zero_grad()` does), record the loss,
  `loss.backward()`;
- training: fresh parameters, `torch.optim.Adam(lr=0.01)` with its defaults, 1000 steps of
  `zero_grad`, loss, `backward`, `clip_grad_norm_(params, 1.0)`, `step`.
Timed functions return tensors; nothing is converted to Python floats inside the timing.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import harness  # noqa: E402
import workloads as wl  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)
torch.set_default_dtype(torch.float64)


def tensor(matrix):
    """A (rows, cols, column-major list) matrix as a row-major float64 tensor."""
    rows, cols, data = matrix
    return torch.tensor(data, dtype=torch.float64).reshape(cols, rows).t().contiguous()


def grad_sq(params):
    return float(sum((p.grad.detach() ** 2).sum() for p in params))


def tutorial(budget):
    w = torch.tensor(wl.TUTORIAL["w"], requires_grad=True)
    x = torch.tensor(wl.TUTORIAL["x"], requires_grad=True)

    def forward():
        with torch.no_grad():
            return (w * x - 5.0) ** 2

    def gradient():
        w.grad = None
        x.grad = None
        loss = (w * x - 5.0) ** 2
        loss.backward()
        return loss

    return run(forward, gradient, [w, x], budget)


def elementwise(budget):
    a, b, x = wl.elementwise_inputs(wl.ELEMENTWISE["n"], wl.ELEMENTWISE["seed"])
    a = torch.tensor(a, requires_grad=True)
    b = torch.tensor(b, requires_grad=True)
    x = torch.tensor(x)

    def loss():
        return torch.tanh(a * x + b).pow(2).sum()

    def forward():
        with torch.no_grad():
            return loss()

    def gradient():
        a.grad = None
        b.grad = None
        out = loss()
        out.backward()
        return out

    return run(forward, gradient, [a, b], budget)


def mlp_tensors(spec):
    params, x, labels = wl.mlp_workload(spec)
    ps = [tensor(params[k]) for k in ("w1", "b1", "w2", "b2")]
    ps[1] = ps[1].reshape(-1)
    ps[3] = ps[3].reshape(-1)
    return ps, tensor(x), torch.tensor(labels, dtype=torch.long)


def mlp_loss(ps, x, labels):
    w1, b1, w2, b2 = ps
    return F.cross_entropy(torch.tanh(x @ w1 + b1) @ w2 + b2, labels)


def mlp(spec, budget):
    ps, x, labels = mlp_tensors(spec)
    for p in ps:
        p.requires_grad_(True)

    def forward():
        with torch.no_grad():
            return mlp_loss(ps, x, labels)

    def gradient():
        for p in ps:
            p.grad = None
        loss = mlp_loss(ps, x, labels)
        loss.backward()
        return loss

    return run(forward, gradient, ps, budget)


def training(budget):
    spec = wl.TRAINING
    p0, x, labels = mlp_tensors(spec["model"])

    def train():
        ps = [p.detach().clone().requires_grad_(True) for p in p0]
        opt = torch.optim.Adam(ps, lr=spec["lr"])
        for _ in range(spec["steps"]):
            opt.zero_grad()
            loss = mlp_loss(ps, x, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(ps, spec["max_norm"])
            opt.step()
        return ps

    trained = train()
    with torch.no_grad():
        value = float(mlp_loss(trained, x, labels))
    timing = harness.measure(train, budget, warmup_s=0.0, min_samples=3)
    return {"gradient_ns": timing["median_ns"], "value": value, "samples": timing["samples"]}


def run(forward, gradient, params, budget):
    loss = gradient()
    value, sq = float(loss.detach()), grad_sq(params)
    fwd = harness.measure(forward, budget)
    grad = harness.measure(gradient, budget)
    return {
        "forward_ns": fwd["median_ns"],
        "gradient_ns": grad["median_ns"],
        "value": value,
        "grad_sq": sq,
        "samples": grad["samples"],
    }


def main():
    harness.run(
        __doc__,
        "torch",
        "PyTorch eager",
        torch.__version__,
        torch.get_num_threads,
        tutorial,
        elementwise,
        mlp,
        training,
    )


if __name__ == "__main__":
    main()
