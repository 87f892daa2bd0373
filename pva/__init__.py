"""pva: stochastic population viability analysis in the language of conservation policy.

Submodules: :mod:`pva.analysis` (matrix models), :mod:`pva.countpva` (count-based PVA),
:mod:`pva.model` (specifications), :mod:`pva.scenario` (threats and interventions),
:mod:`pva.schedule` (the engine's input contract), :mod:`pva.study` (species x scenarios x
settings), :mod:`pva.validation` (the one set of input checks), :mod:`pva.engine` (the Monte Carlo
kernel), :mod:`pva.streams` (all seeding), :mod:`pva.nested` (projections from each replicate's
state), :mod:`pva.runner` (a study in parallel), :mod:`pva.results` (the one results layout and its
provenance), :mod:`pva.outcomes` (risk metrics), :mod:`pva.redlist` (IUCN Red List categories and
the Red List Index), :mod:`pva.summary` (tables), :mod:`pva.plots` and :mod:`pva.report` (figures
and an HTML report), :mod:`pva.io` (files in and out), :mod:`pva.datasets` (the data shipped with
pva), :mod:`pva.sites` (places shared by species), :mod:`pva.portfolio` (budgeted choice of
actions), :mod:`pva.census` (Red List assessment of observed counts). :mod:`pva.testing` (not
imported here) holds the helpers and Hypothesis strategies of the tests. The map of the parts and
the rules between them: docs/architecture.md.

:func:`pva.simulate` runs one species under one scenario and returns the (species, scenario) slice
of what ``pva run`` writes for that study.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pva")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

from pva import (
    analysis,
    census,
    countpva,
    datasets,
    engine,
    errors,
    io,
    model,
    nested,
    outcomes,
    plots,
    portfolio,
    redlist,
    report,
    results,
    runner,
    scenario,
    schedule,
    simulation,
    sites,
    streams,
    study,
    summary,
    validation,
)
from pva.simulation import simulate

__all__ = [
    "__version__",
    "analysis",
    "census",
    "countpva",
    "datasets",
    "engine",
    "errors",
    "io",
    "model",
    "nested",
    "outcomes",
    "plots",
    "portfolio",
    "redlist",
    "report",
    "results",
    "runner",
    "scenario",
    "schedule",
    "simulate",
    "simulation",
    "sites",
    "streams",
    "study",
    "summary",
    "validation",
]
