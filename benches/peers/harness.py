"""Timing and output shared by the peer scripts (standard library only).

A measurement warms the function up, then times samples of `k` calls each (`k` chosen so
that a sample lasts about a tenth of the budget) and reports the median time per call, in
nanoseconds, as criterion's median does for the Rust entries. The garbage collector runs
before each measurement and is disabled while timing.
"""

import argparse
import gc
import json
import sys
import time


def parse_args(description):
    """The peers' command line: `--quick` (shorter budget), `--only GROUP[,GROUP...]`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="about 1 s per entry instead of 3 s")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated criterion group names to run (default: all)",
    )
    args = parser.parse_args()
    args.only = [g for g in args.only.split(",") if g]
    return args


def wanted(args, group):
    """Whether `group` was selected on the command line."""
    return not args.only or group in args.only


def measure(fn, budget_s, warmup_s=None, min_samples=5, max_samples=50):
    """Median time per call of `fn()` in nanoseconds; `fn` must wait for its result."""
    warmup_s = budget_s / 3 if warmup_s is None else warmup_s
    # Warm-up: at least two calls (the first may compile), then until warmup_s has passed.
    calls = 0
    start = time.perf_counter()
    while calls < 2 or time.perf_counter() - start < warmup_s:
        t0 = time.perf_counter()
        fn()
        last = time.perf_counter() - t0
        calls += 1
    per_call = max(last, 1e-9)
    samples = max(min_samples, min(max_samples, int(budget_s / per_call)))
    k = max(1, int(budget_s / samples / per_call))
    times = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(samples):
            t0 = time.perf_counter_ns()
            for _ in range(k):
                fn()
            times.append((time.perf_counter_ns() - t0) / k)
    finally:
        gc.enable()
    times.sort()
    mid = len(times) // 2
    median = times[mid] if len(times) % 2 else 0.5 * (times[mid - 1] + times[mid])
    return {"median_ns": median, "samples": samples, "iters_per_sample": k}


def log(msg):
    """Progress on stderr (stdout carries the JSON)."""
    print(msg, file=sys.stderr, flush=True)


def emit(peer, name, version, threads, results):
    """Print the peer's results as one JSON object on stdout.

    `results` maps a criterion group name to `{"forward_ns", "gradient_ns", "value",
    "grad_sq"}` (`forward_ns` absent for the training loop, whose `value` is the loss after
    training and whose `gradient_ns` is the time of the whole loop).
    """
    json.dump(
        {"peer": peer, "name": name, "version": version, "threads": threads, "results": results},
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


def run(doc, peer, name, version, threads, tutorial, elementwise, mlp, training, adbench=None):
    """A peer script's `main`: parse the command line, run the wanted workloads in the
    report's order and emit them. Each workload function takes the time budget (`mlp`
    and `adbench` also the workload's description) and returns its results; `adbench`
    (ADBench's GMM and BA, optional) runs on the `ADBENCH_*` workloads.
    """
    import workloads as wl

    args = parse_args(doc.splitlines()[0])
    budget = 1.0 if args.quick else 3.0
    jobs = [
        (wl.TUTORIAL["group"], lambda: tutorial(budget)),
        (wl.ELEMENTWISE["group"], lambda: elementwise(budget)),
        (wl.MLP["group"], lambda: mlp(wl.MLP, budget)),
        (wl.MLP_SMALL["group"], lambda: mlp(wl.MLP_SMALL, budget)),
        (wl.TRAINING["group"], lambda: training(budget)),
    ]
    if adbench is not None:
        for spec in wl.ADBENCH_GMM + [wl.ADBENCH_BA, wl.ADBENCH_LSTM]:
            jobs.append((spec["group"], lambda spec=spec: adbench(spec, budget)))
    results = {}
    for group, job in jobs:
        if wanted(args, group):
            log(f"{peer}: {group}")
            results[group] = job()
    emit(peer, name, version, threads(), results)
