"""PyTorch eager on the benchmark workloads: float64, CPU, one thread.

Run by `cargo run --release -p xtask -- bench-report` under `taskset -c 1`; by hand:
`taskset -c 1 python benches/peers/torch_peer.py [--quick] [--only mlp,mlp_small]`.
Prints one JSON object (see harness.emit) on stdout. The inputs are the Rust benches'
(workloads.py reproduces their generator bit for bit).

What is timed, per workload, as a PyTorch user writes it:
- forward: the loss under `torch.no_grad()`;
- gradient: clear the gradients (`p.grad = None`, as `zero_grad()` does), record the loss,
  `loss.backward()`;
- ADBench (`adbench/*`): GMM as ADBench's PyTorch module writes it
  (`src/python/modules/PyTorch/gmm_objective.py`, vectorised over points and components),
  gradient in alphas, means, icf by `backward()`; BA's Jacobian (two rows per observation)
  by `torch.func.vmap(torch.func.jacrev(reprojection error))` over the observations
  (ADBench's own module calls `torch.autograd` once per observation, which is far slower);
  the LSTM as ADBench's lstm.h reads, a Python loop over the characters, `backward()`;
- training: fresh parameters, `torch.optim.Adam(lr=0.01)` with its defaults, 1000 steps of
  `zero_grad`, loss, `backward`, `clip_grad_norm_(params, 1.0)`, `step`.
Timed functions return tensors; nothing is converted to Python floats inside the timing.
"""

import math
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


def gmm_loss(alphas, means, icf, x, gamma, m, log_gamma_c):
    """ADBench's `gmm_objective` (src/python/modules/PyTorch/gmm_objective.py)."""
    n, d = x.shape
    k = alphas.shape[0]
    qdiags = torch.exp(icf[:, :d])
    sum_qs = torch.sum(icf[:, :d], 1)
    # L_k: the strictly lower triangle, column by column from icf[:, d:] (constructL).
    rows, cols = torch.tril_indices(d, d, -1)
    order = torch.argsort(cols * d + rows)
    ls = torch.zeros((k, d, d), dtype=torch.float64).index_put(
        (torch.arange(k)[:, None], rows[order][None, :], cols[order][None, :]), icf[:, d:]
    )
    xcentered = x[:, None, :] - means[None, :, :]
    lx = qdiags * xcentered + torch.einsum("kij,nkj->nki", ls, xcentered)
    inner = alphas + sum_qs - 0.5 * torch.sum(lx**2, 2)
    slse = torch.sum(torch.logsumexp(inner, 1))
    constant = -n * d * 0.5 * math.log(2 * math.pi)
    wn = d + m + 1
    c = wn * d * math.log(gamma / math.sqrt(2)) - log_gamma_c
    prior = torch.sum(
        0.5 * gamma * gamma * (torch.sum(qdiags**2, 1) + torch.sum(icf[:, d:] ** 2, 1))
        - m * sum_qs
    ) - k * c
    return constant + slse - n * torch.logsumexp(alphas, 0) + prior


def ba_reproj(cam, x, w, feat):
    """ADBench's `compute_reproj_err` (src/python/modules/PyTorch/ba_objective.py), with
    `torch.where` for its branch on a zero rotation so that `vmap` can batch it."""
    rot, xo = cam[0:3], x - cam[3:6]
    sqtheta = torch.sum(rot**2)
    safe = torch.where(sqtheta != 0.0, sqtheta, torch.ones_like(sqtheta))
    theta = torch.sqrt(safe)
    wv = rot / theta
    rotated = (
        xo * torch.cos(theta) + torch.linalg.cross(wv, xo) * torch.sin(theta)
        + wv * torch.dot(wv, xo) * (1.0 - torch.cos(theta))
    )
    xcam = torch.where(sqtheta != 0.0, rotated, xo + torch.linalg.cross(rot, xo))
    proj = xcam[0:2] / xcam[2]
    rsq = torch.sum(proj**2)
    proj = proj * (1.0 + cam[9] * rsq + cam[10] * rsq * rsq)
    return w * (proj * cam[6] + cam[7:9] - feat)


def lstm_loss(main_params, extra_params, state, sequence, l, b):
    """ADBench's `lstm_objective` (lstm.h), a loop over the characters."""
    mp = main_params.reshape(l, 2, 4, b)
    ep = extra_params.reshape(3, b)
    seq = sequence.reshape(-1, b)
    st = [(state[2 * b * li : 2 * b * li + b], state[2 * b * li + b : 2 * b * (li + 1)]) for li in range(l)]
    total = 0.0
    for t in range(seq.shape[0] - 1):
        out = seq[t] * ep[0]
        for li in range(l):
            w, bias = mp[li, 0], mp[li, 1]
            hidden, cell = st[li]
            forget = torch.sigmoid(out * w[0] + bias[0])
            ingate = torch.sigmoid(hidden * w[1] + bias[1])
            outgate = torch.sigmoid(out * w[2] + bias[2])
            change = torch.tanh(hidden * w[3] + bias[3])
            cell = cell * forget + ingate * change
            hidden = outgate * torch.tanh(cell)
            st[li] = (hidden, cell)
            out = hidden
        ypred = out * ep[1] + ep[2]
        lse = torch.log(torch.sum(torch.exp(ypred)) + 2.0)
        total = total + torch.sum(seq[t + 1] * (ypred - lse))
    return -total / ((seq.shape[0] - 1) * b)


def adbench(spec, budget):
    if spec["group"].startswith("adbench/lstm"):
        s = wl.read_lstm(spec["file"])
        main_params, extra_params = (
            torch.tensor(s[k], dtype=torch.float64, requires_grad=True)
            for k in ("main_params", "extra_params")
        )
        state = torch.tensor(s["state"], dtype=torch.float64)
        sequence = torch.tensor(s["sequence"], dtype=torch.float64)
        params = [main_params, extra_params]

        def forward():
            with torch.no_grad():
                return lstm_loss(main_params, extra_params, state, sequence, s["l"], s["b"])

        def gradient():
            for p in params:
                p.grad = None
            loss = lstm_loss(main_params, extra_params, state, sequence, s["l"], s["b"])
            loss.backward()
            return loss

        return run(forward, gradient, params, budget)
    if spec["group"].startswith("adbench/gmm"):
        g = wl.read_gmm(spec["file"])
        alphas, means, icf = (
            torch.tensor(g[k], dtype=torch.float64, requires_grad=True)
            for k in ("alphas", "means", "icf")
        )
        x = torch.tensor(g["x"], dtype=torch.float64)
        lg = wl.log_gamma_distrib(0.5 * (g["d"] + g["m"] + 1), g["d"])
        params = [alphas, means, icf]

        def forward():
            with torch.no_grad():
                return gmm_loss(alphas, means, icf, x, g["gamma"], g["m"], lg)

        def gradient():
            for p in params:
                p.grad = None
            loss = gmm_loss(alphas, means, icf, x, g["gamma"], g["m"], lg)
            loss.backward()
            return loss

        return run(forward, gradient, params, budget)
    b = wl.read_ba(spec["file"])
    obs = torch.tensor(b["obs"], dtype=torch.int64)
    cams = torch.tensor(b["cams"], dtype=torch.float64)[obs[:, 0]]
    xs = torch.tensor(b["x"], dtype=torch.float64)[obs[:, 1]]
    w = torch.tensor(b["w"], dtype=torch.float64)
    feats = torch.tensor(b["feats"], dtype=torch.float64)
    batched = torch.func.vmap(ba_reproj)
    jac = torch.func.vmap(torch.func.jacrev(ba_reproj, argnums=(0, 1, 2)))

    def forward():
        with torch.no_grad():
            return batched(cams, xs, w, feats)

    def jacobian():
        err = batched(cams, xs, w, feats)
        jc, jx, jw = jac(cams, xs, w, feats)
        return err, (jc, jx, jw, -2.0 * w)

    err, blocks = jacobian()
    fwd = harness.measure(forward, budget)
    grad = harness.measure(jacobian, budget)
    return {
        "forward_ns": fwd["median_ns"],
        "gradient_ns": grad["median_ns"],
        "value": float(torch.sum(err**2)),
        "grad_sq": float(sum(torch.sum(t**2) for t in blocks)),
        "samples": grad["samples"],
    }


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
        adbench,
    )


if __name__ == "__main__":
    main()
