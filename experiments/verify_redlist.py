"""Verify criterion A of pva.redlist against closed forms on Gaussian random walks of log abundance.

For ``log N_t = log N_0 + mu t + sigma W_t`` the probability that a replicate is classified at least
CR / EN / VU / NT under A3 at year 0 has a closed form, both for point-to-point reductions
(``log(N_L / N_0) ~ Normal(mu L, sigma^2 L)``) and for the fitted exponential trend (the
least-squares slope is ``Normal(mu, sigma^2 sum_j c_j^2)``, see tests/unit/test_redlist_montecarlo.py).
This script sweeps drift, noise and generation length (window = the longer of 10 years or
3 generations) and writes observed vs exact probabilities with their Monte Carlo standard errors
to results/verification/redlist_criterion_a.csv.

Run: python experiments/verify_redlist.py [--replicates 20000] [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import itertools
from pathlib import Path

import numpy as np
from scipy import stats

from pva import redlist as rl

THRESHOLDS = {"CR": 0.80, "EN": 0.50, "VU": 0.30, "NT": 0.20}


def exact_probability(method: str, mu: float, sigma: float, window: int, r: float) -> float:
    if method == "point":
        return float(stats.norm.cdf((np.log(1 - r) - mu * window) / (sigma * np.sqrt(window))))
    k = np.arange(window + 1)
    w = (k - k.mean()) / np.sum((k - k.mean()) ** 2)
    cj = np.array([w[j + 1 :].sum() for j in range(window)])
    sd = sigma * np.sqrt(np.sum(cj**2))
    return float(stats.norm.cdf((np.log(1 - r) / window - mu) / sd))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--out", type=Path, default=Path("results/verification/redlist_criterion_a.csv")
    )
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    rows = []
    worst_z = 0.0
    for mu, sigma, g, method in itertools.product(
        (-0.15, -0.05, 0.0), (0.1, 0.3), (2.0, 5.0, 40.0), ("point", "fitted")
    ):
        window = min(max(10, int(np.floor(3 * g + 0.5))), 100)
        steps = mu + sigma * rng.standard_normal((args.replicates, window))
        log_n = np.log(1e6) + np.concatenate(
            [np.zeros((args.replicates, 1)), np.cumsum(steps, axis=1)], axis=1
        )
        c = rl.classify(
            np.exp(log_n),
            generation_length=g,
            criterion_a="A3",
            settings=rl.RedListSettings(criteria=("A",), reduction_method=method),
        )
        cat = c.category[:, 0]
        for name, r in THRESHOLDS.items():
            exact = exact_probability(method, mu, sigma, window, r)
            observed = float(np.mean(cat >= rl.CATEGORY_CODES[name]))
            se = max(np.sqrt(exact * (1 - exact) / args.replicates), 1 / args.replicates)
            z = (observed - exact) / se
            worst_z = max(worst_z, abs(z))
            rows.append([mu, sigma, g, window, method, name, observed, exact, se, z])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "mu",
                "sigma",
                "generation_length",
                "window",
                "method",
                "at_least",
                "observed",
                "exact",
                "mcse",
                "z",
            ]
        )
        writer.writerows(rows)
    # Bonferroni over all comparisons at a family-wise 1e-4
    zc = stats.norm.isf(1e-4 / 2 / len(rows))
    print(f"{len(rows)} comparisons; largest |z| = {worst_z:.2f} (Bonferroni bound {zc:.2f})")
    print(f"wrote {args.out}")
    return 0 if worst_z <= zc else 1


if __name__ == "__main__":
    raise SystemExit(main())
