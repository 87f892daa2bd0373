"""What a sweep or a run with parameter uncertainty is asked to do: the ``[sweep]`` and
``[uncertainty]`` tables of a study file (``docs/study-file.md``), or ``pva sweep --set``.

``[sweep]``::

    [sweep]
    design = "lhs"        # grid (default), oat, lhs, sobol, morris
    samples = 200         # lhs: points; sobol: base samples N (a power of 2); morris: trajectories
    [sweep.parameters]
    "threats.poaching.proportion" = [0.0, 0.3, 7]               # low, high, points (grid, oat)
    'species."Hudsonia montana".carrying_capacity' = { low = 100.0, high = 400.0, name = "K" }
    "threats.trampling.survival" = { distribution = "triangular", low = 0.8, mode = 0.9, high = 1.0 }

``[uncertainty]``::

    [uncertainty]
    replicates_per_draw = 10
    [uncertainty.parameters]
    'species."Hudsonia montana".carrying_capacity' = { distribution = "uniform", low = 150.0, high = 250.0 }

The values here are checked for their form (a path that parses, a range, a known distribution);
whether a path leads to a number of the study, and whether the study accepts the values, is checked
against the study by :func:`factors` before anything runs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pva import validation
from pva.sensitivity import paths
from pva.sensitivity.designs import (
    DESIGNS,
    Distribution,
    Factor,
    Uniform,
    distribution_from_dict,
)
from pva.study import Study

DEFAULT_POINTS = 5
"""Points of a grid or one-at-a-time range given without a number of points."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SweptParameter:
    """One parameter of a sweep: its path and the distribution (or range) of its values."""

    path: str
    """Dotted path into the study (:mod:`pva.sensitivity.paths`)."""
    distribution: Distribution
    """Its values: a range (uniform) or another distribution (lhs, sobol and morris designs)."""
    points: int | None = None
    """Values of a grid or one-at-a-time design, evenly spaced over the range."""
    name: str | None = None
    """Short name in the results (``param_<name>``); default from the path."""

    def __post_init__(self) -> None:
        paths.parse(self.path)
        validation.instance(self.distribution, "distribution", Distribution, owner=self.path)
        if self.points is not None:
            validation.integer(self.points, "points", owner=self.path, minimum=1)
        if self.name is not None:
            validation.name(self.name, "name", owner=self.path)
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.name):
                raise ValueError(
                    f"{self.path}: name must be letters, digits and _ (a variable name); "
                    f"got {self.name!r}"
                )

    @classmethod
    def from_value(cls, path: str, value: Any, *, where: str) -> SweptParameter:
        """From a study file's ``path = [low, high]``, ``[low, high, points]`` or a table
        (``low``, ``high``, ``points``, ``name``, or ``distribution`` and its keys)."""
        if isinstance(value, list | tuple):
            if len(value) not in (2, 3):
                raise ValueError(f"{where}: give [low, high] or [low, high, points]; got {value!r}")
            points = value[2] if len(value) == 3 else None
            return cls(path=path, distribution=_range(value[0], value[1], where), points=points)
        if not isinstance(value, Mapping):
            raise TypeError(
                f"{where} must be [low, high], [low, high, points] or a table; got {value!r}"
            )
        own = {k: value[k] for k in ("points", "name") if k in value}
        rest = {k: v for k, v in value.items() if k not in own}
        return cls(path=path, distribution=distribution_from_dict(rest, where=where), **own)

    def to_value(self) -> dict[str, Any]:
        """The study-file table of this parameter (:meth:`from_value` inverts it)."""
        out = self.distribution.to_dict()
        if isinstance(self.distribution, Uniform):
            out.pop("distribution")
        if self.points is not None:
            out["points"] = self.points
        if self.name is not None:
            out["name"] = self.name
        return out


def _range(low: Any, high: Any, where: str) -> Uniform:
    try:
        return Uniform(low=low, high=high)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


def parse_setting(text: str) -> SweptParameter:
    """``PATH=LOW:HIGH[:N]`` (``pva sweep --set``) as a swept parameter.

    The path may hold ``=`` inside a quoted name; the last ``=`` outside quotes separates it.

    Raises
    ------
    ValueError
        Naming the setting and the form expected.
    """
    form = "PATH=LOW:HIGH or PATH=LOW:HIGH:N"
    split = _last_unquoted(text, "=")
    if split is None:
        raise ValueError(f"--set must be {form}; got {text!r}")
    path, spec = text[:split].strip(), text[split + 1 :].strip()
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"--set must be {form}; got {text!r}")
    try:
        low, high = float(parts[0]), float(parts[1])
        points = int(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise ValueError(
            f"--set must be {form} with numbers LOW, HIGH and a whole number N; got {text!r}"
        ) from None
    return SweptParameter(path=path, distribution=_range(low, high, f"--set {path}"), points=points)


def _last_unquoted(text: str, char: str) -> int | None:
    quoted, escaped, found = False, False, None
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            found = i
    return found


def _parameters_table(table: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(table, Mapping) or not table:
        raise ValueError(
            f'{where} must be a table of path = range (e.g. "threats.poaching.proportion" = '
            f"[0.0, 0.3, 7]); got {table!r}"
        )
    return table


@dataclasses.dataclass(frozen=True, kw_only=True)
class SweepSettings:
    """A sweep: the parameters, the design and its size."""

    parameters: tuple[SweptParameter, ...]
    design: str = "grid"
    """One of ``grid``, ``oat``, ``lhs``, ``sobol``, ``morris``."""
    samples: int | None = None
    """lhs: points (default 100); sobol: base samples N, a power of 2 (default 64); morris:
    trajectories (default 10). Not for grid and oat."""
    levels: int = 4
    """Grid levels of a Morris design."""
    replicate_outcomes: bool = True
    """Keep each replicate's outcome at each horizon (extinct, quasi-extinct, category), so that
    samples can be compared replicate by replicate (paired by common random numbers)."""

    def __post_init__(self) -> None:
        own = "[sweep]"
        parameters = tuple(self.parameters)
        if not parameters:
            raise ValueError(f"{own}: parameters must name at least one parameter")
        for p in parameters:
            validation.instance(p, "parameters", SweptParameter, owner=own)
        object.__setattr__(self, "parameters", parameters)
        validation.one_of(self.design, "design", DESIGNS, owner=own)
        if self.samples is not None:
            validation.integer(self.samples, "samples", owner=own, minimum=2)
        validation.integer(self.levels, "levels", owner=own, minimum=2)
        validation.flag(self.replicate_outcomes, "replicate_outcomes", owner=own)

    @classmethod
    def from_dict(cls, table: Any, *, where: str = "[sweep]") -> SweepSettings:
        """From a ``[sweep]`` table; unknown keys raise :class:`pva.validation.UnknownKeyError`."""
        validation.check_keys(
            table, ("parameters", "design", "samples", "levels", "replicate_outcomes"), where
        )
        head = where[:-1] if where.endswith("]") else where
        params = _parameters_table(table.get("parameters"), f"{head}.parameters]")
        parameters = tuple(
            SweptParameter.from_value(path, value, where=f"{head}.parameters] {path!r}")
            for path, value in params.items()
        )
        rest = {k: v for k, v in table.items() if k != "parameters"}
        return cls(parameters=parameters, **rest)

    def to_dict(self) -> dict[str, Any]:
        """The ``[sweep]`` table (:meth:`from_dict` inverts it)."""
        out: dict[str, Any] = {"design": self.design, "levels": self.levels}
        if self.samples is not None:
            out["samples"] = self.samples
        out["replicate_outcomes"] = self.replicate_outcomes
        out["parameters"] = {p.path: p.to_value() for p in self.parameters}
        return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class UncertainParameter:
    """A parameter drawn from a distribution for each block of replicates."""

    path: str
    distribution: Distribution
    name: str | None = None

    def __post_init__(self) -> None:
        SweptParameter(path=self.path, distribution=self.distribution, name=self.name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class UncertaintySettings:
    """Parameter uncertainty: each parameter drawn from its distribution once per block of
    ``replicates_per_draw`` replicates (the study's replicates are ``draws x replicates_per_draw``).
    """

    parameters: tuple[UncertainParameter, ...]
    replicates_per_draw: int = 10
    """Replicates sharing one draw of the parameters; at least 2 to split the variance of the risk
    into its parameter and process parts (one draw per replicate leaves them inseparable)."""

    def __post_init__(self) -> None:
        own = "[uncertainty]"
        parameters = tuple(self.parameters)
        if not parameters:
            raise ValueError(f"{own}: parameters must name at least one parameter")
        for p in parameters:
            validation.instance(p, "parameters", UncertainParameter, owner=own)
        object.__setattr__(self, "parameters", parameters)
        validation.integer(self.replicates_per_draw, "replicates_per_draw", owner=own, minimum=1)

    @classmethod
    def from_dict(cls, table: Any, *, where: str = "[uncertainty]") -> UncertaintySettings:
        """From an ``[uncertainty]`` table; each parameter is ``path = {distribution = ..., ...}``
        or ``path = [low, high]`` (uniform)."""
        validation.check_keys(table, ("parameters", "replicates_per_draw"), where)
        head = where[:-1] if where.endswith("]") else where
        params = _parameters_table(table.get("parameters"), f"{head}.parameters]")
        parameters = []
        for path, value in params.items():
            swept = SweptParameter.from_value(path, value, where=f"{head}.parameters] {path!r}")
            if swept.points is not None:
                raise ValueError(f"{head}.parameters] {path!r}: points apply to sweeps only")
            parameters.append(
                UncertainParameter(path=path, distribution=swept.distribution, name=swept.name)
            )
        rest = {k: v for k, v in table.items() if k != "parameters"}
        return cls(parameters=tuple(parameters), **rest)

    def to_dict(self) -> dict[str, Any]:
        """The ``[uncertainty]`` table (:meth:`from_dict` inverts it)."""
        values = {}
        for p in self.parameters:
            value = p.distribution.to_dict()
            if p.name is not None:
                value["name"] = p.name
            values[p.path] = value
        return {"replicates_per_draw": self.replicates_per_draw, "parameters": values}


# ---------------------------------------------------------------------------------------------------
# against the study
# ---------------------------------------------------------------------------------------------------


def factors(
    study: Study,
    parameters: Sequence[SweptParameter | UncertainParameter],
    *,
    doc: Mapping[str, Any] | None = None,
) -> tuple[list[paths.Parameter], list[Factor]]:
    """The study's parameters at the given paths and the design factors over them.

    Each path must lead to a number of the study, and the ends of each range must be accepted by
    the study's specifications with the other parameters at their values in the study.

    Raises
    ------
    ParameterPathError
        For a bad path (naming the nearest valid ones) or a path given twice.
    ParameterValueError
        For an end of a range the study refuses (with the specification's rule and the range the
        parameter accepts).
    """
    doc = study.to_dict() if doc is None else doc
    resolved = [paths.resolve(study, p.path, doc=doc) for p in parameters]
    seen: set[str] = set()
    for r in resolved:
        if r.path in seen:
            raise paths.ParameterPathError(f"parameter {r.path!r} is given twice")
        seen.add(r.path)
    resolved = [
        _with_kind(study, r, p.distribution, doc) for r, p in zip(resolved, parameters, strict=True)
    ]
    names = paths.short_names(resolved)
    out = []
    for r, p, auto in zip(resolved, parameters, names, strict=True):
        for end in (p.distribution.low, p.distribution.high):
            _check_end(study, r, end, doc)
        out.append(
            Factor(
                name=p.name or auto,
                distribution=p.distribution,
                points=getattr(p, "points", None) or DEFAULT_POINTS,
                base=None if r.base is None else float(r.base),
                integer=r.integer,
            )
        )
    chosen = [f.name for f in out]
    if len(set(chosen)) != len(chosen):
        raise paths.ParameterError(f"parameter names must be distinct; got {chosen!r}")
    return resolved, out


def _with_kind(
    study: Study, parameter: paths.Parameter, distribution: Distribution, doc: Mapping[str, Any]
) -> paths.Parameter:
    """A parameter the study leaves unset is an integer one when its specification refuses a
    float for it (e.g. an action's ``end``)."""
    if parameter.base is not None:
        return parameter
    try:
        paths.assign(study, {parameter: distribution.low}, doc=doc)
    except TypeError as exc:
        if "an integer" in str(exc):
            return dataclasses.replace(parameter, integer=True)
    except ValueError:
        pass
    return parameter


def _check_end(
    study: Study, parameter: paths.Parameter, end: float, doc: Mapping[str, Any]
) -> None:
    try:
        paths.assign(study, {parameter: end}, doc=doc)
    except paths.ParameterPathError:
        raise
    except (ValueError, TypeError) as exc:
        note = paths.range_note(study, parameter, end, doc=doc)
        raise paths.ParameterValueError(
            f"{parameter.path} = {parameter.value(end)!r} is refused: {_one_line(exc)}"
            + (f" ({note})" if note else "")
        ) from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
