"""The vectorised Monte Carlo kernel: many stochastic futures of one species at once.

:func:`project` advances the state ``n`` of shape (replicates, populations, stages) one year at a
time; the only Python loop is over years (and, inside a year, over the few stages and catastrophe
types). One year is, in this order (each step a function below, the state passed explicitly):

1. environment: this year's matrices (an environmental state, or vital rates drawn through a
   Gaussian copula) and carrying capacity variation — from ``streams.environment`` only, in a fixed
   pattern that never depends on the state, so every scenario of a species sees the same environment
   in replicate r (common random numbers);
2. the schedule's multipliers for this year, catastrophes (``streams.catastrophes``, every type every
   year, extinct or not) and the schedule's stochastic events (each from its own stream under
   ``streams.events``, keyed by the event's name);
3. density dependence from the abundance at the start of the year, and mate limitation;
4. survival and transitions — each individual's fate a multinomial draw over its column of U (move to
   each stage or die), drawn as a chain of conditional binomials, which is exact — and births,
   Poisson(F n) or binomial litters (``streams.demography``);
5. harvest (binomial proportion, then a Poisson number capped at what is there);
6. translocations between populations (at most what the donor has, binomial post-release
   survival), then releases from outside (binomial post-release survival);
7. dispersal (a multinomial over destination populations, again as binomial chains);
8. ceiling: truncation to K by random removal (hypergeometric thinning across the counted stages);
9. record.

Without demographic stochasticity the state is real-valued and ``n(t + 1) = A_t n(t)`` exactly, as in
popbio's ``stoch.projection`` (Stubben & Milligan 2007).

References
----------
Caswell, H. 2001. Matrix Population Models, 2nd ed. Sinauer (demographic stochasticity as
    multinomial fates and Poisson births: section 15.3).
Morris, W.F. & D.F. Doak. 2002. Quantitative Conservation Biology. Sinauer (ch. 7-8).
Akçakaya, H.R. 2000. Viability analyses with habitat-based metapopulation models. Population Ecology
    42:45-53 (ceiling density dependence, dispersal among populations).
Lacy, R.C. 2000. Structure of the VORTEX simulation model for population viability analysis.
    Ecological Bulletins 48:191-203.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import scipy.optimize

from pva import validation
from pva.model import (
    DensityDependence,
    MatrixSelection,
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
)
from pva.schedule import Schedule
from pva.streams import Streams, event_stream

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

RECORDABLE = ("abundance", "carrying_capacity")
"""What :func:`project` can record besides mature and total abundance."""


@dataclasses.dataclass(frozen=True, eq=False)
class Projection:
    """Trajectories from :func:`project`. The year axis has ``years + 1`` entries (0 = initial state).

    Counts are int64 with demographic stochasticity and float64 without.
    """

    mature: npt.NDArray[Any]
    """Mature individuals (the species' ``mature_stages``), shape (replicate, year, population).

    With :class:`~pva.model.Mating` (females-only dynamics) this is the expected number of mature
    individuals of both sexes, mature females / ``sex_ratio`` (rounded to the nearest integer with
    demographic stochasticity), as the IUCN criteria count both sexes; a ``quasi_extinction_on=
    "mature"`` threshold then applies to both sexes too."""
    total: npt.NDArray[Any]
    """All projected individuals, shape (replicate, year, population); females only with
    :class:`~pva.model.Mating` (the unit of K and of the species' matrices)."""
    abundance: npt.NDArray[Any] | None = None
    """Individuals by stage, shape (replicate, year, population, stage), if recorded."""
    carrying_capacity: FloatArray | None = None
    """Realised K of each year (``inf`` = unlimited), shape (replicate, year, population), if
    recorded; year 0 holds the base K."""


# --------------------------------------------------------------------------------------------------
# preparation: everything that does not change from year to year


@dataclasses.dataclass(frozen=True, eq=False)
class _Plan:
    """Precomputed structure of one species for the yearly loop."""

    S: int
    P: int
    R: int
    u_pattern: npt.NDArray[np.bool_]
    """Entries of U that can be non-zero in some year, (S, S)."""
    f_rows: npt.NDArray[np.int64]
    """Stages that receive offspring (non-zero rows of F + C in some year)."""
    fec_cols: npt.NDArray[np.int64]
    """Stages that produce offspring."""
    K0: FloatArray
    """Base K per population, (P,)."""
    k_growth: FloatArray
    """``1 + trend/100`` per population, (P,)."""
    k_sigma: FloatArray
    """Lognormal sigma of K variation per population, (P,)."""
    weights: FloatArray
    """Weight of each stage in density-dependent abundance, (S,)."""
    counted: npt.NDArray[np.bool_]
    """Stages with a positive weight (those a ceiling removes from), (S,)."""
    mature: npt.NDArray[np.bool_]
    dd_b: float
    """Strength of density dependence (:func:`density_strength`)."""
    ceiling: bool
    """Whether the year ends with truncation to K."""
    u_entries: list[tuple[int, list[int]]]
    """For each source stage j, the stages i that U can move it to."""
    any_k_noise: bool
    """Whether K varies among years in some population (part of the fixed environment pattern)."""
    catastrophe_survival: list[FloatArray]
    """Survival multiplier of each catastrophe type, (S,) each."""
    catastrophe_fecundity: list[FloatArray]
    """Fecundity multiplier of each catastrophe type, (S,) each."""
    dispersal: FloatArray | None
    """Dispersal rates D[to, from] among populations, (P, P), or None."""
    dispersal_stages: npt.NDArray[np.int64]
    """Stages that disperse."""


def _structure(species: Species) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which entries of U and of F + C can be non-zero in some year."""
    env = species.environment
    if isinstance(env, MatrixSelection):
        return np.any(env.U_stack > 0, axis=0), np.any((env.F_stack + env.C_stack) > 0, axis=0)
    if species.vital_rates is not None:
        vr = species.vital_rates
        masks = []
        for field in ("U", "F", "C"):
            value = getattr(vr, field)
            m = np.zeros((species.n_stages, species.n_stages), dtype=bool)
            if value is not None:
                for i, row in enumerate(value):
                    for j, entry in enumerate(row):
                        m[i, j] = isinstance(entry, str) or entry != 0
            masks.append(m)
        return masks[0], masks[1] | masks[2]
    return species.U_array > 0, (species.F_array + species.C_array) > 0


def _lambda(A: FloatArray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(A))))


def density_strength(species: Species) -> float:
    """Strength ``b`` of Beverton-Holt, Ricker or theta-logistic density dependence.

    Given by the user, or the value that makes the mean deterministic model stationary (λ = 1) at
    weighted abundance K: the scaling ``g*`` of the chosen rates with λ(g*) = 1 is ``1/R0`` for
    fecundity (λ = 1 exactly when R0 = 1; Caswell 2001, section 5.3.4), ``1/λ`` for both fecundity and
    survival, and found by root finding for survival alone; then ``b = 1/g* - 1`` (Beverton-Holt) or
    ``-log g*`` (Ricker and theta-logistic). A population that cannot grow (λ <= 1) gets ``b = 0``.
    """
    dd = species.density_dependence
    if dd is None or dd.kind in ("ceiling", "vortex_breeding"):
        return 0.0
    if dd.strength is not None:
        return float(dd.strength)
    U, F = species.U_array, species.F_array + species.C_array
    lam0 = _lambda(U + F)
    if lam0 <= 1:
        return 0.0
    applies = set(dd.applies_to)
    if applies == {"fecundity", "survival"}:
        g = 1 / lam0
    elif applies == {"fecundity"}:
        R0 = _lambda(F @ np.linalg.inv(np.eye(species.n_stages) - U))
        g = 1 / R0
    else:
        if _lambda(F) >= 1:
            raise ValueError(
                f"Species({species.name!r}).density_dependence: scaling survival alone cannot bring "
                f"lambda to 1 (reproduction alone gives lambda = {_lambda(F)!r}); give strength"
            )
        g = scipy.optimize.brentq(lambda x: _lambda(x * U + F) - 1, 0.0, 1.0)
    return 1 / g - 1 if dd.kind == "beverton_holt" else -float(np.log(g))


def _plan(species: Species, replicates: int) -> _Plan:
    u_pattern, f_pattern = _structure(species)
    pops = species.all_populations
    S = species.n_stages
    k_sigma = np.array([np.sqrt(np.log1p(p.carrying_capacity_cv**2)) for p in pops])
    dd = species.density_dependence
    cats = species.catastrophes
    return _Plan(
        S=S,
        P=species.n_populations,
        R=replicates,
        u_pattern=u_pattern,
        f_rows=np.flatnonzero(f_pattern.any(axis=1)),
        fec_cols=np.flatnonzero(f_pattern.any(axis=0)),
        K0=species.carrying_capacities,
        k_growth=np.array([1 + p.carrying_capacity_trend / 100 for p in pops]),
        k_sigma=k_sigma,
        weights=species.density_weights,
        counted=species.density_weights > 0,
        mature=species.mature_mask,
        dd_b=density_strength(species),
        ceiling=dd is not None and bool(dd.ceiling),
        u_entries=[(j, [i for i in range(S) if u_pattern[i, j]]) for j in range(S)],
        any_k_noise=bool(np.any(k_sigma > 0)),
        catastrophe_survival=[
            np.broadcast_to(np.asarray(c.survival_multiplier, dtype=float), (S,)) for c in cats
        ],
        catastrophe_fecundity=[
            np.broadcast_to(np.asarray(c.fecundity_multiplier, dtype=float), (S,)) for c in cats
        ],
        dispersal=species.dispersal_array,
        dispersal_stages=np.flatnonzero(species.dispersal_mask),
    )


# --------------------------------------------------------------------------------------------------
# environment


class _Environment:
    """Yearly matrices from the environment stream; draws never depend on the population state."""

    def __init__(self, species: Species, replicates: int, rng: np.random.Generator) -> None:
        self.species = species
        self.R = replicates
        self.rng = rng
        self.env = species.environment
        self.state: npt.NDArray[np.int64] | None = None
        if isinstance(self.env, VitalRateStochasticity):
            self._init_rates(self.env)

    # ---- vital rates ------------------------------------------------------------------------
    def _init_rates(self, env: VitalRateStochasticity) -> None:
        vr = cast(VitalRates, self.species.vital_rates)  # Species checked that it is there
        variable = [r for r in vr.rates if r.variable]
        listed = list(env.rates) if env.rates is not None else [r.name for r in variable]
        self.listed = [vr.rates[vr.names.index(name)] for name in listed]
        self.unlisted = [r for r in variable if r.name not in set(listed)]
        self.fixed = {r.name: r.mean for r in vr.rates if not r.variable}
        self.z: FloatArray | None = None
        self.z_free: FloatArray | None = None
        self.window: FloatArray | None = None
        if env.window_rows is not None:
            self.window = self.rng.standard_normal((self.R, env.window_rows.shape[1]))
            self.oldest = 0  # ring-buffer position of the oldest block of the window

    def _scores(self, env: VitalRateStochasticity) -> tuple[FloatArray, FloatArray]:
        R, k, m = self.R, len(self.listed), len(self.unlisted)
        phi = env.autocorrelation
        if self.window is not None and env.window_rows is not None:
            # Morris & Doak (2002, Box 8.10): slide the window of iid normals by one year. The
            # window is a ring buffer of `span` blocks: the oldest block is overwritten and the
            # coefficient blocks are rotated instead of the (much larger) data.
            span = self.window.shape[1] // k
            self.window[:, self.oldest * k : (self.oldest + 1) * k] = self.rng.standard_normal(
                (R, k)
            )
            self.oldest = (self.oldest + 1) % span
            rows = env.window_rows.reshape(k, span, k)
            z = self.window @ np.roll(rows, self.oldest, axis=1).reshape(k, span * k).T
        else:
            e = self.rng.standard_normal((R, k))
            if env.rates is not None:  # otherwise the listed rates are independent
                e = e @ env.within_year_root.T
            z = e if self.z is None else phi * self.z + np.sqrt(1 - phi * phi) * e
        e_free = self.rng.standard_normal((R, m))
        z_free = (
            e_free if self.z_free is None else phi * self.z_free + np.sqrt(1 - phi * phi) * e_free
        )
        self.z, self.z_free = z, z_free
        return z, z_free

    def rates(self, env: VitalRateStochasticity) -> dict[str, Any]:
        z, z_free = self._scores(env)
        rates: dict[str, Any] = dict(self.fixed)
        for rate, col in [
            *zip(self.listed, z.T, strict=True),
            *zip(self.unlisted, z_free.T, strict=True),
        ]:
            rates[rate.name] = draw_rate(rate, col)
        return rates

    # ---- one year ---------------------------------------------------------------------------
    def carrying_capacity_scores(self, P: int) -> FloatArray:
        """Standard normal scores of this year's K variation, (R, P); drawn after the matrices."""
        return self.rng.standard_normal((self.R, P))

    def matrices(self) -> tuple[FloatArray, FloatArray]:
        """(U, F + C) for this year, each of shape (R, S, S) or (1, S, S)."""
        env = self.env
        if isinstance(env, MatrixSelection):
            u = self.rng.random(self.R)
            if env.transition is None or self.state is None:
                first = self.state is None
                cum = np.cumsum(env.initial_probabilities if first else env.weights)
                state = np.minimum(np.searchsorted(cum, u, side="right"), env.n_states - 1)
            else:
                cum = np.cumsum(np.asarray(env.transition), axis=0)[:, self.state]  # (k, R)
                state = np.minimum((u[None, :] >= cum).sum(axis=0), env.n_states - 1)
            self.state = state
            return env.U_stack[state], (env.F_stack + env.C_stack)[state]
        if isinstance(env, VitalRateStochasticity):
            vr = cast(VitalRates, self.species.vital_rates)
            m = vr.matrices(self.rates(env))
            return m["U"], m["F"] + m["C"]
        sp = self.species
        return sp.U_array[None], (sp.F_array + sp.C_array)[None]


def draw_rate(rate: VitalRate, z: FloatArray) -> FloatArray:
    """Values of a :class:`pva.model.VitalRate` from standard normal scores ``z`` (any shape), by
    :meth:`pva.model.VitalRate.quantile` (Morris & Doak 2002, Box 8.10)."""
    return rate.quantile(z)


# --------------------------------------------------------------------------------------------------
# demographic building blocks (each works for int counts with an rng and for real numbers without)


def _binomial_chain(
    rng: np.random.Generator | None, n: npt.NDArray[Any], probs: Sequence[npt.NDArray[Any]]
) -> list[npt.NDArray[Any]]:
    """Split ``n`` into outcomes with probabilities ``probs`` (the rest is a final "none" outcome).

    A multinomial draw as a chain of conditional binomials: ``x_k ~ Bin(n - x_1 - ... - x_{k-1},
    p_k / (1 - p_1 - ... - p_{k-1}))``, exact and vectorised over arrays of ``n`` with different
    probabilities (numpy's multinomial shares one probability vector). Without ``rng``, expectations.
    """
    if rng is None:
        return [n * p for p in probs]
    out = []
    remaining = n
    used = np.zeros(np.shape(probs[0]) if probs else ())
    for k, p in enumerate(probs):
        left = 1.0 - used
        q = np.divide(
            p, left, out=np.zeros(np.broadcast_shapes(np.shape(p), np.shape(left))), where=left > 0
        )
        q = np.clip(q, 0.0, 1.0)
        x = rng.binomial(remaining, q)
        out.append(x)
        if k < len(probs) - 1:
            remaining = remaining - x
            used = used + p
    return out


_POISSON_NORMAL = 1e12
"""Above this mean a Poisson count is drawn from its normal approximation (numpy's Poisson sampler
refuses means near 1e19; at 1e12 the relative error of the approximation is ~1e-6)."""
_MAX_COUNT = 2**60
"""Counts are capped at most here; :func:`project` lowers the cap to ``2**62 // ((S + 1) P)`` so
that sums over stages and populations (and a year's survivors plus births) cannot overflow int64."""
_HYPERGEOMETRIC_LIMIT = 10**9
"""numpy's hypergeometric sampler needs fewer than 1e9 good and bad items."""


def _poisson(rng: np.random.Generator, lam: npt.ArrayLike) -> IntArray:
    """Poisson counts that never fail on an exploding population (normal approximation above
    ``_POISSON_NORMAL``, capped at ``_MAX_COUNT``)."""
    # an exploding mean (up to inf) is held at twice the cap: the draw is capped there anyway, and
    # a normal of mean inf would be NaN (a negative count once cast to int64)
    lam = np.minimum(np.asarray(lam, dtype=float), 2.0 * _MAX_COUNT)
    big = lam > _POISSON_NORMAL
    if not np.any(big):
        return rng.poisson(lam)
    out = rng.poisson(np.where(big, 0.0, lam))
    approx = np.rint(rng.normal(lam[big], np.sqrt(lam[big])))
    out[big] = np.clip(approx, 0, _MAX_COUNT).astype(np.int64)
    return out


def _whole(rng: np.random.Generator, x: npt.ArrayLike) -> IntArray:
    """Whole numbers with mean ``x``: ``floor(x)``, plus 1 with probability ``x - floor(x)``
    (unbiased random rounding, so that a ramped release of 6.5 adds 6.5 individuals on average, as
    without demographic stochasticity). Draws only when some ``x`` is fractional."""
    x = np.asarray(x, dtype=float)
    base = np.floor(x)
    frac = x - base
    out = base.astype(np.int64)
    if np.any(frac > 0):
        out = out + (rng.random(x.shape) < frac)
    return out


def _hypergeometric(
    rng: np.random.Generator, good: IntArray, bad: IntArray, nsample: IntArray
) -> IntArray:
    """Hypergeometric draws; beyond numpy's limit of 1e9 items a binomial with the same mean (a
    draw with replacement, whose variance is larger by (N - 1)/(N - n)), kept within the possible
    range. Only reachable when a ceiling truncates more than 1e9 individuals in one year."""
    big = (good >= _HYPERGEOMETRIC_LIMIT) | (bad >= _HYPERGEOMETRIC_LIMIT)
    if not np.any(big):
        return rng.hypergeometric(good, bad, nsample)
    zero = np.zeros_like(good)
    out = rng.hypergeometric(
        np.where(big, zero, good), np.where(big, zero, bad), np.where(big, zero, nsample)
    )
    g, b, k = good[big], bad[big], nsample[big]
    x = rng.binomial(k, g / (g + b))
    out[big] = np.clip(x, np.maximum(0, k - b), np.minimum(g, k))
    return out


def _density_multipliers(
    species: Species, plan: _Plan, n: npt.NDArray[Any], K: FloatArray
) -> tuple[FloatArray | None, FloatArray | None]:
    """(fecundity, survival) multipliers of density dependence, each (R, P), or None for none."""
    dd: DensityDependence | None = species.density_dependence
    if dd is None or (dd.kind == "ceiling" and dd.allee == 0):
        return None, None
    N = n @ plan.weights  # (R, P) weighted abundance
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # K = 0 (habitat gone) gives x = inf; cap it so that b = 0 still means "no effect"
        x = np.minimum(np.where(N > 0, N / K, 0.0), 1e12)
    with np.errstate(over="ignore"):
        return _scalings(dd, plan.dd_b, x, N)


def _scalings(
    dd: DensityDependence, b: float, x: FloatArray, N: FloatArray
) -> tuple[FloatArray | None, FloatArray | None]:
    g: FloatArray | None = None
    if dd.kind == "beverton_holt":
        g = 1.0 / (1.0 + b * x)
    elif dd.kind == "ricker":
        g = np.exp(-b * x)
    elif dd.kind == "theta_logistic":
        g = np.exp(-b * x**dd.theta)
    fec = g if "fecundity" in dd.applies_to else None
    surv = g if "survival" in dd.applies_to else None
    if dd.kind == "vortex_breeding":
        # Lacy et al. (Vortex manual): P(N) = (P0 - (P0 - PK)(N/K)^B) N / (A + N); F is the fecundity
        # at proportion breeding P0, so rates scale by P(N) / P0 (the Allee term is applied below).
        p = dd.breeding_low - (dd.breeding_low - dd.breeding_at_k) * x**dd.steepness
        fec = np.clip(p, 0.0, None) / dd.breeding_low
    if dd.allee > 0:
        # mate-finding Allee effect N / (A + N) (Dennis 1989; McCarthy 1997)
        with np.errstate(divide="ignore", invalid="ignore"):
            allee = np.where(N > 0, N / (dd.allee + N), 0.0)
        fec = allee if fec is None else fec * allee
    return fec, surv


# --------------------------------------------------------------------------------------------------
# the projection


@dataclasses.dataclass(frozen=True, eq=False)
class _Run:
    """What stays fixed during one :func:`project` call; the yearly steps read it, and only the
    state (individuals ``n`` and this year's K) passes from step to step."""

    species: Species
    plan: _Plan
    schedule: Schedule
    streams: Streams
    demo: np.random.Generator | None
    """The demography stream, or None without demographic stochasticity (then expectations)."""
    dtype: type
    """int64 with demographic stochasticity, float64 without."""
    max_count: int
    """Largest count of one stage in one population (int64 overflow guard)."""
    start_year: int
    event_rngs: list[np.random.Generator]
    """One generator per schedule event (:func:`pva.streams.event_stream`)."""


class _Recorder:
    """Year-major buffers of what :func:`project` records (each year's write is one contiguous
    block), returned replicate-major as a :class:`Projection`."""

    def __init__(self, run: _Run, years: int, record: Sequence[str]) -> None:
        R, P, S = run.plan.R, run.plan.P, run.plan.S
        self.run = run
        # Only females are projected under Mating, but IUCN counts mature individuals of both
        # sexes (Red List Guidelines, section 4.3): record the expected total, females / sex ratio.
        sex = run.species.sex
        self.both_sexes = None if sex is None else 1.0 / sex.sex_ratio
        self.mature: npt.NDArray[Any] = np.empty((years + 1, R, P), dtype=run.dtype)
        self.total: npt.NDArray[Any] = np.empty((years + 1, R, P), dtype=run.dtype)
        self.abundance: npt.NDArray[Any] | None = (
            np.empty((years + 1, R, P, S), dtype=run.dtype) if "abundance" in record else None
        )
        self.K = np.empty((years + 1, R, P)) if "carrying_capacity" in record else None

    def __call__(self, t: int, n: npt.NDArray[Any], K: FloatArray) -> None:
        m = n[..., self.run.plan.mature].sum(axis=-1)
        if self.both_sexes is not None:
            m = (
                np.rint(np.minimum(m * self.both_sexes, 2.0**62)).astype(self.run.dtype)
                if self.run.demo is not None
                else m * self.both_sexes
            )
        self.mature[t] = m
        self.total[t] = n.sum(axis=-1)
        if self.abundance is not None:
            self.abundance[t] = n
        if self.K is not None:
            self.K[t] = K

    def projection(self) -> Projection:
        def replicate_major(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return np.ascontiguousarray(np.swapaxes(a, 0, 1))

        return Projection(
            mature=replicate_major(self.mature),
            total=replicate_major(self.total),
            abundance=None if self.abundance is None else replicate_major(self.abundance),
            carrying_capacity=None if self.K is None else replicate_major(self.K),
        )


def _check_initial(
    initial: npt.ArrayLike, shape: tuple[int, int, int], stochastic: bool, limit: int = _MAX_COUNT
) -> Any:
    """``initial`` as a fresh int64 (demographic stochasticity) or float64 array, validated."""
    a = np.asarray(initial)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"initial must be numeric; got dtype {a.dtype}")
    if a.shape != shape:
        raise ValueError(
            f"initial must have shape (replicates, populations, stages) = {shape!r}; got {a.shape!r}"
        )
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("initial must hold finite, non-negative numbers of individuals")
    if not stochastic:
        return a.astype(np.float64)
    if np.any(a != np.floor(a)) or np.any(a > limit):
        raise ValueError(
            f"initial must hold whole numbers of individuals (<= {limit}) with demographic "
            "stochasticity"
        )
    return a.astype(np.int64)


def _initial_state(run: _Run, initial: npt.ArrayLike | None) -> npt.NDArray[Any]:
    """Individuals by stage at year 0, (R, P, S)."""
    plan = run.plan
    if initial is None:
        n0 = run.species.initial_abundance
        n0 = np.minimum(n0, run.max_count) if run.demo is not None else n0
        return np.broadcast_to(n0.astype(run.dtype), (plan.R, plan.P, plan.S)).copy()
    return _check_initial(initial, (plan.R, plan.P, plan.S), run.demo is not None, run.max_count)


def project(
    species: Species,
    schedule: Schedule | None = None,
    *,
    years: int,
    replicates: int,
    streams: Streams,
    record: Sequence[str] = ("abundance",),
    initial: npt.ArrayLike | None = None,
    start_year: int = 0,
) -> Projection:
    """Project ``replicates`` stochastic futures of ``species`` for ``years`` years.

    Parameters
    ----------
    species
        The validated specification.
    schedule
        What a scenario does year by year (:class:`pva.schedule.Schedule`); None = no action.
    years
        Number of annual steps; trajectories have ``years + 1`` entries (year 0 = initial state).
    replicates
        Number of Monte Carlo replicates, simulated together.
    streams
        Independent generators (:class:`pva.streams.Streams`) for the environment, catastrophes,
        demography and scenario events.
    record
        Extra trajectories to keep: "abundance" (by stage) and/or "carrying_capacity".
    initial
        Individuals by stage at year 0 for each replicate, shape (replicates, populations, stages),
        overriding the species' initial abundance (e.g. to continue from the state a projection
        reached, as :func:`pva.nested.extinction_risk_windows` does). Non-negative and finite; whole
        numbers with demographic stochasticity. None (default) = ``species.initial_abundance`` in
        every replicate. The random numbers drawn do not depend on it.
    start_year
        Year of the species' timeline at which the projection starts (default 0). Only the
        carrying-capacity trend depends on it: K in step ``t`` is ``K0 (1 + trend/100)^(start_year
        + t)``. The schedule is indexed from its own step 0 regardless.

    Returns
    -------
    Projection
        Mature and total abundance (replicate, year, population) and what ``record`` asks for.

    Raises
    ------
    TypeError
        If ``years``, ``replicates`` or ``start_year`` is not an integer, ``species`` not a
        :class:`~pva.model.Species` or ``initial`` not numeric.
    ValueError
        On a bad ``years``, ``replicates``, ``record``, ``initial``, ``start_year`` or a schedule of
        the wrong shape.
    """
    years = validation.integer(years, "years", minimum=1)
    R = validation.integer(replicates, "replicates", minimum=1)
    if isinstance(record, str):
        record = (record,)
    unknown = sorted(set(record) - set(RECORDABLE))
    if unknown:
        raise ValueError(f"record must name some of {RECORDABLE!r}; got {tuple(record)!r}")
    validation.instance(species, "species", Species)
    start_year = validation.integer(start_year, "start_year", minimum=0)
    plan = _plan(species, R)
    if schedule is None:
        schedule = Schedule.neutral(years=years, populations=plan.P, stages=plan.S)
    schedule.check(years=years, populations=plan.P, stages=plan.S)

    stochastic = species.demographic_stochasticity
    run = _Run(
        species=species,
        plan=plan,
        schedule=schedule,
        streams=streams,
        demo=streams.demography if stochastic else None,
        dtype=np.int64 if stochastic else np.float64,
        # the largest count of one stage in one population: S of them plus a year's births, and
        # the sum over all stages and populations, then stay below 2**63 (int64)
        max_count=min(_MAX_COUNT, 2**62 // ((plan.S + 1) * plan.P)),
        start_year=start_year,
        event_rngs=[event_stream(streams.events, e.name) for e in schedule.events],
    )
    n = _initial_state(run, initial)
    record_year = _Recorder(run, years, record)
    record_year(0, n, np.broadcast_to(plan.K0, (R, plan.P)))
    environment = _Environment(species, R, streams.environment)
    for t in range(years):
        n, K = _one_year(run, environment, n, t)
        record_year(t + 1, n, K)
    return record_year.projection()


def _one_year(
    run: _Run, environment: _Environment, n: npt.NDArray[Any], t: int
) -> tuple[npt.NDArray[Any], FloatArray]:
    """Step ``t``: the state ``n`` (R, P, S) at year t -> at year t + 1, and this year's K (R, P)."""
    U, F = environment.matrices()  # 1. environment, (R|1, S, S)
    K = _carrying_capacity(run, environment, t)
    surv_m, fec_m, K = _modifiers(run, t, K)  # 2. schedule, catastrophes, events
    surv_m, fec_m = _density_and_mating(run, n, K, surv_m, fec_m)  # 3.
    surv_m = _cap_survival(U, surv_m)
    n = _survival_and_births(run, n, U, F, surv_m, fec_m)  # 4.
    n = _harvest(run, n, t)  # 5.
    n = _transfers(run, n, t)  # 6.
    n = _releases(run, n, t)
    if run.plan.dispersal is not None and run.plan.dispersal_stages.size:  # 7.
        n = _disperse(run.demo, n, run.plan.dispersal, run.plan.dispersal_stages)
    if run.demo is not None:  # releases and immigrants may have pushed a count past the cap
        n = np.minimum(n, run.max_count)
    if run.plan.ceiling:  # 8.
        n = _ceiling(run.demo, n, K, run.plan.weights, run.plan.counted)
    return n, K


def _carrying_capacity(run: _Run, environment: _Environment, t: int) -> FloatArray:
    """This year's K (R, P): trend, lognormal variation (environment stream, drawn after the
    matrices) and the schedule's multiplier."""
    plan = run.plan
    K = plan.K0 * plan.k_growth ** (run.start_year + t)  # (P,)
    if plan.any_k_noise:
        zk = environment.carrying_capacity_scores(plan.P)
        # lognormal with mean 1 and the population's CV
        K = K * np.exp(plan.k_sigma * zk - plan.k_sigma**2 / 2)
    return _scale_k(
        np.broadcast_to(K, (plan.R, plan.P)), run.schedule.carrying_capacity_multiplier[t]
    )


def _modifiers(run: _Run, t: int, K: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Survival and fecundity multipliers (R, P, S) of step ``t`` from the schedule, catastrophes
    (every type every year, from the catastrophes stream) and the schedule's events (each from its
    own stream); K (R, P) scaled by those that strike."""
    plan, schedule = run.plan, run.schedule
    shape = (plan.R, plan.P, plan.S)
    surv_m = np.broadcast_to(schedule.survival_multiplier[t], shape).astype(float)
    fec_m = np.broadcast_to(schedule.fecundity_multiplier[t], shape).astype(float)
    for c, cs, cf in zip(
        run.species.catastrophes, plan.catastrophe_survival, plan.catastrophe_fecundity, strict=True
    ):
        hit = run.streams.catastrophes.random((plan.R, plan.P)) < c.probability
        if c.scope == "species":
            hit = np.broadcast_to(hit[:, :1], (plan.R, plan.P))
        surv_m = surv_m * np.where(hit[..., None], cs, 1.0)
        fec_m = fec_m * np.where(hit[..., None], cf, 1.0)
        K = _scale_k(K, np.where(hit, c.carrying_capacity_multiplier, 1.0))
    for e, rng in zip(schedule.events, run.event_rngs, strict=True):
        hit = (rng.random(plan.R) < e.probability[t])[:, None]
        surv_m = surv_m * np.where(hit[..., None], e.survival_multiplier, 1.0)
        fec_m = fec_m * np.where(hit[..., None], e.fecundity_multiplier, 1.0)
        K = _scale_k(K, np.where(hit, e.carrying_capacity_multiplier, 1.0))
    return surv_m, fec_m, K


def _density_and_mating(
    run: _Run, n: npt.NDArray[Any], K: FloatArray, surv_m: FloatArray, fec_m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Multipliers scaled by density dependence and mate limitation, both from the abundance at
    the start of the year; the number of males is drawn from the demography stream."""
    g_fec, g_surv = _density_multipliers(run.species, run.plan, n, K)
    if g_fec is not None:
        fec_m = fec_m * g_fec[..., None]
    if g_surv is not None:
        surv_m = surv_m * g_surv[..., None]
    mating = run.species.sex
    if mating is not None:
        females = n[..., run.plan.mature].sum(axis=-1)
        ratio = (1 - mating.sex_ratio) / mating.sex_ratio
        males = _poisson(run.demo, females * ratio) if run.demo is not None else females * ratio
        mated = np.minimum(females, mating.harem_size * males)
        with np.errstate(divide="ignore", invalid="ignore"):
            fec_m = (
                fec_m
                * np.where(females > 0, mated / np.where(females > 0, females, 1), 1.0)[..., None]
            )
    return surv_m, fec_m


def _cap_survival(U: FloatArray, surv_m: FloatArray) -> FloatArray:
    """Survival may not exceed 1: cap the multiplier of any column of U that would sum above 1."""
    colsum = U.sum(axis=1)[:, None, :]  # (R|1, 1, S)
    with np.errstate(divide="ignore", over="ignore"):
        cap = np.where(colsum > 0, 1.0 / colsum, np.inf)
    return np.minimum(surv_m, cap)


def _survival_and_births(
    run: _Run,
    n: npt.NDArray[Any],
    U: FloatArray,
    F: FloatArray,
    surv_m: FloatArray,
    fec_m: FloatArray,
) -> npt.NDArray[Any]:
    """Next year's individuals: each individual's fate a multinomial over its column of U (a chain
    of binomials), plus births — Poisson(F n) or binomial litters — from the demography stream."""
    plan, demo, species = run.plan, run.demo, run.species
    new: npt.NDArray[Any] = np.zeros((plan.R, plan.P, plan.S), dtype=run.dtype)
    for j, dests in plan.u_entries:
        if not dests:
            continue
        probs = [U[:, None, i, j] * surv_m[..., j] for i in dests]
        for i, x in zip(dests, _binomial_chain(demo, n[..., j], probs), strict=True):
            new[..., i] += x
    if plan.f_rows.size:
        Fe = F[:, None, :, :] * fec_m[:, :, None, :]  # (R, P, S_to, S_from)
        if species.litter == "poisson" or demo is None:
            mean_births = np.einsum("rpij,rpj->rpi", Fe[:, :, plan.f_rows, :], n)
            new[..., plan.f_rows] += (
                _poisson(demo, mean_births) if demo is not None else mean_births
            )
        else:
            L = species.max_litter or 1
            for j in plan.fec_cols:
                per_capita = Fe[..., j].sum(axis=-1)  # (R, P)
                trials = np.minimum(n[..., j], 2**62 // L) * L  # no int64 overflow
                born = demo.binomial(trials, np.clip(per_capita / L, 0.0, 1.0))
                with np.errstate(divide="ignore", invalid="ignore"):
                    shares = [
                        np.where(per_capita > 0, Fe[..., i, j] / per_capita, 0.0)
                        for i in plan.f_rows
                    ]
                for i, x in zip(plan.f_rows, _binomial_chain(demo, born, shares), strict=True):
                    new[..., i] += x
    return np.minimum(new, run.max_count) if demo is not None else new


def _harvest(run: _Run, n: npt.NDArray[Any], t: int) -> npt.NDArray[Any]:
    """Remove a binomial proportion, then a Poisson number capped at what is there."""
    demo = run.demo
    h_prop, h_num = run.schedule.harvest_proportion[t], run.schedule.harvest_number[t]
    if np.any(h_prop > 0):
        n = n - (
            demo.binomial(n, np.broadcast_to(h_prop, n.shape)) if demo is not None else n * h_prop
        )
    if np.any(h_num > 0):
        take = _poisson(demo, np.broadcast_to(h_num, n.shape)) if demo is not None else h_num
        n = n - np.minimum(n, take)
    return n


def _transfers(run: _Run, n: npt.NDArray[Any], t: int) -> npt.NDArray[Any]:
    """Translocations between populations, in order: at most what the donor has is moved, and
    each moved individual survives release with the transfer's probability (binomial)."""
    demo = run.demo
    for tr in run.schedule.transfers:
        want = tr.number[t]  # (S,)
        if not np.any(want > 0):
            continue
        have = n[:, tr.source]
        if demo is not None:
            moved = np.minimum(_whole(demo, np.broadcast_to(want, have.shape)), have)
            arrived = demo.binomial(moved, tr.survival)
        else:
            moved = np.minimum(want, have)
            arrived = moved * tr.survival
        n = n.copy()
        n[:, tr.source] -= moved
        n[:, tr.population] += arrived
    return n


def _releases(run: _Run, n: npt.NDArray[Any], t: int) -> npt.NDArray[Any]:
    """Releases from outside the model: a whole number by unbiased random rounding, each surviving
    release with the schedule's probability (binomial)."""
    demo, schedule = run.demo, run.schedule
    rel = schedule.release_number[t]
    if not np.any(rel > 0):
        return n
    if demo is None:
        return n + rel * schedule.release_survival[t]
    released = _whole(demo, np.broadcast_to(rel, n.shape))
    return n + demo.binomial(released, np.broadcast_to(schedule.release_survival[t], n.shape))


def _scale_k(K: FloatArray, multiplier: npt.NDArray[Any]) -> FloatArray:
    """Multiply K, leaving unlimited (infinite) K unlimited even under a multiplier of 0."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(K), K, K * multiplier)


def _disperse(
    demo: np.random.Generator | None,
    n: npt.NDArray[Any],
    D: FloatArray,
    stages: npt.NDArray[np.int64],
) -> npt.NDArray[Any]:
    """Move individuals of dispersing stages among populations: from population j to i with
    probability ``D[i, j]`` (a multinomial over destinations, drawn as a binomial chain)."""
    n = n.copy()
    moved = np.zeros_like(n)
    P = D.shape[0]
    for j in range(P):
        dests = [i for i in range(P) if D[i, j] > 0]
        if not dests:
            continue
        for s in stages:
            src = n[:, j, s]
            outs = _binomial_chain(demo, src, [np.full(src.shape, D[i, j]) for i in dests])
            for i, x in zip(dests, outs, strict=True):
                moved[:, i, s] += x
                moved[:, j, s] -= x
    return n + moved


def _ceiling(
    demo: np.random.Generator | None,
    n: npt.NDArray[Any],
    K: FloatArray,
    weights: FloatArray,
    counted: npt.NDArray[np.bool_],
) -> npt.NDArray[Any]:
    """Truncate weighted abundance to K (RAMAS ceiling; Akçakaya 2000).

    Where ``N_w = sum_s w_s n_s`` exceeds K, a fraction ``K / N_w`` of the counted individuals is kept
    (with 0/1 weights, exactly ``floor(K)``), chosen at random without replacement across the counted
    stages: a chain of hypergeometric draws (multivariate hypergeometric thinning).
    """
    N = n @ weights
    over = N > K
    if not np.any(over):
        return n
    idx = np.flatnonzero(counted)
    if demo is None:
        scale = np.where(over, K / np.where(over, N, 1.0), 1.0)
        n = n.copy()
        n[..., idx] = n[..., idx] * scale[..., None]
        return n
    sub = n[..., idx]  # (R, P, c)
    pool = sub.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(over, np.floor(pool * np.minimum(K / np.where(over, N, 1.0), 1.0)), pool)
    keep_left = target.astype(np.int64)
    pool_left = pool.copy()
    kept = np.zeros_like(sub)
    c = len(idx)
    for k in range(c):
        good = sub[..., k]
        if k == c - 1:
            kept[..., k] = keep_left
            break
        bad = pool_left - good
        x = _hypergeometric(demo, good, bad, keep_left)
        kept[..., k] = x
        keep_left = keep_left - x
        pool_left = bad
    n = n.copy()
    n[..., idx] = kept
    return n


def sample_environment(
    species: Species, *, years: int, replicates: int, rng: np.random.Generator
) -> dict[str, npt.NDArray[Any]]:
    """The environment :func:`project` would draw from ``rng`` (its environment stream), alone.

    For checking the environmental process against its specification and for plots.

    Returns
    -------
    dict
        ``{"state": (replicates, years) int}`` for :class:`pva.model.MatrixSelection`; for
        :class:`pva.model.VitalRateStochasticity` one (replicates, years) array per vital rate; empty
        for a constant environment. Index ``t`` is the step from year t to t + 1.
    """
    env = _Environment(species, int(replicates), rng)
    k_noise = any(p.carrying_capacity_cv > 0 for p in species.all_populations)
    out: dict[str, list[npt.NDArray[Any]]] = {}
    for _ in range(int(years)):
        if isinstance(species.environment, MatrixSelection):
            env.matrices()
            out.setdefault("state", []).append(cast(npt.NDArray[np.int64], env.state))
        elif isinstance(species.environment, VitalRateStochasticity):
            for name, value in env.rates(species.environment).items():
                out.setdefault(name, []).append(np.broadcast_to(value, (int(replicates),)))
        if k_noise:  # keep the stream in step with project()
            env.carrying_capacity_scores(species.n_populations)
    return {k: np.stack(v, axis=1) for k, v in out.items()}
