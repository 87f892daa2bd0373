"""`pva.census`: observed census series classified under the IUCN criteria (issue 16, part 5).

Expected categories are the IUCN thresholds (IUCN 2012 section V; Guidelines v16), the same cases
as the table-driven tests of :func:`pva.redlist.classify` (tests/unit/test_redlist_classify.py),
read here as observed series assessed at their last year: an 80% reduction over the window (the
longer of 10 years or 3 generations) is CR under A2, 50% EN, 30% VU, 20% NT (Guidelines 10.1);
fewer than 50 / 250 / 1,000 mature individuals are CR / EN / VU under D.
"""

from __future__ import annotations

import numpy as np
import pytest

from pva import redlist as rl
from pva.census import Census, annual_counts, assess_census, parse_census
from pva.redlist import RedListSettings

ONLY_A = RedListSettings(criteria=("A",))
ONLY_D = RedListSettings(criteria=("D",))


def series(values, first=2000):
    return Census(years=tuple(range(first, first + len(values))), mature=tuple(values))


def step(before, after, *, at, length):
    return [before if t < at else after for t in range(length)]


# id, trajectory (years 0..length-1, assessed at the last), G, sub-criterion, category, criteria
A_CASES = [
    ("A2 exactly 80%", step(1000, 200, at=10, length=11), 2.0, "A2", "CR", "CR A2a"),
    ("A2 79.9%", step(1000, 201, at=10, length=11), 2.0, "A2", "EN", "EN A2a"),
    ("A2 exactly 50%", step(1000, 500, at=10, length=11), 2.0, "A2", "EN", "EN A2a"),
    ("A2 exactly 30%", step(1000, 700, at=10, length=11), 2.0, "A2", "VU", "VU A2a"),
    ("A2 20% is NT", step(1000, 800, at=10, length=11), 2.0, "A2", "NT", "NT A2a"),
    ("A2 19% is LC", step(1000, 810, at=10, length=11), 2.0, "A2", "LC", "LC"),
    ("A1 80% is EN", step(1000, 200, at=10, length=11), 2.0, "A1", "EN", "EN A1a"),
    ("A1 exactly 90%", step(1000, 100, at=10, length=11), 2.0, "A1", "CR", "CR A1a"),
    # three generations of G = 5 are 15 years: 1000 -> 200 over 15 years is 80%
    ("A2 over 3 G", step(1000, 200, at=15, length=16), 5.0, "A2", "CR", "CR A2a"),
    # ... but over 10 years only when 3 G < 10: with G = 5 the 10-year drop is inside a
    # 15-year window that starts at 400
    ("A2 window 3 G", [400.0] * 5 + [1000.0] * 10 + [200.0], 5.0, "A2", "EN", "EN A2a"),
]


@pytest.mark.parametrize(
    ("traj", "g", "sub", "category", "criteria"),
    [c[1:] for c in A_CASES],
    ids=[c[0] for c in A_CASES],
)
def test_criterion_a_on_observed_series(traj, g, sub, category, criteria):
    a = assess_census(series(traj), generation_length=g, criterion_a=sub, settings=ONLY_A)
    assert (a.category, a.criteria) == (category, criteria)
    assert a.year == 2000 + len(traj) - 1
    # the same as the classifier on the series with the assessor at the last column
    c = rl.classify(
        np.asarray(traj, dtype=float)[None, :],
        generation_length=g,
        criterion_a=sub,
        settings=ONLY_A,
    )
    assert c.criteria[0, -1] == criteria


@pytest.mark.parametrize(
    ("n", "category", "criteria"),
    [
        (49, "CR", "CR D"),
        (50, "EN", "EN D"),
        (249, "EN", "EN D"),
        (250, "VU", "VU D1"),
        (999, "VU", "VU D1"),
        (1000, "NT", "NT D1"),
        (1501, "LC", "LC"),
    ],
)
def test_criterion_d_on_observed_counts(n, category, criteria):
    a = assess_census(series([n] * 3), generation_length=1.0, settings=ONLY_D)
    assert (a.category, a.criteria) == (category, criteria)


def test_a_window_not_covered_by_the_census_is_not_evaluable():
    # 9 years of census cannot show a reduction over 10 years
    a = assess_census(
        series(step(1000, 200, at=8, length=9)), generation_length=2.0, settings=ONLY_A
    )
    assert dict(a.levels)["A2"] == "not evaluable"
    assert not a.complete


def test_projected_criteria_are_not_evaluated_and_said_so():
    a = assess_census(series([1000.0] * 10 + [200.0]), generation_length=2.0)
    assert {"A3", "A4", "E"} <= set(a.not_evaluated)
    assert any("projections" in note for note in a.notes)


def test_censuses_every_five_years_are_interpolated_exponentially():
    # 1000 -> 200 over 10 years in two 5-year steps: exactly 80%, CR A2 (the ends are counts)
    c = Census(years=(2000, 2005, 2010), mature=(1000.0, 500.0, 200.0))
    years, counts, gaps = annual_counts(c)
    assert years.tolist() == list(range(2000, 2011))
    # exponential between censuses: N(2001) = 1000 (0.5)^(1/5)
    assert counts[0, 1] == pytest.approx(1000 * 0.5**0.2)
    assert counts[0, 7] == pytest.approx(500 * 0.4**0.4)
    assert gaps.sum() == 8
    a = assess_census(c, generation_length=2.0, criterion_a="A2", settings=ONLY_A)
    assert a.criteria == "CR A2a"
    assert len(a.interpolated) == 8


def test_zero_counts_interpolate_linearly():
    c = Census(years=(2000, 2004), mature=(40.0, 0.0))
    _, counts, _ = annual_counts(c)
    assert counts[0].tolist() == [40.0, 30.0, 20.0, 10.0, 0.0]
    assert assess_census(c, generation_length=1.0).category == "EX"


def test_range_of_counts_gives_the_range_of_categories():
    # best 240 (EN D), low 40 (CR D), high 260 (VU D1): the range is VU to CR
    c = Census(years=(2000, 2001), mature=(240.0, 240.0), low=(40.0, 40.0), high=(260.0, 260.0))
    a = assess_census(c, generation_length=1.0, settings=ONLY_D)
    assert (a.category, a.lower, a.upper) == ("EN", "VU", "CR")


def test_range_of_generation_length_gives_the_range_of_categories():
    # 500 for 3 years, 1000 for 12, then 200 (years 0..15). G = 2 or 3: the A2 window is 10 years
    # (1000 -> 200, 80%: CR); G = 5: 15 years (500 -> 200, 60%: EN). Over G in [2, 5]: EN to CR.
    traj = [500.0] * 3 + [1000.0] * 12 + [200.0]
    a = assess_census(
        series(traj), generation_length=(2.0, 3.0, 5.0), settings=ONLY_A, criterion_a="A2"
    )
    assert a.category == "CR"  # G = 3: a 10-year window
    assert (a.lower, a.upper) == ("EN", "CR")  # G = 5: 15 years back to 500 -> 60%


def test_parse_census_reads_both_layouts_and_names_bad_cells():
    c = parse_census([["Year", "Mature"], ["2000", "10"], ["2001", "8"]], where="f.csv")
    assert (c.years, c.mature) == ((2000, 2001), (10.0, 8.0))
    assert not c.has_range
    r = parse_census([["year", "low", "best", "high"], ["2000", "5", "10", "15"]], where="f.csv")
    assert (r.low, r.mature, r.high) == ((5.0,), (10.0,), (15.0,))
    with pytest.raises(
        ValueError, match=r"f.csv: line 3, column 'mature' must be a number; got 'x'"
    ):
        parse_census([["year", "mature"], ["2000", "10"], ["2001", "x"]], where="f.csv")
    with pytest.raises(ValueError, match=r"f\.csv: the header needs a 'year' column"):
        parse_census([["mature"], ["10"]], where="f.csv")
    with pytest.raises(ValueError, match=r"f\.csv: the header must name"):
        parse_census([["year", "count"], ["2000", "10"]], where="f.csv")
    with pytest.raises(ValueError, match="whole year"):
        parse_census([["year", "mature"], ["2000.5", "10"]], where="f.csv")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"years": (2001, 2000), "mature": (1.0, 2.0)}, ValueError, "increasing"),
        ({"years": (2000,), "mature": (-1.0,)}, ValueError, "mature must be >= 0"),
        ({"years": (2000,), "mature": (1.0, 2.0)}, ValueError, "one count per year"),
        ({"years": (2000,), "mature": (1.0,), "low": (0.5,)}, ValueError, "both low and high"),
        (
            {"years": (2000,), "mature": (1.0,), "low": (2.0,), "high": (3.0,)},
            ValueError,
            "low <= mature <= high",
        ),
        ({"years": (2000.0,), "mature": (1.0,)}, TypeError, "must be an integer"),
    ],
)
def test_census_is_validated(kwargs, error, match):
    with pytest.raises(error, match=match):
        Census(**kwargs)


def test_generation_length_is_validated():
    c = series([10.0, 10.0])
    with pytest.raises(ValueError, match="generation_length must be > 0"):
        assess_census(c, generation_length=0.0)
    with pytest.raises(ValueError, match="min <= best <= max"):
        assess_census(c, generation_length=(3.0, 2.0, 4.0))
