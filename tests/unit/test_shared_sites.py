"""Sites shared by species (issue 16, part 1): ``[[sites]]`` in a study, actions written for a site,
and the site catastrophe that strikes every species at the site in the same replicates and years.

* Two species at one site with a site catastrophe are struck in the same years: without
  demographic stochasticity a one-stage species with lambda = 1 keeps its number except in a year
  the catastrophe halves survival and fecundity, so the years it is struck can be read from its
  trajectory, and they must agree between species (and differ from a species elsewhere, untouched).
* A site protection changes every species at the site and no species elsewhere: the species at
  another site is bit-identical under both scenarios (common random numbers), the species at the
  protected site are not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pva import io, results, runner, streams
from pva.model import Population, Species
from pva.scenario import InvasivePredator, PredatorControl, Scenario
from pva.sites import Site, SiteCatastrophe
from pva.study import Study
from pva.testing import assert_mc_close, assert_proportion_close
from pva.validation import UnknownKeyError


def species(name, sites, *, stochastic=False, initial=1_000_000):
    """One stage, lambda = 1 (survival 0.8 + fecundity 0.2), a population at each site."""
    return Species(
        name=name,
        stages=("adult",),
        U=((0.8,),),
        F=((0.2,),),
        populations=tuple(Population(name=s, initial=(initial,)) for s in sites),
        demographic_stochasticity=stochastic,
    )


def two_stage(name, sites):
    """Two stages with lambda = 1: juveniles (survival 0.5 to adult) and adults (0.5 stay, 1.0
    juvenile each)."""
    return Species(
        name=name,
        stages=("juvenile", "adult"),
        U=((0.0, 0.0), (0.5, 0.5)),
        F=((0.0, 1.0), (0.0, 0.0)),
        populations=tuple(Population(name=s, initial=(500_000, 500_000)) for s in sites),
        demographic_stochasticity=False,
    )


def hit_years(total):
    """Steps in which the total fell by more than 10% (without a strike it stays put: lambda = 1;
    a strike halves it)."""
    return total[:, 1:] < 0.9 * total[:, :-1]


def test_two_species_at_one_site_are_struck_in_the_same_years():
    hurricane = SiteCatastrophe(name="hurricane", probability=0.3, survival=0.5, fecundity=0.5)
    study = Study.from_dict(
        {
            "study": {"name": "isla", "years": 30, "replicates": 64, "seed": 11},
            "species": [
                species("lizard", ["Isla"]).to_dict(),
                species("snail", ["Isla", "Cay"]).to_dict(),
                species("rail", ["Cay"]).to_dict(),
            ],
            "sites": [{"name": "Isla", "aze": True}, {"name": "Cay"}],
            "threats": [{**hurricane.to_dict(), "site": "Isla"}],
        }
    )
    assert study.scenario_for("rail", 0).actions == ()
    ds = runner.run_study(study, backend="sequential")
    total = ds[results.TOTAL].isel({results.SCENARIO: 0})

    def at(sp, site):
        names = list(ds[results.POPULATION_NAME].sel({results.SPECIES: sp}).values)
        return total.sel({results.SPECIES: sp}).isel({results.POPULATION: names.index(site)}).values

    lizard, snail_isla = at("lizard", "Isla"), at("snail", "Isla")
    struck = hit_years(lizard)
    # one draw per replicate and year: the share of years struck is the probability 0.3
    assert_proportion_close(struck.mean(), 0.3, struck.size)
    np.testing.assert_array_equal(struck, hit_years(snail_isla))
    # a strike halves survival and fecundity: N' = N / 2 (whole individuals), else N' = N
    np.testing.assert_allclose(lizard[:, 1:][struck], 0.5 * lizard[:, :-1][struck], atol=1)
    np.testing.assert_allclose(lizard[:, 1:][~struck], lizard[:, :-1][~struck], atol=1)
    # elsewhere nothing happens: the snail's other population and the rail keep their numbers
    np.testing.assert_allclose(at("snail", "Cay"), 1e6, atol=1)
    np.testing.assert_allclose(at("rail", "Cay"), 1e6, atol=1)


def test_site_catastrophe_years_do_not_depend_on_the_species_or_the_study():
    # a two-stage species and the one-stage lizard, in studies with different species lists,
    # are struck in the same years: the stream is keyed by the seed and the event's name alone
    hurricane = SiteCatastrophe(
        name="hurricane", probability=0.3, survival=0.5, fecundity=0.5, populations=("Isla",)
    )
    struck = []
    for members in ([species("lizard", ["Isla"])], [two_stage("petrel", ["Isla"])]):
        study = Study(
            name="isla",
            species=tuple(members),
            scenarios=(Scenario("no action", (hurricane,)),),
            years=25,
            replicates=40,
            seed=5,
            sites=(Site(name="Isla"),),
        )
        ds = runner.run_study(study, backend="sequential")
        total = ds[results.TOTAL].isel(
            {results.SPECIES: 0, results.SCENARIO: 0, results.POPULATION: 0}
        )
        struck.append(hit_years(total.values))
    np.testing.assert_array_equal(struck[0], struck[1])


def test_shared_event_streams_leave_out_the_species_only():
    events = [streams.chunk_streams(3, sp, 2).events for sp in ("a", "b")]
    same = [streams.event_stream(e, "fire", shared=True).random(5) for e in events]
    own = [streams.event_stream(e, "fire").random(5) for e in events]
    np.testing.assert_array_equal(same[0], same[1])
    assert not np.array_equal(own[0], own[1])
    other_chunk = streams.event_stream(streams.chunk_streams(3, "a", 1).events, "fire", shared=True)
    assert not np.array_equal(other_chunk.random(5), same[0])
    other_event = streams.event_stream(events[0], "flood", shared=True)
    assert not np.array_equal(other_event.random(5), same[0])


def test_site_protection_changes_every_species_there_and_none_elsewhere():
    rats = InvasivePredator(name="rats", survival=0.85)
    study = Study.from_dict(
        {
            "study": {"name": "rats", "years": 20, "replicates": 200, "seed": 3},
            "species": [
                species("lizard", ["Isla"], stochastic=True, initial=100).to_dict(),
                species("snail", ["Isla"], stochastic=True, initial=100).to_dict(),
                species("rail", ["Cay"], stochastic=True, initial=100).to_dict(),
            ],
            "sites": [{"name": "Isla"}, {"name": "Cay"}],
            "threats": [
                {**rats.to_dict(), "site": "Isla"},
                {**InvasivePredator(name="cats", survival=0.85).to_dict(), "site": "Cay"},
            ],
            "interventions": [
                {**PredatorControl(name="eradicate rats", threat="rats").to_dict(), "site": "Isla"}
            ],
            "scenarios": [
                {"name": "no action"},
                {"name": "secure Isla", "actions": ["eradicate rats"]},
            ],
        }
    )
    ds = runner.run_study(study, backend="sequential")
    total = ds[results.TOTAL].sum(results.POPULATION)
    none, secured = (total.sel({results.SCENARIO: s}) for s in ("no action", "secure Isla"))
    # elsewhere: the same numbers, replicate by replicate
    np.testing.assert_array_equal(
        none.sel({results.SPECIES: "rail"}).values, secured.sel({results.SPECIES: "rail"}).values
    )
    # at the site every species is changed, and by what the closed form says: without density
    # dependence the mean follows E[N_t] = A^t N_0 (A = 0.8 s + 0.2 with survival multiplier
    # s = 0.85 under rats, 1 once they are eradicated)
    for sp in ("lizard", "snail"):
        for run, a in ((none, 0.8 * 0.85 + 0.2), (secured, 1.0)):
            final = run.sel({results.SPECIES: sp}).isel({results.YEAR: -1}).values.astype(float)
            se = final.std(ddof=1) / np.sqrt(final.size)
            assert_mc_close(final.mean(), 100 * a**20, se, n_tests=4)


def test_study_file_round_trip_with_sites():
    data = {
        "study": {"name": "isla", "years": 10, "replicates": 8, "seed": 1},
        "species": [species("lizard", ["Isla"]).to_dict(), species("rail", ["Cay"]).to_dict()],
        "sites": [
            {
                "name": "Isla",
                "coordinates": [1.0, 2.0],
                "area": 3.5,
                "aze": True,
                "trigger_species": ["lizard"],
            },
            {"name": "Cay"},
        ],
        "threats": [
            {
                **SiteCatastrophe(name="fire", probability=0.1, survival=0.5).to_dict(),
                "site": "Isla",
            }
        ],
    }
    study = Study.from_dict(data)
    assert study.site("Isla").aze
    assert study.species_at("Isla") == ("lizard",)
    assert dict(study.applies_to)["fire"] == ("lizard",)
    assert study.scenario_for("lizard", 0).actions[0].populations == ("Isla",)
    again = Study.from_dict(study.to_dict())
    assert again == study
    assert again.to_dict()["threats"][0]["site"] == "Isla"


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda d: d["sites"].append({"name": "Isla"}), ValueError, "sites names must be unique"),
        (lambda d: d["sites"].append({"name": "Nowhere"}), ValueError, "holds no population"),
        (
            lambda d: d["sites"][0].update(trigger_species=["rail"]),
            ValueError,
            "trigger species",
        ),
        (lambda d: d["sites"][0].update(area=-1.0), ValueError, r"area \(km²\) must be > 0"),
        (lambda d: d["sites"][0].update(aze="yes"), TypeError, "aze must be True or False"),
        (lambda d: d["sites"][0].update(size=3), UnknownKeyError, "unknown key 'size'"),
        (lambda d: d["threats"][0].update(site="Atlantis"), ValueError, "not among the study"),
        (
            lambda d: d["threats"][0].update(populations=["Cay"]),
            ValueError,
            "leave populations out",
        ),
        (
            lambda d: d["threats"][0].update(species=["rail"]),
            ValueError,
            "applies to no species living there",
        ),
    ],
)
def test_bad_sites_are_named(change, error, match):
    data = {
        "study": {"name": "isla", "years": 10, "replicates": 8, "seed": 1},
        "species": [species("lizard", ["Isla"]).to_dict(), species("rail", ["Cay"]).to_dict()],
        "sites": [{"name": "Isla"}, {"name": "Cay"}],
        "threats": [
            {
                **SiteCatastrophe(name="fire", probability=0.1, survival=0.5).to_dict(),
                "site": "Isla",
            }
        ],
    }
    change(data)
    with pytest.raises(error, match=match):
        Study.from_dict(data)


def test_the_shipped_site_study_round_trips():
    path = Path(__file__).resolve().parents[2] / "scenarios" / "lake_wales_ridge.toml"
    study = io.read_study(path)
    assert Study.from_dict(study.to_dict()) == study
    assert study.species_at("Archbold scrub") == ("scrub buckwheat", "nodding pinweed")
    assert dict(study.applies_to)["plant buckwheat"] == ("scrub buckwheat",)
