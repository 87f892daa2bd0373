"""Verify pva.redlist against closed forms and calibrate its continuing-decline test.

1. Criterion A on Gaussian random walks of log abundance. For ``log N_t = log N_0 + mu t +
   sigma W_t`` the probability that a replicate is classified at least CR / EN / VU / NT under A2 at
   the end of its window has a closed form, both for point-to-point reductions
   (``log(N_L / N_0) ~ Normal(mu L, sigma^2 L)``) and for the fitted exponential trend (the
   least-squares slope is ``Normal(mu, sigma^2 sum_j c_j^2)``, see
   tests/statistical/test_redlist_montecarlo.py). Drift, noise and generation length are swept (window =
   the longer of 10 years or 3 generations, never capped for the past: 120 years at G = 40);
   observed vs exact probabilities with their Monte Carlo standard errors go to
   results/verification/redlist_criterion_a.csv.
2. Continuing decline (:func:`pva.redlist.windows.significant_decline`) on a population held at
   K = 5,000 by Ricker density dependence (lambda = 1 at K, demographic noise, lag-1
   autocorrelation about 0.8): the share of windows read as declining at each level, without and
   with a steady yearly decline of 0.5-3%, to results/verification/redlist_decline.csv, and the
   share of replicate-years that ``pva.redlist.assess`` puts in LC.

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
from pva.testing import proportion_se

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
    parser.add_argument(
        "--decline-out", type=Path, default=Path("results/verification/redlist_decline.csv")
    )
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    rows = []
    worst_z = 0.0
    for mu, sigma, g, method in itertools.product(
        (-0.15, -0.05, 0.0), (0.1, 0.3), (2.0, 5.0, 40.0), ("point", "fitted")
    ):
        window = max(10, int(np.floor(3 * g + 0.5)))
        steps = mu + sigma * rng.standard_normal((args.replicates, window))
        log_n = np.log(1e6) + np.concatenate(
            [np.zeros((args.replicates, 1)), np.cumsum(steps, axis=1)], axis=1
        )
        c = rl.classify(
            np.exp(log_n),
            generation_length=g,
            criterion_a="A2",
            settings=rl.RedListSettings(criteria=("A",), reduction_method=method),
        )
        cat = c.category[:, window]
        for name, r in THRESHOLDS.items():
            exact = exact_probability(method, mu, sigma, window, r)
            observed = float(np.mean(cat >= rl.CATEGORY_CODES[name]))
            se = float(proportion_se(exact, args.replicates))
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
    decline_table(args.decline_out, seed=args.seed)
    return 0 if worst_z <= zc else 1


def decline_table(out: Path, *, seed: int) -> None:
    """Share of windows read as a continuing decline on a stationary population, and with declines."""
    import pva
    from pva.model import DensityDependence, Species

    species = Species(
        name="stable",
        stages=["juvenile", "adult"],
        U=[[0.0, 0.0], [0.4, 0.85]],
        F=[[0.0, 0.6], [0.0, 0.0]],
        initial_total=5_000,
        carrying_capacity=5_000.0,
        density_dependence=DensityDependence(kind="ricker"),
    )
    ds = pva.simulate(species, years=100, replicates=400, seed=seed)
    mature = ds["mature_abundance"].sum("population").values.astype(float)
    dev = np.log(mature) - np.log(mature).mean(axis=1, keepdims=True)
    rho = float(np.mean(dev[:, 1:] * dev[:, :-1]) / np.mean(dev**2))
    rows = []
    years = np.arange(mature.shape[1])
    for yearly in (0.0, 0.005, 0.01, 0.02, 0.03):
        series = mature * (1 - yearly) ** years
        for length in (5, 10, 15):
            for alpha in (0.01, 0.05):
                d = rl.windows.significant_decline(series, length, alpha)
                rows.append([yearly, length, alpha, float(np.nanmean(d)), rho])
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["yearly_decline", "window", "alpha", "share_declining", "lag1_autocorr"])
        writer.writerows(rows)
    assessed = rl.assess(ds)
    lc = float(np.mean(assessed["category"].values == rl.LC))
    print(
        f"stationary population (lag-1 autocorrelation {rho:.2f}): LC in {lc:.1%} of replicate-years"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    raise SystemExit(main())
