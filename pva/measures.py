"""What each number of a summary counts: a species' risk measure and its abundance count.

A study names one risk measure per species: its quasi-extinction threshold and what the threshold
counts (``quasi_extinction_on``: mature individuals or all individuals, summed over populations;
:func:`pva.results.provenance`). Every summary, figure and report states its risk as that measure,
with absolute extinction (no individuals of any stage left) beside it, and every abundance figure
says what it counts, in the species' own stage names: a species with mature stages is counted in
mature individuals ("mature individuals (tiny–large)" for *Hudsonia montana*, whose seeds and
seedlings are not mature), one without in all individuals.

Nothing is estimated here: this module reads the results' provenance and picks the abundance that
each number is computed from (:func:`counted_abundance`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

import numpy as np
import xarray as xr

from pva import results

Count = Literal["mature", "total"]
"""What an abundance counts: mature individuals or individuals of every stage."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Counted:
    """What an abundance of one species counts, in the species' stage names."""

    on: Count
    """``"mature"`` (the results' ``mature_abundance``) or ``"total"`` (``total_abundance``)."""
    stages: tuple[str, ...] = ()
    """The stages counted, in life-cycle order (empty when the results do not record them)."""
    others: tuple[str, ...] = ()
    """The species' stages not counted."""

    @property
    def variable(self) -> str:
        """The results variable holding this count."""
        return results.MATURE if self.on == "mature" else results.TOTAL

    @property
    def noun(self) -> str:
        """``"mature individuals"`` or ``"individuals"``."""
        return "mature individuals" if self.on == "mature" else "individuals"

    @property
    def short(self) -> str:
        """One word for table rows: ``"mature"`` or ``"individuals"``."""
        return "mature" if self.on == "mature" else "individuals"

    @property
    def label(self) -> str:
        """The noun with the stages counted, e.g. ``"mature individuals (tiny–large)"`` or
        ``"individuals of all stages (seed–large)"``."""
        if len(self.stages) < 2:
            return self.noun
        if self.on == "total" or not self.others:
            return f"individuals of all stages ({_stage_span(self.stages)})"
        return f"{self.noun} ({_stage_span(self.stages)})"


def _stage_span(stages: Sequence[str]) -> str:
    """``"a–d"`` for three or more stages (they are counted in order), else ``"a, b"``."""
    if len(stages) >= 3:
        return f"{stages[0]}–{stages[-1]}"
    return ", ".join(stages)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RiskMeasure:
    """A species' risk measure: P(counted abundance <= threshold by year t)."""

    species: str
    threshold: float
    """Quasi-extinction threshold, in individuals of :attr:`counted` (inclusive)."""
    counted: Counted
    """What the threshold counts (summed over the species' populations)."""

    @property
    def is_extinction(self) -> bool:
        """True when the measure is absolute extinction itself (no individuals of any stage)."""
        return self.threshold == 0 and self.counted.on == "total"

    @property
    def event(self) -> str:
        """The event in words, e.g. ``"at most 10 mature individuals (tiny–large)"``."""
        if self.is_extinction:
            return "extinction (no individuals of any stage)"
        if self.threshold == 0:
            return f"no {self.counted.label}"
        return f"at most {self.threshold:g} {self.counted.label}"

    def probability_label(self, year: int | str) -> str:
        """A table row label, e.g. ``"P(≤ 10 mature by year 50)"``."""
        if self.is_extinction:
            return f"P(extinct by year {year})"
        return f"P(≤ {self.threshold:g} {self.counted.short} by year {year})"


EXTINCTION = "extinction: no individuals of any stage left in any population"
"""What absolute extinction means wherever it is shown beside a risk measure."""


Stages = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
"""Per species name: (stages, mature stages) as its study records them (empty when unknown)."""


def _stages(results_: xr.Dataset) -> Stages:
    """The stages and mature stages of every species, from one reading of the study."""
    out: Stages = {}
    for table in results.provenance(results_).species:
        stages, mature = table.get("stages"), table.get("mature_stages")
        out[str(table.get("name"))] = (
            tuple(str(s) for s in stages) if isinstance(stages, list) else (),
            tuple(str(s) for s in mature) if isinstance(mature, list) else (),
        )
    return out


def _has_mature(results_: xr.Dataset, species: str, mature: tuple[str, ...]) -> bool:
    if mature:
        return True
    if results.MATURE not in results_:
        return False
    da = results_[results.MATURE]
    if results.SPECIES in da.dims:
        da = da.sel({results.SPECIES: species})
    return bool(np.asarray(da.max().values) > 0)


def _counting(stages: tuple[str, ...], mature: tuple[str, ...], on: Count) -> Counted:
    if on not in ("mature", "total"):
        raise ValueError(f"count must be 'mature' or 'total'; got {on!r}")
    if on == "total" or not stages or not mature:
        return Counted(on=on, stages=stages if on == "total" else (), others=())
    return Counted(
        on="mature",
        stages=tuple(s for s in stages if s in mature),
        others=tuple(s for s in stages if s not in mature),
    )


def counting(results_: xr.Dataset, species: str, on: Count) -> Counted:
    """What counting ``on`` ("mature" or "total") means for ``species`` in its stage names."""
    return _counting(*_stages(results_).get(species, ((), ())), on)


def abundance_count(results_: xr.Dataset, species: str, count: Count | None = None) -> Counted:
    """What the abundance figures of ``species`` count: ``count`` if given, else mature
    individuals when the species has mature stages (as its study records them, else when any
    mature individual is recorded) and all individuals otherwise."""
    return abundance_counts(results_, count, species=[species])[0]


def abundance_counts(
    results_: xr.Dataset, count: Count | None = None, *, species: Sequence[str] | None = None
) -> list[Counted]:
    """:func:`abundance_count` of each of ``species`` (default: every species of ``results_``,
    in order), reading the study once."""
    chosen = results.names_of(results_, results.SPECIES) if species is None else list(species)
    stages = _stages(results_)
    out = []
    for sp in chosen:
        listed, mature = stages.get(sp, ((), ()))
        on: Count = (
            count
            if count is not None
            else ("mature" if _has_mature(results_, sp, mature) else "total")
        )
        out.append(_counting(listed, mature, on))
    return out


def risk_measure(results_: xr.Dataset, species: str) -> RiskMeasure:
    """The risk measure the study names for ``species`` (:func:`pva.results.provenance`)."""
    return risk_measures(results_, species=[species])[species]


def risk_measures(
    results_: xr.Dataset, *, species: Sequence[str] | None = None
) -> dict[str, RiskMeasure]:
    """The risk measure of each of ``species`` (default: every species of ``results_``), by
    name, reading the study once."""
    chosen = results.names_of(results_, results.SPECIES) if species is None else list(species)
    settings = results.provenance(results_).quasi_extinction
    stages = _stages(results_)
    default = results.QuasiExtinction(threshold=0.0, on="total")
    out = {}
    for sp in chosen:
        setting = settings.get(sp, default)
        counted = _counting(*stages.get(sp, ((), ())), setting.on)
        out[sp] = RiskMeasure(species=sp, threshold=setting.threshold, counted=counted)
    return out


def counted_abundance(results_: xr.Dataset, counts: Sequence[Counted]) -> xr.DataArray:
    """Abundance summed over populations, each species counted as ``counts`` says (one per
    species, in order): dims (species, scenario, replicate, year)."""
    species = results.names_of(results_, results.SPECIES)
    if len(counts) != len(species):
        raise ValueError(f"counts must give one count per species ({len(species)}); got {counts!r}")
    parts = []
    for sp, counted in zip(species, counts, strict=True):
        da = results_[counted.variable].sel({results.SPECIES: [sp]})
        parts.append(da.sum(results.POPULATION) if results.POPULATION in da.dims else da)
    out = xr.concat(parts, dim=results.SPECIES) if len(parts) > 1 else parts[0]
    out.attrs = {"units": "individuals", "long_name": _joint_label(counts)}
    return out


def _joint_label(counts: Sequence[Counted]) -> str:
    nouns = {c.noun for c in counts}
    return nouns.pop() if len(nouns) == 1 else "individuals counted (see each species)"
