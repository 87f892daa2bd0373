"""The Schedule contract: neutral values, shape checks and time windows, all from the field axes."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import numpy.typing as npt
import pytest

from pva.schedule import POPULATION, STAGE, YEAR, Schedule, StochasticEvent, Transfer, axes

ARRAYS = {
    "survival_multiplier": ((5, 2, 3), 1.0),
    "fecundity_multiplier": ((5, 2, 3), 1.0),
    "carrying_capacity_multiplier": ((5, 2), 1.0),
    "harvest_proportion": ((5, 2, 3), 0.0),
    "harvest_number": ((5, 2, 3), 0.0),
    "release_number": ((5, 2, 3), 0.0),
    "release_survival": ((5, 2, 3), 1.0),
    "annual_cost": ((5,), 0.0),
}


def event(years: int = 5) -> StochasticEvent:
    return StochasticEvent(
        name="outbreak",
        probability=np.linspace(0.0, 0.4, years),
        survival_multiplier=np.full((2, 3), 0.5),
        fecundity_multiplier=np.ones((2, 3)),
        carrying_capacity_multiplier=np.ones(2),
    )


def transfer(years: int = 5, **changes: object) -> Transfer:
    fields: dict[str, object] = {
        "name": "move",
        "source": 0,
        "population": 1,
        "number": np.arange(years * 3.0).reshape(years, 3),
        "survival": 0.5,
    }
    fields.update(changes)
    return Transfer(**fields)  # type: ignore[arg-type]


def test_neutral_holds_every_array_at_its_no_effect_value() -> None:
    s = Schedule.neutral(years=5, populations=2, stages=3)
    for name, (shape, value) in ARRAYS.items():
        a = getattr(s, name)
        assert a.shape == shape, name
        assert a.dtype == np.float64
        assert np.all(a == value), name
    assert s.events == ()
    assert s.transfers == ()
    assert s.years == 5
    s.check(years=5, populations=2, stages=3)


def test_neutral_arrays_are_not_shared() -> None:
    # compile multiplies them in place: no two fields may be one array
    s = Schedule.neutral(years=2, populations=1, stages=1)
    arrays = [getattr(s, name) for name in ARRAYS]
    assert len({id(a) for a in arrays}) == len(arrays)
    assert not any(np.shares_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1 :])


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_check_names_the_field_and_both_shapes(name: str) -> None:
    s = Schedule.neutral(years=5, populations=2, stages=3)
    bad = dataclasses.replace(s, **{name: np.ones((4, *ARRAYS[name][0][1:]))})
    want = ARRAYS[name][0]
    pattern = rf"schedule\.{name} must have shape .* = {re.escape(repr(want))}"
    with pytest.raises(ValueError, match=pattern):
        bad.check(years=5, populations=2, stages=3)


def test_check_covers_events_and_transfers() -> None:
    s = Schedule.neutral(years=5, populations=2, stages=3)
    with pytest.raises(ValueError, match=r"= \(4, 2, 3\); got \(5, 2, 3\)"):
        s.check(years=4, populations=2, stages=3)
    ok = dataclasses.replace(s, events=(event(),), transfers=(transfer(),))
    ok.check(years=5, populations=2, stages=3)
    with pytest.raises(ValueError, match=r"schedule\.events\[0\] \('outbreak'\)\.probability"):
        dataclasses.replace(s, events=(event(4),)).check(years=5, populations=2, stages=3)
    wide = dataclasses.replace(event(), survival_multiplier=np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"survival_multiplier must have shape .* = \(2, 3\)"):
        dataclasses.replace(s, events=(wide,)).check(years=5, populations=2, stages=3)
    with pytest.raises(ValueError, match=r"transfers\[0\] \('move'\)\.number"):
        dataclasses.replace(s, transfers=(transfer(4),)).check(years=5, populations=2, stages=3)
    for source, population in ((0, 0), (0, 2), (-1, 1)):
        t = transfer(source=source, population=population)
        with pytest.raises(ValueError, match="must move between two of the 2 populations"):
            dataclasses.replace(s, transfers=(t,)).check(years=5, populations=2, stages=3)


def test_window_slices_every_year_axis_and_holds_the_last_step() -> None:
    s = Schedule.neutral(years=5, populations=2, stages=1)
    s = dataclasses.replace(
        s,
        survival_multiplier=np.arange(5.0)[:, None, None] * np.ones((5, 2, 1)),
        annual_cost=np.arange(5.0),
        events=(
            dataclasses.replace(
                event(),
                survival_multiplier=np.full((2, 1), 0.5),
                fecundity_multiplier=np.ones((2, 1)),
            ),
        ),
        transfers=(transfer(number=np.arange(5.0)[:, None]),),
    )
    out = s.window(start=3, years=4)
    out.check(years=4, populations=2, stages=1)
    assert out.survival_multiplier[:, 0, 0].tolist() == [3.0, 4.0, 4.0, 4.0]
    assert out.annual_cost.tolist() == [3.0, 4.0, 4.0, 4.0]  # type: ignore[union-attr]
    assert out.fecundity_multiplier.shape == (4, 2, 1)
    (ev,) = out.events
    np.testing.assert_array_equal(ev.probability, s.events[0].probability[[3, 4, 4, 4]])
    assert ev.survival_multiplier is s.events[0].survival_multiplier  # no year axis: kept
    (moved,) = out.transfers
    assert moved.number[:, 0].tolist() == [3.0, 4.0, 4.0, 4.0]
    assert (moved.source, moved.population, moved.survival) == (0, 1, 0.5)


def test_window_from_the_start_over_the_horizon_is_the_same_schedule() -> None:
    rng = np.random.default_rng(7)
    s = Schedule.neutral(years=6, populations=2, stages=3)
    changes = {name: rng.random((6, *shape[1:])) for name, (shape, _) in ARRAYS.items()}
    s = dataclasses.replace(s, **changes, events=(event(6),), transfers=(transfer(6),))
    again = s.window(start=0, years=6)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(again, name), getattr(s, name))
    np.testing.assert_array_equal(again.events[0].probability, s.events[0].probability)
    np.testing.assert_array_equal(again.transfers[0].number, s.transfers[0].number)
    # a window of a window is the window of the whole
    np.testing.assert_array_equal(
        s.window(start=2, years=5).window(start=1, years=3).harvest_number,
        s.window(start=3, years=3).harvest_number,
    )


def test_a_new_field_is_one_declaration() -> None:
    # what a genetics feature would add: neutral, check and window follow from the axes alone
    @dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
    class WithInbreeding(Schedule):
        inbreeding_multiplier: npt.NDArray[np.float64] = dataclasses.field(
            metadata=axes(YEAR, POPULATION, STAGE, neutral=1.0)
        )

    s = WithInbreeding.neutral(years=3, populations=1, stages=2)
    np.testing.assert_array_equal(s.inbreeding_multiplier, np.ones((3, 1, 2)))
    s.check(years=3, populations=1, stages=2)
    with pytest.raises(ValueError, match=r"schedule\.inbreeding_multiplier must have shape"):
        dataclasses.replace(s, inbreeding_multiplier=np.ones((3, 1, 1))).check(
            years=3, populations=1, stages=2
        )
    grown = dataclasses.replace(s, inbreeding_multiplier=np.arange(3.0)[:, None, None] * np.ones(2))
    assert grown.window(start=1, years=3).inbreeding_multiplier[:, 0, 0].tolist() == [1, 2, 2]
