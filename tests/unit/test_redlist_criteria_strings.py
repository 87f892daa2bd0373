"""IUCN criteria strings: the category, then each criterion met at that category with the
sub-criteria and subconditions that hold.

The notation is that of the IUCN Red List Categories and Criteria v3.1 (IUCN 2012, section V: the
criteria as numbered and lettered there) as the Red List writes it (IUCN Red List training,
"Red List Criteria & the Criteria Summary Sheet": "CR A2ace;B1ab(iii)"; Guidelines v16 section 2.3:
a taxon is listed under every criterion it meets at its category): criteria in the order A to E
separated by "; ", sub-criteria of one criterion joined by "+" with the criterion's letter written
once ("B1ab(v)+2ab(v)", "C1+2a(ii)"), subconditions after the sub-criterion ("a", "b(v)",
"c(iv)"), and D written "D1" in VU (where D2 exists) and "D" in CR and EN.

Each expected string below is written from those rules and IUCN 2012's thresholds, not read from
the code.
"""

from __future__ import annotations

import numpy as np
import pytest

from pva import redlist as rl
from pva.redlist import RedListSettings

ONLY_B = RedListSettings(criteria=("B",))
ONLY_C = RedListSettings(criteria=("C",))
ONLY_D = RedListSettings(criteria=("D",))


def row(values) -> np.ndarray:
    return np.asarray(values, dtype=float)[None, :]


def census_like() -> np.ndarray:
    """1,000 mature in year 0, 600 in year 5, 200 in year 10, exponential in between (the series
    of the audit's ``c1.csv``)."""
    years = np.arange(11)
    return row(np.exp(np.interp(years, [0, 5, 10], np.log([1000.0, 600.0, 200.0]))))


def test_audit_case_b_with_subconditions_and_c1():
    # G = 8. B1: EOO 50 < 100 km² and B2: AOO 8 < 10 km² (CR), each with (a) a single location
    # and (b)(v) a continuing decline of mature individuals (the assessor's): CR B1ab(v)+2ab(v).
    # C1: 200 < 250 mature with 1000 -> 200 over 10 years, more than 25% within 1 generation (8
    # years): CR C1. D: 200 < 250 is EN only. A2's window, 3 G = 24 years, is not covered.
    c = rl.classify(
        census_like(), generation_length=8.0, eoo=50.0, aoo=8.0, locations=1,
        continuing_decline=True,
    )  # fmt: skip
    assert c.criteria[0, -1] == "CR B1ab(v)+2ab(v); C1"


def test_order_of_criteria_and_basis_of_a2():
    # G = 1; 1,000 -> 200 in year 10: an 80% reduction over 10 years observed on the series of
    # mature individuals, CR A2 on basis (a) direct observation; EOO 50 km², 1 location and the
    # decline: CR B1ab(v); 200 < 250 with 80% lost within 3 years: CR C1. D is EN only.
    traj = row([1000.0] * 10 + [200.0])
    c = rl.classify(
        traj, generation_length=1.0, criterion_a="A2", eoo=50.0, locations=1,
        continuing_decline=True,
    )  # fmt: skip
    assert c.criteria[0, 10] == "CR A2a; B1ab(v); C1"


@pytest.mark.parametrize(
    ("decline", "fragmented", "expected"),
    [
        # (a) severely fragmented and (c)(iv) extreme fluctuations, no decline: two of three
        (False, True, "CR B1ac(iv)"),
        # all three hold: all three are listed
        (True, True, "CR B1ab(v)c(iv)"),
        # (b)(v) and (c)(iv) without (a)
        (True, False, "CR B1b(v)c(iv)"),
    ],
)
def test_b_lists_each_subcondition_that_holds(decline, fragmented, expected):
    # 20,000 and 200,000 mature in turn: a tenfold rise and fall within 10 years (extreme
    # fluctuations, Guidelines 4.7); EOO 50 km² < 100 (CR); the decline as the assessor gives it
    traj = row([20_000.0, 200_000.0] * 6)
    c = rl.classify(
        traj, generation_length=1.0, eoo=50.0, severely_fragmented=fragmented,
        continuing_decline=decline, settings=ONLY_B,
    )  # fmt: skip
    assert c.criteria[0, -1] == expected


def test_b_location_threshold_of_the_category():
    # EOO 3,000 km² (< 5,000: EN) with 4 locations (<= 5: (a) at EN) and a decline: EN B1ab(v);
    # EOO 50 km² (CR area) with the same 4 locations: (a) fails at CR (<= 1) but holds at EN, and
    # with (b) only CR fails (two of a-c needed): EN, still "ab(v)"
    traj = row([20_000.0] * 12)
    for eoo in (3_000.0, 50.0):
        c = rl.classify(
            traj, generation_length=1.0, eoo=eoo, locations=4, continuing_decline=True,
            settings=ONLY_B,
        )  # fmt: skip
        assert c.criteria[0, -1] == "EN B1ab(v)"


def test_c2a_subcriteria():
    traj = np.full((1, 12, 10), 500.0)  # 5,000 mature in 10 subpopulations of 500, steady
    c = rl.classify(traj, generation_length=1.0, continuing_decline=True, settings=ONLY_C)
    # < 10,000 declining, no subpopulation > 1,000: VU C2a(i); the largest holds 10% only
    assert c.criteria[0, -1] == "VU C2a(i)"
    two = np.stack([np.full(12, 1990.0), np.full(12, 10.0)], axis=1)[None]
    c = rl.classify(two, generation_length=1.0, continuing_decline=True, settings=ONLY_C)
    # 2,000 < 2,500 declining with 99.5% in one subpopulation (>= 95%): EN C2a(ii)
    assert c.criteria[0, -1] == "EN C2a(ii)"
    one = np.full((1, 12, 1), 40.0)
    c = rl.classify(one, generation_length=1.0, continuing_decline=True, settings=ONLY_C)
    # 40 < 250 declining, the only subpopulation holds 40 <= 50 and 100%: CR C2a(i,ii)
    assert c.criteria[0, -1] == "CR C2a(i,ii)"


def test_d_is_d1_in_vu_only():
    steady = row([500.0] * 3)
    c = rl.classify(steady, generation_length=1.0, locations=2, plausible_threat=True,
                    settings=ONLY_D)  # fmt: skip
    assert c.criteria[0, -1] == "VU D1+2"  # 500 < 1,000 (D1) and 2 locations with a threat (D2)
    c = rl.classify(row([100.0] * 3), generation_length=1.0, settings=ONLY_D)
    assert c.criteria[0, -1] == "EN D"  # 100 < 250: EN D, no "1" outside VU


def test_dataset_and_census_carry_the_same_strings():
    c = rl.classify(
        census_like(), generation_length=8.0, eoo=50.0, aoo=8.0, locations=1,
        continuing_decline=True,
    )  # fmt: skip
    ds = c.to_dataset()
    assert str(ds["criteria"].values[0, -1]) == "CR B1ab(v)+2ab(v); C1"
