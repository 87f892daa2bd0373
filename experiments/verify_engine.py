"""Statistical verification of the engine against theory and reference algorithms (not a pytest).

Like msprime's ``verification.py``: each check simulates more replicates than the test suite can
afford, compares the distribution (not just a number) with its exact or independent counterpart, and
writes a figure (CDF or QQ plot) and a Markdown table into ``results/verification/``.

Usage::

    python experiments/verify_engine.py            # run every check
    python experiments/verify_engine.py --list     # list the checks
    python experiments/verify_engine.py -c galton_watson hudsonia_quasi_extinction

Checks
------
galton_watson              one stage, Poisson(m) offspring: P(extinct by t) = f^t(0)^n0 (Harris 1963)
branching_moments          demographic stochasticity: E n(t) = A^t n0 and Var n(t) (Harris 1963)
reference_model            engine vs tests/reference.py (per individual), QQ of total abundance
lognormal_walk             one stage, lognormal growth: log N_T normal (QQ plot)
diffusion                  Brownian first passage vs pva.countpva.extinction_cdf (Dennis et al. 1991)
hudsonia_quasi_extinction  Hudsonia quasi-extinction CDF vs popbio stoch.quasi.ext (Morris & Doak Box 7.5)
hudsonia_growth            Hudsonia log λs from trajectories vs pva.analysis.stochastic_growth_rate
hudsonia_demographic       Hudsonia with demographic stochasticity: extinction risk table (the README demo)
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.stats
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import pva
from pva import analysis, countpva, datasets, engine, outcomes, streams
from pva.model import (
    DensityDependence,
    MatrixSelection,
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
)
from pva.simulation import simulate
from pva.testing import galton_watson_extinction, proportion_se

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "verification"

U3 = np.array([[0.2, 0.0, 0.0], [0.3, 0.5, 0.0], [0.0, 0.3, 0.9]])
F3 = np.array([[0.0, 0.5, 2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
HUDSONIA_N0 = (4264, 3, 30, 16, 25, 5)

CHECKS: dict[str, Callable[[], str]] = {}


def check(function: Callable[[], str]) -> Callable[[], str]:
    CHECKS[function.__name__] = function
    return function


def _reference_module():
    spec = importlib.util.spec_from_file_location("pva_reference", ROOT / "tests" / "reference.py")
    if spec is None or spec.loader is None:
        raise ImportError("tests/reference.py not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _save(fig: Figure, name: str) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(OUT / f"{name}.png", dpi=110, bbox_inches="tight")
    return f"![{name}]({name}.png)"


def _table(header: list[str], rows: list[list[object]]) -> str:
    def fmt(x: object) -> str:
        if isinstance(x, float | np.floating):
            return f"{x:.4g}"
        return str(x)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def _three_stage(**changes: object) -> Species:
    fields: dict[str, object] = {
        "name": "three-stage",
        "stages": ("juvenile", "subadult", "adult"),
        "U": tuple(map(tuple, U3)),
        "F": tuple(map(tuple, F3)),
        "initial": (20, 10, 5),
    }
    fields.update(changes)
    return Species(**fields)  # type: ignore[arg-type]


def _hudsonia(demographic: bool) -> tuple[Species, list[np.ndarray]]:
    data = datasets.popbio_document("hudsonia")  # Morris & Doak 2002, Table 6.7
    matrices = [np.asarray(data["matrices"][k], dtype=float) for k in data["names"]]
    reproduction = np.zeros((6, 6), dtype=bool)
    reproduction[0:2, 2:6] = True
    env = MatrixSelection.from_matrices(matrices, reproduction=reproduction, names=data["names"])
    species = Species(
        name="Hudsonia montana",
        stages=tuple(data["stages"]),
        environment=env,
        initial=HUDSONIA_N0,
        demographic_stochasticity=demographic,
        quasi_extinction_threshold=9,
        mature_stages=("small", "medium", "large"),
    )
    return species, matrices


# ---------------------------------------------------------------------------------------------------


@check
def galton_watson() -> str:
    m, n0, years, replicates = 0.95, 5, 60, 100_000
    species = Species(name="galton-watson", stages=("all",), U=((0.0,),), F=((m,),), initial=(n0,))
    ds = simulate(species, years=years, replicates=replicates, seed=1, record=())
    est = outcomes.extinction_probability(ds["total_abundance"].isel(population=0))
    exact = galton_watson_extinction([m] * years, n0)
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(np.arange(years + 1), exact, "k-", label="exact $f^t(0)^{n_0}$")
    ax.errorbar(
        np.arange(years + 1),
        est.estimate.values,
        yerr=2 * est.mcse.values,
        fmt=".",
        label="engine ±2 MCSE",
    )
    ax.set(xlabel="year", ylabel="P(extinct by year)", title=f"Galton-Watson, m={m}, n0={n0}")
    ax.legend()
    z = (est.estimate.values - exact) / est.mcse.values
    rows = [
        [t, exact[t], est.estimate.values[t], est.mcse.values[t], z[t]] for t in (5, 10, 20, 40, 60)
    ]
    return "\n\n".join(
        [
            f"One stage, Poisson({m}) offspring, n0 = {n0}, {replicates} replicates. Exact: "
            "f^t(0)^n0 with f(s) = exp(m(s-1)) (Harris 1963).",
            _table(["year", "exact", "engine", "MCSE", "z"], rows),
            f"max |z| over all {years} years: {np.abs(z[1:]).max():.2f}",
            _save(fig, "galton_watson"),
        ]
    )


@check
def branching_moments() -> str:
    years, replicates = 20, 20_000
    ds = simulate(_three_stage(), years=years, replicates=replicates, seed=2)
    n = ds["abundance"].isel(population=0).values.astype(float)
    A = U3 + F3
    V = [np.diag(U3[:, j]) - np.outer(U3[:, j], U3[:, j]) + np.diag(F3[:, j]) for j in range(3)]
    mean, cov = [np.array([20.0, 10.0, 5.0])], [np.zeros((3, 3))]
    for _ in range(years):
        mean.append(A @ mean[-1])
        cov.append(A @ cov[-1] @ A.T + sum(mean[-2][j] * V[j] for j in range(3)))
    mean, var = np.array(mean), np.array([np.diag(c) for c in cov])
    sample_mean, sample_var = n.mean(axis=0), n.var(axis=0, ddof=1)
    se = n.std(axis=0, ddof=1) / math.sqrt(replicates)
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for s, stage in enumerate(("juvenile", "subadult", "adult")):
        ax1.plot(mean[:, s], "-", label=f"{stage} exact")
        ax1.errorbar(np.arange(years + 1), sample_mean[:, s], yerr=2 * se[:, s], fmt=".")
        ax2.plot(var[:, s], "-", label=f"{stage} exact")
        ax2.plot(sample_var[:, s], ".")
    ax1.set(xlabel="year", ylabel="mean", title="E n(t) = A^t n0")
    ax2.set(xlabel="year", ylabel="variance", title="Var n(t) (branching process)")
    ax1.legend()
    z = (sample_mean[1:] - mean[1:]) / se[1:]
    rows = [
        [t, stage, mean[t, s], sample_mean[t, s], var[t, s], sample_var[t, s]]
        for t in (5, 20)
        for s, stage in enumerate(("juvenile", "subadult", "adult"))
    ]
    return "\n\n".join(
        [
            f"Three stages, Poisson births and multinomial fates, {replicates} replicates.",
            _table(["year", "stage", "E exact", "mean", "Var exact", "sample var"], rows),
            f"max |z| of the means over {z.size} (year, stage) pairs: {np.abs(z).max():.2f}",
            _save(fig, "branching_moments"),
        ]
    )


@check
def reference_model() -> str:
    reference = _reference_module()
    years, initial, capacity = 15, (6, 3, 2), 30
    species = _three_stage(
        initial=initial,
        carrying_capacity=float(capacity),
        density_dependence=DensityDependence(kind="ceiling"),
    )
    ref = reference.project_reference(
        U3,
        F3,
        initial,
        years=years,
        replicates=5000,
        rng=np.random.default_rng(3),
        carrying_capacity=capacity,
    )
    eng = engine.project(species, years=years, replicates=20_000, streams=streams.single_streams(4))
    fig = Figure(figsize=(10, 4), layout="constrained")
    rows = []
    for ax, t in zip(fig.subplots(1, 3), (3, 8, 15), strict=True):
        a = ref[:, t].sum(axis=-1)
        b = eng.abundance[:, t, 0].sum(axis=-1)
        q = np.linspace(0.01, 0.99, 99)
        ax.plot(
            np.quantile(a, q, method="inverted_cdf"), np.quantile(b, q, method="inverted_cdf"), "."
        )
        ax.plot([0, capacity], [0, capacity], "k-", lw=0.5)
        ax.set(xlabel="reference quantile", ylabel="engine quantile", title=f"total, year {t}")
        edges = np.unique(np.quantile(np.concatenate([a, b]), np.linspace(0, 1, 11)))
        table = np.array(
            [
                np.bincount(np.searchsorted(edges[1:-1], x, side="right"), minlength=edges.size - 1)
                for x in (a, b)
            ]
        )
        table = table[:, table.sum(axis=0) > 0]
        p = scipy.stats.chi2_contingency(table).pvalue
        rows.append([t, a.mean(), b.mean(), (a == 0).mean(), (b == 0).mean(), p])
    return "\n\n".join(
        [
            f"Three stages, ceiling K = {capacity}, n0 = {initial}: 5000 per-individual reference "
            "replicates vs 20000 engine replicates.",
            _table(["year", "ref mean", "engine mean", "ref P(0)", "engine P(0)", "chi2 p"], rows),
            _save(fig, "reference_model"),
        ]
    )


@check
def lognormal_walk() -> str:
    mean, sd, n0, years, replicates = 0.98, 0.25, 200, 40, 20_000
    rates = VitalRates(
        rates=(VitalRate(name="growth", mean=mean, sd=sd, distribution="lognormal"),),
        U=((0.0,),),
        F=(("growth",),),
    )
    species = Species(
        name="lognormal walk",
        stages=("all",),
        vital_rates=rates,
        environment=VitalRateStochasticity(rates=("growth",)),
        initial=(n0,),
        demographic_stochasticity=False,
    )
    ds = simulate(species, years=years, replicates=replicates, seed=5, record=())
    log_n = np.log(ds["total_abundance"].isel(population=0, year=years).values)
    sigma2 = math.log1p((sd / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    dist = scipy.stats.norm(math.log(n0) + years * mu, math.sqrt(years * sigma2))
    q = (np.arange(1, 200) - 0.5) / 199
    fig = Figure(figsize=(5, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(dist.ppf(q), np.quantile(log_n, q), ".")
    lim = dist.ppf([0.001, 0.999])
    ax.plot(lim, lim, "k-", lw=0.5)
    ax.set(xlabel="normal quantile", ylabel="simulated log N_T", title=f"log N after {years} years")
    ks = scipy.stats.kstest(log_n, dist.cdf)
    return "\n\n".join(
        [
            f"One stage, lognormal growth factor (mean {mean}, SD {sd}), no demographic "
            f"stochasticity, {replicates} replicates: log N_{years} ~ Normal(log n0 + T mu, T sigma^2).",
            f"KS statistic {ks.statistic:.4f}, p = {ks.pvalue:.3g}",
            _save(fig, "lognormal_walk"),
        ]
    )


@check
def diffusion() -> str:
    mu, sigma2, nc, nx, years, replicates = -0.02, 0.04, 100.0, 20.0, 100, 100_000
    rng = np.random.default_rng(31)
    b = math.log(nx)
    x = np.empty((replicates, years + 1))
    x[:, 0] = math.log(nc)
    x[:, 1:] = x[:, :1] + np.cumsum(rng.normal(mu, math.sqrt(sigma2), (replicates, years)), axis=1)
    above = (x[:, :-1] > b) & (x[:, 1:] > b)
    bridge = np.where(above, np.exp(-2 * (x[:, :-1] - b) * (x[:, 1:] - b) / sigma2), 1.0)
    crossed = np.logical_or.accumulate(rng.random((replicates, years)) < bridge, axis=1)
    simulated = crossed.mean(axis=0)
    yearly_only = np.logical_or.accumulate(x[:, 1:] <= b, axis=1).mean(axis=0)
    exact = countpva.extinction_cdf(mu, sigma2, nc, nx, years)
    t = np.arange(1, years + 1)
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(t, exact, "k-", label="countpva.extinction_cdf (inverse Gaussian)")
    ax.plot(t, simulated, ".", label="Brownian motion, exact crossing")
    ax.plot(t, yearly_only, "x", ms=3, label="checked at whole years only")
    ax.set(xlabel="year", ylabel="P(reached threshold)", title="diffusion approximation")
    ax.legend()
    se = proportion_se(exact, replicates)
    rows = [
        [k, exact[k - 1], simulated[k - 1], yearly_only[k - 1], se[k - 1]]
        for k in (10, 25, 50, 100)
    ]
    return "\n\n".join(
        [
            f"mu = {mu}, sigma2 = {sigma2}, N = {nc}, threshold = {nx}, {replicates} replicates. The "
            "yearly-checked walk misses crossings between census years, which is why the discrete "
            "engine should not be compared with the continuous formula directly.",
            _table(["year", "exact", "simulated", "yearly only", "MCSE"], rows),
            _save(fig, "diffusion"),
        ]
    )


def _box_7_5(matrices, years, replicates, rng) -> np.ndarray:
    stack = np.stack(matrices)
    n = np.tile(np.asarray(HUDSONIA_N0, dtype=float), (replicates, 1))
    first = np.full(replicates, years + 1)
    for t in range(1, years + 1):
        n = np.einsum("rij,rj->ri", stack[rng.integers(len(matrices), size=replicates)], n)
        counted = np.round(n[:, 1:]).sum(axis=1)
        first[(counted < 10) & (first > years)] = t
    return np.array([(first <= t).mean() for t in range(1, years + 1)])


@check
def hudsonia_quasi_extinction() -> str:
    species, matrices = _hudsonia(demographic=False)
    years, replicates = 50, 50_000
    proj = engine.project(
        species, years=years, replicates=replicates, streams=streams.single_streams(6)
    )
    above = np.round(proj.abundance[:, 1:, 0, 1:]).sum(axis=-1)
    ours = outcomes.quasi_extinction_probability(above, 9)
    box = _box_7_5(matrices, years, replicates, np.random.default_rng(7))
    t = np.arange(1, years + 1)
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(t, box, "k-", label="Morris & Doak Box 7.5 algorithm, re-implemented")
    ax.fill_between(t, ours.lower, ours.upper, alpha=0.3, label="engine 95% Wilson band")
    ax.plot(t, ours.estimate, ".", ms=3, label="engine")
    ax.set(
        xlabel="year",
        ylabel="P(< 10 above-ground plants)",
        title="Hudsonia montana, iid matrices 1985-88",
    )
    ax.legend()
    rows = [[k, box[k - 1], ours.estimate[k - 1], ours.mcse[k - 1]] for k in (10, 20, 30, 40, 50)]
    return "\n\n".join(
        [
            "popbio's stoch.quasi.ext example settings: n0 = (4264, 3, 30, 16, 25, 5), threshold 10 "
            "above-ground plants (seeds excluded), 50 years, the four annual matrices iid with equal "
            f"probabilities, no demographic stochasticity; {replicates} replicates each.",
            _table(["year", "Box 7.5 algorithm (re-implemented)", "engine", "engine MCSE"], rows),
            _save(fig, "hudsonia_quasi_extinction"),
        ]
    )


@check
def hudsonia_growth() -> str:
    species, matrices = _hudsonia(demographic=False)
    proj = engine.project(
        species, years=1050, replicates=500, streams=streams.single_streams(8), record=()
    )
    ours = outcomes.stochastic_growth_rate(proj.total[:, :, 0], start=50)
    theirs = analysis.stochastic_growth_rate(matrices, seed=9, years=200_000)
    rows = [
        ["engine trajectories (pooled log growth)", float(ours.log_lambda), float(ours.mcse)],
        ["pva.analysis simulated (batch means)", theirs.simulated, theirs.se],
        ["Tuljapurkar approximation", theirs.tuljapurkar, "-"],
    ]
    return "\n\n".join(
        [
            "log λs of the four Hudsonia matrices, iid with equal probabilities.",
            _table(["estimate", "log λs", "MCSE"], rows),
        ]
    )


@check
def hudsonia_demographic() -> str:
    species, _ = _hudsonia(demographic=True)
    years, replicates = 50, 10_000
    ds = simulate(species, years=years, replicates=replicates, seed=2002, record=("abundance",))
    summary = outcomes.summarize(ds, quasi_extinction_threshold=9, quasi_extinction_on="mature")
    above = ds["abundance"].isel(population=0, stage=slice(1, None)).sum("stage")
    above_q = outcomes.quasi_extinction_probability(above, 9)
    rows = [
        [
            t,
            float(summary["p_extinction"].sel(year=t)),
            float(summary["p_extinction_mcse"].sel(year=t)),
            float(above_q.estimate.sel(year=t)),
            float(above_q.mcse.sel(year=t)),
            float(summary["mean_abundance"].sel(year=t)),
        ]
        for t in (10, 20, 30, 40, 50)
    ]
    med = summary["median_time_to_extinction"].item()
    ema = outcomes.expected_minimum_abundance(above)
    return "\n\n".join(
        [
            "Hudsonia montana with demographic stochasticity (multinomial fates, Poisson seed "
            "production) and the four annual matrices iid: a real stochastic PVA. "
            f"{replicates} replicates, seed 2002.",
            _table(
                [
                    "year",
                    "P(extinct)",
                    "MCSE",
                    "P(< 10 above-ground)",
                    "MCSE",
                    "mean mature (small-large)",
                ],
                rows,
            ),
            f"median time to extinction: {'> ' + str(years) if math.isinf(med) else med} years; "
            f"expected minimum above-ground abundance over 50 years: {float(ema.estimate):.1f} "
            f"± {float(ema.mcse):.1f}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.add_argument("-c", "--checks", nargs="*", help="checks to run (default: all)")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(CHECKS))
        return 0
    names = args.checks or list(CHECKS)
    unknown = sorted(set(names) - set(CHECKS))
    if unknown:
        parser.error(f"unknown checks {unknown}; see --list")
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        start = time.perf_counter()
        body = CHECKS[name]()
        elapsed = time.perf_counter() - start
        text = f"# {name}\n\n{body}\n\n_pva {pva.__version__}, {elapsed:.1f} s_\n"
        (OUT / f"{name}.md").write_text(text)
        print(f"{name}: {elapsed:.1f} s -> {OUT / (name + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
