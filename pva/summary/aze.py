"""Sites shared by species as indicators, and which site actions to fund under a budget.

Both read a results Dataset whose study has ``[[sites]]`` (:mod:`pva.sites`): a species' population
lives at the site of its name.

Site indicators (per site, scenario and year; the AZE recommendations ask that AZE sites be
monitored as indicators of imminent extinctions)
------------------------------------------------------------------------------------------------
* ``site_trigger_present``: the number of the site's trigger species (:attr:`Site.trigger_species`,
  default every species living there) that still have individuals at the site;
* ``site_trigger_threatened``: the number of them present there and still threatened (the
  species' category VU, EN or CR, :func:`pva.redlist.assess`): a trigger species that recovers
  leaves this count, as one lost from the site does;
* ``site_rli_contribution``: the site's share of the Red List Index's shortfall from 1,
  ``-Σ_s f_{s,j} W(c_s) / (W_EX N)`` over its trigger species ``s``, with ``f_{s,j}`` the fraction of
  species ``s``'s individuals at site ``j`` in year 0, ``W`` the RLI weights and ``N`` the number of
  species of the index: the RLI disaggregated by site in proportion to each species' presence
  there (Rodrigues et al. 2014). Over a set of sites that holds every population of every species
  (each species a trigger species of its sites) the contributions sum to ``RLI - 1``.

Each is a mean over replicates with the normal interval of the mean (replicates where a trigger
species has no category count as NaN in the contribution and are left out of its mean).

Budgeted choice (:func:`site_portfolio`, :func:`site_choice`)
-------------------------------------------------------------
The options are the interventions written for a site (``site = "..."``). Each costs its
``annual_cost`` for every year it acts (over the simulated years, discounted at the study's
``discount_rate``): the cost of the action once, whatever the number of species it serves (a
results file counts an action's cost once per species it applies to). The gain of a set of options
is the number of extinctions (each species' risk event by the horizon, as ``extinctions
prevented`` in ``pva summary``) it prevents against no action, replicate by replicate, read for each
species from the scenario that holds exactly the chosen options that touch it
(:mod:`pva.portfolio`); combinations no scenario holds are not choices, and are listed. With
``objective="delta_rli"`` the gain is the Red List Index's, in the horizon year (additive over
species, so read the same way).

References
----------
Ricketts T.H. et al. (2005) Pinpointing and preventing imminent extinctions. PNAS 102: 18497-18501.
Rodrigues A.S.L. et al. (2014) Spatially explicit trends in the global conservation status of
vertebrates. PLoS ONE 9: e113934.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import xarray as xr

from pva import outcomes, portfolio, redlist, results, validation
from pva.redlist import CR, EN, VU
from pva.study import Study
from pva.summary import tables  # reached_by; tables imports this module too

Objective = Literal["extinctions", "delta_rli"]

SITE_DIM = "study_site"
"""Dim of the site indicators: the study's ``[[sites]]`` by name."""
TRIGGER_PRESENT = "site_trigger_present"
TRIGGER_THREATENED = "site_trigger_threatened"
RLI_CONTRIBUTION = "site_rli_contribution"
INDICATOR_ATTRS = {
    TRIGGER_PRESENT: {
        "units": "species",
        "long_name": "trigger species with individuals at the site",
    },
    TRIGGER_THREATENED: {
        "units": "species",
        "long_name": "trigger species present at the site and still threatened (VU, EN or CR)",
    },
    RLI_CONTRIBUTION: {
        "units": "1",
        "long_name": "site's share of the Red List Index's shortfall from 1",
    },
}


def study_of(ds: xr.Dataset) -> Study | None:
    """The study that made ``ds`` (from its provenance), or None if not recorded."""
    spec = results.provenance(ds).study
    return Study.from_dict(spec) if spec else None


def has_shared_sites(ds: xr.Dataset) -> bool:
    """Whether the study of ``ds`` lists ``[[sites]]``."""
    spec = results.provenance(ds).study
    return bool(spec.get("sites"))


def _population_index(ds: xr.Dataset, species: str, population: str) -> int:
    names = [str(n) for n in ds[results.POPULATION_NAME].sel({results.SPECIES: species}).values]
    return names.index(population)


def _triggers(study: Study, site: str) -> tuple[str, ...]:
    return study.site(site).trigger_species or study.species_at(site)


def site_indicators(
    ds: xr.Dataset,
    *,
    assessment: xr.Dataset | None = None,
    study: Study | None = None,
    confidence: float = 0.95,
) -> xr.Dataset:
    """The site indicators of the module docstring: variables ``site_trigger_present``,
    ``site_trigger_threatened`` and ``site_rli_contribution`` (and ``_lower``, ``_upper``) of dims
    (study_site, scenario, year), with coordinates ``aze`` (study_site) and ``trigger_species``
    (comma-separated names).

    Raises
    ------
    ValueError
        If the study of ``ds`` has no ``[[sites]]``.
    """
    study = study_of(ds) if study is None else study
    if study is None or not study.sites:
        raise ValueError("the study of these results lists no [[sites]]")
    if assessment is None:
        assessment = redlist.assess(ds)
    total = ds[results.TOTAL]
    category = assessment[results.CATEGORY]
    weight_of, w_ex = _rli_weights()
    n_species = ds.sizes[results.SPECIES]
    share_at_start = _shares(ds)
    per_site: dict[str, list[xr.DataArray]] = {k: [] for k in INDICATOR_ATTRS}
    for site in study.sites:
        present, threatened, contribution = [], [], []
        for sp in _triggers(study, site.name):
            j = _population_index(ds, sp, site.name)
            there = total.sel({results.SPECIES: sp}, drop=True).isel(
                {results.POPULATION: j}, drop=True
            )
            present.append((there > 0).astype(float))
            cat = category.sel({results.SPECIES: sp}, drop=True)
            threatened.append((cat.isin([VU, EN, CR]) & (there > 0)).astype(float))
            w = xr.apply_ufunc(lambda c: weight_of[np.asarray(c, dtype=np.int64) + 3], cat)
            contribution.append(-share_at_start[sp][j] * w / (w_ex * n_species))
        per_site[TRIGGER_PRESENT].append(sum(present))  # type: ignore[arg-type]
        per_site[TRIGGER_THREATENED].append(sum(threatened))  # type: ignore[arg-type]
        per_site[RLI_CONTRIBUTION].append(sum(contribution))  # type: ignore[arg-type]
    names = [site.name for site in study.sites]
    keep = {SITE_DIM, results.SCENARIO, results.REPLICATE, results.YEAR}
    per_site = {
        k: [p.drop_vars([c for c in p.coords if c not in keep]) for p in parts]
        for k, parts in per_site.items()
    }
    out = xr.Dataset()
    for name, parts in per_site.items():
        stacked = xr.concat(parts, dim=SITE_DIM).assign_coords({SITE_DIM: names})
        mean, lower, upper = _mean_interval(stacked, confidence)
        dims = (SITE_DIM, results.SCENARIO, results.YEAR)
        for suffix, field in (
            ("", mean),
            (results.LOWER_SUFFIX, lower),
            (results.UPPER_SUFFIX, upper),
        ):
            out[name + suffix] = field.transpose(*dims)
            out[name + suffix].attrs = dict(INDICATOR_ATTRS[name])  # not the categories' flags
    out.coords["aze"] = (SITE_DIM, [site.aze for site in study.sites])
    out.coords["trigger_species"] = (
        SITE_DIM,
        [", ".join(_triggers(study, site.name)) for site in study.sites],
    )
    return out


def _rli_weights() -> tuple[np.ndarray, float]:
    """RLI weights indexed by category code + 3 (NaN for DD, NE, not evaluable) and W_EX
    (Butchart et al. 2007, :data:`pva.redlist.DEFAULT_WEIGHTS`)."""
    w = redlist.DEFAULT_WEIGHTS
    table = np.full(10, np.nan)
    for name in redlist.CATEGORIES:
        table[redlist.CATEGORY_CODES[name] + 3] = w[name]
    return table, float(w["EX"])


def _shares(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Each species' fraction of its individuals in each population in year 0 (mean over
    replicates of the first scenario: every scenario starts from the same state)."""
    first = ds[results.TOTAL].isel({results.SCENARIO: 0, results.YEAR: 0}).mean(results.REPLICATE)
    out = {}
    for sp in results.names_of(ds, results.SPECIES):
        counts = np.nan_to_num(first.sel({results.SPECIES: sp}).values.astype(float))
        out[sp] = counts / counts.sum() if counts.sum() > 0 else counts
    return out


def _mean_interval(
    x: xr.DataArray, confidence: float
) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Mean over replicates (NaN left out), and its normal interval (sd / sqrt(n))."""
    n = x.notnull().sum(results.REPLICATE)
    mean = x.mean(results.REPLICATE, skipna=True)
    sd = x.std(results.REPLICATE, ddof=1, skipna=True)
    z = outcomes.z_score(confidence)
    half = z * sd / np.sqrt(n.where(n > 0))
    return mean, mean - half, mean + half


def add_site_indicators(
    table: xr.Dataset,
    ds: xr.Dataset,
    years: Sequence[int],
    assessment: xr.Dataset,
    *,
    confidence: float,
) -> None:
    """Add the site indicators at the horizons ``years`` to a summary ``table`` in place (dims
    study_site, scenario, horizon), when the study lists ``[[sites]]``."""
    if not has_shared_sites(ds):
        return
    indicators = site_indicators(ds, assessment=assessment, confidence=confidence)
    at = indicators.sel({results.YEAR: list(years)}).rename({results.YEAR: results.HORIZON})
    at = at.assign_coords({results.HORIZON: np.asarray(years)})
    for name, var in at.data_vars.items():
        table[name] = var
    for coord in ("aze", "trigger_species"):
        table.coords[coord] = at[coord]


# ---------------------------------------------------------------------------------------------------
# budgeted choice


@dataclasses.dataclass(frozen=True, eq=False)
class SitePortfolio:
    """The options of a study's site actions and their gains, ready for :mod:`pva.portfolio`."""

    portfolio: portfolio.Portfolio
    sites: Mapping[str, str]
    """Each option's site."""
    horizon: int
    """The year by which extinctions are counted (or at which ΔRLI is read)."""
    objective: str
    """"extinctions" (extinctions prevented) or "delta_rli" (ΔRLI)."""
    no_action: str
    """The scenario gains are counted against."""
    scenarios: Mapping[str, Mapping[frozenset[str], str]]
    """For each species, the scenario read for each combination of its options."""
    notes: tuple[str, ...] = ()


def site_portfolio(
    ds: xr.Dataset,
    *,
    horizon: int | None = None,
    costs: Mapping[str, float] | None = None,
    no_action: str | None = None,
    confidence: float = 0.95,
    objective: Objective = "extinctions",
    assessment: xr.Dataset | None = None,
) -> SitePortfolio:
    """The site actions of the study of ``ds`` as a :class:`pva.portfolio.Portfolio` of
    extinctions prevented by ``horizon`` (default the last year) against ``no_action``, or with
    ``objective="delta_rli"`` of the gain in the Red List Index in that year.

    ΔRLI is additive over species (``RLI = 1 - Σ_s W(c_s) / (W_EX N)``, Butchart et al. 2007), so
    species ``s``'s gain in a replicate is ``(W(c_s, no action) - W(c_s, action)) / (W_EX N)``;
    where either category is unknown (no category could be given: the RLI is undefined there) the
    gain counts 0, and a note says in how many replicates. ``assessment`` is
    :func:`pva.redlist.assess` of ``ds`` (computed if not given).

    ``costs`` overrides the cost of options by name (default: each action's ``annual_cost`` over
    the years it acts, discounted at the study's ``discount_rate``).

    Raises
    ------
    ValueError
        If the study has no interventions written for a site, or ``costs`` names another option.
    """
    study = study_of(ds)
    if study is None:
        raise ValueError("these results do not record their study")
    action0 = results.no_action_scenario(ds, no_action)
    year = int(ds[results.YEAR].values[-1]) if horizon is None else int(horizon)
    if year not in ds[results.YEAR].values:
        raise ValueError(
            f"horizon {year!r} is not a simulated year (0..{int(ds[results.YEAR][-1])})"
        )
    interventions = {a.name: a for sc in study.scenarios for a in sc.interventions}
    at_site = {a: s for a, s in study.action_sites if a in interventions}
    if not at_site:
        raise ValueError(
            'the study has no interventions written for a site (site = "..." in [[interventions]])'
        )
    unknown = sorted(set(costs or {}) - set(at_site))
    if unknown:
        raise ValueError(
            f"costs name options {unknown!r}; the site actions are {sorted(at_site)!r}"
        )
    rate = study.outputs.discount_rate
    discount = (1.0 + rate) ** -np.arange(study.years)
    options = tuple(
        portfolio.Option(
            name=a,
            cost=float(
                (costs or {}).get(
                    a,
                    interventions[a].annual_cost
                    * (interventions[a].active(study.years) @ discount),
                )
            ),
        )
        for a in at_site
    )
    validation.one_of(objective, "objective", ("extinctions", "delta_rli"))
    loss = _losses(ds, year, objective, assessment)
    undefined = 0
    gains: dict[str, dict[frozenset[str], np.ndarray]] = {}
    read: dict[str, dict[frozenset[str], str]] = {}
    notes: list[str] = []
    for sp in study.species_names:
        base = study.scenario_for(sp, action0)
        base_threats = {t.name for t in base.threats}
        table: dict[frozenset[str], np.ndarray] = {}
        chosen_scenario: dict[frozenset[str], str] = {}
        before = loss.sel({results.SPECIES: sp, results.SCENARIO: action0}).values
        for name in study.scenario_names:
            seen = study.scenario_for(sp, name)
            acts = {a.name for a in seen.interventions}
            if {t.name for t in seen.threats} != base_threats or not acts <= set(at_site):
                continue
            key = frozenset(acts)
            if key in table:
                continue
            after = loss.sel({results.SPECIES: sp, results.SCENARIO: name}).values
            gain = before - after
            undefined += int(np.isnan(gain).sum())
            table[key] = np.nan_to_num(gain, nan=0.0)
            chosen_scenario[key] = name
        if frozenset() not in table:
            table[frozenset()] = np.zeros_like(before)
            chosen_scenario[frozenset()] = action0
        limits = dict(study.applies_to)
        touching = {a for a in at_site if sp in limits.get(a, study.species_names)}
        missing = [a for a in sorted(touching) if frozenset({a}) not in table]
        if missing:
            notes.append(f"species {sp!r}: no scenario holds {missing!r} alone")
        gains[sp] = table
        read[sp] = chosen_scenario
    if undefined:
        notes.append(
            f"ΔRLI undefined (a category unknown) in {undefined} species-scenario-replicates, "
            "counted as no gain"
        )
    return SitePortfolio(
        portfolio=portfolio.Portfolio(options=options, gains=gains, level=confidence),
        sites=at_site,
        horizon=year,
        objective=objective,
        no_action=action0,
        scenarios=read,
        notes=tuple(notes),
    )


def _losses(
    ds: xr.Dataset, year: int, objective: str, assessment: xr.Dataset | None
) -> xr.DataArray:
    """What an action lowers, per (species, scenario, replicate): 1 if the species' risk event
    happened by ``year`` (extinctions), or its RLI weight share ``W(c) / (W_EX N)`` in ``year``
    (NaN where its category is unknown)."""
    if objective == "extinctions":
        return tables.reached_by(ds, year).astype(float)
    if assessment is None:
        assessment = redlist.assess(ds)
    weight_of, w_ex = _rli_weights()
    cat = assessment[results.CATEGORY].sel({results.YEAR: year}, drop=True)
    w = xr.apply_ufunc(lambda c: weight_of[np.asarray(c, dtype=np.int64) + 3], cat)
    return w / (w_ex * ds.sizes[results.SPECIES])


@dataclasses.dataclass(frozen=True, eq=False)
class SiteChoice:
    """What ``pva sites --budget`` reports."""

    choice: portfolio.Choice
    """The options chosen within the budget."""
    singles: tuple[portfolio.Choice, ...]
    """Each option alone (its expected extinctions prevented and interval)."""
    curve: tuple[portfolio.Choice, ...]
    """The best choice at each budget (the curve of extinctions prevented against budget)."""
    problem: SitePortfolio


def site_choice(
    ds: xr.Dataset,
    budget: float,
    *,
    horizon: int | None = None,
    costs: Mapping[str, float] | None = None,
    no_action: str | None = None,
    method: portfolio.Method = "auto",
    budgets: Sequence[float] | None = None,
    confidence: float = 0.95,
    objective: Objective = "extinctions",
) -> SiteChoice:
    """The site actions to fund within ``budget`` (:func:`site_portfolio`,
    :func:`pva.portfolio.choose`), each option alone, and the budget curve (``budgets`` default
    to the costs of the feasible sets, :func:`pva.portfolio.budget_curve`)."""
    problem = site_portfolio(
        ds,
        horizon=horizon,
        costs=costs,
        no_action=no_action,
        confidence=confidence,
        objective=objective,
    )
    p = problem.portfolio
    singles = tuple(
        p.choice({o.name}, method="single", budget=o.cost)
        for o in p.options
        if p.feasible({o.name})
    )
    return SiteChoice(
        choice=portfolio.choose(p, budget, method=method),
        singles=singles,
        curve=tuple(portfolio.budget_curve(p, budgets, method=method)),
        problem=problem,
    )
