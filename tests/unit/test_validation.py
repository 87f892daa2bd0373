"""pva.validation: one rule for kinds and values, and tables built into dataclasses."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from pva import validation
from pva.errors import StudyFileError
from pva.model import Catastrophe, DensityDependence, Mating, Population, Species
from pva.validation import UnknownKeyError, from_table

# ---- kinds are TypeErrors, values ValueErrors, and every message names owner, field, value, rule ---


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        # integers: a bool, float (even 2.0) or string is the wrong kind
        (
            lambda: validation.integer(True, "n", owner="X 'a'"),
            TypeError,
            "X 'a': n must be an integer; got True",
        ),
        (
            lambda: validation.integer(2.0, "n", owner="X"),
            TypeError,
            "X: n must be an integer; got 2.0",
        ),
        (lambda: validation.integer("3", "n"), TypeError, "n must be an integer; got '3'"),
        (
            lambda: validation.integer(0, "n", owner="X", minimum=1),
            ValueError,
            "X: n must be an integer >= 1; got 0",
        ),
        (
            lambda: validation.integer(9, "n", minimum=0, maximum=5),
            ValueError,
            "n must be an integer in [0, 5]; got 9",
        ),
        # numbers
        (
            lambda: validation.number("1", "x", owner="X"),
            TypeError,
            "X: x must be a number; got '1'",
        ),
        (lambda: validation.number(False, "x"), TypeError, "x must be a number; got False"),
        (
            lambda: validation.number(float("nan"), "x", owner="X"),
            ValueError,
            "X: x must be finite; got nan",
        ),
        (lambda: validation.number(-0.5, "x", low=0), ValueError, "x must be >= 0; got -0.5"),
        (
            lambda: validation.number(0.0, "x", low=0, low_open=True),
            ValueError,
            "x must be > 0; got 0.0",
        ),
        (
            lambda: validation.number(2, "x", high=1.0, high_open=True),
            ValueError,
            "x must be < 1.0; got 2",
        ),
        (
            lambda: validation.number(1.0, "x", low=0.0, high=1.0, high_open=True),
            ValueError,
            "x must be in [0.0, 1.0); got 1.0",
        ),
        (
            lambda: validation.probability(1.5, "p", owner="X"),
            ValueError,
            "X: p must be a probability in [0, 1]; got 1.5",
        ),
        (lambda: validation.probability(None, "p"), TypeError, "p must be a number; got None"),
        # names and choices
        (
            lambda: validation.name(3, "name", owner="X"),
            TypeError,
            "X: name must be a non-empty string; got 3",
        ),
        (
            lambda: validation.name("  ", "name", owner="X"),
            ValueError,
            "X: name must be a non-empty string; got '  '",
        ),
        (
            lambda: validation.names("ab", "stages", owner="X"),
            TypeError,
            "X: stages must be a list of names; got 'ab'",
        ),
        (
            lambda: validation.names(["a", 1], "stages"),
            TypeError,
            "stages must be a list of names; got ['a', 1]",
        ),
        (
            lambda: validation.names(["a", ""], "stages"),
            ValueError,
            "stages must be a list of non-empty names; got ['a', '']",
        ),
        (
            lambda: validation.names(["a", "a"], "stages", owner="X"),
            ValueError,
            "X: stages must not repeat a name; got ['a', 'a']",
        ),
        (
            lambda: validation.one_of(1, "kind", ("a", "b")),
            TypeError,
            "kind must be one of ('a', 'b'); got 1",
        ),
        (
            lambda: validation.one_of("c", "kind", ("a", "b")),
            ValueError,
            "kind must be one of ('a', 'b'); got 'c'",
        ),
        (
            lambda: validation.flag(1, "on", owner="X"),
            TypeError,
            "X: on must be True or False; got 1",
        ),
        (lambda: validation.text(None, "notes"), TypeError, "notes must be a string; got None"),
        (
            lambda: validation.instance(3, "sex", Mating, owner="X", optional=True),
            TypeError,
            "X: sex must be Mating or None; got 3",
        ),
        # sequences
        (
            lambda: validation.integers(5, "years", owner="X"),
            TypeError,
            "X: years must be a list of integers; got 5",
        ),
        (
            lambda: validation.integers([1, 2.5], "years"),
            TypeError,
            "years[1] must be an integer; got 2.5",
        ),
        (
            lambda: validation.integers([1, -1], "years", minimum=0),
            ValueError,
            "years[1] must be an integer >= 0; got -1",
        ),
        (
            lambda: validation.integers([2, 1], "years", increasing=True),
            ValueError,
            "years must be increasing, without repeats; got [2, 1]",
        ),
        (
            lambda: validation.numbers([1, 2], "w", length=3),
            ValueError,
            "w must be a list of 3 numbers; got [1, 2]",
        ),
    ],
)
def test_messages_follow_the_one_rule(call, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        call()


def test_helpers_return_canonical_values() -> None:
    assert validation.integer(np.int64(3), "n") == 3
    assert type(validation.integer(np.int64(3), "n")) is int
    assert validation.number(2, "x") == 2.0
    assert type(validation.number(np.float32(0.5), "x")) is float
    assert validation.names("a", "stages", single=True) == ("a",)
    assert validation.names(["a", "b"], "stages") == ("a", "b")
    assert validation.integers(np.array([1, 2]), "years", increasing=True) == (1, 2)
    assert validation.numbers((1, 2.5), "w", low=0) == (1.0, 2.5)
    assert validation.flag(np.True_, "on") is True
    assert validation.instance(None, "sex", Mating, optional=True) is None


def test_owner_names_class_and_name() -> None:
    assert validation.owner(Population(name="north", initial=(1,))) == "Population 'north'"
    assert validation.owner(DensityDependence()) == "DensityDependence"


def test_specifications_follow_the_rule() -> None:
    # a count given as a float is the wrong kind, a negative one the wrong value
    with pytest.raises(
        TypeError, match=r"Population 'a': initial\[0\] must be an integer; got 2\.0"
    ):
        Population(name="a", initial=(2.0, 1))
    with pytest.raises(ValueError, match=r"Population 'a': initial_total must be an integer >= 0"):
        Population(name="a", initial_total=-1)
    with pytest.raises(
        TypeError, match=r"Catastrophe 'fire': probability must be a number; got '0\.1'"
    ):
        Catastrophe(name="fire", probability="0.1")  # type: ignore[arg-type]


# ---- tables ------------------------------------------------------------------------------------------


def test_check_keys_names_table_and_key() -> None:
    assert validation.check_keys({"a": 1}, ("a", "b"), "[t]") == {"a": 1}
    with pytest.raises(
        UnknownKeyError, match=r"^\[t\]: unknown key 'c'; allowed keys: \['a', 'b'\]$"
    ) as info:
        validation.check_keys({"a": 1, "c": 2}, ("a", "b"), "[t]")
    assert (info.value.key, info.value.table) == ("c", "[t]")
    assert isinstance(info.value, StudyFileError)
    with pytest.raises(TypeError, match=r"\[t\] must be a table; got 3"):
        validation.check_keys(3, ("a",), "[t]")


def species_table() -> dict[str, object]:
    return {
        "name": "toy",
        "stages": ["j", "a"],
        "U": [[0.2, 0.0], [0.3, 0.9]],
        "F": [[0.0, 0.5], [0.0, 0.0]],
        "populations": [
            {"name": "north", "initial": [10, 50], "carrying_capacity": 100.0},
            {"name": "south", "initial": [5, 20]},
        ],
        "catastrophes": [{"name": "fire", "probability": 0.1, "survival_multiplier": 0.5}],
        "sex": {"system": "monogamous"},
    }


def test_from_table_builds_nested_specifications_without_type_tags() -> None:
    sp = from_table(Species, species_table(), where="species[0]")
    assert isinstance(sp, Species)
    assert sp.populations[1] == Population(name="south", initial=(5, 20))
    assert sp.catastrophes == (Catastrophe(name="fire", probability=0.1, survival_multiplier=0.5),)
    assert sp.sex == Mating()
    assert sp.stages == ("j", "a")  # lists become tuples
    assert from_table(Species, sp.to_dict(), where="species[0]") == sp  # with type tags too
    assert from_table(Species, sp, where="species[0]") is sp


def test_from_table_names_the_table_path_of_an_unknown_key() -> None:
    table = species_table()
    table["populations"][1]["capacity"] = 5  # type: ignore[index]
    with pytest.raises(
        UnknownKeyError,
        match=r"species\[0\]\.populations\[1\]: unknown key 'capacity' for type 'Population'",
    ) as info:
        from_table(Species, table, where="species[0]")
    assert info.value.table == "species[0].populations[1]"


def test_from_table_prefixes_validation_errors_with_the_table() -> None:
    table = species_table()
    table["catastrophes"][0]["probability"] = 2.0  # type: ignore[index]
    with pytest.raises(
        ValueError,
        match=r"^species\[0\]\.catastrophes\[0\]: Catastrophe 'fire': probability must be",
    ):
        from_table(Species, table, where="species[0]")


def test_from_table_chooses_the_type_by_its_tag() -> None:
    env = {"type": "MatrixSelection", "U": [[[0.5]]], "F": [[[0.6]]]}
    sp = from_table(
        Species, {"name": "s", "stages": ["a"], "environment": env, "initial": [3]}, where="sp"
    )
    assert type(sp.environment).__name__ == "MatrixSelection"
    with pytest.raises(
        StudyFileError,
        match=r"sp\.environment: missing key 'type' \(one of \['MatrixSelection', 'VitalRateStochasticity'\]\)",
    ):
        from_table(Species, {"name": "s", "stages": ["a"], "environment": {"U": []}}, where="sp")
    with pytest.raises(StudyFileError, match=r"sp\.sex: type 'Population' is not a Mating"):
        from_table(Species, {**species_table(), "sex": {"type": "Population"}}, where="sp")
    with pytest.raises(TypeError, match=r"sp\.populations must be a list of tables"):
        from_table(Species, {**species_table(), "populations": {"name": "x"}}, where="sp")


def test_from_table_finds_subclasses_without_registration() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Flood(Catastrophe):
        depth: float = 1.0

    cat = from_table(
        Catastrophe, {"type": "Flood", "name": "f", "probability": 0.1, "depth": 2.0}, where="c"
    )
    assert isinstance(cat, Flood)
    assert cat.depth == 2.0
    assert "Flood" in validation.table_types(Catastrophe)
