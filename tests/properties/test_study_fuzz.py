"""Fuzzing study files (issue 14): random corruptions of the shipped studies are either valid or one
line on stderr naming the file and a key, exit status 2 — never a traceback, never a hang.

The valid studies of ``scenarios/`` (their species files inlined) are corrupted the ways a user or a
hostile file would: keys deleted, duplicated, renamed or given another type; extreme numbers;
wrong nesting; control characters; huge strings; and, on the text, truncation, stray bytes and deep
nesting. Each example is validated in-process through the command (``pva.cli.main``), as fast as
the command allows, 2,000 examples per run.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import math
import re
import signal
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pva.cli import main

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
EXAMPLES = 2_000
SECONDS_PER_EXAMPLE = 10.0
"""An example that takes longer is a hang (validating the largest shipped study takes ~20 ms)."""


def _inlined(path: Path) -> dict[str, Any]:
    """A study with its species files inlined, so that one document holds everything to corrupt."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    species = []
    for table in doc.get("species", []):
        if "file" in table:
            sub = tomllib.loads((path.parent / table["file"]).read_text(encoding="utf-8"))
            table = {**sub, **{k: v for k, v in table.items() if k != "file"}}
        species.append(table)
    doc["species"] = species
    return doc


STUDIES = {p.stem: _inlined(p) for p in sorted(SCENARIOS.glob("*.toml"))}

# ---------------------------------------------------------------------------------------------------
# TOML out (tomllib only reads): everything as inline tables and arrays, one key per line
# ---------------------------------------------------------------------------------------------------


_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')


def _string(s: str) -> str:
    def escape(match: re.Match[str]) -> str:
        c = match.group()
        return "\\" + c if c in '"\\' else f"\\u{ord(c):04x}"

    return '"' + _ESCAPE.sub(escape, s) + '"'


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, datetime.date | datetime.time):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_string(str(k))} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def to_toml(doc: dict[str, Any]) -> str:
    return "".join(f"{_string(str(k))} = {_value(v)}\n" for k, v in doc.items())


# ---------------------------------------------------------------------------------------------------
# corruptions
# ---------------------------------------------------------------------------------------------------

EXTREMES = [
    0,
    -1,
    1,
    2**31,
    2**53 + 1,
    2**62,
    2**63,
    -(2**63) - 1,
    2**64,
    10**29,
    10**40,
    0.5,
    -0.0,
    1e-320,
    1e20,
    1e308,
    -1e308,
    math.inf,
    -math.inf,
    math.nan,
]
CONTROLS = ["\x00", "\x07", "\x1b", "\n", "\t", "\r", "\x7f", "\x85", "\u200b", "\u202e"]
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.booleans(),
    st.dates(),
    st.sampled_from(EXTREMES),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(text, scalars, max_size=3),
    st.lists(st.lists(st.floats(-2, 2), min_size=1, max_size=3), max_size=3),
)


def _copy(value: Any) -> Any:
    """A deep copy of a parsed TOML document (tables, arrays, immutable scalars), faster than
    copy.deepcopy."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _slots(doc: Any) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """Every (table, key) and every (array, index) of the document, depth first."""
    keys: list[tuple[Any, Any]] = []
    items: list[tuple[Any, Any]] = []
    todo = [doc]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                keys.append((node, k))
                if isinstance(v, dict | list) and v:
                    todo.append(v)
        else:
            for i, v in enumerate(node):
                items.append((node, i))
                if isinstance(v, dict | list) and v:
                    todo.append(v)
    return keys, items


def _corrupt(draw: st.DrawFn, doc: dict[str, Any]) -> None:
    keys, items = _slots(doc)
    # keys most of the time: matrix entries outnumber them a hundredfold
    slots = items if items and (not keys or draw(st.integers(0, 3)) == 0) else keys
    container, key = slots[draw(st.integers(0, len(slots) - 1))]
    value = container[key]
    kind = draw(
        st.sampled_from(
            [
                "delete",
                "duplicate",
                "rename",
                "retype",
                "extreme",
                "nest",
                "unnest",
                "control",
                "huge",
            ]
        )
    )
    if kind == "delete":
        del container[key]
    elif kind == "duplicate":
        if isinstance(container, list):
            container.insert(key, _copy(value))
        else:
            container[draw(text) or f"{key}_copy"] = _copy(value)
    elif kind == "rename" and isinstance(container, dict):
        new = draw(st.sampled_from([key[:-1], key.upper(), f"{key}s", f" {key}"])) or "x"
        container[new] = container.pop(key)
    elif kind == "retype":
        container[key] = draw(values)
    elif kind == "extreme":
        container[key] = draw(st.sampled_from(EXTREMES))
    elif kind == "nest":
        container[key] = draw(st.sampled_from([[value], {"value": value}, [[value]]]))
    elif kind == "unnest" and isinstance(value, list | dict) and value:
        container[key] = value[0] if isinstance(value, list) else next(iter(value.values()))
    elif kind == "control":
        c = draw(st.sampled_from(CONTROLS))
        if isinstance(value, str):
            at = draw(st.integers(0, len(value)))
            container[key] = value[:at] + c + value[at:]
        elif isinstance(container, dict):
            container[f"{key}{c}"] = container.pop(key)
    elif kind == "huge":
        n = draw(st.sampled_from([10**3, 10**4, 10**5]))
        container[key] = draw(st.sampled_from(["x" * n, "s+" * (n // 2) + "s", "(" * n]))


def _corrupt_text(draw: st.DrawFn, text_: str) -> str:
    kind = draw(st.sampled_from(["truncate", "insert", "deep", "binary"]))
    at = draw(st.integers(0, len(text_)))
    if kind == "truncate":
        return text_[:at]
    if kind == "insert":
        return (
            text_[:at]
            + draw(st.sampled_from(['"', "[", "{", "=", "\n[[", "\\", "'''", "#"]))
            + text_[at:]
        )
    if kind == "deep":
        depth = draw(st.sampled_from([15, 25, 1000, 100_000]))
        return f"x = {'[' * depth}{']' * depth}\n" + text_
    return text_[:at] + "\udcff"  # an unpaired surrogate: written as invalid UTF-8 below


@st.composite
def corrupted_studies(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    name = draw(st.sampled_from(sorted(STUDIES)))
    doc = _copy(STUDIES[name])
    for _ in range(draw(st.integers(1, 3))):
        _corrupt(draw, doc)
    body = to_toml(doc)
    if draw(st.integers(0, 9)) == 0:
        body = _corrupt_text(draw, body)
    return name, doc, body


# ---------------------------------------------------------------------------------------------------
# the property
# ---------------------------------------------------------------------------------------------------


class Hang(BaseException):
    """An example ran longer than SECONDS_PER_EXAMPLE (a BaseException: main() must not catch it)."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang(f"validate took more than {SECONDS_PER_EXAMPLE} s")


@contextlib.contextmanager
def _time_limit() -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_EXAMPLE)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _names(doc: Any) -> set[str]:
    """The keys of the document at any depth, the tables' labels in messages, and the words that
    locate an error in the text."""
    out = {"[study]", "line", "end of document", "offset", "bytes"}
    out.update(key for _, key in _slots(doc)[0] if isinstance(key, str) and key.strip())
    for group in ("species", "threats", "interventions", "scenarios"):
        tables = doc.get(group)
        if isinstance(tables, list):
            out.update(f"{group}[{i}]" for i in range(len(tables)))
    return out


ORIGINAL_NAMES = {name: _names(doc) for name, doc in STUDIES.items()}
"""The keys of the uncorrupted studies: a deleted key is named by its absence."""


FOLDER = Path(tempfile.mkdtemp(prefix="pva-fuzz-"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # no "explain" phase: it traces every line, which makes reading a huge string look like a hang
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
@given(corrupted_studies())
def test_a_corrupted_study_is_valid_or_one_line_naming_a_key(
    case: tuple[str, dict[str, Any], str],
) -> None:
    name, doc, body = case
    path = FOLDER / f"{name}.toml"
    path.write_bytes(body.encode("utf-8", errors="surrogateescape"))
    out, err = io.StringIO(), io.StringIO()
    with _time_limit(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["validate", str(path)])
    lines = err.getvalue().splitlines()
    assert "Traceback" not in err.getvalue()
    warnings = [line for line in lines if line.startswith("pva validate: warning: ")]
    errors = [line for line in lines if line not in warnings]
    if status == 0:
        assert out.getvalue().startswith("ok: ")
        assert errors == []
        return
    assert status == 2, err.getvalue()  # 70 would be a bug (an unexpected exception)
    assert len(errors) == 1, err.getvalue()
    [line] = errors
    assert line.startswith(f"pva validate: error: {path}"), line
    assert "out of memory" not in line
    names = ORIGINAL_NAMES[name]
    assert any(n in line for n in names) or any(n in line for n in _names(doc)), line


def test_the_fuzzed_studies_are_valid_before_corruption(capsys: pytest.CaptureFixture[str]) -> None:
    """The corruptions start from valid studies, and the TOML written here reads back the same."""
    for name, doc in STUDIES.items():
        path = FOLDER / f"{name}.clean.toml"
        path.write_text(to_toml(doc), encoding="utf-8")
        assert tomllib.loads(path.read_text(encoding="utf-8")) == doc
        assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert len(STUDIES) >= 7
