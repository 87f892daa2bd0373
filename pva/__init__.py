"""pva: stochastic population viability analysis in the language of conservation policy.

Submodules: :mod:`pva.analysis` (matrix models), :mod:`pva.countpva` (count-based PVA),
:mod:`pva.model` (specifications), :mod:`pva.scenario` (threats and interventions),
:mod:`pva.engine` (the Monte Carlo kernel), :mod:`pva.outcomes` (risk metrics),
:mod:`pva.redlist` (IUCN Red List categories and the Red List Index), :mod:`pva.datasets` (the
published data sets shipped with pva; COMPADRE/COMADRE release files).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pva")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

from pva import (
    analysis,
    countpva,
    datasets,
    engine,
    errors,
    io,
    model,
    nested,
    outcomes,
    plots,
    redlist,
    report,
    results,
    runner,
    scenario,
    simulation,
    streams,
    study,
    summary,
)
from pva.simulation import simulate

__all__ = [
    "__version__",
    "analysis",
    "countpva",
    "datasets",
    "engine",
    "errors",
    "io",
    "model",
    "nested",
    "outcomes",
    "plots",
    "redlist",
    "report",
    "results",
    "runner",
    "scenario",
    "simulate",
    "simulation",
    "streams",
    "study",
    "summary",
]
