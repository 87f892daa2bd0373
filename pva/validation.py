"""Validation helpers shared by every specification, and the one way tables become dataclasses.

One rule for every check:

* a value of the wrong *kind* (a float, bool or string where an integer is required; a number where a
  name is required) raises :class:`TypeError`;
* a value of the right kind that breaks a rule (out of range, repeated, unknown) raises
  :class:`ValueError`;
* the message names the field with its owner, shows the value with ``!r`` and states the rule:
  ``"Species 'X': max_litter must be an integer >= 1; got 0"``.

Each helper returns the value in its canonical type (``int``, ``float``, a tuple of names), so that
a ``__post_init__`` can store it.

:func:`from_table` builds a dataclass from a table (a study-file table or a ``to_dict`` output): the
``type`` key picks the class among the subclasses of the one expected, unknown keys raise
:class:`UnknownKeyError` naming the table and the key, and fields annotated with dataclasses (or tuples
of them) are built from nested tables the same way. A new specification class, or a new nested field,
therefore needs no parsing code.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from pva.errors import StudyFileError

T = TypeVar("T")


class UnknownKeyError(StudyFileError):
    """A table (of a study file, or a dict for ``from_dict``) has a key its schema does not know.

    ``key`` is the offending key and ``table`` the path of the table it is in (e.g.
    ``species[0].catastrophes[1]``), so that a reader of the file can point at the line.
    """

    def __init__(self, message: str, *, key: str, table: str) -> None:
        super().__init__(message)
        self.key = key
        self.table = table


# --------------------------------------------------------------------------------------------------
# naming the field


def owner(obj: object) -> str:
    """How messages name ``obj``: its class and, if it has a non-empty name, the name
    (``"Species 'X'"``, ``"Harvest 'poaching'"``, ``"DensityDependence"``)."""
    name = getattr(obj, "name", None)
    kind = type(obj).__name__
    return f"{kind} {name!r}" if isinstance(name, str) and name else kind


def label(field: str, owner: str | None = None) -> str:
    """``"owner: field"``, or ``field`` alone for a function argument."""
    return f"{owner}: {field}" if owner else field


def _message(field: str, owner: str | None, rule: str, value: object) -> str:
    return f"{label(field, owner)} must be {rule}; got {value!r}"


# --------------------------------------------------------------------------------------------------
# kinds


def is_integer(value: object) -> bool:
    """Whether ``value`` is an integer (Python or numpy), not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def is_number(value: object) -> bool:
    """Whether ``value`` is a real number (Python or numpy), not a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _bound(x: float) -> str:
    return repr(x)  # as the rule's author wrote it: 0 or 0.0


def _range_rule(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return (
            f"in {'(' if low_open else '['}{_bound(low)}, {_bound(high)}{')' if high_open else ']'}"
        )
    if low is not None:
        return f"{'>' if low_open else '>='} {_bound(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {_bound(high)}"
    return "finite"


def _outside(
    x: float, low: float | None, high: float | None, low_open: bool, high_open: bool
) -> bool:
    if low is not None and (x <= low if low_open else x < low):
        return True
    return high is not None and (x >= high if high_open else x > high)


# --------------------------------------------------------------------------------------------------
# scalars


def integer(
    value: object,
    field: str,
    *,
    owner: str | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """``value`` as an ``int``: TypeError unless an integer (a whole float such as 2.0 is a float),
    ValueError outside ``[minimum, maximum]``."""
    if not is_integer(value):
        raise TypeError(_message(field, owner, "an integer", value))
    x = int(value)  # type: ignore[call-overload]
    if (minimum is not None and x < minimum) or (maximum is not None and x > maximum):
        rule = "an integer " + _range_rule(minimum, maximum, False, False)
        raise ValueError(_message(field, owner, rule, value))
    return x


def number(
    value: object,
    field: str,
    *,
    owner: str | None = None,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite ``float``: TypeError unless a number, ValueError if not finite or
    outside the interval from ``low`` to ``high`` (closed unless ``low_open``/``high_open``)."""
    if not is_number(value):
        raise TypeError(_message(field, owner, "a number", value))
    x = float(value)  # type: ignore[arg-type]
    if not math.isfinite(x):
        raise ValueError(_message(field, owner, "finite", value))
    if _outside(x, low, high, low_open, high_open):
        raise ValueError(_message(field, owner, _range_rule(low, high, low_open, high_open), value))
    return x


def probability(value: object, field: str, *, owner: str | None = None) -> float:
    """``value`` as a ``float`` in [0, 1] (TypeError unless a number)."""
    x = number(value, field, owner=owner)
    if not 0.0 <= x <= 1.0:
        raise ValueError(_message(field, owner, "a probability in [0, 1]", value))
    return x


def flag(value: object, field: str, *, owner: str | None = None) -> bool:
    """``value`` if it is a bool (``True``/``False``, not 1 or "yes"), else TypeError."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(_message(field, owner, "True or False", value))
    return bool(value)


_TEXT_CONTROLS = frozenset("\t\n\r")
"""Control characters free text may hold (tabs and line breaks)."""

_NOT_IN_NAMES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Unicode categories a name may not hold: control (NUL, tab, line break, escape), format
(zero-width and bidirectional marks), surrogates, and line and paragraph separators."""


def text(value: object, field: str, *, owner: str | None = None) -> str:
    """``value`` if it is a string (possibly empty) without control characters other than tabs and
    line breaks: TypeError unless a string, ValueError for NUL, escape and the like, which NetCDF
    attributes cut and terminals act on."""
    if not isinstance(value, str):
        raise TypeError(_message(field, owner, "a string", value))
    bad = next(
        (c for c in value if unicodedata.category(c) == "Cc" and c not in _TEXT_CONTROLS), None
    )
    if bad is not None:
        rule = f"text without control characters other than tabs and line breaks (it holds {bad!r})"
        raise ValueError(_message(field, owner, rule, value))
    return value


def name(value: object, field: str = "name", *, owner: str | None = None) -> str:
    """A name: TypeError unless a string, ValueError if empty, blank or holding a control or
    format character (see :func:`printable_name`)."""
    if not isinstance(value, str):
        raise TypeError(_message(field, owner, "a non-empty string", value))
    if not value.strip():
        raise ValueError(_message(field, owner, "a non-empty string", value))
    _check_printable(value, field, owner)
    return value


def printable_name(value: str) -> bool:
    """Whether ``value`` holds no control or format character (NUL, tab, line break, escape,
    zero-width or bidirectional mark; the categories of ``_NOT_IN_NAMES``). Names become NetCDF
    coordinates, which end at a NUL, and cells of tables, which a line break would split."""
    return not any(unicodedata.category(c) in _NOT_IN_NAMES for c in value)


def _check_printable(value: str, field: str, owner: str | None) -> None:
    if not printable_name(value):
        bad = next(c for c in value if unicodedata.category(c) in _NOT_IN_NAMES)
        rule = f"printable text without control characters (it holds {bad!r})"
        raise ValueError(_message(field, owner, rule, value))


def one_of(value: object, field: str, allowed: Sequence[str], *, owner: str | None = None) -> str:
    """One of the ``allowed`` strings: TypeError unless a string, ValueError if not allowed."""
    rule = f"one of {tuple(allowed)!r}"
    if not isinstance(value, str):
        raise TypeError(_message(field, owner, rule, value))
    if value not in allowed:
        raise ValueError(_message(field, owner, rule, value))
    return value


def instance(
    value: object,
    field: str,
    kinds: type | tuple[type, ...],
    *,
    owner: str | None = None,
    optional: bool = False,
) -> Any:
    """``value`` if it is an instance of ``kinds`` (or None when ``optional``), else TypeError."""
    if optional and value is None:
        return None
    if not isinstance(value, kinds):
        names = [k.__name__ for k in (kinds if isinstance(kinds, tuple) else (kinds,))]
        rule = " or ".join([*names, "None"] if optional else names)
        raise TypeError(_message(field, owner, rule, value))
    return value


# --------------------------------------------------------------------------------------------------
# sequences


def _items(value: object, field: str, owner: str | None, what: str) -> tuple[Any, ...]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise TypeError(_message(field, owner, f"a list of {what}", value))
    return tuple(value)


def names(
    value: object, field: str, *, owner: str | None = None, single: bool = False
) -> tuple[str, ...]:
    """Distinct non-empty names as a tuple. A lone string is one name if ``single``, else TypeError;
    a non-string item is TypeError, an empty or repeated name ValueError."""
    if single and isinstance(value, str):
        value = (value,)
    items = _items(value, field, owner, "names")
    for item in items:
        if not isinstance(item, str):
            raise TypeError(_message(field, owner, "a list of names", value))
        if not item:
            raise ValueError(_message(field, owner, "a list of non-empty names", value))
        _check_printable(item, field, owner)
    if len(set(items)) != len(items):
        raise ValueError(f"{label(field, owner)} must not repeat a name; got {value!r}")
    return items


def integers(
    value: object,
    field: str,
    *,
    owner: str | None = None,
    minimum: int | None = None,
    increasing: bool = False,
) -> tuple[int, ...]:
    """A list of integers (each checked by :func:`integer` as ``field[i]``) as a tuple; with
    ``increasing``, strictly increasing (ValueError otherwise)."""
    items = _items(value, field, owner, "integers")
    out = tuple(
        integer(x, f"{field}[{i}]", owner=owner, minimum=minimum) for i, x in enumerate(items)
    )
    if increasing and list(out) != sorted(set(out)):
        raise ValueError(_message(field, owner, "increasing, without repeats", value))
    return out


def numbers(
    value: object,
    field: str,
    *,
    owner: str | None = None,
    length: int | None = None,
    low: float | None = None,
    high: float | None = None,
) -> tuple[float, ...]:
    """A list of numbers (each checked by :func:`number`) as a tuple of floats, of ``length``
    items if given (ValueError otherwise)."""
    items = _items(value, field, owner, "numbers")
    if length is not None and len(items) != length:
        raise ValueError(_message(field, owner, f"a list of {length} numbers", value))
    return tuple(number(x, field, owner=owner, low=low, high=high) for x in items)


# --------------------------------------------------------------------------------------------------
# tables -> dataclasses


def check_keys(data: object, allowed: Sequence[str], where: str) -> Mapping[str, Any]:
    """``data`` if it is a table whose keys are all ``allowed``; :class:`UnknownKeyError` naming the
    first unknown key and the table ``where`` otherwise (TypeError if not a table)."""
    if not isinstance(data, Mapping):
        raise TypeError(f"{where} must be a table; got {data!r}")
    for key in data:
        if key not in allowed:
            raise UnknownKeyError(
                f"{where}: unknown key {key!r}; allowed keys: {sorted(allowed)}",
                key=key,
                table=where,
            )
    return data


def _subclasses(cls: type) -> Iterator[type]:
    yield cls
    sub: type
    for sub in cls.__subclasses__():
        yield from _subclasses(sub)


def table_types(*bases: type) -> dict[str, type]:
    """The classes a ``type`` tag may name where one of ``bases`` is expected: the bases and their
    subclasses, except private ones and those marked ``_abstract = True`` in their own body."""
    out: dict[str, type] = {}
    for base in bases:
        for cls in _subclasses(base):
            if not cls.__name__.startswith("_") and not cls.__dict__.get("_abstract", False):
                out[cls.__name__] = cls
    return out


@functools.cache
def _nested(cls: type) -> dict[str, tuple[tuple[type, ...], bool]]:
    """Fields of dataclass ``cls`` that hold dataclasses: name -> (classes, is a list of them)."""
    try:
        hints = typing.get_type_hints(cls)
    except NameError:  # a class defined in a function, annotated with local names
        hints = {}
    out: dict[str, tuple[tuple[type, ...], bool]] = {}
    for f in dataclasses.fields(cls):
        hint = hints.get(f.name)
        options = _union(hint)
        many = False
        if len(options) == 1 and typing.get_origin(options[0]) is tuple:
            args = typing.get_args(options[0])
            if len(args) == 2 and args[1] is Ellipsis:
                options, many = _union(args[0]), True
        classes = tuple(o for o in options if isinstance(o, type) and dataclasses.is_dataclass(o))
        if classes:
            out[f.name] = (classes, many)
    return out


def _union(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(a for a in typing.get_args(hint) if a is not type(None))
    return (hint,)


def _plain(value: Any) -> Any:
    """Lists as tuples (specifications hold tuples), recursively; tables keep their keys."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value


def from_table(expected: type[T] | tuple[type, ...], data: object, *, where: str) -> T:
    """Build the dataclass that table ``data`` describes.

    Parameters
    ----------
    expected
        The class (or classes) allowed here. The table's ``type`` key names one of them or of their
        subclasses (see :func:`table_types`); without it, the only candidate, or an ``expected``
        class that is not abstract.
    data
        The table: a mapping of field names to values. An instance of ``expected`` is returned as is.
    where
        Path of the table for messages, e.g. ``species[0].catastrophes[1]``.

    Fields annotated as a dataclass, a union of them or a ``tuple[X, ...]`` of them are built from
    nested tables (paths ``where.field`` and ``where.field[i]``); other lists become tuples.

    Raises
    ------
    UnknownKeyError
        For a key that is not a field of the chosen class.
    StudyFileError
        If the ``type`` is missing where it is needed, or not allowed here.
    TypeError
        If ``data`` is not a table (or a list of tables where one is expected).
    ValueError, TypeError
        From the class's validation, prefixed with ``where``.
    """
    bases = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(data, bases):
        return data  # type: ignore[return-value]
    if not isinstance(data, Mapping):
        raise TypeError(f"{where} must be a table; got {data!r}")
    cls = _chosen_type(bases, data, where)
    kind = cls.__name__
    allowed = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key != "type" and key not in allowed:
            raise UnknownKeyError(
                f"{where}: unknown key {key!r} for type {kind!r}; allowed keys: {sorted(allowed)}",
                key=key,
                table=where,
            )
    nested = _nested(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "type":
            continue
        if key not in nested or value is None:
            kwargs[key] = _plain(value)
            continue
        classes, many = nested[key]
        if not many:
            kwargs[key] = from_table(classes, value, where=f"{where}.{key}")
        elif not isinstance(value, list | tuple):
            raise TypeError(f"{where}.{key} must be a list of tables; got {value!r}")
        else:
            kwargs[key] = tuple(
                from_table(classes, v, where=f"{where}.{key}[{i}]") for i, v in enumerate(value)
            )
    try:
        return cls(**kwargs)
    except StudyFileError:
        raise
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


def _chosen_type(bases: tuple[type, ...], data: Mapping[str, Any], where: str) -> type:
    candidates = table_types(*bases)
    choices = sorted(candidates)
    kind = data.get("type")
    if kind is None:
        concrete = [b for b in bases if b.__name__ in candidates]
        if len(concrete) == 1:
            return concrete[0]
        if len(candidates) == 1:
            return next(iter(candidates.values()))
        raise StudyFileError(f"{where}: missing key 'type' (one of {choices})")
    if kind in candidates:
        return candidates[kind]
    if len(bases) == 1 and len(candidates) == 1:
        raise StudyFileError(
            f"{where}: type {kind!r} is not a {bases[0].__name__}; type must be {choices[0]!r}"
        )
    raise StudyFileError(f"{where}: unknown type {kind!r}; expected one of {choices}")
