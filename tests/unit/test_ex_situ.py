"""Ex-situ programmes (issue 13, item 2; GSAP 4.4): a captive population kept by a scenario
(:class:`pva.scenario.ExSituProgramme`, compiled into :class:`pva.schedule.Captive`) and releases
drawn from it (:class:`pva.scenario.ExSituRelease` with ``source``). The schedule against the
definition; the engine's exact properties: a programme without releases leaves the wild
population as it would be without the founders, captivity never exceeds its capacity, releases
take at most what is available and bring the programme's gene diversity."""

from __future__ import annotations

import numpy as np
import pytest
from example_species import sites_with_genetics

from pva import engine, results, streams
from pva.model import Genetics, Population, Species
from pva.scenario import ExSituProgramme, ExSituRelease, Scenario
from pva.simulation import simulate
from pva.streams import single_streams
from pva.study import Study, StudySpecies

YEARS = 20


def wild(**changes: object) -> Species:
    fields: dict[str, object] = {
        "name": "wild",
        "stages": ("juvenile", "adult"),
        "U": ((0.0, 0.0), (0.4, 0.85)),
        "F": ((0.0, 0.5), (0.0, 0.0)),
        "populations": (
            Population(name="home", initial=(20, 60), carrying_capacity=200.0),
            Population(name="away", initial=(0, 0), carrying_capacity=100.0),
        ),
        "generation_length": 6.0,
    }
    fields.update(changes)
    return Species(**fields)  # type: ignore[arg-type]


def programme(**changes: object) -> ExSituProgramme:
    fields: dict[str, object] = {
        "name": "zoo",
        "founders": {"adult": 6},
        "founding_years": 2,
        "capacity": 40.0,
        "survival_multiplier": 1.1,
        "fecundity_multiplier": 1.5,
        "annual_cost": 1000.0,
        "start": 2,
        "end": 15,
    }
    fields.update(changes)
    return ExSituProgramme(**fields)  # type: ignore[arg-type]


def test_a_programme_compiles_to_its_captive_schedule():
    release = ExSituRelease(
        name="out", source="zoo", individuals={"juvenile": 5}, survival=0.6, start=5, end=10
    )
    schedule = Scenario("ex situ", (programme(), release)).compile(wild(), years=YEARS)
    (captive,) = schedule.programmes
    t = np.arange(YEARS)
    np.testing.assert_array_equal(captive.founders[:, 1], np.where((t >= 2) & (t < 4), 6.0, 0.0))
    np.testing.assert_array_equal(captive.founders[:, 0], 0.0)
    np.testing.assert_array_equal(captive.capacity, np.where((t >= 2) & (t < 15), 40.0, 0.0))
    np.testing.assert_array_equal(
        captive.release_number[:, 0, 0], np.where((t >= 5) & (t < 10), 5.0, 0.0)
    )
    assert np.all(captive.release_survival[captive.release_number > 0] == pytest.approx(0.6))
    assert captive.source == 0
    assert captive.production is None
    np.testing.assert_array_equal(schedule.annual_cost, np.where((t >= 2) & (t < 15), 1000.0, 0.0))
    # the wild schedule's own releases are untouched: these come from captivity
    assert not np.any(schedule.release_number)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: programme(founders={}), ValueError, "founders"),
        (lambda: programme(capacity=0.0), ValueError, "capacity"),
        (lambda: programme(founders={"adult": -1}), ValueError, "founders"),
        (lambda: programme(founding_years=0), ValueError, "founding_years"),
        (lambda: programme(effective_size_ratio=3.0), ValueError, "effective_size_ratio"),
        (
            lambda: Scenario(
                "x", (ExSituRelease(name="r", source="zoo", individuals={"adult": 1}),)
            ),
            ValueError,
            "not an ExSituProgramme of the scenario",
        ),
    ],
)
def test_ex_situ_validation(make, error, match):
    with pytest.raises(error, match=match):
        make()


def project(species: Species, *actions: object, replicates: int = 300, seed: int = 1):
    schedule = Scenario("s", tuple(actions)).compile(species, years=YEARS)  # type: ignore[arg-type]
    return engine.project(
        species, schedule, years=YEARS, replicates=replicates, streams=single_streams(seed)
    )


@pytest.mark.parametrize("genetics", [None, Genetics()], ids=["demography", "with genetics"])
def test_without_releases_the_wild_only_loses_its_founders(genetics):
    """The captive draws come from their own stream: until the founders are taken the wild
    trajectory is no action's, replicate by replicate; founders taken at the start of step 0 leave
    the wild exactly as a projection that starts without them."""
    species = wild(genetics=genetics)
    nothing = project(species)
    later = project(species, programme(start=5, founding_years=1))
    np.testing.assert_array_equal(later.abundance[:, :6], nothing.abundance[:, :6])
    assert np.any(later.abundance[:, 6:] != nothing.abundance[:, 6:])
    first = project(species, programme(start=0, founding_years=1))
    n0 = species.initial_abundance.copy()
    n0[0, 1] -= 6
    without_founders = engine.project(
        species,
        years=YEARS,
        replicates=300,
        streams=single_streams(1),
        initial=np.broadcast_to(n0, (300, *n0.shape)),
    )
    np.testing.assert_array_equal(first.abundance[:, 1:], without_founders.abundance[:, 1:])
    if genetics is not None:  # founders are a random sample: the wild's diversity is unchanged
        np.testing.assert_array_equal(
            first.gene_diversity[:, 1:], without_founders.gene_diversity[:, 1:]
        )


def test_captivity_never_exceeds_its_capacity_and_ends_with_the_programme():
    p = project(wild(), programme(capacity=25.0))
    assert p.captive.shape == (300, YEARS + 1, 1)
    assert np.all(p.captive <= 25)
    assert np.all(p.captive[:, :3] == 0)  # nothing before the first founders (step 2)
    assert np.all(p.captive[:, 3] > 0)
    assert np.all(p.captive[:, 16:] == 0)  # given up in step 15, when the programme has ended


def test_founders_come_from_what_the_source_has():
    species = wild(
        populations=(
            Population(name="home", initial=(0, 3), carrying_capacity=200.0),
            Population(name="away", initial=(0, 0), carrying_capacity=100.0),
        )
    )
    p = project(species, programme(start=0, founding_years=1, founders={"adult": 10}))
    assert np.all(p.abundance[:, 1, 0, 1] == 0)  # all three taken, none breeds in the wild


def test_releases_take_at_most_what_is_there_and_bring_its_gene_diversity():
    """Deterministic captivity producing 3 juveniles a year (production schedule) and a request of
    10 a year into "away": 3 arrive a year x survival 0.5, with the programme's gene diversity."""
    species = wild(demographic_stochasticity=False, genetics=Genetics(lethal_equivalents=0.0))
    keep = programme(
        start=0, end=None, founding_years=1, production={"juvenile": 3.0}, effective_size_ratio=1.0
    )
    release = ExSituRelease(
        name="out", source="zoo", population="away", individuals={"juvenile": 10}, survival=0.5
    )
    p = project(species, keep, release, replicates=1)
    # year 1: 3 produced, 1.5 arrive in the empty site with the programme's diversity
    assert p.abundance[0, 1, 1, 0] == pytest.approx(1.5)
    assert p.gene_diversity[0, 1, 1] == pytest.approx(p.captive_gene_diversity[0, 1, 0])
    # the stock of 6 founders keeps Ne = 6: its diversity falls by (1 - 1/12)^(1/G) a year
    G = species.generation_length
    np.testing.assert_allclose(
        p.captive_gene_diversity[0, 1:6, 0], (1 - 1 / 12) ** (np.arange(1, 6) / G), rtol=1e-12
    )
    assert np.all(p.captive[0, 1:] == 6)


def test_a_study_file_round_trip_keeps_programmes_and_releases():
    species = wild(genetics=Genetics())
    release = ExSituRelease(name="out", source="zoo", individuals={"juvenile": 5}, survival=0.6)
    study = Study(
        name="zoo",
        species=(StudySpecies(species=species),),
        scenarios=(Scenario("no action"), Scenario("ex situ", (programme(), release))),
        years=YEARS,
        replicates=10,
        seed=1,
    )
    again = Study.from_dict(study.to_dict())
    assert again == study
    assert again.to_dict()["interventions"][0]["founders"] == {"adult": 6.0}


def test_chunks_together_draw_what_each_chunk_draws_alone():
    """Genetics, correlated sites and a captive programme keep pva.simulate's chunks (projected
    together) identical to runner tasks (one chunk each)."""
    sp = sites_with_genetics()
    schedule = Scenario(
        "zoo",
        (
            ExSituProgramme(name="zoo", founders={"adult": 4}, capacity=30.0),
            ExSituRelease(name="out", source="zoo", individuals={"juvenile": 3}, start=4),
        ),
    ).compile(sp, years=YEARS)

    def chunks() -> tuple[tuple[int, object], ...]:  # fresh generators for every projection
        return ((50, single_streams(21)), (30, single_streams(22)))

    (together,) = engine.project_chunks(sp, (schedule,), years=YEARS, chunks=chunks())
    alone = [engine.project_chunks(sp, (schedule,), years=YEARS, chunks=(c,))[0] for c in chunks()]
    for field in ("abundance", "gene_diversity", "captive", "captive_gene_diversity"):
        np.testing.assert_array_equal(
            getattr(together, field),
            np.concatenate([getattr(a, field) for a in alone]),
            err_msg=field,
        )


def test_results_carry_the_captive_individuals_and_their_gene_diversity():
    """pva.simulate and a study run report the programmes' individuals (summed over programmes)
    and their gene diversity (weighted by individuals), the engine's own numbers; a production
    schedule loses gene diversity at the effective size of its whole stock, (1 - 1/(2 Ne))^(1/G)
    a year with Ne = ratio x stock (here 1 x 6 founders, G = 6)."""
    species = wild(genetics=Genetics(lethal_equivalents=0.0))
    keep = programme(
        start=0, end=None, founding_years=1, production={"juvenile": 2.0}, effective_size_ratio=1.0
    )
    scenario = Scenario("zoo", (keep,))
    ds = simulate(species, years=8, replicates=40, seed=3, scenario=scenario)
    p = engine.project_chunks(
        species,
        [scenario.compile(species, years=8)],
        years=8,
        chunks=[(40, streams.chunk_streams(3, species.name, 0))],
    )[0]
    np.testing.assert_array_equal(ds[results.CAPTIVE_INDIVIDUALS].values, p.captive.sum(axis=-1))
    h = ds[results.CAPTIVE_GENE_DIVERSITY].values
    kept = (1 - 1 / 12) ** (1 / 6)
    np.testing.assert_allclose(
        h[:, 1:], np.broadcast_to(kept ** np.arange(1, 9), h[:, 1:].shape), rtol=1e-12
    )
    assert np.all(np.isnan(h[:, 0]))  # nobody in captivity at year 0; a year of drift by year 1


def test_a_multiplier_that_would_raise_captive_survival_above_one_is_refused():
    """Adult survival 0.85 at the mean matrices: a multiplier of 1/0.85 is the most the captive
    population's demography can follow; 3 would need a survival of 2.55, which the engine could
    only cap (as for catastrophes)."""

    def study(multiplier: float) -> Study:
        return Study(
            name="zoo",
            years=YEARS,
            replicates=10,
            species=(StudySpecies(species=wild()),),
            scenarios=(Scenario("ex situ", (programme(survival_multiplier=multiplier),)),),
        )

    with pytest.raises(ValueError, match=r"survival_multiplier=3\.0") as refused:
        study(3.0)
    (line,) = str(refused.value).splitlines()
    assert "survival_multiplier=3.0" in line
    assert "stage 'adult' of species 'wild' from 0.85 to 2.55, above 1" in line
    assert "at most 1.17647" in line
    study(1 / 0.85)  # the largest allowed
