"""pva: stochastic population viability analysis in the language of conservation policy.

Submodules: :mod:`pva.analysis` (matrix models), :mod:`pva.countpva` (count-based PVA),
:mod:`pva.model` (specifications), :mod:`pva.scenario` (threats and interventions),
:mod:`pva.schedule` (the engine's input contract), :mod:`pva.study` (species x scenarios x
settings), :mod:`pva.validation` (the one set of input checks), :mod:`pva.engine` (the Monte Carlo
kernel), :mod:`pva.streams` (all seeding), :mod:`pva.nested` (projections from each replicate's
state), :mod:`pva.runner` (a study in parallel), :mod:`pva.sensitivity` (parameter sweeps,
sensitivity indices and parameter uncertainty), :mod:`pva.results` (the one results layout and its
provenance), :mod:`pva.outcomes` (risk metrics), :mod:`pva.redlist` (IUCN Red List categories and
the Red List Index), :mod:`pva.summary` (tables), :mod:`pva.plots` and :mod:`pva.report` (figures
and an HTML report), :mod:`pva.io` (files in and out), :mod:`pva.datasets` (the data shipped with
pva), :mod:`pva.success` (success factors across species x intervention designs),
:mod:`pva.sites` (places shared by species), :mod:`pva.portfolio` (budgeted choice of actions),
:mod:`pva.census` (Red List assessment of observed counts). :mod:`pva.testing` (not imported here)
holds the helpers and Hypothesis strategies of the tests. The map of the parts and the rules
between them: docs/architecture.md.

:func:`pva.simulate` runs one species under one scenario and returns the (species, scenario) slice
of what ``pva run`` writes for that study.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pva")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0.0.0+unknown"


# Submodules load on first use (PEP 562), so that `import pva` is quick: the `pva` command can then
# catch Ctrl-C while numpy, scipy and xarray load (pva.__main__). `pva.io`, `from pva import io` and
# `import pva.io` work as before.

if TYPE_CHECKING:
    __version__: str
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
        resources,
        results,
        runner,
        scenario,
        schedule,
        sensitivity,
        simulation,
        sites,
        streams,
        study,
        success,
        summary,
        validation,
    )
    from pva.simulation import simulate


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata takes a tenth of a second: only when asked
        value = _version()
        globals()["__version__"] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"pva.{name}")
    if name == "simulate":
        from pva.simulation import simulate

        return simulate
    raise AttributeError(f"module 'pva' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
    "resources",
    "results",
    "runner",
    "scenario",
    "schedule",
    "sensitivity",
    "simulate",
    "simulation",
    "sites",
    "streams",
    "study",
    "success",
    "summary",
    "validation",
]

# every name of __all__ but these two is a submodule, loaded on first use by __getattr__
_SUBMODULES = frozenset(__all__) - {"__version__", "simulate"}
