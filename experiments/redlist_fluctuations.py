"""How often natural fluctuations read as a reduction or a continuing decline (docs/redlist.md).

A stationary population: Ricker dynamics in log abundance,
``x_(t+1) = x_t + r (1 - exp(x_t) / K) + e_t`` with ``e_t ~ Normal(0, sd^2)`` independent each
year (environmental noise), K = 5,000, sd = 0.055 and r = 0.08, so that near K the log abundance
is a first-order autoregression with lag-1 autocorrelation ``1 - r = 0.92`` (May 1974) and
stationary standard deviation ``sd / sqrt(1 - 0.92^2) = 0.14``. Counts are rounded; each replicate
starts at K and runs a burn-in of 200 years before the 100 that are classified.

Every replicate-year from year 30 on (so that every past window is covered) is classified by
:func:`pva.redlist.classify` at a generation length of 3 years (windows: A2 10 years, C1 3/6/10
years, continuing decline 6 years tested on 12) under criteria A (A2) and C, with the population as
a single subpopulation (C2a(ii): all mature individuals in one subpopulation), as for a species of
one population in a ``pva run``. Printed: the share of replicate-years in each category and the
share meeting each sub-criterion at NT or above and at VU or above, under the default settings and
under each setting that bears on it. Then the same population with K falling 5% a year from year
0 (40% in 10 years once N follows K: a VU reduction under A2) to show what each setting costs in
detection.

Run: python experiments/redlist_fluctuations.py [--replicates 2000] [--seed 1]
"""

from __future__ import annotations

import argparse

import numpy as np

from pva import redlist as rl
from pva.redlist import LC, NT, VU, RedListSettings

SETTINGS = {
    "default": RedListSettings(criteria=("A", "C")),
    "nt_reduction_margin=0": RedListSettings(criteria=("A", "C"), nt_reduction_margin=0.0),
    "decline_alpha=0.001": RedListSettings(criteria=("A", "C"), decline_alpha=0.001),
    'reduction_method="fitted"': RedListSettings(criteria=("A", "C"), reduction_method="fitted"),
}
SUBCRITERIA = ("A2", "C1", "C2a(ii)")
FIRST = 30
"""First year classified (every past window covered)."""


def ricker(
    replicates: int, years: int, rng: np.random.Generator, *, k_trend: float = 0.0
) -> np.ndarray:
    """Rounded abundances (replicate, year) of the Ricker population above; K changes by
    ``k_trend`` a year (a fraction) from year 0 on."""
    r, sd, k = 0.08, 0.055, 5_000.0
    x = np.full(replicates, np.log(k))
    for _ in range(200):
        x = x + r * (1.0 - np.exp(x) / k) + rng.normal(0.0, sd, replicates)
    out = np.empty((replicates, years))
    for t in range(years):
        out[:, t] = np.exp(x)
        kt = k * (1.0 + k_trend) ** t
        x = x + r * (1.0 - np.exp(x) / kt) + rng.normal(0.0, sd, replicates)
    return np.round(out)


def shares(n: np.ndarray, settings: RedListSettings) -> dict[str, float]:
    c = rl.classify(
        n[:, :, None],
        generation_length=3.0,
        criterion_a="A2",
        settings=settings,
        ensemble_at_start=False,
    )
    cat = c.category[:, FIRST:]
    out = {"LC": float(np.mean(cat == LC)), "NT": float(np.mean(cat == NT))}
    out["VU+"] = float(np.mean(cat >= VU))
    for sub in SUBCRITERIA:
        lv = c.levels[:, FIRST:, rl.CRITERIA.index(sub)]
        out[f"{sub} NT+"] = float(np.mean(lv >= NT))
        out[f"{sub} VU+"] = float(np.mean(lv >= VU))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    stationary = ricker(args.replicates, 100, rng)
    declining = ricker(args.replicates, 100, rng, k_trend=-0.05)
    d = np.log(stationary) - np.log(stationary).mean(axis=1, keepdims=True)
    rho = float(np.mean(d[:, 1:] * d[:, :-1]) / np.mean(d**2))
    print(f"stationary: sd of log N {d.std():.3f}, lag-1 autocorrelation {rho:.3f}")
    print(f"replicate-years: {args.replicates} x {100 - FIRST} from year {FIRST}")
    for label, n in (("stationary", stationary), ("K falling 5%/year", declining)):
        print(f"\n{label}")
        for name, settings in SETTINGS.items():
            row = shares(n, settings)
            text = "  ".join(f"{k} {v:6.1%}" for k, v in row.items())
            print(f"  {name:<26} {text}")


if __name__ == "__main__":
    main()
