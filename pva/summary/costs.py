"""What interventions cost and what they buy: expected costs, cost-effectiveness and a ranking.

Costs come from the results' ``annual_cost`` (species, scenario, year): the cost of the step from
year t to t + 1, in the study's currency (``[outputs] currency``). Here they become, per replicate:

* **stopped at extinction** (the default; ``[outputs] costs_stop_at_extinction = false`` or
  ``stop_at_extinction=False`` switches it off): year t's cost of a species is paid only while the
  species is extant at the start of year t, i.e. before the replicate's first year with no
  individuals left, so a species that dies out in year 12 costs years 0..11;
* **discounted** at ``[outputs] discount_rate`` r (default 0): year t's cost counts
  ``1 / (1 + r)^t``, the present value at the start (Boardman et al. 2018, ch. 6).

The expected cost is the mean over replicates with its Monte Carlo interval. Cost-effectiveness is
a ratio of means paired by common random numbers: the expected cost beyond no action (all species)
over the expected effect, extinctions prevented or ΔRLI (Drummond et al. 2015, ch. 4: the
incremental cost-effectiveness ratio). Its interval is a paired percentile bootstrap over
replicates: replicate r of every scenario is drawn together, so the ratio's interval keeps the
pairing (Efron & Tibshirani 1993, ch. 13). When the effect's own interval includes 0 the ratio is
**not estimable**: it is NaN, and printed so.

Single interventions (scenarios with exactly one intervention, compared with no action) are ranked
by ΔRLI and by extinctions prevented per million currency units.

References
----------
Boardman, A.E., D.H. Greenberg, A.R. Vining & D.L. Weimer. 2018. Cost-Benefit Analysis: Concepts and
Practice, 5th ed. Cambridge University Press.
Drummond, M.F. et al. 2015. Methods for the Economic Evaluation of Health Care Programmes, 4th ed.
Oxford University Press.
Efron, B. & R.J. Tibshirani. 1993. An Introduction to the Bootstrap. Chapman & Hall.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import outcomes, results, streams
from pva.results import LOWER_SUFFIX, MCSE_SUFFIX, UPPER_SUFFIX

BOOTSTRAP_RESAMPLES = 2000
"""Resamples of the paired bootstrap of cost-effectiveness ratios."""
PER_COST = 1_000_000
"""Extinctions prevented are reported per this many currency units."""

FloatArray = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True, kw_only=True)
class CostSettings:
    """How costs are counted (from the study's ``[outputs]`` unless overridden)."""

    currency: str
    """The currency of every cost, e.g. "USD" ("currency units" if the study names none)."""
    discount_rate: float = 0.0
    """Annual discount rate r: year t counts 1 / (1 + r)^t."""
    stop_at_extinction: bool = True
    """Whether a species' costs stop in the replicate's year of extinction."""

    def __post_init__(self) -> None:
        if isinstance(self.discount_rate, bool) or not 0 <= float(self.discount_rate) < 1:
            raise ValueError(
                f"CostSettings.discount_rate must be in [0, 1); got {self.discount_rate!r}"
            )
        if not isinstance(self.stop_at_extinction, bool):
            raise TypeError(
                "CostSettings.stop_at_extinction must be True or False; "
                f"got {self.stop_at_extinction!r}"
            )

    def describe(self, last_year: int) -> str:
        """What a cost covers, e.g. "years 0–49, while the species is extant, present value at
        3% a year"."""
        parts = [f"years 0–{last_year}"]
        if self.stop_at_extinction:
            parts.append("while the species is extant")
        if self.discount_rate:
            parts.append(f"present value at {100 * self.discount_rate:g}% a year")
        return ", ".join(parts)


def cost_settings(
    ds: xr.Dataset,
    *,
    stop_at_extinction: bool | None = None,
    discount_rate: float | None = None,
) -> CostSettings:
    """The cost settings of ``ds``'s study, with the arguments given overriding them."""
    made = results.provenance(ds)
    return CostSettings(
        currency=made.currency,
        discount_rate=made.discount_rate if discount_rate is None else discount_rate,
        stop_at_extinction=(
            made.costs_stop_at_extinction if stop_at_extinction is None else stop_at_extinction
        ),
    )


def has_costs(ds: xr.Dataset) -> bool:
    """Whether some intervention of ``ds`` has a cost (the runner always writes ``annual_cost``;
    all zeros means none)."""
    return results.ANNUAL_COST in ds and bool((ds[results.ANNUAL_COST] != 0).any())


def replicate_costs(ds: xr.Dataset, settings: CostSettings) -> xr.DataArray:
    """Cost of each species, scenario and replicate over the simulated years, as ``settings``
    count it: dims (species, scenario, replicate), in ``settings.currency``.

    ``ds`` is in the study layout (:func:`pva.results.check`). Year t's ``annual_cost`` is the step
    from t to t + 1; with ``stop_at_extinction`` it is paid only in replicates where the species
    has individuals in year t and every year before it.
    """
    cost = ds[results.ANNUAL_COST]
    years = np.asarray(ds[results.YEAR].values, dtype=float)
    factor = xr.DataArray((1.0 + settings.discount_rate) ** -years, dims=(results.YEAR,))
    discounted = cost * factor
    if settings.stop_at_extinction:
        total = ds[results.TOTAL].sum(results.POPULATION)
        # extinct from the first year with no individuals on (a release cannot bring it back here)
        extinct = (total <= 0).cumsum(results.YEAR) > 0
        out = (discounted * ~extinct).sum(results.YEAR)
    else:
        out = discounted.sum(results.YEAR).expand_dims(
            {results.REPLICATE: ds[results.REPLICATE].values}, axis=-1
        )
    out = out.transpose(results.SPECIES, results.SCENARIO, results.REPLICATE)
    return out.assign_attrs(units=settings.currency, long_name="cost of interventions")


def _mean_and_interval(
    x: xr.DataArray, confidence: float
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray, xr.DataArray]:
    """Mean over replicates, its standard error sd/sqrt(R) and the normal interval (NaN skipped)."""
    count = x.notnull().sum(results.REPLICATE)
    mean = x.mean(results.REPLICATE, skipna=True)
    sd = (
        x.std(results.REPLICATE, ddof=1, skipna=True)
        if x.sizes[results.REPLICATE] > 1
        else 0 * mean
    )
    se = (sd / np.sqrt(count)).fillna(0.0)
    z = outcomes.z_score(confidence)
    return mean, se, mean - z * se, mean + z * se


def add_costs(
    table: xr.Dataset, ds: xr.Dataset, settings: CostSettings, *, confidence: float
) -> xr.DataArray:
    """Add ``total_cost`` (species, scenario) to ``table`` in place: the expected cost over
    replicates with ``_mcse`` and the normal interval of the mean in ``_lower``/``_upper``, in
    ``settings.currency``. Returns the per-replicate costs (:func:`replicate_costs`)."""
    per_replicate = replicate_costs(ds, settings)
    final = int(ds[results.YEAR].values[-1])
    attrs = {
        "units": settings.currency,
        "long_name": f"expected cost of interventions, {settings.describe(final - 1)}",
        "discount_rate": float(settings.discount_rate),
        "stops_at_extinction": int(settings.stop_at_extinction),
    }
    mean, se, lower, upper = _mean_and_interval(per_replicate, confidence)
    for suffix, value in (
        ("", mean),
        (MCSE_SUFFIX, se),
        (LOWER_SUFFIX, lower),
        (UPPER_SUFFIX, upper),
    ):
        table[results.TOTAL_COST + suffix] = value.assign_attrs(attrs)
    return per_replicate


def _bootstrap_ratio(
    cost: FloatArray,
    effect: FloatArray,
    rng: np.random.Generator,
    confidence: float,
    resamples: int,
) -> tuple[float, float]:
    """Percentile interval of mean(cost) / mean(effect) over paired resamples of replicates
    (replicates with a NaN effect left out); a resample with no positive effect gives +inf."""
    keep = np.isfinite(effect)
    cost, effect = cost[keep], effect[keep]
    n = cost.size
    ratios = np.empty(resamples)
    batch = max(1, 2_000_000 // max(n, 1))  # resamples per batch: bounded memory
    for start in range(0, resamples, batch):
        stop = min(start + batch, resamples)
        index = rng.integers(0, n, size=(stop - start, n))
        c = cost[index].mean(axis=1)
        e = effect[index].mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios[start:stop] = np.where(e > 0, c / e, np.inf)
    alpha = 1.0 - confidence
    low, high = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


@dataclasses.dataclass(frozen=True)
class _Effect:
    name: str
    """The table variable of the ratio."""
    per_replicate: xr.DataArray
    """The effect of each scenario against no action, (scenario, replicate)."""
    long_name: str
    units: str


def add_cost_effectiveness(
    table: xr.Dataset,
    costs: xr.DataArray,
    *,
    prevented: xr.DataArray,
    delta_rli: xr.DataArray | None,
    no_action: str,
    settings: CostSettings,
    confidence: float,
    entropy: int | None,
    single_interventions: Sequence[str] = (),
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> None:
    """Add the cost beyond no action and the cost-effectiveness of every scenario to ``table``.

    Parameters
    ----------
    costs
        :func:`replicate_costs` (species, scenario, replicate).
    prevented
        Extinctions prevented against no action in each replicate, summed over species
        (scenario, replicate).
    delta_rli
        ΔRLI against no action in each replicate (scenario, replicate), or None.
    entropy
        The results' seed entropy: the bootstrap's stream (:func:`pva.streams.bootstrap_generator`).
    single_interventions
        Scenarios that add exactly one intervention to no action: they are ranked.

    Adds (scenario): ``incremental_cost`` (with ``_mcse``, ``_lower``, ``_upper``),
    ``cost_per_extinction_prevented`` and ``cost_per_delta_rli`` (with the paired bootstrap
    interval in ``_lower``/``_upper``; NaN where the effect's interval includes 0, attribute
    ``not_estimable`` listing those scenarios), ``extinctions_prevented_per_cost`` (per
    :data:`PER_COST` currency units) and, for single interventions, ``rank_by_delta_rli`` and
    ``rank_by_cost_effectiveness`` (1 = best; NaN: not ranked).
    """
    currency = settings.currency
    total = costs.sum(results.SPECIES)
    extra = total - total.sel({results.SCENARIO: no_action})
    mean, se, lower, upper = _mean_and_interval(extra, confidence)
    attrs = {
        "units": currency,
        "long_name": f"expected cost beyond that of {no_action!r}, all species",
    }
    for suffix, value in (
        ("", mean),
        (MCSE_SUFFIX, se),
        (LOWER_SUFFIX, lower),
        (UPPER_SUFFIX, upper),
    ):
        table[results.INCREMENTAL_COST + suffix] = value.assign_attrs(attrs)
    effects = [
        _Effect(
            results.COST_PER_EXTINCTION_PREVENTED,
            prevented,
            "expected cost beyond no action per expected extinction prevented",
            f"{currency} per species",
        )
    ]
    if delta_rli is not None:
        effects.append(
            _Effect(
                results.COST_PER_DELTA_RLI,
                delta_rli,
                "expected cost beyond no action per unit of expected ΔRLI",
                f"{currency} per unit of RLI",
            )
        )
    rng = streams.bootstrap_generator(entropy)
    scenarios = results.names_of(table, results.SCENARIO)
    for effect in effects:
        _add_ratio(table, extra, effect, scenarios, no_action, confidence, rng, resamples)
    prevented_mean = prevented.mean(results.REPLICATE)
    with np.errstate(divide="ignore", invalid="ignore"):
        # no extra cost: what is prevented comes free (inf); nothing prevented for free: NaN
        free = xr.where(prevented_mean > 0, np.inf, np.nan)
        per_cost = xr.where(mean > 0, prevented_mean / mean * PER_COST, free)
    per_cost = per_cost.where(
        xr.DataArray([s != no_action for s in scenarios], dims=results.SCENARIO)
    )
    table[results.EXTINCTIONS_PREVENTED_PER_COST] = per_cost.assign_attrs(
        units=f"species per {PER_COST:,} {currency}",
        long_name=f"expected extinctions prevented per {PER_COST:,} {currency} beyond no action",
    )
    _add_ranking(table, single_interventions)


def _add_ratio(
    table: xr.Dataset,
    extra: xr.DataArray,
    effect: _Effect,
    scenarios: list[str],
    no_action: str,
    confidence: float,
    rng: np.random.Generator,
    resamples: int,
) -> None:
    """Ratio of mean extra cost to mean effect per scenario with its paired bootstrap interval."""
    value = np.full(len(scenarios), np.nan)
    low = np.full(len(scenarios), np.nan)
    high = np.full(len(scenarios), np.nan)
    not_estimable = []
    _, _, e_lower, e_upper = _mean_and_interval(effect.per_replicate, confidence)
    for i, scenario in enumerate(scenarios):
        if scenario == no_action:
            continue
        lo_e = float(e_lower.sel({results.SCENARIO: scenario}))
        hi_e = float(e_upper.sel({results.SCENARIO: scenario}))
        if not (lo_e > 0 or hi_e < 0):
            not_estimable.append(scenario)  # the effect may be 0: the ratio means nothing
            continue
        c = np.asarray(extra.sel({results.SCENARIO: scenario}).values, dtype=float)
        e = np.asarray(effect.per_replicate.sel({results.SCENARIO: scenario}).values, dtype=float)
        keep = np.isfinite(e)
        value[i] = c[keep].mean() / e[keep].mean()
        if hi_e < 0:
            continue  # the scenario does harm: no cost buys this effect
        low[i], high[i] = _bootstrap_ratio(c, e, rng, confidence, resamples)
    attrs = {
        "units": effect.units,
        "long_name": effect.long_name,
        "interval": f"paired percentile bootstrap over replicates, {resamples} resamples",
        "not_estimable": "; ".join(not_estimable),
    }
    for suffix, data in (("", value), (LOWER_SUFFIX, low), (UPPER_SUFFIX, high)):
        table[effect.name + suffix] = xr.DataArray(data, dims=(results.SCENARIO,), attrs=attrs)


def _add_ranking(table: xr.Dataset, single_interventions: Sequence[str]) -> None:
    """Ranks of the single interventions by mean ΔRLI and by extinctions prevented per cost."""
    scenarios = results.names_of(table, results.SCENARIO)
    chosen = [s for s in scenarios if s in set(single_interventions)]
    if not chosen:
        return
    not_estimable = set(
        str(table[results.COST_PER_EXTINCTION_PREVENTED].attrs.get("not_estimable", "")).split("; ")
    )
    keys = {
        results.RANK_BY_DELTA_RLI: (results.DELTA_RLI, set()),
        results.RANK_BY_COST_EFFECTIVENESS: (
            results.EXTINCTIONS_PREVENTED_PER_COST,
            not_estimable,
        ),
    }
    for rank_name, (source, excluded) in keys.items():
        if source not in table:
            continue
        ranks = np.full(len(scenarios), np.nan)
        scores = {
            s: float(table[source].sel({results.SCENARIO: s}))
            for s in chosen
            if s not in excluded and np.isfinite(float(table[source].sel({results.SCENARIO: s})))
        }
        for rank, s in enumerate(sorted(scores, key=lambda k: -scores[k]), start=1):
            ranks[scenarios.index(s)] = rank
        table[rank_name] = xr.DataArray(
            ranks,
            dims=(results.SCENARIO,),
            attrs={
                "units": "1",
                "long_name": f"rank among single interventions by {source} (1: best)",
            },
        )


def single_interventions(ds: xr.Dataset, no_action: str) -> list[str]:
    """Scenarios that add exactly one intervention to the no-action scenario's (as the study
    records its scenarios; none when it does not)."""
    tables = results.provenance(ds).study.get("scenarios") or []
    actions = {
        str(t.get("name")): list(t.get("actions") or []) for t in tables if isinstance(t, dict)
    }
    base = set(actions.get(no_action, []))
    out = []
    for name in results.names_of(ds, results.SCENARIO):
        added = [a for a in actions.get(name, []) if a not in base]
        if name != no_action and len(added) == 1 and set(actions.get(name, [])) >= base:
            out.append(name)
    return out
