"""Success factors (GSAP action 4.7): which kinds of intervention, started when, at what effort and
cost, on which life histories, lead to downlisting and avoided extinction across many species.

The parts, in the order a study goes through them:

:mod:`~pva.success.portfolio`
    The real portfolio: the shipped COMPADRE/COMADRE records that pass strict quality flags, one
    per species, turned into threatened species by written rules (every one an ASSUMPTION), and a
    factorial of intervention designs; :func:`portfolio_study` makes a :class:`~pva.study.Study`.
:mod:`~pva.success.outcomes`
    :func:`run_success`: any study, species by species on the runner's execution step (loky, a
    temporary Dask cluster or a running one), each design paired against no action: extinctions
    prevented, extinction avoided, downlisting, contribution to ΔRLI, Green Score gained; and the
    factors read from the study (:func:`factors`).
:mod:`~pva.success.analysis`
    :func:`analyse`: GLMs (statsmodels) of each outcome on the factors with species-clustered
    errors, effects and partial dependence with intervals by bootstrap over species, and
    intervention types ranked by ΔRLI and extinctions prevented per currency unit.
:mod:`~pva.success.tables`
    The tables of a success analysis as text, Markdown or HTML (``pva success``, the report).
:mod:`~pva.success.synthetic`
    A synthetic portfolio whose success depends on a known factor, for verification.
:mod:`~pva.success.names`
    The names of the variables and dims of success results and their analysis.

The functions that run simulations (:mod:`~pva.success.outcomes`, which imports the runner) are
loaded on first use, so that the report and the figures can read success results through
:mod:`~pva.success.tables` and :mod:`~pva.success.names` without the engine.
"""

from __future__ import annotations

import importlib
from typing import Any

from pva.success import analysis, names, portfolio, synthetic, tables
from pva.success.analysis import analyse, fit_outcome, rank_types
from pva.success.portfolio import (
    Design,
    designs,
    fractional_designs,
    life_history,
    portfolio_records,
    portfolio_study,
    quality_flags,
)

__all__ = [
    "Design",
    "analyse",
    "analysis",
    "designs",
    "factors",
    "fit_outcome",
    "fractional_designs",
    "life_history",
    "names",
    "outcomes",
    "paired_outcomes",
    "portfolio",
    "portfolio_records",
    "portfolio_study",
    "quality_flags",
    "rank_types",
    "run_success",
    "synthetic",
    "tables",
]

_FROM_OUTCOMES = frozenset({"factors", "paired_outcomes", "run_success"})


def __getattr__(name: str) -> Any:
    """``run_success``, ``paired_outcomes``, ``factors`` and the ``outcomes`` module, imported on
    first use (PEP 562)."""
    if name == "outcomes" or name in _FROM_OUTCOMES:
        module = importlib.import_module("pva.success.outcomes")
        return module if name == "outcomes" else getattr(module, name)
    raise AttributeError(f"module 'pva.success' has no attribute {name!r}")
