"""Hypothesis properties of parameter paths: every number of any study is addressable and setting
it to its own value changes nothing; any other path is refused with a named error whose suggested
paths are valid; values the specifications refuse are refused with their rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pva.model import Population, Species
from pva.sensitivity import paths
from pva.study import Study
from pva.testing import strategies as pst

YEARS = 15


SPECIES = Species(
    name="toy",
    stages=("juvenile", "adult"),
    U=((0.2, 0.0), (0.3, 0.9)),
    F=((0.0, 0.5), (0.0, 0.0)),
    populations=(
        Population(name="north", initial=(10, 50), carrying_capacity=100.0),
        Population(name="south", initial=(5, 20), carrying_capacity=50.0),
    ),
)
"""Two populations, so that the scenarios strategy may move individuals between them."""


# generated actions may start after the horizon: valid studies, which warn that they never act
pytestmark = pytest.mark.filterwarnings("ignore::pva.errors.InactiveActionWarning")


@st.composite
def studies(draw: st.DrawFn) -> Study:
    """A study of the two-population species under a random scenario, or of a random species."""
    if draw(st.booleans()):
        species, scenarios = SPECIES, (draw(pst.scenarios(SPECIES)),)
    else:
        species, scenarios = draw(pst.species()), ()
    return Study(name="property", species=(species,), scenarios=scenarios, years=YEARS)


@settings(deadline=None, max_examples=25)
@given(studies(), st.data())
def test_every_number_is_a_parameter_that_round_trips(study: Study, data: st.DataObject) -> None:
    doc = study.to_dict()
    listed = paths.numeric_paths(doc)
    path = data.draw(st.sampled_from(listed))
    parameter = paths.resolve(study, path, doc=doc)
    assert paths.format_path(paths.parse(path)) == path
    assert parameter.path == path
    assert paths.assign(study, {parameter: parameter.base}, doc=doc) == study  # type: ignore[dict-item]


_EDITS = st.sampled_from(["insert", "delete", "replace", "swap"])


@settings(deadline=None, max_examples=60)
@given(studies(), st.data())
def test_a_mistyped_path_resolves_to_another_number_or_names_valid_ones(
    study: Study, data: st.DataObject
) -> None:
    doc = study.to_dict()
    listed = paths.numeric_paths(doc)
    path = data.draw(st.sampled_from(listed))
    edit = data.draw(_EDITS)
    i = data.draw(st.integers(0, len(path) - 1))
    char = data.draw(st.sampled_from('abcxyz_.[]0123"'))
    typo = {
        "insert": path[:i] + char + path[i:],
        "delete": path[:i] + path[i + 1 :],
        "replace": path[:i] + char + path[i + 1 :],
        "swap": path[:i] + path[i + 1 : i + 2] + path[i : i + 1] + path[i + 2 :],
    }[edit]
    assume(typo != path)
    try:
        parameter = paths.resolve(study, typo, doc=doc)
    except paths.ParameterPathError as exc:
        message = str(exc)
        assert "\n" not in message
        assert message.startswith(("no parameter ", "parameter path ")), message
        if "nearest valid paths: " in message:
            for near in message.split("nearest valid paths: ")[1].split(", "):
                assert paths.resolve(study, near, doc=doc).path == near
        return
    # the typo is another path: one to a number of the study, or to a field it leaves unset
    if parameter.base is not None:
        assert parameter.path in listed
    else:
        assert parameter.path not in listed


@settings(deadline=None, max_examples=30)
@given(studies(), st.data())
def test_a_refused_value_is_refused_with_a_named_error(study: Study, data: st.DataObject) -> None:
    doc = study.to_dict()
    parameter = paths.resolve(study, data.draw(st.sampled_from(paths.numeric_paths(doc))), doc=doc)
    value = data.draw(st.sampled_from([-1e9, -1.0, -0.5, 1.5, 2.0, 1e9, math.nan]))
    outcome = _assign(study, parameter, value, doc)
    if isinstance(outcome, Exception):
        assert not isinstance(outcome, paths.ParameterPathError)
        assert "must" in str(outcome), str(outcome)
        return
    # accepted: the study holds the value (rounded for integers)
    assert paths.resolve(outcome, parameter.path).base == parameter.value(value)


def _assign(
    study: Study, parameter: paths.Parameter, value: float, doc: dict[str, object]
) -> Study | Exception:
    try:
        return paths.assign(study, {parameter: value}, doc=doc)
    except (ValueError, TypeError) as exc:
        return exc
