"""Parameters of a study addressed by dotted paths, and studies with those parameters changed.

A path walks the study's dict form (:meth:`pva.study.Study.to_dict`, the study-file schema of
``docs/study-file.md``) from one of its tables to a number::

    study.years
    species."Hudsonia montana".carrying_capacity
    species."Hudsonia montana".U[2][1]
    species.toy.vital_rates.rates.s1.mean
    species.toy.environment.U[0][2][1]
    threats.poaching.proportion
    interventions."reroute trails".fraction

A segment is a name (letters, digits, ``_`` and ``-``, not starting with a digit) or a string in
double quotes (``\\"`` and ``\\\\`` escape a quote and a backslash), followed by any number of
``[i]`` indices. In a list of named tables (species, threats, interventions, vital rates,
catastrophes, populations) a segment picks the table by its ``name``; ``[i]`` picks by position.

A study with some parameters changed (:func:`assign`) is rebuilt through the specifications
themselves: the changed species tables by :meth:`pva.study.StudySpecies.from_dict`, the changed
actions by :meth:`pva.scenario.Action.from_dict`, then the whole :class:`~pva.study.Study`, so every
value is validated by the rule of the field it sets and the study's cross-references are checked
again. The result equals ``Study.from_dict`` of the edited dict (a test checks it).

``species.X.initial_total`` (and ``species.X.populations.P.initial_total``) of a species written
with per-stage counts (``initial``) is their sum, and setting it scales those counts to the new
total, keeping the stage structure, with largest-remainder rounding so the total is exact (over
every population's stages together for a species' total): the study keeps its per-stage form.

A bad path raises :class:`ParameterPathError` naming the nearest valid paths (:mod:`difflib`); a
bad value raises :class:`ParameterValueError` with the specification's own message and the range
of values the parameter accepts with the others at their values in the study (found by bisection
on the specification's validation).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from pva import validation
from pva.model import largest_remainder
from pva.scenario import Action
from pva.study import Outputs, Study, StudySpecies

Key = str | int
"""One step of a path: a table key or list entry name (str), or a list index (int)."""

SECTIONS = ("study", "species", "threats", "interventions", "outputs")
"""The tables of a study a path may start from."""

_FIXED = {
    ("study", "seed"): "a sweep has one root seed (pva sweep --seed); repeat a sweep to vary it"
}
"""Numbers a sweep may not change, and why."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_SEGMENT = re.compile(r'(?:(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)|"(?P<quoted>(?:[^"\\]|\\.)*)")')
_INDEX = re.compile(r"\[(?P<index>\d+)\]")


class ParameterError(ValueError):
    """A parameter path or value a sweep cannot use; the message is one line."""


class ParameterPathError(ParameterError):
    """A path that does not lead to a number of the study; the message names the nearest paths."""


class ParameterValueError(ParameterError):
    """A value the study's specifications refuse; the message gives their rule and the range of
    values accepted with the other parameters at their values in the study."""


# ---------------------------------------------------------------------------------------------------
# the path grammar
# ---------------------------------------------------------------------------------------------------


def parse(path: str) -> tuple[Key, ...]:
    """The keys of a dotted path: ``'species."H m".U[2][1]'`` -> ``("species", "H m", "U", 2, 1)``.

    Raises
    ------
    TypeError
        If ``path`` is not a string.
    ParameterPathError
        If it does not follow the grammar (the message shows where).
    """
    if not isinstance(path, str):
        raise TypeError(f"a parameter path must be a string; got {path!r}")
    keys: list[Key] = []
    pos = 0
    text = path.strip()
    while True:
        match = _SEGMENT.match(text, pos)
        if match is None:
            raise ParameterPathError(
                f"parameter path {path!r} is not valid at character {pos + 1}: expected a name or "
                'a "quoted name" (e.g. species."Hudsonia montana".carrying_capacity)'
            )
        name = match.group("name")
        keys.append(name if name is not None else re.sub(r"\\(.)", r"\1", match.group("quoted")))
        pos = match.end()
        while (index := _INDEX.match(text, pos)) is not None:
            keys.append(int(index.group("index")))
            pos = index.end()
        if pos == len(text):
            break
        if text[pos] != ".":
            raise ParameterPathError(
                f"parameter path {path!r} is not valid at character {pos + 1}: expected '.', "
                "'[index]' or the end"
            )
        pos += 1
    return tuple(keys)


def format_path(keys: Sequence[Key]) -> str:
    """The canonical text of a path: names quoted where they are not plain names."""
    out = ""
    for key in keys:
        if isinstance(key, int):
            out += f"[{key}]"
            continue
        text = key if _NAME.fullmatch(key) else '"' + re.sub(r'(["\\])', r"\\\1", key) + '"'
        out += f".{text}" if out else text
    return out


# ---------------------------------------------------------------------------------------------------
# walking the study's dict
# ---------------------------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return validation.is_number(value)


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(v, Mapping) and "name" in v for v in items)


def numeric_paths(doc: Mapping[str, Any]) -> list[str]:
    """Every path to a number in the study dict ``doc`` (:meth:`Study.to_dict`), in order."""
    return [format_path(keys) for keys, _ in _leaves(doc)]


def _leaves(doc: Mapping[str, Any]) -> Iterator[tuple[tuple[Key, ...], float]]:
    for section in SECTIONS:
        if section in doc:
            yield from _walk_leaves(doc[section], (section,))


def _walk_leaves(value: Any, keys: tuple[Key, ...]) -> Iterator[tuple[tuple[Key, ...], float]]:
    if _is_number(value):
        if keys[:2] not in _FIXED:
            yield keys, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk_leaves(v, (*keys, str(k)))
    elif isinstance(value, list):
        named = _named(value)
        for i, v in enumerate(value):
            yield from _walk_leaves(v, (*keys, v["name"] if named else i))


def _step(container: Any, key: Key) -> tuple[bool, Any]:
    """``(found, value)`` of one step into ``container``."""
    if isinstance(key, int):
        if isinstance(container, list) and key < len(container):
            return True, container[key]
        return False, None
    if isinstance(container, Mapping):
        return (key in container), container.get(key)
    if isinstance(container, list) and _named(container):
        for item in container:
            if item["name"] == key:
                return True, item
    return False, None


def _locate(doc: Mapping[str, Any], keys: tuple[Key, ...]) -> tuple[Any, Key, Any, bool]:
    """``(parent, last key, value, found)`` of ``keys`` in ``doc``; the parent must exist."""
    path = format_path(keys)
    if not keys or keys[0] not in SECTIONS:
        _no_parameter(doc, path, f"a path starts with one of {', '.join(SECTIONS)}")
    container: Any = doc.get(str(keys[0]), {} if keys[0] in ("study", "outputs") else [])
    for depth, key in enumerate(keys[1:-1], start=1):
        found, container = _step(container, key)
        if not found:
            where = format_path(keys[: depth + 1])
            _no_parameter(doc, path, f"{where!r} is not in the study")
    if len(keys) == 1:
        _no_parameter(doc, path, f"{keys[0]!r} is a table, not a number")
    last = keys[-1]
    found, value = _step(container, last)
    return container, last, value, found


def _no_parameter(doc: Mapping[str, Any], path: str, why: str) -> None:
    candidates = numeric_paths(doc)
    near = difflib.get_close_matches(path, candidates, n=3, cutoff=0.4)
    hint = f"; nearest valid paths: {', '.join(near)}" if near else ""
    raise ParameterPathError(f"no parameter {path!r}: {why}{hint}")


# ---------------------------------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A number of a study, addressed by a path (:func:`resolve`)."""

    path: str
    """The canonical path (:func:`format_path`)."""
    keys: tuple[Key, ...]
    """The path's keys (:func:`parse`)."""
    base: float | None
    """Its value in the study, or None where the study leaves the field unset (its default)."""
    integer: bool
    """Whether the field holds whole numbers (values are rounded to the nearest integer)."""

    def value(self, x: float) -> float | int:
        """``x`` as this parameter holds it: rounded to the nearest integer for integer fields
        (halves to even), a float otherwise."""
        if not math.isfinite(x):
            raise ParameterValueError(f"{self.path} must be a finite number; got {x!r}")
        return int(np.rint(x)) if self.integer else float(x)

    @property
    def short_name(self) -> str:
        """The last name of the path with its indices (``U[2][1]`` -> ``U_2_1``)."""
        tail: list[str] = []
        for key in reversed(self.keys):
            tail.insert(0, str(key))
            if isinstance(key, str):
                break
        return _identifier("_".join(tail))


def _identifier(text: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", text)).strip("_") or "parameter"


def short_names(parameters: Sequence[Parameter]) -> list[str]:
    """Distinct short names for ``parameters``: the last name of each path, with as many earlier
    segments as it takes to tell two apart (``proportion``, ``poaching_proportion``)."""
    depth = [1] * len(parameters)

    def name(p: Parameter, d: int) -> str:
        names = [i for i, k in enumerate(p.keys) if isinstance(k, str)]
        start = names[max(len(names) - d, 0)]
        return _identifier("_".join(str(k) for k in p.keys[start:]))

    for _ in range(max((len(p.keys) for p in parameters), default=0)):
        labels = [name(p, d) for p, d in zip(parameters, depth, strict=True)]
        clash = {x for x in labels if labels.count(x) > 1}
        if not clash:
            return labels
        depth = [d + 1 if lab in clash else d for lab, d in zip(labels, depth, strict=True)]
    labels = [name(p, d) for p, d in zip(parameters, depth, strict=True)]
    if len(set(labels)) != len(labels):
        raise ParameterError(f"parameters repeat a path: {[p.path for p in parameters]}")
    return labels


def resolve(study: Study, path: str, *, doc: Mapping[str, Any] | None = None) -> Parameter:
    """The parameter of ``study`` at ``path``.

    A path may end at a field the study leaves unset (e.g. ``generation_length``), which then has
    no base value (a threat's or intervention's field left at its default has that default);
    whether such a field exists is checked when a value is set (:func:`assign`). The
    ``initial_total`` of per-stage counts is an integer parameter whose base is their sum.

    Raises
    ------
    ParameterPathError
        If the path does not lead to a number of the study (the message names the nearest valid
        paths), or names a number a sweep may not change (``study.seed``).
    """
    doc = study.to_dict() if doc is None else doc
    keys = parse(path)
    canonical = format_path(keys)
    if keys[:2] in _FIXED:
        raise ParameterPathError(f"{canonical!r} cannot be swept: {_FIXED[keys[:2]]}")
    parent, _, value, found = _locate(doc, keys)
    counts = _initial_counts(parent, keys)
    if counts is not None:
        return Parameter(canonical, keys, sum(sum(c) for c in counts), True)
    if found:
        if isinstance(value, bool) or not _is_number(value):
            kind = "a table" if isinstance(value, Mapping | list) else f"{value!r}"
            _no_parameter(doc, canonical, f"it holds {kind}, not a number")
        return Parameter(canonical, keys, value, validation.is_integer(value))
    if not isinstance(parent, Mapping) or isinstance(keys[-1], int) or len(keys) < 3:
        _no_parameter(doc, canonical, f"{keys[-1]!r} is not in the study")
    parameter = Parameter(canonical, keys, None, False)
    try:  # a field the study leaves unset, or a key its specification does not know
        assign(study, {parameter: 0.0}, doc=doc)
    except ParameterPathError:
        raise
    except (ValueError, TypeError):
        pass  # the field exists; 0 is not a value it takes
    default = _action_default(parent, keys)
    if default is None:
        return parameter
    return Parameter(canonical, keys, default, validation.is_integer(default))


def _action_default(table: Any, keys: tuple[Key, ...]) -> float | int | None:
    """The value a threat or intervention takes for a field its table leaves out (``to_dict``
    leaves out fields at their defaults, e.g. ``delay = 0``), or None (no number by default)."""
    if keys[0] not in ("threats", "interventions") or len(keys) != 3:
        return None
    value = getattr(_action(table, format_path(keys[:2])), str(keys[-1]), None)
    if isinstance(value, bool) or not _is_number(value):
        return None
    return value  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------------
# a study with parameters changed
# ---------------------------------------------------------------------------------------------------


def assign(
    study: Study,
    values: Mapping[Parameter, float],
    *,
    doc: Mapping[str, Any] | None = None,
) -> Study:
    """``study`` with each parameter set to its value, validated by the specifications.

    Parameters
    ----------
    study
        The base study.
    values
        Parameter -> value (rounded for integer parameters, :meth:`Parameter.value`).
    doc
        ``study.to_dict()``, if already computed (it is not changed).

    Raises
    ------
    ParameterPathError
        If a path ends at a key the specification does not have.
    ValueError, TypeError
        From the specifications, for a value they refuse (prefixed with the table, e.g.
        ``species[0]: Species 'X': ...``).
    """
    doc = study.to_dict() if doc is None else doc
    tables: dict[tuple[str, int], dict[str, Any]] = {}
    head: dict[str, Any] = {}
    outputs: dict[str, Any] | None = None
    for parameter, x in values.items():
        keys, value = parameter.keys, parameter.value(x)
        section = str(keys[0])
        if section == "study":
            head[str(keys[1])] = value
            continue
        if section == "outputs":
            outputs = copy.deepcopy(doc.get("outputs", {})) if outputs is None else outputs
            _set(outputs, keys[1:], value)
            continue
        index = _table_index(doc[section], keys[1])
        table = tables.setdefault((section, index), copy.deepcopy(doc[section][index]))
        if not _scale_initial(table, keys, value):
            _set(table, keys[2:], value)
    changes: dict[str, Any] = dict(head)
    try:
        if any(section == "species" for section, _ in tables):
            species = list(study.species)
            for (section, i), table in tables.items():
                if section == "species":
                    species[i] = StudySpecies.from_dict(table, where=f"species[{i}]")
            changes["species"] = tuple(species)
        actions = {
            table["name"]: _action(table, f"{section}[{i}]")
            for (section, i), table in tables.items()
            if section != "species"
        }
        if actions:
            changes["scenarios"] = tuple(
                dataclasses.replace(sc, actions=tuple(actions.get(a.name, a) for a in sc.actions))
                for sc in study.scenarios
            )
        if outputs is not None:
            changes["outputs"] = Outputs.from_dict(outputs)
    except validation.UnknownKeyError as exc:
        bad = next(p for p in values if p.keys[-1] == exc.key)
        _no_parameter(doc, bad.path, f"{exc.table} has no key {exc.key!r}")
    return study.with_(**changes) if changes else study


def _initial_counts(parent: Any, keys: tuple[Key, ...]) -> list[list[int]] | None:
    """The initial counts that ``initial_total`` at ``keys`` sets, where the table gives them per
    stage (``initial``) rather than as a total: one list per population; None where the path is
    not such an ``initial_total``.

    ``species.X.initial_total`` of a species written with ``initial`` reads its one vector; of a
    species with ``populations``, every population's (``initial``, or ``[initial_total]``);
    ``species.X.populations.P.initial_total`` that population's ``initial``."""
    if keys[0] != "species" or keys[-1] != "initial_total" or not isinstance(parent, Mapping):
        return None
    if len(keys) not in (3, 5) or (len(keys) == 5 and keys[2] != "populations"):
        return None
    if "initial" in parent:
        return [list(parent["initial"])]
    if len(keys) == 3 and parent.get("populations"):
        return [
            list(p["initial"]) if "initial" in p else [p.get("initial_total", 0)]
            for p in parent["populations"]
        ]
    return None


def _scale_initial(table: dict[str, Any], keys: tuple[Key, ...], total: float | int) -> bool:
    """Set ``initial_total`` at ``keys`` (inside the species ``table``) by scaling the per-stage
    counts it stands for to ``total``: the stage structure (and, for a species' total over
    several populations, the share of each population) is kept and the counts are rounded by the
    largest-remainder method over every (population, stage) cell together, so that they sum to
    ``total`` exactly. Returns False where ``keys`` is not such an ``initial_total``."""
    parent = table if len(keys) == 3 else _step(_step(table, keys[2])[1], keys[3])[1]
    counts = _initial_counts(parent, keys)
    if counts is None:
        return False
    path = format_path(keys)
    total = validation.integer(total, path, minimum=0)
    weights = np.array([n for c in counts for n in c], dtype=float)
    if weights.sum() <= 0 and total > 0:
        raise ParameterValueError(
            f"{path} cannot scale initial counts that are all 0 to {total!r}; set "
            f"{format_path((*keys[:-1], 'initial'))}[i] instead"
        )
    flat = largest_remainder(total, weights if weights.sum() > 0 else np.ones_like(weights))
    cells = np.split(flat, np.cumsum([len(c) for c in counts])[:-1])
    if "initial" in parent:
        parent["initial"] = [int(n) for n in cells[0]]
        return True
    for population, scaled in zip(parent["populations"], cells, strict=True):
        key = "initial" if "initial" in population else "initial_total"
        population[key] = [int(n) for n in scaled] if key == "initial" else int(scaled[0])
    return True


def _table_index(items: list[Any], key: Key) -> int:
    if isinstance(key, int):
        return key
    return next(i for i, item in enumerate(items) if item["name"] == key)


def _set(container: Any, keys: Sequence[Key], value: float | int) -> None:
    for key in keys[:-1]:
        _, container = _step(container, key)
    last = keys[-1]
    if isinstance(last, str) and isinstance(container, list):
        last = _table_index(container, last)
    container[last] = value


def _action(table: Mapping[str, Any], where: str) -> Action:
    body = {k: v for k, v in table.items() if k != "species"}
    return Action.from_dict(body, where=where)


# ---------------------------------------------------------------------------------------------------
# the range of values a parameter accepts
# ---------------------------------------------------------------------------------------------------

_BISECTIONS = 48
"""Steps of the bisection for the edge of a parameter's accepted values (2^-48 of the span)."""


def accepts(study: Study, parameter: Parameter, x: float, *, doc: Mapping[str, Any]) -> bool:
    """Whether the specifications accept ``x`` for ``parameter`` with the others as in ``study``."""
    try:
        assign(study, {parameter: x}, doc=doc)
    except ParameterPathError:
        raise
    except (ValueError, TypeError):
        return False
    return True


def accepted_edge(
    study: Study, parameter: Parameter, good: float, bad: float, *, doc: Mapping[str, Any]
) -> float:
    """The edge between an accepted value ``good`` and a refused value ``bad`` of ``parameter``
    (the others as in ``study``), by bisection on the specifications' validation; for an integer
    parameter, the last accepted integer."""
    for _ in range(_BISECTIONS):
        if parameter.integer and abs(bad - good) <= 1:
            break
        middle = (good + bad) / 2
        if parameter.integer:
            middle = float(round(middle))
            if middle in (good, bad):
                break
        if accepts(study, parameter, middle, doc=doc):
            good = middle
        else:
            bad = middle
    return good


def range_note(
    study: Study, parameter: Parameter, refused: float, *, doc: Mapping[str, Any]
) -> str:
    """The values ``parameter`` accepts in the direction of ``refused``, e.g. "species.X.U[2][1]
    accepts values up to 0.5227 with the other parameters at their values in the study"; "" when
    no accepted value is known to bisect from."""
    start = parameter.base
    if start is None or not accepts(study, parameter, start, doc=doc):
        return ""
    if parameter.value(refused) == parameter.value(start):
        return ""
    edge = accepted_edge(study, parameter, float(start), float(refused), doc=doc)
    word = "up to" if refused > start else "down to"
    shown = str(int(edge)) if parameter.integer else _number(edge)
    return (
        f"{parameter.path} accepts values {word} {shown} with the other parameters at their "
        "values in the study"
    )


def _number(x: float) -> str:
    if x == 0 or not math.isfinite(x):
        return repr(x)
    # the edge is found to 2^-48 of the span: six significant digits, and exact edges stay exact
    return f"{x:.6g}"
