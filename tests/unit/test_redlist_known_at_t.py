"""The Red List numbers as assessors compute them (issue 9): a fixed species set, no hindsight.

* The Red List Index of a replicate-year is over every species of the study except Data Deficient
  ones, and a species is LC where no criterion that could be evaluated is met (IUCN 2012, section
  IV; UN SDG indicator 15.5.1 metadata, 4.c: "exactly the same set of species is included in all
  time periods"; Butchart et al. 2007).
* The category of a replicate at year t reads its past and projections from its state at t, never
  its own realised future; at year 0 the replicates are the projection from the common start.
* Continuing decline is a significant trend, not any net drop (IUCN 2012 definition 6: fluctuations
  do not normally count as continuing declines; Guidelines 4.6).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest_results import make_results

import pva
from pva import redlist as rl
from pva import summary
from pva.model import DensityDependence, Species

# ---------------------------------------------------------------------------------------------------
# a fixed species set and LC where no evaluable criterion is met


def _two_species(years: int = 50, replicates: int = 60):
    # 100,000 mature individuals held at K by Ricker density dependence: LC by every criterion;
    # 16 mature individuals under a ceiling K = 20 (lambda = 1): CR D (fewer than 50), or EX
    healthy = Species(
        name="healthy",
        stages=["adult"],
        U=[[0.8]],
        F=[[0.3]],
        initial=[100_000],
        carrying_capacity=100_000.0,
        density_dependence=DensityDependence(kind="ricker"),
    )
    tiny = Species(
        name="tiny", stages=["adult"], U=[[0.75]], F=[[0.25]], initial=[16], carrying_capacity=20.0
    )
    sims = [
        pva.simulate(sp, years=years, replicates=replicates, seed=2009) for sp in (healthy, tiny)
    ]
    mature = np.stack([s["mature_abundance"].values for s in sims])[:, None]
    return make_results(
        mature,
        species=("healthy", "tiny"),
        scenarios=("no action",),
        generation_length=(healthy.generation_length, tiny.generation_length),
        quasi_extinction_threshold=(0.0, 0.0),
    )


def test_two_species_rli_is_that_of_lc_and_cr_or_ex():
    # Butchart et al. 2007: {LC, CR} -> 1 - 4 / 10 = 0.6, {LC, EX} -> 1 - 5 / 10 = 0.5, in every
    # replicate of the final year (the old assessment averaged over the tiny species alone: 0.2)
    ds = _two_species()
    out = rl.assess(ds)
    final = out.sel(year=50)
    assert np.all(final["category"].sel(species="healthy") == rl.LC)
    tiny = final["category"].sel(species="tiny").values.ravel()
    assert set(tiny.tolist()) <= {rl.CR, rl.EX}
    rli = final["red_list_index"].values.ravel()
    expected = np.where(tiny == rl.EX, 0.5, 0.6)
    np.testing.assert_allclose(rli, expected)
    assert np.all((rli >= 0.5) & (rli <= 0.6))
    # the healthy species' unevaluated criteria are listed, not held against it
    missing = str(final["not_evaluated"].sel(species="healthy").values.ravel()[0])
    assert "E" in missing.split(", ")


def test_two_species_rli_through_the_summary_table():
    # end to end through pva.summary (the table `pva summary` prints), unchanged
    ds = _two_species()
    table = summary.summary_table(ds, red_list=True)
    rli = float(table["rli"].sel(scenario="no action"))
    assert 0.5 <= rli <= 0.6
    assert float(table["rli_spread_lower"].sel(scenario="no action")) >= 0.5


def test_delta_rli_is_over_every_replicate():
    # 2 species x 2 scenarios x 400 replicates, years 0..30. "stable": 100,000 mature for ever (LC).
    # "declining": 2,000 -> 0 by year 20 under no action (EX); under the action, replicates
    # 0..199 recover to hold 500 (VU D1), the others go extinct as without it.
    reps, years = 400, 31
    t = np.arange(years)
    mature = np.zeros((2, 2, reps, years, 1), dtype=np.int64)
    mature[0] = 100_000
    fall = np.clip(2_000 - 100 * t, 0, None)
    mature[1, :, :, :, 0] = fall
    mature[1, 1, :200, 15:, 0] = 500
    ds = make_results(
        mature,
        species=("stable", "declining"),
        scenarios=("no action", "action"),
        generation_length=(2.0, 2.0),
    )
    out = rl.assess(ds)
    cats = out["category"].sel(year=30)
    assert np.all(cats.sel(species="stable") == rl.LC)
    assert np.all(cats.sel(species="declining", scenario="no action") == rl.EX)
    assert np.all(cats.sel(species="declining", scenario="action")[:200] == rl.VU)
    d = rl.delta_rli(cats.sel(scenario="action"), cats.sel(scenario="no action"))
    # by hand: RLI(no action) = 1 - (0 + 5) / 10 = 0.5; RLI(action) = 1 - (0 + 2) / 10 = 0.8 in
    # the recovering half and 0.5 in the other: ΔRLI = 0.3 or 0, mean 0.15 over all 400
    delta = d["delta"].values
    assert not np.isnan(delta).any()
    np.testing.assert_allclose(delta[:200], 0.3)
    np.testing.assert_allclose(delta[200:], 0.0, atol=1e-12)
    assert float(d["mean"]) == pytest.approx(0.15)
    assert float(d["p_improved"]) == pytest.approx(0.5)


# ---------------------------------------------------------------------------------------------------
# no hindsight


def test_replicates_from_one_state_share_the_category_of_their_projection():
    # 1,000 log-normal random walks from one state, drift -0.0094 a year (-9% expected over 10
    # years, G = 2): at year 0 each replicate is classified from the ensemble, not from its own
    # future, so every replicate gets the category of the mean trajectory (Guidelines 4.5.2:
    # reductions projected with a population model)
    rng = np.random.default_rng(20091)
    steps = -0.0094 - 0.1**2 / 2 + 0.1 * rng.standard_normal((1_000, 20))
    mature = 5e5 * np.exp(np.concatenate([np.zeros((1_000, 1)), np.cumsum(steps, 1)], 1))
    s = rl.RedListSettings(criteria=("A", "C"))
    c = rl.classify(mature, generation_length=2.0, settings=s)
    assert np.unique(c.category[:, 0]).size == 1
    mean = mature.mean(axis=0)
    by_hand = 1 - mean[10] / mean[0]
    assert 0.0 < by_hand < 0.2  # not even NT (20%): LC by A3
    assert c.category[0, 0] == rl.LC
    own = rl.classify(mature, generation_length=2.0, settings=s, ensemble_at_start=False)
    assert np.all(own.levels[:, 0, rl.CRITERIA.index("A3")] == rl.NE)
    # the per-replicate reading of the realised future would have spread them over LC..EN
    realised = 1 - mature[:, 10] / mature[:, 0]
    assert np.mean(realised >= 0.3) > 0.05


# ---------------------------------------------------------------------------------------------------
# continuing decline


def test_a_stationary_population_is_least_concern():
    # lambda = 1 at K = 5,000 (Ricker density dependence on fecundity, stationary at K), demographic
    # noise only: mature individuals fluctuate around 3,600 with lag-1 autocorrelation 0.8. Fewer
    # than 10,000 in one subpopulation, so any "continuing decline" would make it VU C2a(ii)
    # (IUCN 2012 C2a(ii)); the old rule (any net drop over 3 years / 1 generation) did in ~50% of
    # replicate-years. The Guidelines (4.6) say fluctuations are not continuing declines.
    species = Species(
        name="stable",
        stages=["juvenile", "adult"],
        U=[[0.0, 0.0], [0.4, 0.85]],
        F=[[0.0, 0.6], [0.0, 0.0]],
        initial_total=5_000,
        carrying_capacity=5_000.0,
        density_dependence=DensityDependence(kind="ricker"),
    )
    ds = pva.simulate(species, years=100, replicates=200, seed=2024)
    out = rl.assess(ds)
    category = out["category"].values
    lc = float(np.mean(category == rl.LC))
    assert lc >= 0.95, np.unique(out["criteria"].values, return_counts=True)
    # and the same population losing 3% a year reads as declining: VU C2a(ii) most of the time
    # once twice the decline window of past is known
    declining = ds["mature_abundance"].values * 0.97 ** np.arange(101)[None, :, None]
    c = rl.classify(declining, generation_length=species.generation_length)
    window = 2 * max(5, int(np.floor(2 * species.generation_length + 0.5)))
    assert np.mean(c.levels[:, window:, rl.CRITERIA.index("C2a(ii)")] >= rl.VU) > 0.8


def test_significant_decline_on_exact_and_flat_series():
    t = np.arange(30)
    series = np.stack([1000 * 0.99**t, np.full(30, 1000.0), 1000 * 1.01**t])
    d = rl.windows.significant_decline(series, 5, 0.01)
    assert np.all(np.isnan(d[:, :10]))
    assert np.all(d[0, 10:] == 1.0)
    assert np.all(d[1:, 10:] == 0.0)
