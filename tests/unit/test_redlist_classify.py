"""IUCN Red List criteria on hand-built trajectories.

Expected categories come from the thresholds of the IUCN Red List Categories and Criteria v3.1
(IUCN 2012, section V) and the rules of the Guidelines for Using them (v16, 2024), cited by section:
4.4 generation length, 4.5 reduction, 4.6 continuing decline, 4.7 extreme fluctuations, 5-9
criteria A-E, 10.1 Near Threatened.

A category at year t reads only the replicate's past up to t and projections from its state at t
(at year 0, the replicates' ensemble when they share one starting state); single-replicate
trajectories below are therefore their own projection at year 0.
"""

from __future__ import annotations

import numpy as np
import pytest

from pva import redlist as rl
from pva.redlist import CR, EN, EX, LC, NE, NOT_EVALUABLE, NT, VU, RedListSettings

ONLY_A = RedListSettings(criteria=("A",))
ONLY_C = RedListSettings(criteria=("C",))
ONLY_D = RedListSettings(criteria=("D",))
ONLY_E = RedListSettings(criteria=("E",))


def row(values) -> np.ndarray:
    """One replicate: shape (1, year)."""
    return np.asarray(values, dtype=float)[None, :]


def step(before: float, after: float, *, at: int, length: int) -> list[float]:
    """``before`` up to year ``at - 1``, ``after`` from year ``at`` on, years 0..length - 1."""
    return [before if t < at else after for t in range(length)]


def geometric(n0: float, rate: float, length: int) -> list[float]:
    """n0 * rate**t for t = 0..length - 1."""
    return list(n0 * rate ** np.arange(length))


# ---------------------------------------------------------------------------------------------------
# criterion A: thresholds 80/50/30% (A2-A4), 90/70/50% (A1); the longer of 10 years or 3 generations


A_CASES = [
    # id, trajectory, generation length, sub-criterion, column assessed, category, criteria
    # exactly 80% over 10 years (G = 2: 3G = 6 < 10) meets CR A2 "at least 80%" (IUCN 2012 A2)
    ("A2 exactly 80%", step(1000, 200, at=10, length=11), 2.0, "A2", 10, CR, "CR A2a"),
    ("A2 79.9%", step(1000, 201, at=10, length=11), 2.0, "A2", 10, EN, "EN A2a"),
    ("A2 exactly 50%", step(1000, 500, at=10, length=11), 2.0, "A2", 10, EN, "EN A2a"),
    ("A2 exactly 30%", step(1000, 700, at=10, length=11), 2.0, "A2", 10, VU, "VU A2a"),
    # Guidelines 10.1: "declined by an estimated 20-25% in the last three generations" -> NT
    ("A2 20% is NT", step(1000, 800, at=10, length=11), 2.0, "A2", 10, NT, "NT A2a"),
    ("A2 19% is LC", step(1000, 810, at=10, length=11), 2.0, "A2", 10, LC, "LC"),
    # A1 (causes ceased) uses 90/70/50%: 80% is EN, not CR
    ("A1 80% is EN", step(1000, 200, at=10, length=11), 2.0, "A1", 10, EN, "EN A1a"),
    ("A1 exactly 90%", step(1000, 100, at=10, length=11), 2.0, "A1", 10, CR, "CR A1a"),
    # the window is not yet covered at year 9 (needs 10 years of past)
    (
        "A2 not evaluable",
        step(1000, 200, at=9, length=11),
        2.0,
        "A2",
        9,
        NOT_EVALUABLE,
        "not evaluable",
    ),
    # A3 from the assessment year forward
    ("A3 exactly 80%", step(1000, 200, at=10, length=11), 2.0, "A3", 0, CR, "CR A3"),
    ("A3 increase", step(1000, 2000, at=10, length=11), 2.0, "A3", 0, LC, "LC"),
]


@pytest.mark.parametrize(
    ("traj", "g", "sub", "col", "category", "criteria"),
    [c[1:] for c in A_CASES],
    ids=[c[0] for c in A_CASES],
)
def test_criterion_a_thresholds(traj, g, sub, col, category, criteria):
    c = rl.classify(row(traj), generation_length=g, criterion_a=sub, settings=ONLY_A)
    assert c.category[0, col] == category
    assert c.criteria[0, col] == criteria


def test_window_is_ten_years_or_three_generations_whichever_longer():
    # Guidelines 4.4 and 5: G = 2 -> 10-year window, G = 5 -> 15-year window.
    # N was 400 up to year 4, 1000 at years 5..14 and 200 at year 15.
    traj = [400.0] * 5 + [1000.0] * 10 + [200.0]
    short = rl.classify(row(traj), generation_length=2.0, criterion_a="A2", settings=ONLY_A)
    long = rl.classify(row(traj), generation_length=5.0, criterion_a="A2", settings=ONLY_A)
    assert short.criteria[0, 15] == "CR A2a"  # 1000 -> 200 over years 5..15: 80%
    assert long.criteria[0, 15] == "EN A2a"  # 400 -> 200 over years 0..15: 50%
    assert long.category[0, 14] == NOT_EVALUABLE  # 15 years of past are not there yet


def test_a3_window_is_capped_at_100_years():
    # G = 50: three generations are 150 years, but A3 looks at most 100 years ahead (IUCN 2012 A3)
    traj = step(1000, 200, at=100, length=101)
    c = rl.classify(row(traj), generation_length=50.0, criterion_a="A3", settings=ONLY_A)
    assert c.criteria[0, 0] == "CR A3"
    # no projection from year 1: A3 is not evaluated there, and the category rests on nothing
    assert c.levels[0, 1, rl.CRITERIA.index("A3")] == NE
    assert c.not_evaluated[0, 1] == "A3"
    # the past window of A2 is not capped: 150 years of history would be needed
    c2 = rl.classify(row(traj), generation_length=50.0, criterion_a="A2", settings=ONLY_A)
    assert np.all(c2.levels[..., rl.CRITERIA.index("A2")] == NOT_EVALUABLE)


def test_a2_window_of_three_generations_is_not_capped_at_100_years():
    # G = 40: 3 G = 120 years (IUCN 2012 A2: "the last 10 years or three generations, whichever
    # is the longer"; the 100-year cap of A3/A4 is on the future only). 1,000 for 120 years, then 200
    traj = [1000.0] * 120 + [200.0]
    c = rl.classify(row(traj), generation_length=40.0, criterion_a="A2", settings=ONLY_A)
    assert c.criteria[0, 120] == "CR A2a"
    # a window capped at 100 years would start at year 20 and see the same 80%; one year earlier
    # the 120-year window is not yet covered
    assert c.levels[0, 119, rl.CRITERIA.index("A2")] == NOT_EVALUABLE
    # and a drop that lies 101-120 years back is still inside the window
    early = [1000.0] * 5 + [200.0] * 116
    c = rl.classify(row(early), generation_length=40.0, criterion_a="A2", settings=ONLY_A)
    assert c.criteria[0, 120] == "CR A2a"


def test_a4_joins_the_observed_past_and_the_projected_future():
    # a crash of 80% between years 2 and 3, with 10 years of history; G = 2 -> windows of 10 years
    traj = step(1000, 200, at=13, length=40)
    c = rl.classify(
        row(traj), generation_length=2.0, years_before=10, criterion_a="A4", settings=ONLY_A
    )
    # year 0 (column 10): the replicate is its own projection; windows [-k, 10 - k], k = 1..9,
    # hold the crash at year 3 when 10 - k >= 3
    assert c.criteria[0, 10] == "CR A4"
    # later years: no projection, not evaluated (its own future is hindsight)
    a4 = rl.CRITERIA.index("A4")
    assert np.all(c.levels[0, 11:, a4] == NE)
    # with a flat projection from year 5 (column 15) the crash lies in the observed part of the
    # windows [15 - k, 25 - k] with 15 - k <= 12
    projected = np.full((1, 40, 11), np.nan)
    projected[0, 15, :] = 200.0
    c = rl.classify(
        row(traj),
        generation_length=2.0,
        years_before=10,
        criterion_a="A4",
        settings=ONLY_A,
        projected_mature=projected,
    )
    assert c.criteria[0, 15] == "CR A4"
    # from column 23 on, every window starts after the crash: a flat projection gives LC
    projected[0, 23, :] = 200.0
    c = rl.classify(
        row(traj),
        generation_length=2.0,
        years_before=10,
        criterion_a="A4",
        settings=ONLY_A,
        projected_mature=projected,
    )
    assert c.category[0, 23] == LC
    # a projection of a further 80% loss within 9 years makes it CR again
    projected[0, 23, 9:] = 40.0
    c = rl.classify(
        row(traj),
        generation_length=2.0,
        years_before=10,
        criterion_a="A4",
        settings=ONLY_A,
        projected_mature=projected,
    )
    assert c.criteria[0, 23] == "CR A4"


def test_a3_from_a_projection_at_a_later_year():
    # a flat trajectory, and at year 5 a projection (e.g. a nested simulation's mean) of 60% loss
    # within 10 years: EN A3 at year 5 only
    projected = np.full((1, 21, 11), np.nan)
    projected[0, 5] = np.linspace(1000.0, 400.0, 11)
    c = rl.classify(
        row([1000.0] * 21),
        generation_length=1.0,
        criterion_a="A3",
        settings=ONLY_A,
        projected_mature=projected,
    )
    assert c.criteria[0, 5] == "EN A3"
    assert c.category[0, 0] == LC  # the replicate's own (flat) future at year 0
    assert c.levels[0, 6, rl.CRITERIA.index("A3")] == NE


def test_fitted_trend_recovers_an_exact_exponential_reduction():
    # N_t = 1000 * 0.5**(t/10): an exponential decline of exactly 50% in 10 years (Guidelines 4.5.1)
    traj = list(1000 * 0.5 ** (np.arange(21) / 10))
    c = rl.classify(
        row(traj),
        generation_length=1.0,
        criterion_a=("A2", "A3"),
        settings=RedListSettings(criteria=("A",), reduction_method="fitted"),
    )
    assert c.criteria[0, 0] == "EN A3"
    assert c.criteria[0, 20] == "EN A2a"


def test_fitted_trend_ignores_noise_at_the_window_end():
    # a flat series with a 90% dip in its last year: point-to-point sees CR, the trend far less
    traj = [1000.0] * 10 + [100.0]
    point = rl.classify(row(traj), generation_length=1.0, criterion_a="A3", settings=ONLY_A)
    fitted = rl.classify(
        row(traj),
        generation_length=1.0,
        criterion_a="A3",
        settings=RedListSettings(criteria=("A",), reduction_method="fitted"),
    )
    assert point.category[0, 0] == CR
    assert fitted.category[0, 0] < CR


# ---------------------------------------------------------------------------------------------------
# criterion D: < 50 / < 250 / < 1,000 mature individuals (IUCN 2012 D; D1 for VU)

D_CASES = [
    (49, CR, "CR D"),
    (50, EN, "EN D"),  # 50 is not fewer than 50
    (249, EN, "EN D"),
    (250, VU, "VU D1"),  # exactly 250 is NOT < 250: not EN
    (999, VU, "VU D1"),
    (1000, NT, "NT D1"),  # not < 1,000; within the NT margin (settings.nt_size_margin)
    (1499, NT, "NT D1"),
    # the NT bound (1 + margin) x VU threshold is inclusive, as in IUCN's training example
    # "15,000 mature individuals ... NT C1" (see test_nt_near_threshold_table)
    (1500, NT, "NT D1"),
    (1501, LC, "LC"),
]


@pytest.mark.parametrize(("n", "category", "criteria"), D_CASES)
def test_criterion_d_thresholds(n, category, criteria):
    c = rl.classify(row([n] * 3), generation_length=1.0, settings=ONLY_D)
    assert np.all(c.category == category)
    assert c.criteria[0, 0] == criteria


@pytest.mark.parametrize(
    ("locations", "threat", "criteria"),
    [(3, True, "VU D2"), (5, True, "VU D2"), (6, True, "LC"), (3, False, "LC")],
)
def test_vu_d2_needs_few_locations_and_a_plausible_threat(locations, threat, criteria):
    c = rl.classify(
        row([5000] * 3),
        generation_length=1.0,
        locations=locations,
        plausible_threat=threat,
        settings=ONLY_D,
    )
    assert c.criteria[0, 0] == criteria


def test_vu_d1_and_d2_together():
    c = rl.classify(
        row([500] * 3), generation_length=1.0, locations=2, plausible_threat=True, settings=ONLY_D
    )
    assert c.criteria[0, 0] == "VU D1+2"


# ---------------------------------------------------------------------------------------------------
# criterion C: < 250 / 2,500 / 10,000 with C1 (25% in 3 y or 1 G, 20% in 5 y or 2 G, 10% in 10 y or
# 3 G) or C2 (continuing decline and a(i), a(ii) or b)


def test_c1_exactly_250_is_not_cr_but_en():
    # G = 1: windows 3, 5, 10 years. A decline of exactly 25% every 3 years from N = 250:
    # at year 0, N = 250 is not < 250 (not CR) but < 2,500 with 1 - 0.75**(5/3) = 38% in 5 years (EN).
    traj = geometric(250.0, 0.75 ** (1 / 3), 20)
    c = rl.classify(row(traj), generation_length=1.0, settings=ONLY_C)
    assert c.criteria[0, 0] == "EN C1"
    # observed: N < 250 and 25% in the last 3 years, once the decline is known to go on (a
    # significant trend over the last 5 years, with 10 years of past for its noise)
    assert c.criteria[0, 10] == "CR C1"
    assert c.levels[0, 9, rl.CRITERIA.index("C1")] == NOT_EVALUABLE


@pytest.mark.parametrize(
    ("n0", "rate3", "category", "criteria"),
    [
        (9_999.0, 0.10, VU, "VU C1"),  # 10% in 10 years (3 G = 3 < 10) from 9,999
        (10_000.0, 0.50, NT, "NT C1"),  # not < 10,000, but within the NT size margin
        (2_000.0, 0.20, EN, "EN C1"),  # 20% in 5 years
        (2_000.0, 0.19, VU, "VU C1"),  # 19% in 5 years: VU by 10% in 10 years
        (200.0, 0.25, CR, "CR C1"),  # 25% in 3 years
    ],
)
def test_c1_rates(n0, rate3, category, criteria):
    # geometric decline whose loss over the window of the target level is exactly `rate3`
    window = {VU: 10, NT: 10, EN: 5, CR: 3}[category]
    traj = geometric(n0, (1 - rate3) ** (1 / window), 21)
    c = rl.classify(row(traj), generation_length=1.0, settings=ONLY_C)
    assert c.category[0, 0] == category
    assert c.criteria[0, 0] == criteria


def test_c1_generation_windows_cap_at_100_years():
    # G = 40: the VU window of C1 is min(3 G, 100) = 100 years ahead
    traj = geometric(5_000.0, 0.9 ** (1 / 100), 101)
    c = rl.classify(row(traj), generation_length=40.0, settings=ONLY_C)
    assert c.criteria[0, 0] == "VU C1"
    # at year 1 nothing is projected and the past windows are not covered: C1 is not evaluable,
    # and with nothing met among the criteria that could be evaluated (C2b...) the category is LC
    assert c.levels[0, 1, rl.CRITERIA.index("C1")] == NOT_EVALUABLE
    assert "C1" in c.not_evaluated[0, 1]
    assert not c.complete[0, 1]


def test_c2a_i_every_subpopulation_at_most_50():
    # four subpopulations of 50 with a continuing decline: N = 200 < 250, none > 50 -> CR C2a(i)
    mature = np.full((1, 10, 4), 50.0)
    c = rl.classify(mature, generation_length=1.0, settings=ONLY_C, continuing_decline=True)
    assert c.criteria[0, 0] == "CR C2a(i)"


def test_c2a_i_one_subpopulation_of_51_is_not_cr():
    mature = np.full((1, 10, 4), 50.0)
    mature[0, :, 0] += 1.0  # 51
    mature[0, :, 1:] -= 0.5
    c = rl.classify(mature, generation_length=1.0, settings=ONLY_C, continuing_decline=True)
    assert c.criteria[0, 0] == "EN C2a(i)"  # every subpopulation <= 250 and N < 2,500


def test_c2a_ii_ninety_percent_in_one_subpopulation():
    mature = np.stack([np.full(10, 180.0), np.full(10, 20.0)], axis=-1)[None]  # 90% in one, N 200
    c = rl.classify(mature, generation_length=1.0, settings=ONLY_C, continuing_decline=True)
    assert c.levels[0, 0, rl.CRITERIA.index("C2a(ii)")] == CR
    assert "2a(ii)" in c.criteria[0, 0]


def test_c2_needs_a_continuing_decline():
    mature = np.full((1, 12, 4), 50.0)  # structure of C2a(i) but no decline
    c = rl.classify(mature, generation_length=1.0, settings=ONLY_C)
    assert c.category[0, -1] == LC
    c = rl.classify(mature, generation_length=1.0, settings=ONLY_C, continuing_decline=False)
    assert np.all(c.category == LC)


def test_c2_decline_observed_on_the_trajectory():
    # four subpopulations declining exponentially (0.1% a year): a trend with no noise is a
    # decline; it is known once twice the decline window (5 years, G = 1) of past is covered
    sub = np.array(geometric(50.0, 0.999, 15))
    mature = np.repeat(sub[None, :, None], 4, axis=2)
    c = rl.classify(mature, generation_length=1.0, settings=ONLY_C)
    c2ai = rl.CRITERIA.index("C2a(i)")
    assert np.all(c.levels[0, :10, c2ai] == NOT_EVALUABLE)
    assert np.all(c.levels[0, 10:, c2ai] == CR)


def test_c2b_extreme_fluctuations():
    # tenfold swings (Guidelines 4.7) within the last 10 years; N < 2,500 and declining -> EN C2b
    swing = np.where(np.arange(30) % 2 == 0, 2_000.0, 150.0) * 0.995 ** np.arange(30)
    c = rl.classify(row(swing), generation_length=1.0, settings=ONLY_C, continuing_decline=True)
    c2b = rl.CRITERIA.index("C2b")
    assert c.levels[0, 28, c2b] == EN  # 2,000 x 0.995**28 = 1,737 < 2,500
    assert c.levels[0, 29, c2b] == CR  # 150 x 0.995**29 = 130 < 250
    assert c.levels[0, 9, c2b] == NOT_EVALUABLE  # 10 years of past are not there yet
    # ninefold swings are not extreme
    mild = np.where(np.arange(30) % 2 == 0, 1_800.0, 200.0) * 0.995 ** np.arange(30)
    c = rl.classify(row(mild), generation_length=1.0, settings=ONLY_C, continuing_decline=True)
    assert c.levels[0, 29, c2b] == LC


def test_c2a_without_subpopulations_is_not_evaluated():
    c = rl.classify(row([100.0] * 5), generation_length=1.0, settings=ONLY_C)
    assert c.levels[0, 0, rl.CRITERIA.index("C2a(i)")] == NE
    assert any("C2a" in note for note in c.notes)


# ---------------------------------------------------------------------------------------------------
# criterion E: >= 50% in 10 y or 3 G, >= 20% in 20 y or 5 G, >= 10% in 100 y (IUCN 2012 E)


def _replicates_extinct(n_extinct: int, n_total: int, *, at: int, length: int) -> np.ndarray:
    m = np.full((n_total, length), 500.0)
    m[:n_extinct, at:] = 0.0
    return m


@pytest.mark.parametrize(
    ("n_extinct", "at", "category"),
    [
        (5, 10, CR),  # 50% within 10 years (G = 1)
        (4, 10, EN),  # 40% within 10 years: >= 20% within 20 years
        (2, 20, EN),  # exactly 20% within 20 years
        (2, 21, VU),  # 20% only after 20 years: >= 10% within 100 years
        (1, 100, VU),  # exactly 10% within 100 years
        (0, 100, LC),
    ],
)
def test_criterion_e_at_year_zero_from_the_replicates(n_extinct, at, category):
    m = _replicates_extinct(n_extinct, 10, at=at, length=101)
    c = rl.classify(m, generation_length=1.0, settings=ONLY_E)
    surviving = n_extinct  # first surviving replicate
    assert c.category[surviving, 0] == category
    # E is a probability over replicates, so every surviving replicate shares it
    assert np.all(c.category[n_extinct:, 0] == category)
    assert np.all(c.levels[:, 1:, rl.CRITERIA.index("E")] == NE)
    assert any("E evaluated at year 0 only" in note for note in c.notes)


def test_criterion_e_counts_extinction_as_no_individuals_at_all():
    # 6 of 10 replicates have no mature individuals in year 5 but 30 immatures, and recover; none
    # goes extinct. E's event is extinction, as EX's and extinctions prevented's: not CR E.
    mature = np.full((10, 101), 500.0)
    mature[:6, 5] = 0.0
    total = mature + 30.0
    c = rl.classify(mature, total=total, generation_length=1.0, settings=ONLY_E)
    assert np.all(c.levels[:, 0, rl.CRITERIA.index("E")] == LC)
    assert not np.any(c.category == EX)
    assert np.all(c.category[:, 0] == LC)
    # when the immatures are gone too, the replicates are extinct: CR E (60% within 10 years)
    total[:6, 5:] = 0.0
    mature[:6, 5:] = 0.0
    c = rl.classify(mature, total=total, generation_length=1.0, settings=ONLY_E)
    assert c.criteria[9, 0] == "CR E"
    assert np.all(c.category[:6, 5:] == EX)


def test_criterion_e_at_a_quasi_extinction_threshold_where_asked():
    m = np.full((10, 101), 500.0)
    m[:3, 5:] = 15.0  # 3 of 10 fall to 15 within 10 years
    tot = 2 * m
    plain = rl.classify(m, total=tot, generation_length=1.0, settings=ONLY_E)
    assert plain.category[9, 0] == LC
    quasi = RedListSettings(criteria=("E",), quasi_extinction=30.0)
    assert rl.classify(m, total=tot, generation_length=1.0, settings=quasi).criteria[9, 0] == "EN E"
    on_mature = RedListSettings(
        criteria=("E",), quasi_extinction=15.0, quasi_extinction_on="mature"
    )
    c = rl.classify(m, total=tot, generation_length=1.0, settings=on_mature)
    assert c.criteria[9, 0] == "EN E"


def test_criterion_e_needs_a_common_start_for_the_ensemble():
    m = np.full((4, 30), 500.0)
    m[0, 0] = 499.0  # the replicates do not share their state at year 0
    c = rl.classify(m, generation_length=1.0, settings=ONLY_E)
    assert np.all(c.levels[..., rl.CRITERIA.index("E")] == NE)
    assert any("do not start from one common state" in note for note in c.notes)
    c = rl.classify(m[1:], generation_length=1.0, settings=ONLY_E, ensemble_at_start=False)
    assert np.all(c.levels[..., rl.CRITERIA.index("E")] == NE)


def test_criterion_e_vu_window_not_covered():
    m = _replicates_extinct(0, 10, at=0, length=50)  # nobody extinct, but only 49 years simulated
    c = rl.classify(m, generation_length=1.0, settings=ONLY_E)
    assert c.category[0, 0] == NOT_EVALUABLE
    m = _replicates_extinct(5, 10, at=5, length=50)  # CR window (10 years) is covered
    c = rl.classify(m, generation_length=1.0, settings=ONLY_E)
    assert c.criteria[6, 0] == "CR E"


def test_criterion_e_from_a_supplied_probability():
    m = np.full((2, 3), 500.0)
    p = np.zeros((2, 3, 3))
    p[0, 1] = (0.5, 0.5, 0.5)
    p[1, 2] = (np.nan, np.nan, 0.1)
    c = rl.classify(m, generation_length=1.0, extinction_probability=p, settings=ONLY_E)
    assert c.category[0, 1] == CR
    assert c.category[1, 2] == VU
    assert c.category[0, 0] == LC


# ---------------------------------------------------------------------------------------------------
# EX, combinations, the "not evaluable" sentinel, B


def test_ex_when_no_mature_individuals_remain():
    c = rl.classify(row([10.0, 0.0, 0.0]), generation_length=1.0)
    assert list(c.category[0, 1:]) == [EX, EX]
    assert c.criteria[0, 1] == "EX"


def test_not_ex_while_immatures_remain():
    c = rl.classify(row([10.0, 0.0]), generation_length=1.0, total=row([30.0, 5.0]))
    assert c.criteria[0, 1] == "CR D"  # 0 mature individuals < 50, but not extinct


def test_category_is_the_highest_criterion_and_lists_those_at_that_level():
    # 100 mature with a 90% reduction at year 10: CR A3, EN D, VU C1 (10% in 10 years; nothing
    # lost in the CR and EN windows of 3 and 5 years), all read at year 0 from the projection
    traj = step(100.0, 10.0, at=10, length=20)
    s = RedListSettings(criteria=("A", "C", "D"))
    c = rl.classify(row(traj), generation_length=1.0, criterion_a="A3", settings=s)
    assert c.category[0, 0] == CR
    assert c.criteria[0, 0] == "CR A3"
    assert c.levels[0, 0, rl.CRITERIA.index("D")] == EN
    assert c.levels[0, 0, rl.CRITERIA.index("C1")] == VU
    # at year 9, only a projection from year 9 can show the crash ahead: given one, the 3-year
    # window of C1 holds the crash too
    projected = np.full((1, 20, 11), np.nan)
    projected[0, 9] = traj[9:]
    c = rl.classify(
        row(traj), generation_length=1.0, criterion_a="A3", settings=s, projected_mature=projected
    )
    assert c.criteria[0, 9] == "CR A3; C1"


def test_lc_where_nothing_evaluable_is_met():
    # IUCN 2012 section IV: LC is a taxon that does not qualify for the other categories; no
    # criterion needs to be evaluable for it. Too short for the A2 window (10 years), 50,000: LC,
    # with A2 listed as not evaluated
    flat = row([50_000.0] * 5)
    s = RedListSettings(criteria=("A", "D"))
    c = rl.classify(flat, generation_length=1.0, criterion_a=("A2", "A3"), settings=s)
    assert np.all(c.category == LC)
    # (D2 needs locations or AOO)
    assert c.not_evaluated[0, 4] == "A2, A3, D2"
    assert c.not_evaluated[0, 0] == "A2, A3, D2"  # A3's 10-year window is not covered by the run
    assert not c.complete.any()
    # lc_rule="all" asks every criterion to be evaluable first
    strict = RedListSettings(criteria=("A", "D"), lc_rule="all")
    c = rl.classify(flat, generation_length=1.0, criterion_a=("A2", "A3"), settings=strict)
    assert np.all(c.category == NOT_EVALUABLE)
    # nothing evaluable at all: not evaluable
    c = rl.classify(flat, generation_length=1.0, criterion_a="A2", settings=ONLY_A)
    assert np.all(c.category == NOT_EVALUABLE)


def test_years_before_lets_past_windows_reach_history():
    traj = step(1000.0, 200.0, at=10, length=21)
    c = rl.classify(
        row(traj), generation_length=1.0, years_before=10, criterion_a="A2", settings=ONLY_A
    )
    assert c.years[0] == -10
    assert c.years[10] == 0
    assert c.criteria[0, 10] == "CR A2a"


def test_criterion_b_with_range_attributes():
    # EOO 4,000 km² (< 5,000: EN), 4 locations (<= 5), continuing decline: EN B1ab(v), once the
    # decline is known (year 10: twice the 5-year decline window of past)
    traj = geometric(20_000.0, 0.99, 15)
    b = RedListSettings(criteria=("B",))
    c = rl.classify(row(traj), generation_length=1.0, eoo=4_000.0, locations=4, settings=b)
    assert c.criteria[0, 14] == "EN B1ab(v)"
    # the same with 11 locations and no fluctuations: only one of a-c -> NT (Guidelines 10.1)
    c = rl.classify(row(traj), generation_length=1.0, eoo=4_000.0, locations=11, settings=b)
    assert c.criteria[0, 14] == "NT B1b(v)"


def test_b_without_attributes_is_not_evaluated():
    c = rl.classify(row([5000.0] * 3), generation_length=1.0, settings=ONLY_D)
    assert np.all(c.levels[:, :, rl.CRITERIA.index("B1")] == NE)
    c = rl.classify(row([5000.0] * 3), generation_length=1.0)
    assert any("B not evaluated" in note for note in c.notes)


def test_shapes_dtypes_and_dataset():
    m = np.full((4, 12, 3), 100.0)
    c = rl.classify(m, generation_length=3.0)
    assert c.category.shape == (4, 12)
    assert c.category.dtype == np.int8
    assert c.levels.shape == (4, 12, len(rl.CRITERIA))
    ds = c.to_dataset()
    assert ds["category"].dims == ("replicate", "year")
    assert ds["category"].attrs["flag_meanings"].split()[-1] == "EX"


# ---------------------------------------------------------------------------------------------------
# uncertain inputs


def test_classify_range_over_generation_length():
    # the trajectory of the 10-years-vs-3-generations test: G = 2 gives CR, G = 5 gives EN
    traj = [400.0] * 5 + [1000.0] * 10 + [200.0]
    r = rl.classify_range(
        row(traj), generation_length=(2.0, 2.0, 5.0), criterion_a="A2", settings=ONLY_A
    )
    assert r.best.category[0, 15] == CR
    assert r.lower[0, 15] == EN
    assert r.upper[0, 15] == CR


def test_classify_range_evaluates_every_window_inside_the_generation_length_range():
    # A2 windows round(3 G): G = 10/3 -> 10 years, 5 -> 15, 20/3 -> 20, 10 -> 30. At year 30 the
    # population lost 90% over the last 20 years but only 5-17% over 10, 15 or 30 years: the
    # minimum, best and maximum generation lengths all give LC, an interior one CR (Akçakaya et al.
    # 2000: the whole interval is propagated)
    traj = np.full(31, 110.0)
    traj[0], traj[10], traj[15], traj[20], traj[30] = 105.0, 1000.0, 120.0, 110.0, 100.0
    r = rl.classify_range(
        row(traj), generation_length=(10 / 3, 5.0, 10.0), criterion_a="A2", settings=ONLY_A
    )
    assert r.best.criteria[0, 30] == "LC"
    assert r.lower[0, 30] == LC
    assert r.upper[0, 30] == CR
    for g in (10 / 3, 5.0, 10.0):
        c = rl.classify(row(traj), generation_length=g, criterion_a="A2", settings=ONLY_A)
        assert c.category[0, 30] == LC
    assert (
        rl.classify(
            row(traj), generation_length=20 / 3, criterion_a="A2", settings=ONLY_A
        ).category[0, 30]
        == CR
    )


def test_generation_lengths_cover_every_distinct_window():
    s = RedListSettings()
    gs = rl.classification.generation_lengths(10 / 3, 10.0, s)
    windows = {
        tuple(rl.windows.years_window(y, k, g) for y, k in ((10, 3), (3, 1), (5, 2), (20, 5)))
        for g in np.linspace(10 / 3, 10.0, 20_001)
    }
    found = {
        tuple(rl.windows.years_window(y, k, g) for y, k in ((10, 3), (3, 1), (5, 2), (20, 5)))
        for g in gs
    }
    assert found == windows


def test_classify_range_over_bounds_of_abundance():
    # best estimate 240 mature (EN D), bounds 40 (CR D) and 1,200 (NT D1)
    best = np.full((1, 3), 240.0)
    r = rl.classify_range(
        best,
        generation_length=2.0,
        mature_bounds=(np.full((1, 3), 40.0), np.full((1, 3), 1_200.0)),
        settings=ONLY_D,
    )
    assert np.all(r.best.category == EN)
    assert np.all(r.lower == NT)
    assert np.all(r.upper == CR)
    with pytest.raises(ValueError, match="mature_bounds lower"):
        rl.classify_range(best, generation_length=2.0, mature_bounds=(np.ones((1, 2)), best))


def test_classify_range_of_locations_uses_their_ends():
    # VU D2 with 5 locations or fewer and a plausible threat: 4..7 locations spans LC..VU
    r = rl.classify_range(
        row([5000.0] * 3),
        generation_length=1.0,
        locations=(4, 6, 7),
        plausible_threat=True,
        settings=ONLY_D,
    )
    assert r.best.criteria[0, 0] == "LC"
    assert r.lower[0, 0] == LC
    assert r.upper[0, 0] == VU


def test_classify_range_rejects_unordered_triples():
    with pytest.raises(ValueError, match="min <= best <= max"):
        rl.classify_range(row([1.0, 2.0]), generation_length=(3.0, 2.0, 5.0))


# ---------------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("mature", "kwargs", "match"),
    [
        (row([10.0, -1.0]), {}, "mature must be >= 0"),
        (row([10.0, np.nan]), {}, "mature must be finite"),
        (row([10.0, np.inf]), {}, "mature must be finite"),
        (np.ones(5), {}, "mature must have 2 or 3 dims"),
        (row([10.0, 5.0]), {"generation_length": 0.0}, "generation_length"),
        (row([10.0, 5.0]), {"generation_length": -2.0}, "generation_length"),
        (row([10.0, 5.0]), {"generation_length": np.inf}, "generation_length"),
        (row([10.0, 5.0]), {"generation_length": (1.0, 2.0, 3.0)}, "classify_range"),
        (row([10.0, 5.0]), {"criterion_a": "A5"}, "criterion_a"),
        (row([10.0, 5.0]), {"locations": 0}, "locations"),
        (row([10.0, 5.0]), {"years_before": 2}, "years_before"),
        (
            row([10.0, 5.0]),
            {"extinction_probability": np.ones((1, 2, 2))},
            "extinction_probability",
        ),
        (row([10.0, 5.0]), {"extinction_probability": np.full((1, 2, 3), 1.5)}, r"\[0, 1\]"),
        (row([10.0, 5.0]), {"projected_mature": np.ones((1, 2))}, "projected_mature"),
        (row([10.0, 5.0]), {"projected_mature": -np.ones((1, 2, 3))}, "projected_mature"),
        (row([10.0, 5.0]), {"continuing_decline": np.ones((1, 3), bool)}, "continuing_decline"),
    ],
)
def test_bad_input_raises_naming_it(mature, kwargs, match):
    kwargs = {"generation_length": 2.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        rl.classify(mature, **kwargs)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reduction_method", "linear"),
        ("lc_rule", "some"),
        ("nt_size_margin", -0.1),
        ("fluctuation_ratio", 1.0),
        ("criteria", ("A", "F")),
        ("d2_max_aoo", 0.0),
        ("c1_direction", "sideways"),
        ("decline_alpha", 0.0),
        ("decline_years", 1),
        ("decline_generations", -1.0),
        ("projection_statistic", "mode"),
        ("quasi_extinction_on", "juveniles"),
    ],
)
def test_settings_are_validated(field, value):
    with pytest.raises(ValueError, match=field):
        RedListSettings(**{field: value})


def test_flags_must_be_bools():
    with pytest.raises(TypeError, match="plausible_threat"):
        rl.classify(row([1.0, 2.0]), generation_length=1.0, plausible_threat="yes")
    with pytest.raises(TypeError, match="continuing_decline"):
        rl.classify(row([1.0, 2.0]), generation_length=1.0, continuing_decline="yes")


# ---------------------------------------------------------------------------------------------------
# review regressions (each row cites the rule it checks)

D2_CASES = [
    # IUCN 2012 D2 / Guidelines section 8: "very restricted AOO (typically less than 20 km²) OR
    # number of locations (typically five or fewer)" with a plausible threat; AOO alone suffices
    ("AOO 10 km², threat", {"aoo": 10.0, "plausible_threat": True}, "VU D2"),
    ("AOO just under 20", {"aoo": 19.99, "plausible_threat": True}, "VU D2"),
    ("AOO exactly 20 is not < 20", {"aoo": 20.0, "plausible_threat": True}, "LC"),
    ("AOO 10 km², no threat", {"aoo": 10.0, "plausible_threat": False}, "LC"),
    ("large AOO, 3 locations", {"aoo": 50.0, "locations": 3, "plausible_threat": True}, "VU D2"),
    ("large AOO, 6 locations", {"aoo": 50.0, "locations": 6, "plausible_threat": True}, "LC"),
]


@pytest.mark.parametrize(
    ("kwargs", "criteria"), [c[1:] for c in D2_CASES], ids=[c[0] for c in D2_CASES]
)
def test_vu_d2_by_restricted_aoo_or_few_locations(kwargs, criteria):
    c = rl.classify(row([5000.0] * 3), generation_length=1.0, settings=ONLY_D, **kwargs)
    assert c.criteria[0, 0] == criteria
    assert c.levels[0, 0, rl.CRITERIA.index("D2")] == (VU if criteria == "VU D2" else LC)


def test_d2_without_locations_or_aoo_is_not_evaluated():
    c = rl.classify(
        row([5000.0] * 3), generation_length=1.0, plausible_threat=True, settings=ONLY_D
    )
    assert np.all(c.levels[:, :, rl.CRITERIA.index("D2")] == NE)
    assert any("D2 not evaluated" in note for note in c.notes)


E_PARTIAL_CASES = [
    # IUCN 2012 E and Guidelines section 9: P(extinct within a window) can only grow with the
    # window, so extinctions already seen inside a window the run does not cover meet it.
    # id, generation length, years simulated, replicates extinct (of 10), year they die, expected
    # G = 1: windows 10/20/100 y; 50 years simulated, 1 of 10 extinct by year 30: >= 10% in 100 y
    ("VU window not covered, 10% seen", 1.0, 51, 1, 30, VU, "VU E"),
    # nothing seen yet: the 100-year window is still unknown, never "not met"
    ("VU window not covered, none seen", 1.0, 51, 0, 30, NOT_EVALUABLE, "not evaluable"),
    # G = 10: windows 30/50/100 y; 40 years simulated, 3 of 10 extinct by year 25: the CR window
    # is covered (30% < 50%) and bounds the uncovered EN window: >= 20% within 50 years
    ("EN window bounded by the CR window", 10.0, 41, 3, 25, EN, "EN E"),
]


@pytest.mark.parametrize(
    ("g", "length", "n_extinct", "at", "category", "criteria"),
    [c[1:] for c in E_PARTIAL_CASES],
    ids=[c[0] for c in E_PARTIAL_CASES],
)
def test_criterion_e_is_met_inside_uncovered_windows(g, length, n_extinct, at, category, criteria):
    m = _replicates_extinct(n_extinct, 10, at=at, length=length)
    c = rl.classify(m, generation_length=g, settings=ONLY_E)
    assert c.category[9, 0] == category
    assert c.criteria[9, 0] == criteria


@pytest.mark.parametrize(
    ("p_cr", "category"),
    [
        (0.30, EN),  # P(10 y) = 0.3 implies P(20 y) >= 0.3 >= 20%
        (0.15, VU),  # implies P(100 y) >= 15% >= 10%
        (0.05, NOT_EVALUABLE),  # says nothing about the longer windows
    ],
)
def test_supplied_e_probabilities_bound_longer_windows(p_cr, category):
    p = np.full((1, 2, 3), np.nan)
    p[0, 0, 0] = p_cr
    c = rl.classify(
        np.full((1, 2), 500.0), generation_length=1.0, extinction_probability=p, settings=ONLY_E
    )
    assert c.category[0, 0] == category


def test_past_c1_window_is_not_capped_at_100_years():
    # IUCN 2012 C1: windows "up to a maximum of 100 years in the future"; a past window of three
    # generations (G = 40: 120 years) keeps its length, as A2's does
    past = RedListSettings(criteria=("C",), c1_direction="past")
    traj = [9_000.0] * 120 + [8_000.0]  # 11.1% fewer over the last 120 years
    c = rl.classify(row(traj), generation_length=40.0, settings=past, continuing_decline=True)
    assert c.criteria[0, 120] == "VU C1"
    # at year 100 only 100 years of past exist: the 120-year window is not covered
    assert c.levels[0, 100, rl.CRITERIA.index("C1")] == NOT_EVALUABLE
    # a past rate counts only while the decline goes on (IUCN 2012 C1: "continuing decline")
    c = rl.classify(row(traj), generation_length=40.0, settings=past, continuing_decline=False)
    assert c.category[0, 120] == LC


NT_CASES = [
    # Guidelines 10.1 (NT: close to the VU thresholds) and IUCN Red List training, criteria C-D
    # NT examples. id, mature by subpopulation at years 0..11, expected criteria at year 0, where
    # the population is declining (continuing_decline=True; the rates are projected)
    # "15,000 mature individuals, 10% decline in 3 generations": NT C1 (G = 1: 10-year window;
    # two equal subpopulations so that no C2a structure is near)
    ("15,000 with a C1 VU rate", [[7_500.0 * 0.9 ** (t / 10)] * 2 for t in range(12)], "NT C1"),
    ("15,001 with a C1 VU rate", [[7_500.5 * 0.9 ** (t / 10)] * 2 for t in range(12)], "LC"),
    # "13,250, declining at an unknown rate, all in one subpopulation": NT C2a(ii)
    ("13,250 in one subpopulation", [[13_250.0 * 0.999**t, 0.0] for t in range(12)], "NT C2a(ii)"),
    ("13,250 split in two", [[6_625.0 * 0.999**t] * 2 for t in range(12)], "LC"),
    # "fewer than 2,500, declining, largest subpopulation 1,180": NT C2a(i) (VU needs <= 1,000)
    ("largest subpopulation 1,180", [[1_180.0, 900.0] for t in range(12)], "NT C2a(i)"),
    ("largest subpopulation 1,500", [[1_500.0, 900.0] for t in range(12)], "NT C2a(i)"),
    ("largest subpopulation 1,501", [[1_501.0, 900.0] for t in range(12)], "LC"),
    ("largest subpopulation 1,000", [[1_000.0, 900.0] for t in range(12)], "VU C2a(i)"),
]


@pytest.mark.parametrize(
    ("subpops", "criteria"), [c[1:] for c in NT_CASES], ids=[c[0] for c in NT_CASES]
)
def test_nt_near_threshold_table(subpops, criteria):
    m = np.asarray(subpops, dtype=float)[None, :, :]
    c = rl.classify(m, generation_length=1.0, settings=ONLY_C, continuing_decline=True)
    assert c.criteria[0, 0] == criteria


def test_no_nt_for_fewer_than_10000_declining_without_a_rate_or_structure():
    # not an example of Guidelines 10.1: 5,000 declining slowly in two equal subpopulations
    m = np.full((1, 12, 2), 2_500.0)
    c = rl.classify(m, generation_length=1.0, settings=ONLY_C, continuing_decline=True)
    assert c.criteria[0, 0] == "LC"


@pytest.mark.parametrize(
    ("years", "error", "match"),
    [
        ([11], ValueError, r"years must lie within the simulated years -2\.\.8; got 11"),
        ([-3], ValueError, r"years must lie within the simulated years -2\.\.8; got -3"),
        ([1, 1], ValueError, "years must be distinct"),
        ([], ValueError, "years must hold at least one year"),
        ([1.5], TypeError, "years must be an integer"),
        ("1", TypeError, "years must be a sequence of integers"),
    ],
)
def test_bad_assessment_years_are_refused(years, error, match) -> None:
    with pytest.raises(error, match=match):
        rl.classify(np.full((2, 11), 100.0), generation_length=1.0, years_before=2, years=years)


def test_assessment_years_give_the_columns_of_those_years() -> None:
    n = np.array([[1000.0] * 10 + [200.0] * 3])  # 80% reduction over 10 years, then flat
    full = rl.classify(n, generation_length=2.0, criterion_a="A2", years_before=1)
    some = rl.classify(
        n, generation_length=2.0, criterion_a="A2", years_before=1, years=[11, -1, 9]
    )
    assert some.years.tolist() == [-1, 9, 11]
    assert some.criteria.tolist() == [[full.criteria[0, 0], full.criteria[0, 10], "CR A2a"]]
