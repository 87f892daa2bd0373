"""The vectorised Monte Carlo kernel: many stochastic futures of one species at once.

:func:`project` advances the state ``n`` of shape (scenarios, replicates, populations, stages) one
year at a time; the only Python loop is over years (and, inside a year, over the few levels of a
fate chain and the catastrophe types). The scenarios of a species are projected together
(:func:`project_chunks`), and so are several replicate chunks, each drawing from its own streams:
scenarios share the year's environment, catastrophes and events, and every numpy call works on all
scenarios and chunks at once. One year is, in this order (each step a function below,
the state passed explicitly):

1. environment: this year's matrices (an environmental state, or vital rates drawn through a
   Gaussian copula) and carrying capacity variation — from ``streams.environment`` only, in a fixed
   pattern that never depends on the state, so every scenario of a species sees the same environment
   in replicate r (common random numbers);
2. the schedule's multipliers for this year, catastrophes (``streams.catastrophes``, every type every
   year, extinct or not) and the schedule's stochastic events (each from its own stream under
   ``streams.events``, keyed by the event's name, so a scenario that has the event sees it strike in
   the same replicates and years as every other scenario that has it);
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
popbio's ``stoch.projection`` (Stubben & Milligan 2007); when that map is linear with one of a few
matrices per year (no density dependence, catastrophes or events), :func:`_project_linear` takes the
place of steps 1-4 (:func:`_is_linear` says when). The fate draws of step 4 run in a
compiled kernel when numba is installed (:mod:`pva.kernels`), with identical results; so do the
years of a linear model (each replicate multiplied by its own matrix, with BLAS's sum order: the
same numbers where the BLAS sums stage by stage, within the rounding of a sum otherwise).

References
----------
Caswell, H. 2001. Matrix Population Models, 2nd ed. Sinauer (demographic stochasticity as
    multinomial fates and Poisson births: section 15.3).
Morris, W.F. & D.F. Doak. 2002. Quantitative Conservation Biology. Sinauer (ch. 7-8).
Akçakaya, H.R. 2000. Viability analyses with habitat-based metapopulation models. Population Ecology
    42:45-53 (ceiling density dependence, dispersal among populations).
Lacy, R.C. 2000. Structure of the VORTEX simulation model for population viability analysis.
    Ecological Bulletins 48:191-203.
Stubben, C.J. & B.G. Milligan. 2007. Estimating and analyzing demographic models using the popbio
    package in R. Journal of Statistical Software 22(11).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from pva import genetics, kernels, validation
from pva.model import (
    DensityDependence,
    Genetics,
    MatrixSelection,
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
    density_strength,
)
from pva.schedule import Schedule, StochasticEvent
from pva.streams import Streams, event_stream, ex_situ_stream

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
    gene_diversity: FloatArray | None = None
    """Gene diversity relative to the species' reference (:class:`~pva.model.Genetics`), shape
    (replicate, year, population), NaN where a population has no individuals; None without
    genetics. Inbreeding is ``1 - gene_diversity``."""
    captive: npt.NDArray[Any] | None = None
    """Individuals in each ex-situ programme of the scenario (:class:`~pva.schedule.Captive`),
    shape (replicate, year, programme); None without programmes."""
    captive_gene_diversity: FloatArray | None = None
    """Gene diversity of each ex-situ programme, (replicate, year, programme), NaN where empty;
    None without programmes or genetics."""


# --------------------------------------------------------------------------------------------------
# preparation: everything that does not change from year to year


@dataclasses.dataclass(frozen=True, eq=False)
class _Fates:
    """The order in which an individual's fate (its column of U) is drawn, for all stages at once.

    The fates of the individuals of stage j are a multinomial over the stages U can move them to
    (and death), drawn as a chain of conditional binomials over those destinations in stage order.
    The chains of all stages advance together, level by level: level k draws the k-th destination
    of every stage that has more than k of them, in one call. The source stages are sorted by their
    number of destinations (most first), so those of level k are the first ``m_k`` of ``sources``.
    Entries (a source and a destination) are numbered level by level.
    """

    sources: IntArray
    """Stages with at least one destination, most destinations first, (m0,)."""
    levels: IntArray
    """Entries ``[levels[k, 0], levels[k, 1])`` form level k, (depth, 2)."""
    source: IntArray
    """Source stage of each entry, (E,)."""
    destination: IntArray
    """Destination stage of each entry, (E,)."""
    by_destination: tuple[tuple[int, IntArray], ...]
    """Each destination stage with the entries that move individuals to it."""


def _fates(u_pattern: npt.NDArray[np.bool_]) -> _Fates:
    S = u_pattern.shape[0]
    dests = {j: [i for i in range(S) if u_pattern[i, j]] for j in range(S)}
    sources = sorted((j for j in range(S) if dests[j]), key=lambda j: (-len(dests[j]), j))
    source, destination, levels = [], [], []
    for k in range(len(dests[sources[0]]) if sources else 0):
        start = len(source)
        for j in sources:
            if len(dests[j]) > k:
                source.append(j)
                destination.append(dests[j][k])
        levels.append((start, len(source)))
    dest = np.array(destination, dtype=np.int64)
    return _Fates(
        sources=np.array(sources, dtype=np.int64),
        levels=np.array(levels, dtype=np.int64).reshape(-1, 2),
        source=np.array(source, dtype=np.int64),
        destination=dest,
        by_destination=tuple((i, np.flatnonzero(dest == i)) for i in range(S) if np.any(dest == i)),
    )


@dataclasses.dataclass(frozen=True, eq=False)
class _Plan:
    """Precomputed structure of one species for the yearly loop."""

    S: int
    P: int
    R: int
    J: int
    """Number of scenarios projected together."""
    u_pattern: npt.NDArray[np.bool_]
    """Entries of U that can be non-zero in some year, (S, S)."""
    fates: _Fates
    """The order of the fate draws (:class:`_Fates`)."""
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
    dispersal_weights: FloatArray
    """Multiplier of the dispersal rates for each stage (relative dispersal), (S,)."""
    dispersal_mortality: float
    """Probability that a disperser dies in transit."""
    dispersal_density: bool
    """Whether emigration scales with the source's min(1, N/K)."""
    site_root: FloatArray | None
    """L with L L' = the correlation of the environment between sites, (P, P); None: one shared
    environment."""

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Shape of the state: (scenarios, replicates, populations, stages)."""
        return (self.J, self.R, self.P, self.S)


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


def _plan(species: Species, replicates: int, scenarios: int = 1) -> _Plan:
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
        J=scenarios,
        u_pattern=u_pattern,
        fates=_fates(u_pattern),
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
        any_k_noise=bool(np.any(k_sigma > 0)),
        catastrophe_survival=[
            np.broadcast_to(np.asarray(c.survival_multiplier, dtype=float), (S,)) for c in cats
        ],
        catastrophe_fecundity=[
            np.broadcast_to(np.asarray(c.fecundity_multiplier, dtype=float), (S,)) for c in cats
        ],
        dispersal=species.dispersal_array,
        dispersal_stages=np.flatnonzero(species.dispersal_mask),
        dispersal_weights=species.dispersal_weights,
        dispersal_mortality=0.0 if species.dispersal is None else species.dispersal.mortality,
        dispersal_density=species.dispersal is not None and species.dispersal.density_dependent,
        site_root=_site_root(species),
    )


def _site_root(species: Species) -> FloatArray | None:
    """A square root L (L L' = C) of the correlation C of the environment between sites, or None
    when the sites share one environment."""
    C = species.site_correlation
    if C is None:
        return None
    w, v = np.linalg.eigh((C + C.T) / 2)
    return cast(FloatArray, v * np.sqrt(np.clip(w, 0, None)))


# --------------------------------------------------------------------------------------------------
# environment


@dataclasses.dataclass(frozen=True, eq=False)
class _Rates:
    """This year's U and F + C, reduced to what the year step reads, for each replicate (leading
    axis R) or shared by all (leading axis 1)."""

    u: FloatArray
    """U at the fate entries (:class:`_Fates`), (R|1, E), or (R, P, E) by site."""
    cap: FloatArray
    """The largest survival multiplier of each stage, 1 / (column sum of U) (inf where 0), (R|1, S),
    or (R, P, S) by site."""
    least_cap: float
    """A lower bound of ``cap`` (its minimum over all replicates, or over all environmental states):
    multipliers up to it need no capping."""
    F: FloatArray
    """F + C at the rows that receive offspring, (R|1, f, S), or (R, P, f, S) by site."""

    @classmethod
    def of(cls, U: FloatArray, F: FloatArray, fates: _Fates, f_rows: IntArray) -> _Rates:
        """From U and F + C of shape (R|k, S, S) (or (R, P, S, S) by site), for the fate entries
        ``fates`` and the offspring rows ``f_rows``."""
        colsum = U.sum(axis=-2)
        with np.errstate(divide="ignore", over="ignore"):
            cap = np.where(colsum > 0, 1.0 / np.where(colsum > 0, colsum, 1.0), np.inf)
        return cls(
            u=U[..., fates.destination, fates.source],
            cap=cap,
            least_cap=float(cap.min()) if cap.size else np.inf,
            F=np.ascontiguousarray(F[..., f_rows, :]),
        )

    @property
    def by_site(self) -> bool:
        """Whether each site has its own rates (a correlated environment)."""
        return self.u.ndim == 3

    def select(self, state: IntArray) -> _Rates:
        """The rates of environmental state ``state[r]`` (or ``state[r, p]`` by site) for each
        replicate, from a table of states."""
        return _Rates(
            u=self.u[state], cap=self.cap[state], least_cap=self.least_cap, F=self.F[state]
        )

    def capped(self, surv_m: FloatArray) -> FloatArray:
        """Survival multipliers (J|1, R|1, P, S) capped so that no column of U sums above 1; left
        as they are (and as small) when none can exceed the cap."""
        if surv_m.size == 0 or np.max(surv_m) <= self.least_cap:
            return surv_m
        return np.minimum(surv_m, self.cap if self.by_site else self.cap[:, np.newaxis, :])

    def entries(self, surv_m: FloatArray, fates: _Fates) -> FloatArray:
        """The probability of each fate entry, (J|1, R|1, P, E): U's entry times the multiplier of
        its source stage."""
        u = self.u if self.by_site else self.u[:, None, :]
        return cast(FloatArray, u * surv_m[..., fates.source])

    def births(self, w: FloatArray) -> FloatArray:
        """Expected births (..., R, P, f) at the offspring rows from ``w`` = fecundity multiplier x
        individuals, (..., R, P, S): ``sum_j F[i, j] w[j]``."""
        if self.by_site:
            return cast(FloatArray, np.einsum("...rps,rpfs->...rpf", w, self.F))
        if self.F.shape[0] == 1:
            return _matmul_last(w, self.F[0].T)
        return cast(FloatArray, np.einsum("...rps,rfs->...rpf", w, self.F))

    def offspring_column(self, j: int) -> FloatArray:
        """F + C from stage ``j`` at the offspring rows, (R|1, 1, f) or (R, P, f) by site."""
        column = self.F[..., j]
        return column if self.by_site else column[:, None, :]


def _matmul_last(a: npt.NDArray[Any], b: FloatArray) -> FloatArray:
    """``a @ b`` over the last axis of ``a`` (..., S) with ``b`` (S,) or (S, m), as one 2-D product:
    numpy's ``matmul`` would treat the leading axes of ``a`` as a stack of tiny matrices."""
    out = np.reshape(a, (-1, a.shape[-1])) @ b
    return cast(FloatArray, out.reshape(*a.shape[:-1], *b.shape[1:]))


def _inverse_cdf(cum: FloatArray, u: FloatArray) -> npt.NDArray[np.integer[Any]]:
    """The index drawn by each uniform ``u`` from cumulative probabilities ``cum`` (k,):
    ``min(searchsorted(cum, u, side="right"), k - 1)``, counted as ``k - 1`` comparisons in the
    smallest integers that hold k (several times faster than ``searchsorted`` for a few states)."""
    state = np.zeros(np.shape(u), dtype=np.min_scalar_type(len(cum)))
    for c in cum[:-1]:
        state += u >= c
    return state


def _state_uniforms(rng: np.random.Generator, years: int, replicates: int) -> FloatArray:
    """The uniforms that choose the environmental states of ``years`` years at once, (years,
    replicates): the numbers :meth:`_Environment.year` draws year by year, since a Generator fills
    ``random((years, R))`` in the order of ``years`` calls of ``random(R)``. Only for an environment
    stream that draws nothing else (no K variation)."""
    return rng.random((years, replicates))


class _Environment:
    """Yearly matrices from the environment stream; draws never depend on the population state."""

    def __init__(
        self,
        species: Species,
        replicates: int,
        rng: Rng,
        fates: _Fates,
        f_rows: IntArray,
    ) -> None:
        self.species = species
        self.fates, self.f_rows = fates, f_rows
        self.R = replicates
        self.rng = rng
        self.env = species.environment
        self.site_root = _site_root(species)
        """Correlation root between sites (:attr:`_Plan.site_root`); None: one environment."""
        self.P = species.n_populations
        self.score: FloatArray | None = None
        """The normal scores that chose this year's states by site, (R, P) (for checks)."""
        self.state: npt.NDArray[np.int64] | None = None
        self.table: _Rates | None = None
        """The rates of each environmental state (MatrixSelection) or of the one constant matrix."""
        if isinstance(self.env, VitalRateStochasticity):
            self._init_rates(self.env)
        else:
            U, F = self.stacks()
            self.table = _Rates.of(U, F, fates, f_rows)

    def stacks(self) -> tuple[FloatArray, FloatArray]:
        """U and F + C of each environmental state, (k, S, S) (k = 1 for a constant environment)."""
        env = self.env
        if isinstance(env, MatrixSelection):
            return env.U_stack, env.F_stack + env.C_stack
        sp = self.species
        return sp.U_array[None], (sp.F_array + sp.C_array)[None]

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
            self.window = self._normals(env.window_rows.shape[1])
            self.oldest = 0  # ring-buffer position of the oldest block of the window

    def _normals(self, k: int) -> FloatArray:
        """Standard normal scores (R, k), or (R, P, k) correlated between sites with the sites'
        correlation (independent across the k columns)."""
        if self.site_root is None:
            return self.rng.standard_normal((self.R, k))
        e = self.rng.standard_normal((self.R, self.P, k))
        return cast(FloatArray, np.einsum("pq,rqk->rpk", self.site_root, e))

    def _scores(self, env: VitalRateStochasticity) -> tuple[FloatArray, FloatArray]:
        k, m = len(self.listed), len(self.unlisted)
        phi = env.autocorrelation
        if self.window is not None and env.window_rows is not None:
            # Morris & Doak (2002, Box 8.10): slide the window of iid normals by one year. The
            # window is a ring buffer of `span` blocks: the oldest block is overwritten and the
            # coefficient blocks are rotated instead of the (much larger) data. By site, each
            # block is correlated between sites, so the scores are too (a linear map of them).
            span = self.window.shape[-1] // k
            self.window[..., self.oldest * k : (self.oldest + 1) * k] = self._normals(k)
            self.oldest = (self.oldest + 1) % span
            rows = env.window_rows.reshape(k, span, k)
            z = self.window @ np.roll(rows, self.oldest, axis=1).reshape(k, span * k).T
        else:
            e = self._normals(k)
            if env.rates is not None:  # otherwise the listed rates are independent
                e = e @ env.within_year_root.T
            z = e if self.z is None else phi * self.z + np.sqrt(1 - phi * phi) * e
        e_free = self._normals(m)
        z_free = (
            e_free if self.z_free is None else phi * self.z_free + np.sqrt(1 - phi * phi) * e_free
        )
        self.z, self.z_free = z, z_free
        return z, z_free

    def rates(self, env: VitalRateStochasticity) -> dict[str, Any]:
        """This year's value of every vital rate, (R,) each, or (R, P) by site."""
        z, z_free = self._scores(env)
        rates: dict[str, Any] = dict(self.fixed)
        for rate, col in [
            *zip(self.listed, np.moveaxis(z, -1, 0), strict=True),
            *zip(self.unlisted, np.moveaxis(z_free, -1, 0), strict=True),
        ]:
            rates[rate.name] = draw_rate(rate, col)
        return rates

    # ---- one year ---------------------------------------------------------------------------
    def carrying_capacity_scores(self, P: int) -> FloatArray:
        """Standard normal scores of this year's K variation, (R, P); drawn after the matrices,
        correlated between sites when they have a correlation."""
        z = self.rng.standard_normal((self.R, P))
        return z if self.site_root is None else z @ self.site_root.T

    def site_uniforms(self) -> FloatArray:
        """This year's uniforms that pick each site's state, (R, P): ``Phi(z)`` of normal scores
        correlated between sites (a Gaussian copula)."""
        import scipy.special  # here, not at the top: a worker of a model without sites never loads it

        self.score = self._normals(1)[..., 0]
        return cast(FloatArray, scipy.special.ndtr(self.score))

    def next_state(self, u: FloatArray) -> IntArray:
        """The environmental state of each replicate (:class:`pva.model.MatrixSelection`) from this
        year's uniforms ``u`` (R,): the initial distribution in the first year, then the iid
        probabilities or the Markov transition from last year's state."""
        env = cast(MatrixSelection, self.env)
        if env.transition is None or self.state is None:
            first = self.state is None
            state = _inverse_cdf(np.cumsum(env.initial_probabilities if first else env.weights), u)
        else:
            cum = np.cumsum(np.asarray(env.transition), axis=0)[:, self.state]  # (k, R[, P])
            state = np.minimum((u[None, ...] >= cum).sum(axis=0), env.n_states - 1)
        self.state = state.astype(np.int64)
        return self.state

    def states(self, u: FloatArray) -> npt.NDArray[np.integer[Any]]:
        """The states of consecutive years from their uniforms ``u`` (years, R), as :meth:`next_state`
        gives them year by year (in the smallest integer type that holds them)."""
        env = cast(MatrixSelection, self.env)
        if env.transition is not None or len(u) < 2:
            return np.stack([self.next_state(row) for row in u])
        first = self.next_state(u[0])
        later = _inverse_cdf(np.cumsum(env.weights), u[1:])
        self.state = later[-1].astype(np.int64)
        return np.concatenate([first[None].astype(later.dtype), later])

    def year(self) -> _Rates:
        """This year's rates (:class:`_Rates`), by site when the sites have a correlation."""
        env = self.env
        if isinstance(env, MatrixSelection):
            u = self.rng.random(self.R) if self.site_root is None else self.site_uniforms()
            return cast(_Rates, self.table).select(self.next_state(u))
        if isinstance(env, VitalRateStochasticity):
            vr = cast(VitalRates, self.species.vital_rates)
            m = vr.matrices(self.rates(env))
            return _Rates.of(m["U"], m["F"] + m["C"], self.fates, self.f_rows)
        return cast(_Rates, self.table)


class _Chunked:
    """The generators of consecutive replicate chunks, used as one generator for all of them.

    Every draw is made chunk by chunk, each chunk from its own generator on its own part of the
    arrays, so that chunks projected together (``pva.simulate``) draw exactly what each draws when
    projected alone (a runner task). ``axis`` is the replicate axis of what is drawn: 0 for the
    environment, catastrophe and event streams (``size=(R, ...)``), 1 for the demography stream
    (arrays (scenario, replicate, ...)). Draws whose number depends on the counts go through
    :func:`_per_chunk` with the function that decides, so that each chunk decides for itself.
    """

    def __init__(
        self, generators: Sequence[np.random.Generator], sizes: Sequence[int], axis: int
    ) -> None:
        self.generators = tuple(generators)
        self.bounds = [int(b) for b in np.cumsum([0, *sizes])]
        self.axis = axis
        # each chunk's part of an array along the replicate axis (built once: map runs per draw)
        self.parts = [
            (*(slice(None),) * axis, slice(a, b))
            for a, b in zip(self.bounds[:-1], self.bounds[1:], strict=True)
        ]

    def _sized(self, method: str, size: int | tuple[int, ...]) -> FloatArray:
        shape = [size] if isinstance(size, int) else list(size)
        parts = []
        for g, a, b in zip(self.generators, self.bounds[:-1], self.bounds[1:], strict=True):
            shape[self.axis] = b - a
            parts.append(getattr(g, method)(tuple(shape)))
        return np.concatenate(parts, axis=self.axis)

    def random(self, size: int | tuple[int, ...]) -> FloatArray:
        return self._sized("random", size)

    def standard_normal(self, size: int | tuple[int, ...]) -> FloatArray:
        return self._sized("standard_normal", size)

    def map(self, draw: Any, *arrays: Any) -> Any:
        """``draw(generator, *parts)`` chunk by chunk, joined along the replicate axis (``draw``
        returns an array or a list of arrays). An array whose replicate axis has length 1 (or that
        has none) is passed whole to every chunk."""
        R = self.bounds[-1]
        arrays = tuple(np.asarray(x) for x in arrays)
        split = [x.ndim > self.axis and (x.shape[self.axis] == R != 1) for x in arrays]
        out = [
            draw(g, *(x[part] if cut else x for x, cut in zip(arrays, split, strict=True)))
            for g, part in zip(self.generators, self.parts, strict=True)
        ]
        if isinstance(out[0], list | tuple):
            return [np.concatenate(o, axis=self.axis) for o in zip(*out, strict=True)]
        return np.concatenate(out, axis=self.axis)


Rng = np.random.Generator | _Chunked
"""A generator, or the generators of several replicate chunks (:class:`_Chunked`)."""


def _per_chunk(rng: Any, draw: Any, *arrays: Any) -> Any:
    """``draw(rng, *arrays)``, or chunk by chunk when ``rng`` is a :class:`_Chunked`."""
    return rng.map(draw, *arrays) if isinstance(rng, _Chunked) else draw(rng, *arrays)


def _binomial(rng: np.random.Generator, n: npt.ArrayLike, p: npt.ArrayLike) -> IntArray:
    return rng.binomial(n, p)


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


def _draw_fates(rng: Rng, n: npt.NDArray[Any], p: FloatArray, fates: _Fates) -> IntArray:
    """Draw every fate entry at once: the chains of conditional binomials of all source stages,
    advanced level by level (:class:`_Fates`).

    ``n`` (..., S) individuals by stage and ``p`` (..., E) the probability of each entry (broadcast
    against ``n``); returns the individuals that take each entry, (..., E). Entry k of a stage's
    chain is ``Bin(n - x_1 - ... - x_{k-1}, p_k / (1 - p_1 - ... - p_{k-1}))``, an exact multinomial.
    :func:`pva.kernels.fates` draws the same numbers in the same order.
    """
    shape = np.broadcast_shapes(n.shape[:-1], p.shape[:-1])
    x = np.empty((*shape, len(fates.source)), dtype=np.int64)
    remaining = n[..., fates.sources]
    used: FloatArray | None = None
    last = len(fates.levels) - 1
    for k, (a, b) in enumerate(fates.levels):
        pk = p[..., a:b]
        m = b - a
        if used is None:
            q = np.clip(pk, 0.0, 1.0)
            used = pk.copy() if k < last else pk
        else:
            left = 1.0 - used[..., :m]
            q = np.divide(
                pk, left, out=np.zeros(np.broadcast_shapes(pk.shape, left.shape)), where=left > 0
            )
            np.clip(q, 0.0, 1.0, out=q)
            if k < last:
                used[..., :m] += pk
        xk = _per_chunk(rng, _binomial, remaining[..., :m], q)  # the arithmetic stays wide
        x[..., a:b] = xk
        if k < last:
            remaining[..., :m] -= xk
    return x


def _by_destination(x: npt.NDArray[Any], fates: _Fates, S: int) -> npt.NDArray[Any]:
    """Individuals arriving in each stage, (..., S), from those taking each fate entry, (..., E)."""
    out = np.zeros((*x.shape[:-1], S), dtype=x.dtype)
    for i, entries in fates.by_destination:
        out[..., i] = x[..., entries[0]] if entries.size == 1 else x[..., entries].sum(axis=-1)
    return out


def _density_multipliers(
    species: Species, plan: _Plan, n: npt.NDArray[Any], K: FloatArray
) -> tuple[FloatArray | None, FloatArray | None]:
    """(fecundity, survival) multipliers of density dependence, each (R, P), or None for none."""
    dd: DensityDependence | None = species.density_dependence
    if dd is None or (dd.kind == "ceiling" and dd.allee == 0):
        return None, None
    N = _matmul_last(n, plan.weights)  # (J, R, P) weighted abundance
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
class _Scenarios:
    """The schedules of the scenarios projected together, stacked so that step ``t`` of each array
    broadcasts against the state (scenario, replicate, population, stage): ``survival[t]`` has shape
    (J, 1, P, S) and ``capacity[t]`` (J, 1, P)."""

    schedules: tuple[Schedule, ...]
    survival: FloatArray
    fecundity: FloatArray
    capacity: FloatArray
    harvest_proportion: FloatArray
    harvest_number: FloatArray
    release_number: FloatArray
    release_survival: FloatArray
    events: tuple[tuple[str, tuple[tuple[int, StochasticEvent], ...]], ...]
    """Each event name (in order of first appearance) with the (scenario, event) pairs that have it."""
    harvesting: npt.NDArray[np.bool_]
    """Steps in which some scenario harvests a proportion, (T,)."""
    culling: npt.NDArray[np.bool_]
    """Steps in which some scenario harvests a number, (T,)."""
    releasing: npt.NDArray[np.bool_]
    """Steps in which some scenario releases individuals, (T,)."""
    acting: npt.NDArray[np.bool_]
    """Steps in which some scenario harvests, translocates or releases individuals, (T,)."""

    @classmethod
    def of(cls, schedules: Sequence[Schedule]) -> _Scenarios:
        def stacked(field: str) -> FloatArray:
            arrays = [np.asarray(getattr(s, field), dtype=float) for s in schedules]
            return np.stack(arrays, axis=1)[:, :, np.newaxis]

        names: dict[str, list[tuple[int, StochasticEvent]]] = {}
        for j, schedule in enumerate(schedules):
            for event in schedule.events:
                names.setdefault(event.name, []).append((j, event))

        def active(array: FloatArray) -> npt.NDArray[np.bool_]:
            return cast(npt.NDArray[np.bool_], np.any(array > 0, axis=tuple(range(1, array.ndim))))

        harvest_proportion = stacked("harvest_proportion")
        harvest_number = stacked("harvest_number")
        release_number = stacked("release_number")
        return cls(
            schedules=tuple(schedules),
            survival=stacked("survival_multiplier"),
            fecundity=stacked("fecundity_multiplier"),
            capacity=stacked("carrying_capacity_multiplier"),
            harvest_proportion=harvest_proportion,
            harvest_number=harvest_number,
            release_number=release_number,
            release_survival=stacked("release_survival"),
            events=tuple((name, tuple(members)) for name, members in names.items()),
            harvesting=active(harvest_proportion),
            culling=active(harvest_number),
            releasing=active(release_number),
            acting=active(harvest_proportion)
            | active(harvest_number)
            | active(release_number)
            | np.any([active(tr.number) for s in schedules for tr in s.transfers], axis=0),
        )


@dataclasses.dataclass(frozen=True, eq=False)
class _Run:
    """What stays fixed during one projection; the yearly steps read it, and only the state
    (individuals ``n`` and this year's K) passes from step to step."""

    species: Species
    plan: _Plan
    scenarios: _Scenarios
    environment: Rng
    """The environment stream (of each chunk)."""
    catastrophes: Rng
    """The catastrophe stream (of each chunk)."""
    demo: Rng | None
    """The demography stream (of each chunk), or None without demographic stochasticity (then
    expectations)."""
    dtype: type
    """int64 with demographic stochasticity, float64 without."""
    max_count: int
    """Largest count of one stage in one population (int64 overflow guard)."""
    start_year: int
    event_rngs: tuple[Rng, ...]
    """One generator per event name of ``scenarios.events`` (:func:`pva.streams.event_stream`)."""
    compiled: bool
    """Whether the fate draws run in the compiled kernel (:mod:`pva.kernels`)."""
    ex_situ: Rng | None = None
    """The ex-situ stream (of each chunk, :func:`pva.streams.ex_situ_stream`) when some scenario
    keeps a captive population, else None."""


class _Recorder:
    """Year-major buffers of what is recorded (each year's write is one contiguous block), returned
    replicate-major as one :class:`Projection` per scenario.

    With ``replicate_major``, the buffers are stored replicate-major and the year-major arrays are
    views of them: each year's write is strided, but the projections need no transposed copy (the
    linear path, whose years are cheap, writes each replicate's years itself)."""

    def __init__(
        self, run: _Run, years: int, record: Sequence[str], replicate_major: bool = False
    ) -> None:
        J, R, P, S = run.plan.shape
        self.run = run
        # Only females are projected under Mating, but IUCN counts mature individuals of both
        # sexes (Red List Guidelines, section 4.3): record the expected total, females / sex ratio.
        sex = run.species.sex
        self.both_sexes = None if sex is None else 1.0 / sex.sex_ratio

        def buffer(*stages: int, dtype: type = run.dtype) -> npt.NDArray[Any]:
            """(years + 1, J, R, P, *stages), stored year-major or replicate-major."""
            if replicate_major:
                return np.moveaxis(np.empty((J, R, years + 1, P, *stages), dtype=dtype), 2, 0)
            return np.empty((years + 1, J, R, P, *stages), dtype=dtype)

        self.mature: npt.NDArray[Any] = buffer()
        self.total: npt.NDArray[Any] = buffer()
        self.abundance: npt.NDArray[Any] | None = buffer(S) if "abundance" in record else None
        self.K = buffer(dtype=np.float64) if "carrying_capacity" in record else None
        self.mature_weights = run.plan.mature.astype(float)
        self.ones = np.ones(S)
        self.years = years
        self.gene_diversity: FloatArray | None = None
        self.captive: npt.NDArray[Any] | None = None
        self.captive_gene_diversity: FloatArray | None = None

    def __call__(self, t: int, n: npt.NDArray[Any], K: FloatArray | None) -> None:
        if self.run.demo is None:  # real numbers: sums as dot products (BLAS)
            m = _matmul_last(n, self.mature_weights)
            total = _matmul_last(n, self.ones)
        else:
            m = n[..., self.run.plan.mature].sum(axis=-1)
            total = n.sum(axis=-1)
        if self.both_sexes is not None:
            m = (
                np.rint(np.minimum(m * self.both_sexes, 2.0**62)).astype(self.run.dtype)
                if self.run.demo is not None
                else m * self.both_sexes
            )
        self.put(t, m, total, n, K)

    def put(
        self,
        t: int,
        mature: npt.NDArray[Any],
        total: npt.NDArray[Any],
        n: npt.NDArray[Any],
        K: FloatArray | None,
    ) -> None:
        """Record year ``t``: mature and total (J, R, P), the state ``n`` (J, R, P, S) and K."""
        self.mature[t] = mature
        self.total[t] = total
        if self.abundance is not None:
            self.abundance[t] = n
        if self.K is not None and K is not None:
            self.K[t] = K

    def genes(self, t: int, genes: _Genes, n: npt.NDArray[Any]) -> None:
        """Record year ``t``'s gene diversity (J, R, P), NaN where a population is empty."""
        if self.gene_diversity is None:
            self.gene_diversity = np.empty((self.years + 1, *genes.h.shape))
        self.gene_diversity[t] = np.where(n.sum(axis=-1) > 0, genes.h, np.nan)

    def captives(self, t: int, captive: _Captive) -> None:
        """Record year ``t``'s individuals (J, R, C) and gene diversity of the programmes."""
        total = captive.n.sum(axis=-1)
        if self.captive is None:
            self.captive = np.empty((self.years + 1, *total.shape), dtype=total.dtype)
            if captive.h is not None:
                self.captive_gene_diversity = np.empty((self.years + 1, *total.shape))
        self.captive[t] = total
        if self.captive_gene_diversity is not None and captive.h is not None:
            self.captive_gene_diversity[t] = np.where(total > 0, captive.h, np.nan)

    def projections(self) -> list[Projection]:
        def replicate_major(a: npt.NDArray[Any] | None) -> npt.NDArray[Any] | None:
            # contiguous, so that reductions over replicates round alike whoever made the array
            # (no copy if the buffer is stored replicate-major)
            return None if a is None else np.ascontiguousarray(np.moveaxis(a, 0, 2))

        mature = cast(npt.NDArray[Any], replicate_major(self.mature))
        total = cast(npt.NDArray[Any], replicate_major(self.total))
        abundance = replicate_major(self.abundance)
        K = replicate_major(self.K)
        h = replicate_major(self.gene_diversity)
        captive = replicate_major(self.captive)
        hc = replicate_major(self.captive_gene_diversity)
        return [
            Projection(
                mature=mature[j],
                total=total[j],
                abundance=None if abundance is None else abundance[j],
                carrying_capacity=None if K is None else K[j],
                gene_diversity=None if h is None else h[j],
                captive=None
                if captive is None or not self.run.scenarios.schedules[j].programmes
                else captive[j, :, :, : len(self.run.scenarios.schedules[j].programmes)],
                captive_gene_diversity=None
                if hc is None or not self.run.scenarios.schedules[j].programmes
                else hc[j, :, :, : len(self.run.scenarios.schedules[j].programmes)],
            )
            for j in range(self.run.plan.J)
        ]


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


def _initial_state(run: _Run, initial: npt.NDArray[Any] | None) -> npt.NDArray[Any]:
    """Individuals by stage at year 0, (J, R, P, S); ``initial`` is checked, (R, P, S)."""
    if initial is None:
        n0 = run.species.initial_abundance
        n0 = np.minimum(n0, run.max_count) if run.demo is not None else n0
        return np.broadcast_to(n0.astype(run.dtype), run.plan.shape).copy()
    return np.broadcast_to(initial, run.plan.shape).copy()


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
    initial_gene_diversity: npt.ArrayLike | None = None,
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
    initial_gene_diversity
        Gene diversity of each replicate and population at year 0, shape (replicates,
        populations), in [0, 1], for a species with genetics (e.g. to continue from a state the
        projection reached; the purged inbreeding coefficient then starts at ``1 - h``). None:
        the species' ``initial_gene_diversity``.

    Returns
    -------
    Projection
        Mature and total abundance (replicate, year, population), what ``record`` asks for and,
        for a species with genetics, the gene diversity; with ex-situ programmes, their
        individuals.

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
    (projection,) = project_chunks(
        species,
        (schedule,),
        years=years,
        chunks=((R, streams),),
        record=record,
        initial=initial,
        start_year=start_year,
        initial_gene_diversity=initial_gene_diversity,
    )
    return projection


def project_chunks(
    species: Species,
    schedules: Sequence[Schedule | None],
    *,
    years: int,
    chunks: Sequence[tuple[int, Streams]],
    record: Sequence[str] = ("abundance",),
    initial: npt.ArrayLike | None = None,
    start_year: int = 0,
    initial_gene_diversity: npt.ArrayLike | None = None,
) -> list[Projection]:
    """Project ``species`` under each of ``schedules`` for the replicate chunks ``chunks``.

    All chunks and scenarios are projected together, as one wide array (every numpy call works on
    all of them), but each chunk draws from its own streams what it would draw alone
    (:class:`_Chunked`): the numbers of chunk k depend on its streams and size alone, so a chunk
    projected on its own (a runner task) gives what it gives here (up to rounding in the linear fast
    path). Scenarios share the environment, catastrophe and event streams of a chunk (common random
    numbers: the same environmental states, K, catastrophe years and, per event name, event years in
    replicate r under every scenario that has them) and its demography stream, drawn for all
    scenarios at once. Scenarios whose schedules differ in their costs alone are projected once.

    Parameters
    ----------
    species
        The validated specification.
    schedules
        One :class:`pva.schedule.Schedule` per scenario (None = no action).
    years, record, start_year
        As for :func:`project`.
    chunks
        ``(replicates, streams)`` of each chunk, in replicate order.
    initial, initial_gene_diversity
        As for :func:`project`, over the replicates of all chunks, (replicates, populations,
        stages) and (replicates, populations).

    Returns
    -------
    list of Projection
        One per schedule, replicates in chunk order.
    """
    years = validation.integer(years, "years", minimum=1)
    if isinstance(record, str):
        record = (record,)
    unknown = sorted(set(record) - set(RECORDABLE))
    if unknown:
        raise ValueError(f"record must name some of {RECORDABLE!r}; got {tuple(record)!r}")
    validation.instance(species, "species", Species)
    start_year = validation.integer(start_year, "start_year", minimum=0)
    sizes = [validation.integer(r, "replicates", minimum=1) for r, _ in chunks]
    if not sizes:
        raise ValueError("chunks must hold at least one (replicates, streams) pair")
    S, P = species.n_stages, species.n_populations
    full = [
        Schedule.neutral(years=years, populations=P, stages=S) if s is None else s
        for s in schedules
    ]
    for s in full:
        s.check(years=years, populations=P, stages=S)
    distinct, index = _distinct(full)
    checked = None
    if initial is not None:
        checked = _check_initial(
            initial, (sum(sizes), P, S), species.demographic_stochasticity, _max_count(S, P)
        )
    h0 = _check_gene_diversity(species, initial_gene_diversity, (sum(sizes), P))
    if _is_linear(species, distinct):
        projections = _project_linear(species, distinct, years, chunks, record, checked, start_year)
    else:
        projections = _project(species, distinct, years, chunks, record, checked, start_year, h0)
    return [projections[i] for i in index]


def _check_gene_diversity(
    species: Species, h0: npt.ArrayLike | None, shape: tuple[int, int]
) -> FloatArray:
    """The gene diversity at year 0, (replicates, populations) or (populations,), validated."""
    if h0 is None:
        return species.initial_gene_diversity
    if species.genetics is None:
        raise ValueError(
            f"initial_gene_diversity needs a species with genetics; species {species.name!r} has "
            "none"
        )
    h = np.asarray(h0, dtype=float)
    if h.shape != shape:
        raise ValueError(
            f"initial_gene_diversity must have shape (replicates, populations) = {shape!r}; got "
            f"{h.shape!r}"
        )
    if not np.all((h >= 0) & (h <= 1)):
        raise ValueError("initial_gene_diversity must hold numbers in [0, 1]")
    return h


def _distinct(schedules: list[Schedule]) -> tuple[list[Schedule], list[int]]:
    """The schedules that project differently (they may differ in ``annual_cost`` alone), and the
    index of each schedule among them."""
    distinct: list[Schedule] = []
    index = []
    for schedule in schedules:
        for k, seen in enumerate(distinct):
            if _same_projection(schedule, seen):
                index.append(k)
                break
        else:
            index.append(len(distinct))
            distinct.append(schedule)
    return distinct, index


def _same_projection(a: Schedule, b: Schedule) -> bool:
    """Whether two schedules make the engine do the same: every field but ``annual_cost`` equal."""
    if a is b:
        return True

    def same(x: Any, y: Any) -> bool:
        if dataclasses.is_dataclass(x) and dataclasses.is_dataclass(y):
            return type(x) is type(y) and all(
                same(getattr(x, f.name), getattr(y, f.name)) for f in dataclasses.fields(x)
            )
        if isinstance(x, tuple) and isinstance(y, tuple):
            return len(x) == len(y) and all(same(u, v) for u, v in zip(x, y, strict=True))
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            return bool(np.array_equal(x, y))
        return bool(x == y)

    return all(
        same(getattr(a, f.name), getattr(b, f.name))
        for f in dataclasses.fields(a)
        if f.name != "annual_cost"
    )


def _max_count(S: int, P: int) -> int:
    """The largest count of one stage in one population: S of them plus a year's births, and the
    sum over all stages and populations, then stay below 2**63 (int64)."""
    return min(_MAX_COUNT, 2**62 // ((S + 1) * P))


def _make_run(
    species: Species,
    schedules: Sequence[Schedule],
    chunks: Sequence[tuple[int, Streams]],
    start_year: int,
) -> _Run:
    sizes = [size for size, _ in chunks]
    plan = _plan(species, sum(sizes), len(schedules))
    scenarios = _Scenarios.of(schedules)
    stochastic = species.demographic_stochasticity

    def joined(generators: Sequence[np.random.Generator], axis: int) -> Rng:
        return generators[0] if len(generators) == 1 else _Chunked(generators, sizes, axis)

    parts = [streams for _, streams in chunks]
    return _Run(
        species=species,
        plan=plan,
        scenarios=scenarios,
        environment=joined([s.environment for s in parts], axis=0),
        catastrophes=joined([s.catastrophes for s in parts], axis=0),
        demo=joined([s.demography for s in parts], axis=1) if stochastic else None,
        dtype=np.int64 if stochastic else np.float64,
        max_count=_max_count(plan.S, plan.P),
        start_year=start_year,
        event_rngs=tuple(
            joined([event_stream(s.events, name, shared=members[0][1].shared) for s in parts], 0)
            for name, members in scenarios.events
        ),
        compiled=stochastic and kernels.enabled(),
        ex_situ=joined([ex_situ_stream(s.demography) for s in parts], axis=1)
        if any(schedule.programmes for schedule in schedules)
        else None,
    )


def _project(
    species: Species,
    schedules: Sequence[Schedule],
    years: int,
    chunks: Sequence[tuple[int, Streams]],
    record: Sequence[str],
    initial: npt.NDArray[Any] | None,
    start_year: int,
    gene_diversity: FloatArray | None = None,
) -> list[Projection]:
    """The replicate chunks under every schedule, year by year (:func:`_one_year`), as one wide
    array; each chunk draws from its own streams what it would draw alone (:class:`_Chunked`).
    ``gene_diversity`` at year 0: (populations,) or (replicates, populations)."""
    run = _make_run(species, schedules, chunks, start_year)
    plan = run.plan
    n = _initial_state(run, initial)
    record_year = _Recorder(run, years, record)
    record_year(0, n, np.broadcast_to(plan.K0, (plan.R, plan.P)))
    h0 = species.initial_gene_diversity if gene_diversity is None else gene_diversity
    genes = None if species.genetics is None else _Genes(run, h0)
    captive = None if run.ex_situ is None else _Captive(run, genes)
    if genes is not None:
        record_year.genes(0, genes, n)
    if captive is not None:
        record_year.captives(0, captive)
    environment = _Environment(species, plan.R, run.environment, plan.fates, plan.f_rows)
    for t in range(years):
        n, K = _one_year(run, environment, n, t, genes, captive)
        record_year(t + 1, n, K)
        if genes is not None:
            record_year.genes(t + 1, genes, n)
        if captive is not None:
            record_year.captives(t + 1, captive)
    return record_year.projections()


# --------------------------------------------------------------------------------------------------
# the fast path of a linear model


def _is_linear(species: Species, schedules: Sequence[Schedule]) -> bool:
    """Whether :func:`_project_linear` applies: without demographic stochasticity, density
    dependence, mating, catastrophes, K variation, schedule events, genetics, ex-situ programmes,
    density-dependent dispersal or a correlation between sites, with matrices chosen among a
    few (:class:`pva.model.MatrixSelection`) or constant, a year is ``n <- A_state n`` followed by
    the schedule's harvest, transfers and releases and by dispersal."""
    return (
        not species.demographic_stochasticity
        and not isinstance(species.environment, VitalRateStochasticity)
        and species.density_dependence is None
        and species.sex is None
        and not species.catastrophes
        and not any(p.carrying_capacity_cv > 0 for p in species.all_populations)
        and not any(s.events for s in schedules)
        and species.genetics is None
        and species.correlation is None
        and not (species.dispersal is not None and species.dispersal.density_dependent)
        and not any(s.programmes for s in schedules)
    )


def _project_linear(
    species: Species,
    schedules: Sequence[Schedule],
    years: int,
    chunks: Sequence[tuple[int, Streams]],
    record: Sequence[str],
    initial: npt.NDArray[Any] | None,
    start_year: int,
) -> list[Projection]:
    """The projection of a linear model (:func:`_is_linear`), all chunks at once.

    Used in place of :func:`_project` when it applies; the same numbers up to rounding (tested
    against it). Each chunk's environment stream draws its states for all years in one call, the
    same numbers :func:`_project` draws year by year, and the only stream such a model uses; so the
    chunks can be projected as one wide array. Each year, every scenario and population multiplies
    its state by all the year's matrices in one matrix product (the k matrices one below the other
    times the state, stage-major) and keeps the product with its replicate's own matrix (one
    ``take``): two large calls a year instead of steps 1-4 of :func:`_one_year`, as a plain numpy
    version of popbio's ``stoch.projection`` would do (:func:`_linear_year`). Harvest, transfers,
    releases and dispersal follow as there, in the years a scenario has them. With numba and without
    dispersal, the years in which no scenario acts run in the compiled kernel instead
    (:func:`_linear_compiled`), whose records are stored replicate-major (no transposed copy at the
    end).
    """
    R = sum(size for size, _ in chunks)
    run = _make_run(species, schedules, chunks, start_year)
    plan, scenarios = run.plan, run.scenarios
    J, _, P, S = plan.shape
    B = J * P
    environment = _Environment(species, R, chunks[0][1].environment, plan.fates, plan.f_rows)
    U, F = environment.stacks()  # (k, S, S)
    cap = cast(_Rates, environment.table).cap  # (k, S)
    states = None  # each replicate's environmental state, (years, R)
    if isinstance(species.environment, MatrixSelection):
        states = _linear_states(environment, years, chunks)
    n = _initial_state(run, initial)
    dispersing = plan.dispersal is not None and bool(plan.dispersal_stages.size)
    compiled = kernels.enabled() and not dispersing
    # the compiled kernel writes each replicate's years together: records replicate-major; numpy
    # writes a year of every replicate at a time: year-major (strided writes cost it a third)
    record_year = _Recorder(run, years, record, replicate_major=compiled)
    record_year(0, n, np.broadcast_to(plan.K0, (R, P)))
    linear = _Linear(U, F, cap, scenarios, record_year, states, R, np.arange(S * R).reshape(S, R))
    if compiled:
        _linear_compiled(run, linear, n, years)
    else:
        # the state stage-major, (J P, S, R): each stage of each scenario and population contiguous
        x = np.ascontiguousarray(n.transpose(0, 2, 3, 1)).reshape(B, S, R)
        for t in range(years):
            x = _linear_year(run, linear, x, t, acting=bool(scenarios.acting[t]) or dispersing)
    return record_year.projections()


def _linear_states(
    environment: _Environment, years: int, chunks: Sequence[tuple[int, Streams]]
) -> npt.NDArray[np.integer[Any]]:
    """The environmental state of each year and replicate, (years, R), chunk by chunk: the states
    each chunk's own stream gives it (:meth:`_Environment.states`), without holding the uniforms of
    all chunks at once."""
    env = cast(MatrixSelection, environment.env)
    if kernels.enabled() and env.transition is None:
        # iid years, in one compiled pass per chunk (the same states)
        first, later = np.cumsum(env.initial_probabilities), np.cumsum(env.weights)
        out = np.empty((years, sum(size for size, _ in chunks)), np.min_scalar_type(env.n_states))
        start = 0
        for size, streams in chunks:
            u = _state_uniforms(streams.environment, years, size)
            kernels.environment_states(u, first, later, out[:, start : start + size])
            start += size
        return out
    states = []
    for size, streams in chunks:
        environment.state = None  # each chunk starts from the initial distribution
        states.append(environment.states(_state_uniforms(streams.environment, years, size)))
    return states[0] if len(states) == 1 else np.concatenate(states, axis=1)


@dataclasses.dataclass(frozen=True, eq=False)
class _Linear:
    """What the years of a linear model (:func:`_project_linear`) read."""

    U: FloatArray
    """U of each environmental state, (k, S, S)."""
    F: FloatArray
    """F + C of each environmental state, (k, S, S)."""
    cap: FloatArray
    """The largest survival multiplier of each state and stage, (k, S)."""
    scenarios: _Scenarios
    record: _Recorder
    states: npt.NDArray[np.integer[Any]] | None
    """Each replicate's environmental state, (years, R); None: one constant matrix."""
    R: int
    base: IntArray
    """Where each stage and replicate of state 0's product is in the stacked products, (S, R)."""

    def matrices(self, t: int | slice) -> FloatArray:
        """The matrices of step(s) ``t`` with the schedules' multipliers, (J, P, k, S_to, S_from),
        or (steps, J, P, k, S, S) for a slice."""
        sm = np.minimum(self.scenarios.survival[t][..., 0, :, None, :], self.cap)  # (J, P, k, S)
        fm = self.scenarios.fecundity[t][..., 0, :, None, :]  # (J, P, 1, S)
        return cast(FloatArray, self.U * sm[..., None, :] + self.F * fm[..., None, :])


def _linear_year(run: _Run, linear: _Linear, x: FloatArray, t: int, acting: bool) -> FloatArray:
    """Step ``t`` of a linear model on the state ``x`` (J P, S, R), recorded; the new state.

    Every scenario and population multiplies its state by all the year's matrices in one matrix
    product (the k matrices one below the other times the state, stage-major) and keeps the
    product with its replicate's own matrix (one ``take``); ``acting``: then the schedule's
    harvest, transfers and releases and dispersal, as in :func:`_one_year`.
    """
    plan = run.plan
    J, _, P, S = plan.shape
    B, R = J * P, linear.R
    A = linear.matrices(t)  # (J, P, k, S_to, S_from)
    k = A.shape[2]
    products = A.reshape(B, k * S, S) @ x  # (J P, k S, R): the k matrices one below another
    if linear.states is None:
        x = products
    else:
        # where a replicate's own product is: state 0's, then k S R further per state
        index = linear.base + linear.states[t].astype(np.intp) * (S * R)
        x = np.take(products.reshape(B, -1), index.ravel(), axis=1).reshape(B, S, R)
    sums = np.stack([plan.mature, np.ones(S)]).astype(float)  # mature and total, (2, S)
    y = sums @ x  # (J P, 2, R)
    n = np.moveaxis(x.reshape(J, P, S, R), 3, 1)  # (J, R, P, S), a view
    if acting:
        n = _harvest(run, n, t)
        n = _transfers(run, n, t)
        n = _releases(run, n, t)
        if plan.dispersal is not None and plan.dispersal_stages.size:
            n = _disperse(run, n)
        x = np.ascontiguousarray(n.transpose(0, 2, 3, 1)).reshape(B, S, R)
        y = sums @ x
    y = y.reshape(J, P, 2, R)
    mature, total = np.swapaxes(y[:, :, 0], 1, 2), np.swapaxes(y[:, :, 1], 1, 2)  # (J, R, P)
    _record_linear(run, linear.record, t, mature, total, n)
    return x


def _record_linear(
    run: _Run,
    record: _Recorder,
    t: int,
    mature: npt.NDArray[Any] | None,
    total: npt.NDArray[Any] | None,
    n: npt.NDArray[Any] | None,
) -> None:
    """Record step ``t`` of a linear model: what is given, and K if it is recorded."""
    if mature is not None:
        record.put(t + 1, mature, cast(npt.NDArray[Any], total), cast(npt.NDArray[Any], n), None)
    if record.K is not None:
        record.K[t + 1] = _carrying_capacity(run, None, t)


def _linear_compiled(run: _Run, linear: _Linear, n: npt.NDArray[Any], years: int) -> None:
    """The years of a linear model without dispersal in the compiled kernel
    (:func:`pva.kernels.linear_years`), the years in which a schedule acts on the numpy path
    (:func:`_linear_year`); the state ``n`` (J, R, P, S) at year 0."""
    plan, scenarios = run.plan, linear.scenarios
    J, R, P, S = plan.shape
    B = J * P
    x = np.ascontiguousarray(n.transpose(0, 2, 1, 3)).reshape(B, R, S)  # replicate-major
    constant = bool(
        np.all(scenarios.survival[:years] == scenarios.survival[:1])
        and np.all(scenarios.fecundity[:years] == scenarios.fecundity[:1])
    )
    A = linear.matrices(slice(0, 1) if constant else slice(0, years))  # (T|1, J, P, k, S, S)
    AT = np.ascontiguousarray(np.swapaxes(A, -1, -2)).reshape(A.shape[0], B, *A.shape[3:])
    states = (
        np.broadcast_to(np.zeros(1, dtype=np.uint8), (years, R))
        if linear.states is None
        else linear.states
    )
    record = linear.record
    weights = plan.mature.astype(float)
    acting = np.flatnonzero(scenarios.acting[:years])
    for start, stop in zip([0, *(acting + 1)], [*acting, years], strict=True):
        if stop > start:
            kernels.linear_years(
                AT,
                states,
                x,
                weights,
                (start, stop),
                P,
                record.mature,
                record.total,
                record.abundance,
            )
            if record.K is not None:
                for t in range(start, stop):
                    _record_linear(run, record, t, None, None, None)
        if stop < years:  # a year in which a schedule acts
            xs = np.ascontiguousarray(np.swapaxes(x, 1, 2))  # (B, S, R)
            xs = _linear_year(run, linear, xs, stop, acting=True)
            x = np.ascontiguousarray(np.swapaxes(xs, 1, 2))


def _by_population(n: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The state (J, R, P, S) as (J P, R, S)."""
    J, R, P, S = n.shape
    return np.ascontiguousarray(np.swapaxes(n, 1, 2)).reshape(J * P, R, S)


def _by_replicate(n: npt.NDArray[Any], J: int, P: int) -> npt.NDArray[Any]:
    """(J P, R, S) back to the state (J, R, P, S)."""
    _, R, S = n.shape
    return np.ascontiguousarray(np.swapaxes(n.reshape(J, P, R, S), 1, 2))


# --------------------------------------------------------------------------------------------------
# genetics and ex-situ populations


class _Genes:
    """Gene diversity ``h`` and purged inbreeding coefficient ``g`` of every scenario, replicate
    and site, (J, R, P), relative to the species' reference; the formulas are :mod:`pva.genetics`'.

    Each year: the effective size of the year's breeders sets the gene diversity of the offspring
    they make, ``h' = h (1 - 1/(2 Ne))^(1/G)``, and their ``g'`` (:meth:`breed`); inbreeding
    depression lowers first-year survival by the inbreeding ``F = 1 - h`` of the first-year
    individuals, born the year before, and fecundity by that of the offspring being made,
    ``1 - h'`` (:meth:`depress`); right after births the population's gene diversity becomes
    ``h'`` (:meth:`drift`); then every arrival (translocation, release, immigrant) mixes its gene
    diversity into the receiving site, weighted by numbers (:meth:`mix`, :meth:`disperse`). The
    recorded gene diversity of year t is thus that of the individuals born up to year t, and
    ``1 - h`` the expected inbreeding of those born in step t - 1.
    """

    def __init__(self, run: _Run, h0: FloatArray) -> None:
        species = run.species
        self.run = run
        self.spec = cast(Genetics, species.genetics)
        self.G = float(cast(float, species.generation_length))
        self.h: FloatArray = np.broadcast_to(h0, run.plan.shape[:3]).astype(float)
        self.g: FloatArray = 1.0 - self.h  # no purging history at the start: g = F
        self.next_h, self.next_g = self.h, self.g
        self.first_year = species.first_year_mask
        self.fecund = run.plan.fec_cols

    def fitness(self, h: FloatArray, g: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Survival (first year) and fecundity multipliers of inbreeding depression."""
        spec = self.spec
        inbreeding = 1.0 - h
        surv = genetics.depression(
            inbreeding,
            g,
            lethal_equivalents=spec.lethal_equivalents,
            lethal_proportion=spec.lethal_proportion,
        )
        fec = genetics.depression(
            inbreeding,
            g,
            lethal_equivalents=spec.fecundity_lethal_equivalents,
            lethal_proportion=spec.lethal_proportion,
        )
        return surv, fec

    def breed(self, ne: FloatArray) -> None:
        """The gene diversity and purged coefficient of the offspring of this year's breeders,
        whose effective size is ``ne`` (J, R, P)."""
        kept = genetics.retention(ne, self.G)
        self.next_g = genetics.purged(
            self.g, 1.0 - self.h, kept, purging=self.spec.purging, generation_length=self.G
        )
        self.next_h = self.h * kept

    def depress(self, surv_m: FloatArray, fec_m: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The multipliers (J|1, R|1, P, S) times this year's inbreeding depression: first-year
        survival by the inbreeding of the population, fecundity by that of its offspring (after
        :meth:`breed`)."""
        surv, _ = self.fitness(self.h, self.g)
        surv_m = surv_m * np.where(self.first_year, surv[..., None], 1.0)
        if self.spec.fecundity_lethal_equivalents > 0:
            _, fec = self.fitness(self.next_h, self.next_g)
            fec_m = fec_m * fec[..., None]
        return surv_m, fec_m

    def effective_size(self, n: npt.NDArray[Any], males: npt.NDArray[Any] | None) -> FloatArray:
        """Ne of the breeders at the start of the year (J, R, P): the mature individuals ``n``
        (J, R, P, S) by stage and, with :class:`~pva.model.Mating`, the males drawn this year."""
        return _effective_size(
            self.run, self.spec, n[..., self.run.plan.mature].sum(axis=-1), males
        )

    def drift(self) -> None:
        """One year's loss of gene diversity and the purged coefficient (of :meth:`breed`)."""
        self.h, self.g = self.next_h, self.next_g

    def mix(
        self,
        index: tuple[Any, ...],
        residents: npt.ArrayLike,
        h_in: npt.ArrayLike,
        arrivals: npt.ArrayLike,
        g_in: npt.ArrayLike | None = None,
    ) -> None:
        """``arrivals`` of gene diversity ``h_in`` (purged coefficient ``g_in``, default their
        inbreeding ``1 - h_in``) join ``residents`` at ``h[index]``."""
        g_in = 1.0 - np.asarray(h_in) if g_in is None else g_in
        self.g[index] = genetics.mix(self.g[index], residents, g_in, arrivals)
        self.h[index] = genetics.mix(self.h[index], residents, h_in, arrivals)

    def disperse(self, individuals: FloatArray, emigrants: FloatArray, flows: FloatArray) -> None:
        """Dispersal of the year: ``individuals`` and ``emigrants`` (J, R, P) of each site before
        it, ``flows[..., i, j]`` (J, R, P, P) the immigrants that reached i from j alive."""
        stay = individuals - emigrants
        arrivals = flows.sum(axis=-1)
        h_in = _weighted_in(flows, self.h)
        g_in = _weighted_in(flows, self.g)
        self.g = genetics.mix(self.g, stay, g_in, arrivals)
        self.h = genetics.mix(self.h, stay, h_in, arrivals)


def _weighted_in(flows: FloatArray, values: FloatArray) -> FloatArray:
    """The mean of ``values`` (J, R, P) of the sources of the immigrants of each site, weighted by
    ``flows[..., to, from]`` (0 where none arrive)."""
    total = flows.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.einsum("...ij,...j->...i", flows, values) / total
    return np.where(total > 0, mean, 0.0)


def _effective_size(
    run: _Run, spec: Genetics, mature: npt.NDArray[Any], males: npt.NDArray[Any] | None
) -> FloatArray:
    """Ne from the mature individuals (females only under Mating) and the males drawn
    (:func:`pva.genetics.effective_size`), or ``effective_size_ratio`` x N (both sexes)."""
    mating = run.species.sex
    if spec.effective_size_ratio is not None:
        both = mature if mating is None else mature / mating.sex_ratio
        return genetics.effective_size_from_ratio(both, spec.effective_size_ratio)
    if mating is None:
        half = np.asarray(mature, dtype=float) / 2.0
        return genetics.effective_size(half, half, family_size_variance=spec.family_size_variance)
    if males is None:
        males = mature * ((1 - mating.sex_ratio) / mating.sex_ratio)
    females = np.minimum(mature, mating.harem_size * males)
    sires = females / mating.harem_size
    if run.demo is not None:
        sires = np.ceil(sires)
    sires = np.minimum(males, sires)
    return genetics.effective_size(females, sires, family_size_variance=spec.family_size_variance)


class _Captive:
    """The ex-situ populations of every scenario (:class:`pva.schedule.Captive`): individuals
    ``n`` (J, R, C, S), C the most programmes a scenario has, and their gene diversity; all draws
    from the ex-situ stream (``run.ex_situ``)."""

    def __init__(self, run: _Run, genes: _Genes | None) -> None:
        J, R, _, S = run.plan.shape
        self.run = run
        self.rng = cast(Rng, run.ex_situ)
        self.programmes = [s.programmes for s in run.scenarios.schedules]
        C = max(len(p) for p in self.programmes)
        self.n: npt.NDArray[Any] = np.zeros((J, R, C, S), dtype=run.dtype)
        self.h: FloatArray | None = None if genes is None else np.ones((J, R, C))
        self.g: FloatArray | None = None if genes is None else np.zeros((J, R, C))
        self.genes = genes
        species = run.species
        fates = run.plan.fates
        self.u = species.U_array[fates.destination, fates.source]  # (E,)
        colsum = species.U_array.sum(axis=0)
        with np.errstate(divide="ignore"):
            self.cap = np.where(colsum > 0, 1.0 / np.where(colsum > 0, colsum, 1.0), np.inf)
        self.F = (species.F_array + species.C_array)[run.plan.f_rows, :]  # (f, S)
        shape = (J, 1, C, S)
        self.survival = np.ones(shape)
        self.fecundity = np.ones(shape)
        self.producing = np.zeros((J, 1, C), dtype=bool)
        self.capacity = np.zeros((run.scenarios.survival.shape[0], J, 1, C))
        for j, programmes in enumerate(self.programmes):
            for c, programme in enumerate(programmes):
                self.survival[j, 0, c] = programme.survival_multiplier
                self.fecundity[j, 0, c] = programme.fecundity_multiplier
                self.producing[j, 0, c] = programme.production is not None
                self.capacity[:, j, 0, c] = programme.capacity
        self.available: npt.NDArray[Any] | None = None

    def collect(self, n: npt.NDArray[Any], t: int, genes: _Genes | None) -> npt.NDArray[Any]:
        """Founders of step ``t``: at most what the source has, taken from the wild state ``n``
        (J, R, P, S) into captivity with their gene diversity."""
        for j, programmes in enumerate(self.programmes):
            for c, programme in enumerate(programmes):
                want = programme.founders[t]
                if not np.any(want > 0):
                    continue
                have = n[j : j + 1, :, programme.source]  # (1, R, S)
                if self.run.demo is not None:
                    wanted = _per_chunk(self.rng, _whole, np.broadcast_to(want, have.shape))
                else:
                    wanted = np.broadcast_to(want, have.shape)
                moved = np.minimum(wanted, have)[0]
                if genes is not None and self.h is not None and self.g is not None:
                    residents = self.n[j, :, c].sum(axis=-1)
                    arrivals = moved.sum(axis=-1)
                    src = (j, slice(None), programme.source)
                    self.g[j, :, c] = genetics.mix(
                        self.g[j, :, c], residents, genes.g[src], arrivals
                    )
                    self.h[j, :, c] = genetics.mix(
                        self.h[j, :, c], residents, genes.h[src], arrivals
                    )
                n = n.copy()
                n[j, :, programme.source] -= moved
                self.n[j, :, c] += moved
        return n

    def year(self, t: int) -> None:
        """The captive year: fates and births by the captive rates (or production), inbreeding
        depression, the loss of gene diversity, truncation to capacity."""
        run, plan = self.run, self.run.plan
        n = self.n
        surv = np.broadcast_to(self.survival, n.shape)
        fec = np.broadcast_to(self.fecundity, n.shape)
        offspring = None  # gene diversity and purged coefficient of this year's offspring
        if self.genes is not None and self.h is not None and self.g is not None:
            genes = self.genes
            kept = genetics.retention(self._effective_size(n), genes.G)
            offspring = (
                self.h * kept,
                genetics.purged(
                    self.g,
                    1.0 - self.h,
                    kept,
                    purging=genes.spec.purging,
                    generation_length=genes.G,
                ),
            )
            ws, _ = genes.fitness(self.h, self.g)
            surv = surv * np.where(genes.first_year, ws[..., None], 1.0)
            if genes.spec.fecundity_lethal_equivalents > 0:
                _, wf = genes.fitness(*offspring)
                fec = fec * wf[..., None]
        p = self.u * np.minimum(surv, self.cap)[..., plan.fates.source]
        if run.demo is None:
            new = _by_destination(n[..., plan.fates.source] * p, plan.fates, plan.S)
            births = _matmul_last(fec * n, self.F.T)
        else:
            if run.compiled:
                new = _per_chunk(
                    self.rng,
                    lambda g, alive, prob: _compiled_fates(g, alive, prob, plan.fates),
                    n,
                    p,
                )
            else:
                new = _by_destination(_draw_fates(self.rng, n, p, plan.fates), plan.fates, plan.S)
            births = _per_chunk(self.rng, _poisson, _matmul_last(fec * n, self.F.T))
        new[..., plan.f_rows] += births
        if run.demo is not None:
            new = np.minimum(new, run.max_count)
        # a production schedule keeps its stock and produces for release instead
        producing = self.producing[..., None]
        self.n = np.where(producing, n, new)
        self.n = _ceiling(
            self.rng if run.demo is not None else None,
            self.n,
            self.capacity[t],
            np.ones(plan.S),
            np.ones(plan.S, dtype=bool),
        )
        self.available = None
        if self.producing.any():
            self.available = self._produce(t)
        if offspring is not None:
            self.h, self.g = offspring

    def _produce(self, t: int) -> npt.NDArray[Any]:
        """Individuals produced for release this year by production schedules, (J, R, C, S)."""
        J, _, C, S = self.n.shape
        mean = np.zeros((J, 1, C, S))
        for j, programmes in enumerate(self.programmes):
            for c, programme in enumerate(programmes):
                if programme.production is not None:
                    mean[j, 0, c] = programme.production[t]
        stocked = self.n.sum(axis=-1, keepdims=True) > 0
        mean = np.where(stocked, mean, 0.0)
        if self.run.demo is None:
            return mean
        return cast(npt.NDArray[Any], _per_chunk(self.rng, _poisson, mean))

    def _effective_size(self, n: npt.NDArray[Any]) -> FloatArray:
        """Ne of each programme's breeders (J, R, C): its own ratio, or the species' genetics rule
        (both sexes counted among the breeders, half each). The breeders are the mature
        individuals, or, for a production schedule, the whole stock it produces from."""
        genes = cast(_Genes, self.genes)
        mature = n[..., self.run.plan.mature].sum(axis=-1).astype(float)
        breeders = np.where(self.producing, n.sum(axis=-1), mature).astype(float)
        # a managed stock: no drawn males, the expected ones under Mating
        ne = _effective_size(self.run, genes.spec, breeders, None)
        for j, programmes in enumerate(self.programmes):
            for c, programme in enumerate(programmes):
                if programme.effective_size_ratio is not None:
                    ne[j, :, c] = genetics.effective_size_from_ratio(
                        breeders[j, :, c], programme.effective_size_ratio
                    )
        return ne

    def release(self, n: npt.NDArray[Any], t: int, genes: _Genes | None) -> npt.NDArray[Any]:
        """Releases of step ``t`` from captivity into the wild state ``n`` (J, R, P, S): at most
        what is available, population by population, each surviving release (binomial)."""
        demo = self.run.demo is not None
        for j, programmes in enumerate(self.programmes):
            for c, programme in enumerate(programmes):
                wants = programme.release_number[t]  # (P, S)
                if not np.any(wants > 0):
                    continue
                pool = self.available if programme.production is not None else self.n
                if pool is None:
                    continue
                for p in np.flatnonzero(wants.sum(axis=-1) > 0):
                    have = pool[j : j + 1, :, c]  # (1, R, S)
                    want = np.broadcast_to(wants[p], have.shape)
                    wanted = _per_chunk(self.rng, _whole, want) if demo else want
                    taken = np.minimum(wanted, have)
                    survival = np.broadcast_to(programme.release_survival[t, p], have.shape)
                    alive = (
                        _per_chunk(self.rng, _binomial, taken, survival)
                        if demo
                        else taken * survival
                    )[0]
                    pool[j, :, c] -= taken[0]
                    if genes is not None and self.h is not None and self.g is not None:
                        genes.mix(
                            (j, slice(None), p),
                            n[j, :, p].sum(axis=-1),
                            self.h[j, :, c],
                            alive.sum(axis=-1),
                            self.g[j, :, c],
                        )
                    n = n.copy()
                    n[j, :, p] += alive
        return n


# --------------------------------------------------------------------------------------------------
# one year


def _one_year(
    run: _Run,
    environment: _Environment,
    n: npt.NDArray[Any],
    t: int,
    genes: _Genes | None = None,
    captive: _Captive | None = None,
) -> tuple[npt.NDArray[Any], FloatArray]:
    """Step ``t``: the state ``n`` (J, R, P, S) at year t -> at year t + 1, and this year's K
    (J, R|1, P). ``genes`` and ``captive`` (genetics, ex-situ populations) change in place."""
    if captive is not None:  # 0. founders into captivity, at the start of the step
        n = captive.collect(n, t, genes)
    rates = environment.year()  # 1. environment
    K = _carrying_capacity(run, environment, t)
    surv_m, fec_m, K = _modifiers(run, t, K)  # 2. schedule, catastrophes, events
    surv_m, fec_m, males = _density_and_mating(run, n, K, surv_m, fec_m)  # 3.
    if genes is not None:  # this year's breeders, their offspring, inbreeding depression
        genes.breed(genes.effective_size(n, males))
        surv_m, fec_m = genes.depress(surv_m, fec_m)
    surv_m = rates.capped(surv_m)  # survival may not exceed 1
    n = _survival_and_births(run, n, rates, surv_m, fec_m)  # 4.
    if genes is not None:
        genes.drift()
    if captive is not None:
        captive.year(t)
    n = _harvest(run, n, t)  # 5.
    n = _transfers(run, n, t, genes)  # 6.
    n = _releases(run, n, t, genes)
    if captive is not None:
        n = captive.release(n, t, genes)
    if run.plan.dispersal is not None and run.plan.dispersal_stages.size:  # 7.
        n = _disperse(run, n, K, genes)
    if run.demo is not None:  # releases and immigrants may have pushed a count past the cap
        n = np.minimum(n, run.max_count)
    if run.plan.ceiling:  # 8.
        n = _ceiling(run.demo, n, K, run.plan.weights, run.plan.counted)
    return n, K


def _carrying_capacity(run: _Run, environment: _Environment | None, t: int) -> FloatArray:
    """This year's K (J, R|1, P): trend, lognormal variation (environment stream, drawn after the
    matrices) and the schedule's multiplier."""
    plan = run.plan
    K = plan.K0 * plan.k_growth ** (run.start_year + t)  # (P,)
    if plan.any_k_noise and environment is not None:
        zk = environment.carrying_capacity_scores(plan.P)
        # lognormal with mean 1 and the population's CV
        K = K * np.exp(plan.k_sigma * zk - plan.k_sigma**2 / 2)
    return _scale_k(np.broadcast_to(K, (1, *np.shape(K))), run.scenarios.capacity[t])


def _modifiers(run: _Run, t: int, K: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Survival and fecundity multipliers (J, R|1, P, S) of step ``t`` from the schedules,
    catastrophes (every type every year, from the catastrophes stream) and the schedules' events
    (each name from its own stream, shared by the scenarios that have it); K (J, R|1, P) scaled by
    those that strike."""
    plan, scenarios = run.plan, run.scenarios
    surv_m, fec_m = scenarios.survival[t], scenarios.fecundity[t]  # (J, 1, P, S)
    for c, cs, cf in zip(
        run.species.catastrophes, plan.catastrophe_survival, plan.catastrophe_fecundity, strict=True
    ):
        hit = run.catastrophes.random((plan.R, plan.P)) < c.probability
        if c.scope == "species":
            hit = np.broadcast_to(hit[:, :1], (plan.R, plan.P))
        surv_m = surv_m * np.where(hit[..., None], cs, 1.0)
        fec_m = fec_m * np.where(hit[..., None], cf, 1.0)
        K = _scale_k(K, np.where(hit, c.carrying_capacity_multiplier, 1.0))
    if scenarios.events:
        shape = plan.shape
        surv_m = np.broadcast_to(surv_m, shape).copy()
        fec_m = np.broadcast_to(fec_m, shape).copy()
        K = np.broadcast_to(K, shape[:3]).copy()
        for (_, members), rng in zip(scenarios.events, run.event_rngs, strict=True):
            u = rng.random(plan.R)
            for j, e in members:
                hit = (u < e.probability[t])[:, None]  # (R, 1)
                surv_m[j] *= np.where(hit[..., None], e.survival_multiplier, 1.0)
                fec_m[j] *= np.where(hit[..., None], e.fecundity_multiplier, 1.0)
                K[j] = _scale_k(K[j], np.where(hit, e.carrying_capacity_multiplier, 1.0))
    return surv_m, fec_m, K


def _density_and_mating(
    run: _Run, n: npt.NDArray[Any], K: FloatArray, surv_m: FloatArray, fec_m: FloatArray
) -> tuple[FloatArray, FloatArray, npt.NDArray[Any] | None]:
    """Multipliers scaled by density dependence and mate limitation, both from the abundance at
    the start of the year; the number of males is drawn from the demography stream (and
    returned, (J, R, P); None without :class:`~pva.model.Mating`)."""
    g_fec, g_surv = _density_multipliers(run.species, run.plan, n, K)
    if g_fec is not None:
        fec_m = fec_m * g_fec[..., None]
    if g_surv is not None:
        surv_m = surv_m * g_surv[..., None]
    mating = run.species.sex
    males = None
    if mating is not None:
        females = n[..., run.plan.mature].sum(axis=-1)
        ratio = (1 - mating.sex_ratio) / mating.sex_ratio
        males = (
            _per_chunk(run.demo, _poisson, females * ratio)
            if run.demo is not None
            else females * ratio
        )
        mated = np.minimum(females, mating.harem_size * males)
        with np.errstate(divide="ignore", invalid="ignore"):
            fec_m = (
                fec_m
                * np.where(females > 0, mated / np.where(females > 0, females, 1), 1.0)[..., None]
            )
    return surv_m, fec_m, males


def _survival_and_births(
    run: _Run,
    n: npt.NDArray[Any],
    rates: _Rates,
    surv_m: FloatArray,
    fec_m: FloatArray,
) -> npt.NDArray[Any]:
    """Next year's individuals: each individual's fate a multinomial over its column of U (a chain
    of binomials, :func:`_draw_fates`), plus births — Poisson(F n) or binomial litters — from the
    demography stream."""
    plan, demo, species = run.plan, run.demo, run.species
    fates = plan.fates
    p = rates.entries(surv_m, fates)  # (J|1, R|1, P, E)
    poisson = plan.f_rows.size > 0 and (species.litter == "poisson" or demo is None)
    with np.errstate(over="ignore"):  # an exploding mean is inf here; _poisson caps it
        mean = rates.births(fec_m * n) if poisson else None  # (J, R, P, f)
    if demo is None:
        new = _by_destination(n[..., fates.source] * p, fates, plan.S)
        if mean is not None:
            new[..., plan.f_rows] += mean
        return new
    if run.compiled:
        new = _per_chunk(demo, lambda g, alive, prob: _compiled_fates(g, alive, prob, fates), n, p)
    else:
        new = _by_destination(_draw_fates(demo, n, p, fates), fates, plan.S)
    if mean is not None:
        new[..., plan.f_rows] += _per_chunk(demo, _poisson, mean)
    elif plan.f_rows.size:
        new[..., plan.f_rows] += _litters(run, n, rates, fec_m)
    return np.minimum(new, run.max_count)


def _compiled_fates(
    rng: np.random.Generator, n: IntArray, p: FloatArray, fates: _Fates
) -> IntArray:
    """Survivors by destination stage, (..., S), drawn by the compiled kernel (the same numbers)."""
    S, E = n.shape[-1], p.shape[-1]
    N = int(np.prod(n.shape[:-1]))
    survivors = kernels.fates(
        rng,
        n.reshape(N, S),
        np.broadcast_to(p, (*n.shape[:-1], E)).reshape(N, E),
        fates.sources,
        fates.levels,
        fates.destination,
    )
    return survivors.reshape(n.shape)


def _litters(run: _Run, n: IntArray, rates: _Rates, fec_m: FloatArray) -> IntArray:
    """Births as binomial litters, (J, R, P, f): each individual of a producing stage has
    ``Bin(max_litter, F / max_litter)`` offspring, shared among the offspring stages in proportion
    to their entries of F (a binomial chain)."""
    plan = run.plan
    L = run.species.max_litter or 1
    births = np.zeros((*plan.shape[:3], plan.f_rows.size), dtype=np.int64)
    for j in plan.fec_cols:
        column = rates.offspring_column(j)  # F + C at the offspring rows, from stage j
        total = column.sum(axis=-1)  # (R|1, 1|P)
        per_capita = total * fec_m[..., j]  # (J, R|1, P)
        trials = np.minimum(n[..., j], 2**62 // L) * L  # no int64 overflow
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = [
                np.where(total > 0, column[..., a] / total, 0.0) * (per_capita > 0)
                for a in range(plan.f_rows.size)
            ]
        litters = _per_chunk(run.demo, _litter, trials, np.clip(per_capita / L, 0.0, 1.0), *shares)
        births += np.stack(np.broadcast_arrays(*litters), axis=-1)
    return births


def _litter(
    rng: np.random.Generator, trials: IntArray, p: FloatArray, *shares: FloatArray
) -> list[IntArray]:
    """The offspring of ``trials`` Bernoulli(``p``) chances, shared among the offspring stages."""
    return _binomial_chain(rng, rng.binomial(trials, p), list(shares))


def _harvest(run: _Run, n: npt.NDArray[Any], t: int) -> npt.NDArray[Any]:
    """Remove a binomial proportion, then a Poisson number capped at what is there."""
    demo = run.demo
    h_prop, h_num = run.scenarios.harvest_proportion[t], run.scenarios.harvest_number[t]
    if run.scenarios.harvesting[t]:
        n = n - (
            _per_chunk(demo, _binomial, n, np.broadcast_to(h_prop, n.shape))
            if demo is not None
            else n * h_prop
        )
    if run.scenarios.culling[t]:
        take = (
            _per_chunk(demo, _poisson, np.broadcast_to(h_num, n.shape))
            if demo is not None
            else h_num
        )
        n = n - np.minimum(n, take)
    return n


def _transfers(
    run: _Run, n: npt.NDArray[Any], t: int, genes: _Genes | None = None
) -> npt.NDArray[Any]:
    """Translocations between populations, scenario by scenario and in order: at most what the
    donor has is moved, and each moved individual survives release with the transfer's probability
    (binomial), bringing the donor's gene diversity."""
    demo = run.demo
    for j, schedule in enumerate(run.scenarios.schedules):
        for tr in schedule.transfers:
            want = tr.number[t]  # (S,)
            if not np.any(want > 0):
                continue
            have = n[j : j + 1, :, tr.source]  # (1, R, S)
            if demo is not None:
                wanted = _per_chunk(demo, _whole, np.broadcast_to(want, have.shape))
                moved = np.minimum(wanted, have)
                arrived = _per_chunk(demo, _binomial, moved, tr.survival)
            else:
                moved = np.minimum(want, have)
                arrived = moved * tr.survival
            n = n.copy()
            n[j, :, tr.source] -= moved[0]
            if genes is not None:
                donor = (j, slice(None), tr.source)
                genes.mix(
                    (j, slice(None), tr.population),
                    n[j, :, tr.population].sum(axis=-1),
                    genes.h[donor],
                    arrived[0].sum(axis=-1),
                    genes.g[donor],
                )
            n[j, :, tr.population] += arrived[0]
    return n


def _releases(
    run: _Run, n: npt.NDArray[Any], t: int, genes: _Genes | None = None
) -> npt.NDArray[Any]:
    """Releases from outside the model: a whole number by unbiased random rounding, each surviving
    release with the schedule's probability (binomial), with the gene diversity
    ``Genetics.release_gene_diversity``."""
    demo, scenarios = run.demo, run.scenarios
    rel = scenarios.release_number[t]
    if not scenarios.releasing[t]:
        return n
    if demo is None:
        alive = rel * scenarios.release_survival[t]
    else:
        released = _per_chunk(demo, _whole, np.broadcast_to(rel, n.shape))
        survival = np.broadcast_to(scenarios.release_survival[t], n.shape)
        alive = _per_chunk(demo, _binomial, released, survival)
    if genes is not None:
        h_in = genes.spec.release_gene_diversity
        arrivals = np.broadcast_to(alive, n.shape).sum(axis=-1)
        genes.mix((Ellipsis,), n.sum(axis=-1), h_in, arrivals)
    return n + alive


def _scale_k(K: FloatArray, multiplier: npt.NDArray[Any]) -> FloatArray:
    """Multiply K, leaving unlimited (infinite) K unlimited even under a multiplier of 0."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(K), K, K * multiplier)


def _disperse(
    run: _Run, n: npt.NDArray[Any], K: FloatArray | None = None, genes: _Genes | None = None
) -> npt.NDArray[Any]:
    """Move individuals among populations: from population j to i with probability
    ``D[i, j] w_s g_j`` for stage s (a multinomial over destinations, drawn as a binomial chain),
    ``w_s`` the stage's relative rate and, with density-dependent emigration, ``g_j = min(1,
    N_j / K_j)``; each disperser then survives transit with ``1 - mortality`` (binomial). The moves
    conserve individuals; only transit mortality removes some. Immigrants bring their source's
    gene diversity.

    All sources and dispersing stages draw together: the chain goes over the destinations, one
    binomial call per destination on the (scenario, replicate, source, stage) array, so that ten
    sites cost ten calls a year, not a hundred."""
    plan, demo = run.plan, run.demo
    D = cast(FloatArray, plan.dispersal)
    stages = plan.dispersal_stages
    mortality = plan.dispersal_mortality
    P = D.shape[0]
    # rates of each destination i from each source j, by dispersing stage: (P_to, P_from, S')
    rates = D[:, :, None] * plan.dispersal_weights[stages][None, None, :]
    if plan.dispersal_density and K is not None:
        N = _matmul_last(n, plan.weights)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(K > 0, np.minimum(N / np.where(K > 0, K, 1.0), 1.0), 1.0)
        rates = rates[:, None, None] * scale[..., None]  # (P_to, J|1, R|1, P_from, S')
    dests = [i for i in range(P) if np.any(D[i] > 0)]
    if not dests:
        return n
    src = n[..., stages]  # (J, R, P_from, S')
    # probabilities of each destination, (J|1, R|1, P_from, S', destinations)
    probs = np.stack(np.broadcast_arrays(*(rates[i] for i in dests)), axis=-1)
    # dispersers by (source, stage, destination)
    left = src[..., None] * probs if demo is None else _per_chunk(demo, _dispersers, src, probs)
    arrived = left if mortality == 0 else _survivors(demo, left, 1.0 - mortality)
    moved = np.zeros(src.shape, dtype=np.result_type(n, arrived))
    moved -= left.sum(axis=-1)
    for k, i in enumerate(dests):
        moved[..., i, :] += arrived[..., k].sum(axis=-2)
    if genes is not None:
        # immigrants alive by (to, from), (J, R, P, P), and emigrants by source, (J, R, P)
        flows = np.zeros((*n.shape[:-1], P))
        flows[..., dests, :] = np.moveaxis(arrived.sum(axis=-2), -1, -2)
        genes.disperse(n.sum(axis=-1).astype(float), left.sum(axis=(-2, -1)), flows)
    n = n.copy()
    n[..., stages] += moved
    return n


def _dispersers(
    rng: np.random.Generator, n: npt.NDArray[Any], probs: FloatArray
) -> npt.NDArray[np.int64]:
    """Dispersers of ``n`` (any shape) to each destination with probabilities ``probs`` (shape of
    ``n`` plus destinations, summing to at most 1), a multinomial draw in two steps: the number
    that leave, ``E ~ Bin(n, sum_i p_i)``, then where ``E > 0`` (few places) their destinations,
    ``Multinomial(E, p / sum_i p_i)``."""
    total = np.clip(probs.sum(axis=-1), 0.0, 1.0)
    leaving = rng.binomial(n, np.broadcast_to(total, n.shape))
    out = np.zeros((*leaving.shape, probs.shape[-1]), dtype=np.int64)
    where = np.nonzero(leaving)
    if where[0].size:
        p = np.broadcast_to(probs, out.shape)[where]
        p = p / p.sum(axis=-1, keepdims=True)
        out[where] = rng.multinomial(leaving[where], p)
    return out


def _survivors(rng: Rng | None, x: npt.NDArray[Any], p: float) -> npt.NDArray[Any]:
    """Survivors among ``x`` with probability ``p`` each (binomial; the expectation without
    ``rng``)."""
    if rng is None:
        return x * p
    return cast(npt.NDArray[Any], _per_chunk(rng, _binomial, x, np.full(np.shape(x), p)))


def _ceiling(
    demo: Rng | None,
    n: npt.NDArray[Any],
    K: FloatArray,
    weights: FloatArray,
    counted: npt.NDArray[np.bool_],
) -> npt.NDArray[Any]:
    """Truncate weighted abundance to K (RAMAS ceiling; Akçakaya 2000).

    Where ``N_w = sum_s w_s n_s`` exceeds K, a fraction ``K / N_w`` of the counted individuals is kept
    (with 0/1 weights, exactly ``floor(K)``), chosen at random without replacement across the counted
    stages: a chain of hypergeometric draws (multivariate hypergeometric thinning, :func:`_thin`).
    """
    N = _matmul_last(n, weights)
    over = N > K
    if not np.any(over):
        return n
    idx = np.flatnonzero(counted)
    if demo is None:
        scale = np.where(over, K / np.where(over, N, 1.0), 1.0)
        n = n.copy()
        n[..., idx] = n[..., idx] * scale[..., None]
        return n
    sub = n[..., idx]  # (J, R, P, c)
    pool = sub.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(over, np.floor(pool * np.minimum(K / np.where(over, N, 1.0), 1.0)), pool)
        # pool * (K / N) is rounded in floating point and can land on the integer just above the
        # exact value (K = 199.99999999999997, pool = N = 201 gives 200): keep the weighted
        # abundance at or below K
        target = np.where(over & (target * N > K * pool), target - 1, target)
    n = n.copy()
    n[..., idx] = _per_chunk(demo, _thin, sub, target.astype(np.int64), over)
    return n


def _thin(
    rng: np.random.Generator, sub: IntArray, keep: IntArray, over: npt.NDArray[np.bool_]
) -> IntArray:
    """Keep ``keep`` (...) of the individuals ``sub`` (..., c) at random without replacement: a chain
    of hypergeometric draws over the c stages. Draws nothing when no population is ``over`` K."""
    if not np.any(over):
        return sub
    pool_left = sub.sum(axis=-1)
    keep_left = keep
    kept = np.zeros_like(sub)
    c = sub.shape[-1]
    for k in range(c - 1):
        good = sub[..., k]
        bad = pool_left - good
        x = _hypergeometric(rng, good, bad, keep_left)
        kept[..., k] = x
        keep_left = keep_left - x
        pool_left = bad
    kept[..., c - 1] = keep_left
    return kept


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
        for a constant environment. Index ``t`` is the step from year t to t + 1. When the sites
        have a correlation (:class:`pva.model.SiteCorrelation`), every array has a last axis of
        populations, (replicates, years, populations), and a MatrixSelection also gives ``"score"``:
        the normal scores whose ``Phi`` picked each site's state; with carrying-capacity variation,
        ``"carrying_capacity_score"`` (replicates, years, populations) holds its normal scores.
    """
    u_pattern, f_pattern = _structure(species)
    f_rows = np.flatnonzero(f_pattern.any(axis=1))
    env = _Environment(species, int(replicates), rng, _fates(u_pattern), f_rows)
    k_noise = any(p.carrying_capacity_cv > 0 for p in species.all_populations)
    by_site = env.site_root is not None
    shape = (int(replicates), species.n_populations) if by_site else (int(replicates),)
    out: dict[str, list[npt.NDArray[Any]]] = {}
    for _ in range(int(years)):
        if isinstance(species.environment, MatrixSelection):
            env.year()
            out.setdefault("state", []).append(cast(npt.NDArray[np.int64], env.state))
            if by_site:
                out.setdefault("score", []).append(cast(FloatArray, env.score))
        elif isinstance(species.environment, VitalRateStochasticity):
            for name, value in env.rates(species.environment).items():
                out.setdefault(name, []).append(np.broadcast_to(value, shape))
        if k_noise:  # keep the stream in step with project()
            z = env.carrying_capacity_scores(species.n_populations)
            if by_site:
                out.setdefault("carrying_capacity_score", []).append(z)
    return {k: np.stack(v, axis=1) for k, v in out.items()}
