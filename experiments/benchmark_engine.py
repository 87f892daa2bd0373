"""Benchmark of the engine (issues 3 and 17): every ratio measured side by side in one run.

Models (Morris & Doak 2002, Table 6.7; popbio ``hudsonia``): *Hudsonia montana*, 6 stages, the four
annual matrices drawn iid with equal probabilities, n0 = (4264, 3, 30, 16, 25, 5).

* **Environmental stochasticity only** (popbio ``stoch.projection``'s model: no demographic
  stochasticity, no density dependence), 10,000 replicates x 100 years:
  ``pva.simulate`` and ``pva.engine.project`` (one chunk) on the compiled path (the linear kernel
  of :mod:`pva.kernels`, if numba is installed) and on the numpy path; a plain numpy version (each
  year all four products in one ``n @ A.T`` and a gather of each replicate's own, recording mature
  and total abundance as pva does); popbio's ``stoch.projection`` in R, timed inside R
  (``system.time``) and as the wall time of an ``Rscript`` call (R start-up and loading popbio
  included), once in each repeat between pva's runs, if R and popbio are installed (the benchmark
  says when they are not).
* **Demographic stochasticity** (multinomial fates, Poisson births, a ceiling of K = 500 on the
  non-seed stages), 10,000 replicates x 100 years: the engine with the pure-numpy path and with the
  compiled fate kernel (:mod:`pva.kernels`, if numba is installed); the *floor*, numpy drawing the
  same variates alone (the same kinds, numbers and shapes of calls as the engine's numpy path: a
  uniform for the environment, one binomial call per level of the fate chains, one Poisson call for
  births, the hypergeometric chain of the ceiling) on the counts the engine had each year (taken from
  its recorded trajectory); and a naive per-replicate Python loop of the same model (scalar numpy
  calls), timed on a few hundred replicates and scaled.
* **Narrow tasks**: the same demographic model as the runner's task of the 100-species study sees it
  (3 scenarios x 1,000 replicates in one projection), engine against floor, numba on and off.
* **pva.simulate overhead** over ``engine.project`` (the Dataset, the chunks), on both models.

Each time is the CPU time of this process (R's ``system.time``, user + system, for popbio; and the
wall time of an ``Rscript`` call), the median of ``--repeats`` runs (default 5), all methods
interleaved in each repeat; BLAS runs on one thread, as in the runner's workers. CPU time is steadier
than the wall clock on a machine shared with other work; the load (``uptime``) is noted.
Writes ``results/benchmark_engine.md``. Run: ``python experiments/benchmark_engine.py``
(``--quick`` for a smoke run with 1,000 replicates, written nowhere).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import pva  # noqa: E402
from pva import datasets, engine, kernels  # noqa: E402
from pva.model import (  # noqa: E402
    DensityDependence,
    MatrixSelection,
    Species,
)
from pva.schedule import Schedule  # noqa: E402
from pva.streams import single_streams  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "benchmark_engine.md"
N0 = (4264, 3, 30, 16, 25, 5)
K = 500.0
WEIGHTS = (0, 1, 1, 1, 1, 1)
YEARS = 100


def hudsonia_environment() -> MatrixSelection:
    h = datasets.popbio_document("hudsonia")  # Morris & Doak 2002, Table 6.7
    reproduction = np.zeros((6, 6), dtype=bool)
    reproduction[:2, 2:] = True  # seeds and seedlings produced by tiny..large plants
    return MatrixSelection.from_matrices(
        [h["matrices"][k] for k in h["names"]], reproduction=reproduction, names=h["names"]
    )


def hudsonia() -> Species:
    """The demographic model: fates, births and a ceiling on the non-seed stages."""
    return Species(
        name="Hudsonia montana",
        stages=tuple(datasets.popbio_document("hudsonia")["stages"]),
        environment=hudsonia_environment(),
        initial=N0,
        carrying_capacity=K,
        density_dependence=DensityDependence(kind="ceiling", weights=WEIGHTS),
    )


def hudsonia_expected() -> Species:
    """popbio ``stoch.projection``'s model: the four matrices iid, expected values only."""
    return Species(
        name="Hudsonia montana",
        stages=tuple(datasets.popbio_document("hudsonia")["stages"]),
        environment=hudsonia_environment(),
        initial=N0,
        demographic_stochasticity=False,
    )


# ---------------------------------------------------------------------------------------------------
# timing


def timed(call: Callable[[], object]) -> float:
    """CPU seconds of ``call()`` (this process, one BLAS thread): steadier than the wall clock on a
    machine shared with other work."""
    t0 = time.process_time()
    call()
    return time.process_time() - t0


def load() -> str:
    """The 1-minute load average (``uptime``)."""
    return f"{os.getloadavg()[0]:.2f}"


class Timings:
    """Named timings over interleaved repeats; the median of each."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    def add(self, name: str, seconds: float) -> None:
        self.times.setdefault(name, []).append(seconds)

    def __getitem__(self, name: str) -> float:
        return statistics.median(self.times[name])

    def __contains__(self, name: str) -> bool:
        return name in self.times


def with_kernels(path: str, call: Callable[[], object]) -> Callable[[], object]:
    """``call`` run on the given engine path (``"numpy"`` or ``"numba"``)."""

    def run() -> object:
        before = os.environ.get(kernels.ENVIRONMENT_VARIABLE)
        os.environ[kernels.ENVIRONMENT_VARIABLE] = path
        try:
            return call()
        finally:
            if before is None:
                del os.environ[kernels.ENVIRONMENT_VARIABLE]
            else:
                os.environ[kernels.ENVIRONMENT_VARIABLE] = before

    return run


# ---------------------------------------------------------------------------------------------------
# environmental stochasticity only


def plain_numpy(replicates: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The env-only model in plain numpy: each year all four products ``n @ A.T`` side by side and
    each replicate's own picked out; mature and total abundance recorded every year."""
    env = hudsonia_environment()
    A = env.U_stack + env.F_stack  # (4, S, S)
    k, S = A.shape[0], A.shape[1]
    At = A.transpose(2, 0, 1).reshape(S, k * S)  # At[s, k S + i] = A[k, i, s]
    mature_w = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    rng = np.random.default_rng(seed)
    n = np.broadcast_to(np.asarray(N0, dtype=float), (replicates, S)).copy()
    rows = np.arange(replicates)
    mature = np.empty((YEARS + 1, replicates))
    total = np.empty((YEARS + 1, replicates))
    mature[0], total[0] = n @ mature_w, n.sum(axis=1)
    for t in range(YEARS):
        state = rng.integers(0, k, replicates)
        n = (n @ At).reshape(replicates, k, S)[rows, state]
        mature[t + 1], total[t + 1] = n @ mature_w, n @ np.ones(S)
    return mature, total


POPBIO = """
suppressMessages(library(popbio)); data(hudsonia); n0 <- c({n0})
set.seed(1)
for (i in seq_len({repeats})) {{
  t <- system.time(x <- stoch.projection(hudsonia, n0, tmax = {years}, nreps = {replicates}))
  cat(t[["user.self"]] + t[["sys.self"]], "\\n")
}}
"""


def popbio_available() -> str | None:
    """Why popbio cannot be timed, or None if it can."""
    if shutil.which("Rscript") is None:
        return "R is not installed (no Rscript on the PATH)"
    check = subprocess.run(
        ["Rscript", "-e", "library(popbio)"], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        return "the R package popbio is not installed"
    return None


def popbio(replicates: int) -> tuple[float, float]:
    """One run of popbio's ``stoch.projection``: its CPU time inside R (``system.time``, user +
    system), and the wall time of the ``Rscript`` call, R start-up and loading popbio included.
    Called once per repeat, between pva's runs, so that both see the same load."""
    code = POPBIO.format(n0=", ".join(map(str, N0)), repeats=1, years=YEARS, replicates=replicates)
    t0 = time.perf_counter()
    out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0]), time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------------
# demographic stochasticity: the floor and the naive loop


def floor_draws(sp: Species, abundance: np.ndarray, seed: int) -> float:
    """The variates the engine's numpy path draws, alone: the same calls and shapes, on the counts
    the engine had (``abundance`` (replicate, year, population, stage)), with the long-run mean
    matrices' probabilities. The remaining individuals of each fate chain are updated between its
    levels (one subtraction a level), so that each binomial sees the counts it would."""
    env = sp.environment
    assert isinstance(env, MatrixSelection)
    R, T1, P, _ = abundance.shape
    plan = engine._plan(sp, R)
    fates = plan.fates
    U = np.einsum("k,kij->ij", env.weights, env.U_stack)
    F = np.einsum("k,kij->ij", env.weights, env.F_stack + env.C_stack)
    p = np.broadcast_to(U[fates.destination, fates.source], (R, P, len(fates.source)))
    q = [p[..., a:b] for a, b in fates.levels]  # probabilities of the right shape per level
    counted = np.flatnonzero(np.asarray(WEIGHTS) > 0)
    rng = np.random.default_rng(seed)
    # the counts of each year, sliced before the clock starts
    counts = [np.ascontiguousarray(abundance[:, t]) for t in range(T1 - 1)]
    means = [c @ F[plan.f_rows].T for c in counts]
    t0 = time.process_time()
    for t in range(T1 - 1):
        n = counts[t]
        rng.random(R)  # environmental state
        remaining = n[..., fates.sources]
        for (a, b), qk in zip(fates.levels, q, strict=True):
            x = rng.binomial(remaining[..., : b - a], qk)
            remaining[..., : b - a] -= x
        rng.poisson(means[t])
        pool = n[..., counted].sum(axis=-1)
        keep = np.minimum(pool, int(K))
        for k in range(len(counted) - 1):
            good = n[..., counted[k]]
            rng.hypergeometric(good, pool - good, np.minimum(keep, pool))
    return time.process_time() - t0


def naive_replicate(
    U_stack: np.ndarray, F_stack: np.ndarray, n0: np.ndarray, years: int, rng: np.random.Generator
) -> np.ndarray:
    """One replicate, one year at a time, scalar numpy calls: what a first implementation does."""
    S = n0.size
    n = n0.copy()
    counted = np.asarray(WEIGHTS) > 0
    out = np.empty((years + 1, S), dtype=np.int64)
    out[0] = n
    for t in range(years):
        k = rng.integers(U_stack.shape[0])
        U, F = U_stack[k], F_stack[k]
        new = np.zeros(S, dtype=np.int64)
        for j in range(S):
            if n[j] == 0:
                continue
            p = np.append(U[:, j], max(0.0, 1.0 - U[:, j].sum()))
            new += rng.multinomial(n[j], p)[:S]
        new += rng.poisson(F @ n)
        n = new
        if n[counted].sum() > K:
            n[counted] = rng.multivariate_hypergeometric(n[counted], int(K))
        out[t + 1] = n
    return out


def time_naive(sp: Species, replicates: int, seed: int) -> float:
    env = sp.environment
    assert isinstance(env, MatrixSelection)
    rng = np.random.default_rng(seed)
    n0 = np.asarray(N0, dtype=np.int64)
    t0 = time.process_time()
    for _ in range(replicates):
        naive_replicate(env.U_stack, env.F_stack + env.C_stack, n0, YEARS, rng)
    return time.process_time() - t0


def three_scenarios(sp: Species) -> list[Schedule]:
    """No action, a 10% survival loss of the non-seed stages and a 20% fecundity gain."""
    neutral = Schedule.neutral(years=YEARS, populations=1, stages=sp.n_stages)
    loss = np.ones((YEARS, 1, sp.n_stages))
    loss[..., 1:] = 0.9
    gain = np.full((YEARS, 1, sp.n_stages), 1.2)
    return [
        neutral,
        dataclasses.replace(neutral, survival_multiplier=loss),
        dataclasses.replace(neutral, fecundity_multiplier=gain),
    ]


# ---------------------------------------------------------------------------------------------------
# the run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 replicates (smoke run)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each method (median)")
    args = parser.parse_args(argv)
    R = 1_000 if args.quick else 10_000
    narrow = 1_000 if not args.quick else 200
    naive_reps = 30 if args.quick else 200
    repeats = args.repeats
    load_before = load()
    has_numba = kernels._numba() is not None
    paths = ["numpy", "numba"] if has_numba else ["numpy"]

    demo, expected = hudsonia(), hudsonia_expected()
    schedules = three_scenarios(demo)
    # compile the kernels (or load them from numba's cache) and load what pva.simulate uses
    # before the clock runs
    for path in paths:
        for species in (demo, expected):
            for record in ((), ("abundance",)):
                with_kernels(
                    path,
                    lambda sp=species, rec=record: pva.simulate(
                        sp, years=2, replicates=5, seed=0, record=rec
                    ),
                )()

    tm = Timings()

    def one_repeat(r: int) -> None:
        # environmental stochasticity only, on each engine path (the last is the default)
        for path in paths:
            tm.add(
                f"env simulate {path}",
                timed(
                    with_kernels(
                        path,
                        lambda: pva.simulate(
                            expected, years=YEARS, replicates=R, seed=r, record=()
                        ),
                    )
                ),
            )
            tm.add(
                f"env project {path}",
                timed(
                    with_kernels(
                        path,
                        lambda: engine.project(
                            expected,
                            years=YEARS,
                            replicates=R,
                            streams=single_streams(r),
                            record=(),
                        ),
                    )
                ),
            )
            # simulate overhead, the default record (abundance by stage)
            tm.add(
                f"env simulate abundance {path}",
                timed(
                    with_kernels(
                        path, lambda: pva.simulate(expected, years=YEARS, replicates=R, seed=r)
                    )
                ),
            )
            tm.add(
                f"env project abundance {path}",
                timed(
                    with_kernels(
                        path,
                        lambda: engine.project(
                            expected, years=YEARS, replicates=R, streams=single_streams(r)
                        ),
                    )
                ),
            )
        tm.add("env plain", timed(lambda: plain_numpy(R, r)))
        for path in paths:
            tm.add(
                f"demo simulate {path}",
                timed(
                    with_kernels(
                        path, lambda: pva.simulate(demo, years=YEARS, replicates=R, seed=r)
                    )
                ),
            )
            tm.add(
                f"demo project abundance {path}",
                timed(
                    with_kernels(
                        path,
                        lambda: engine.project(
                            demo, years=YEARS, replicates=R, streams=single_streams(r)
                        ),
                    )
                ),
            )
        # demographic: engine paths and the floor on the counts the numpy path had
        projection = None
        for path in paths:
            t0 = time.process_time()
            projection = with_kernels(
                path,
                lambda: engine.project(
                    demo, years=YEARS, replicates=R, streams=single_streams(100 + r)
                ),
            )()
            tm.add(f"demo {path}", time.process_time() - t0)
        assert isinstance(projection, engine.Projection)
        assert projection.abundance is not None
        tm.add("demo floor", floor_draws(demo, projection.abundance, seed=200 + r))
        # narrow tasks: 3 scenarios x 1,000 replicates in one projection
        for path in paths:
            t0 = time.process_time()
            parts = with_kernels(
                path,
                lambda: engine.project_chunks(
                    demo,
                    schedules,
                    years=YEARS,
                    chunks=((narrow, single_streams(300 + r)),),
                    record=("abundance",),
                ),
            )()
            tm.add(f"narrow {path}", time.process_time() - t0)
        stacked = np.concatenate([p.abundance for p in parts], axis=0)  # type: ignore[misc]
        tm.add("narrow floor", floor_draws(demo, stacked, seed=400 + r))

    why_not = popbio_available()
    for r in range(repeats):
        one_repeat(r)
        if why_not is None:
            in_r, wall = popbio(R)
            tm.add("popbio in R", in_r)
            tm.add("popbio wall", wall)
    tm.add("naive", time_naive(demo, naive_reps, seed=7) * R / naive_reps)
    load_after = load()

    ry = R * YEARS
    lines = [
        "# Engine benchmark (issues 3 and 17)",
        "",
        f"*Hudsonia montana* (Morris & Doak 2002, Table 6.7; popbio `hudsonia`): 6 stages, the 4 annual "
        f"matrices iid with equal probabilities, {R:,} replicates x {YEARS} years, one process, BLAS on "
        f"one thread. Every time is CPU time (seconds of this process; popbio: R's `system.time`, "
        f"user + system), the median of {repeats} interleaved runs: CPU time is steadier than the "
        f"wall clock on a shared machine. Load average (`uptime`, 1 min) {load_before} at the start "
        f"and {load_after} at the end, on {os.cpu_count()} cores shared with other work: compare "
        "ratios, not absolute times.",
        "",
        "## Environmental stochasticity only (popbio `stoch.projection`'s model)",
        "",
        "No demographic stochasticity, no density dependence; every method records mature and total "
        "abundance each year (popbio keeps the final stage vector only). The compiled path (numba) "
        "multiplies each replicate's state by its own matrix in one loop that also records; the "
        "numpy path multiplies by all four matrices with BLAS and keeps each replicate's product. "
        "Both give the same numbers (to the last bit where the BLAS sums in stage order, as here; "
        "`tests/unit/test_kernels.py`).",
        "",
        "| method | seconds | replicate-years / s | time / pva.simulate |",
        "|---|---:|---:|---:|",
    ]
    default = paths[-1]
    env_rows = [
        (f"pva.simulate ({default} path, the default)", tm[f"env simulate {default}"]),
        (f"pva.engine.project, one chunk ({default} path)", tm[f"env project {default}"]),
    ]
    if has_numba:
        env_rows += [
            ("pva.simulate, numpy path (`PVA_KERNELS=numpy`)", tm["env simulate numpy"]),
            ("pva.engine.project, one chunk (numpy path)", tm["env project numpy"]),
        ]
    env_rows.append(("plain numpy (all four products, gather)", tm["env plain"]))
    if why_not is None:
        env_rows += [
            ("popbio 2.8 `stoch.projection`, inside R (`system.time`, CPU)", tm["popbio in R"]),
            ("popbio, wall time of one `Rscript` call (R start-up, library)", tm["popbio wall"]),
        ]
    base = tm[f"env simulate {default}"]
    lines += [f"| {name} | {t:.3f} | {ry / t:,.0f} | {t / base:.2f} |" for name, t in env_rows]
    lines += [
        "",
        f"- pva.simulate / plain numpy = {base / tm['env plain']:.2f} (target <= 1.0)"
        + (f"; numpy path: {tm['env simulate numpy'] / tm['env plain']:.2f}" if has_numba else ""),
    ]
    if why_not is None:
        in_r, popbio_wall = tm["popbio in R"], tm["popbio wall"]
        lines.append(
            f"- popbio in R / pva.simulate = {in_r / base:.1f} (target >= 30); with R's "
            f"start-up: {popbio_wall / base:.1f}"
            + (f"; numpy path: {in_r / tm['env simulate numpy']:.1f}" if has_numba else "")
        )
    else:
        lines.append(f"- popbio not timed: {why_not}.")
    lines += [
        "",
        "## Demographic stochasticity",
        "",
        f"Multinomial fates, Poisson births, ceiling K = {K:g} on the non-seed stages. The floor is "
        "numpy drawing the engine's variates alone (same calls and shapes, on the counts the engine "
        "had); the numba path draws the same numbers as the numpy path (`tests/unit/test_kernels.py`).",
        "",
        "| method | seconds | replicate-years / s | time / floor |",
        "|---|---:|---:|---:|",
    ]
    floor = tm["demo floor"]
    demo_rows = [(f"engine, {path} path", tm[f"demo {path}"]) for path in paths]
    demo_rows += [
        ("floor: the same numpy draws alone", floor),
        (f"naive per-replicate loop ({naive_reps} replicates, scaled)", tm["naive"]),
    ]
    lines += [f"| {name} | {t:.3f} | {ry / t:,.0f} | {t / floor:.2f} |" for name, t in demo_rows]
    lines += [""]
    lines += [
        f"- engine / floor, {path} path = {tm[f'demo {path}'] / floor:.2f} (target <= 1.3)"
        for path in paths
    ]
    lines += [
        f"- naive per-replicate loop / engine (numpy path) = {tm['naive'] / tm['demo numpy']:,.0f}"
    ]
    if not has_numba:
        lines.append(
            "- numba is not installed: the compiled path was not timed (`pip install '.[fast]'`)."
        )
    narrow_ry = 3 * narrow * YEARS
    lines += [
        "",
        f"### Narrow tasks: 3 scenarios x {narrow:,} replicates in one projection",
        "",
        "What the runner's task of a 1,000-replicate species sees (no action, -10% survival, +20% "
        "fecundity).",
        "",
        "| method | seconds | replicate-years / s | time / floor |",
        "|---|---:|---:|---:|",
    ]
    narrow_floor = tm["narrow floor"]
    narrow_rows = [(f"engine, {path} path", tm[f"narrow {path}"]) for path in paths]
    narrow_rows.append(("floor: the same numpy draws alone", narrow_floor))
    lines += [
        f"| {name} | {t:.3f} | {narrow_ry / t:,.0f} | {t / narrow_floor:.2f} |"
        for name, t in narrow_rows
    ]
    lines += [
        "",
        "## pva.simulate overhead over pva.engine.project",
        "",
        f"Both record abundance by stage (the default). pva.simulate cuts the replicates into "
        f"chunks of {pva.streams.DEFAULT_CHUNK_SIZE} (the default), each drawing from its own "
        "streams, projects them together and builds the Dataset.",
        "",
        "| model | project (s) | simulate (s) | overhead |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| environmental only, {path} path | {tm[f'env project abundance {path}']:.3f} | "
        f"{tm[f'env simulate abundance {path}']:.3f} | "
        f"{tm[f'env simulate abundance {path}'] / tm[f'env project abundance {path}'] - 1:+.1%} |"
        for path in paths
    ]
    lines += [
        f"| demographic, {path} path | {tm[f'demo project abundance {path}']:.3f} | "
        f"{tm[f'demo simulate {path}']:.3f} | "
        f"{tm[f'demo simulate {path}'] / tm[f'demo project abundance {path}'] - 1:+.1%} |"
        for path in paths
    ]
    lines += [
        "",
        "Target: overhead <= 10%.",
        "",
        f"pva {pva.__version__}, numpy {np.__version__}"
        + (f", numba {kernels._numba().__version__}" if has_numba else "")
        + f", Python {platform.python_version()}, {platform.machine()}.",
        "Written by `experiments/benchmark_engine.py`.",
        "",
    ]
    text = "\n".join(lines)
    if not args.quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
