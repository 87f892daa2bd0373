"""Parameter paths: the grammar, resolution on the study's dict, studies with values changed (the
same as Study.from_dict of the edited dict), and the one-line errors for bad paths and values."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sweep_studies import harvest_study, herb

from pva.model import Population
from pva.sensitivity import designs, paths
from pva.sensitivity.execution import sample_studies
from pva.sensitivity.settings import SweptParameter, factors, parse_setting
from pva.study import Study

HERB_U = "species.herb.U[1][1]"


@pytest.fixture(scope="module")
def study() -> Study:
    return harvest_study()


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("study.years", ("study", "years")),
        ('species."Hudsonia montana".U[2][1]', ("species", "Hudsonia montana", "U", 2, 1)),
        (
            "species.X.vital_rates.rates.s1.mean",
            ("species", "X", "vital_rates", "rates", "s1", "mean"),
        ),
        ('threats."a \\"b\\"".proportion', ("threats", 'a "b"', "proportion")),
        ('species."g>4,3".x[0]', ("species", "g>4,3", "x", 0)),
    ],
)
def test_paths_parse_and_print_back(text: str, keys: tuple[object, ...]) -> None:
    assert paths.parse(text) == keys
    assert paths.format_path(keys) == text
    assert paths.parse(paths.format_path(keys)) == keys


@pytest.mark.parametrize(
    "text", ["", "species..x", "species.x[", "species.x[a]", "1abc.x", 'species."open']
)
def test_malformed_paths_are_refused_with_the_position(text: str) -> None:
    with pytest.raises(paths.ParameterPathError, match="is not valid at character"):
        paths.parse(text)


def test_every_number_of_the_study_has_a_path(study: Study) -> None:
    listed = paths.numeric_paths(study.to_dict())
    assert "study.years" in listed
    assert HERB_U in listed
    assert "threats.poaching.proportion" in listed
    assert "interventions.patrols.annual_cost" in listed
    assert "study.seed" not in listed  # a sweep has one root seed


def test_a_path_resolves_to_its_number_and_kind(study: Study) -> None:
    p = paths.resolve(study, HERB_U)
    assert (p.base, p.integer) == (0.8, False)
    years = paths.resolve(study, "study.years")
    assert (years.base, years.integer) == (20, True)
    # a field the study leaves unset resolves without a base value
    end = paths.resolve(study, "threats.poaching.end")
    assert end.base is None


def test_an_unset_integer_field_is_known_as_one(study: Study) -> None:
    (end,), (factor,) = factors(study, [parse_setting("threats.poaching.end=5:15:3")])
    assert end.integer
    assert factor.integer
    changed = paths.assign(study, {end: 7.4})
    assert changed.scenarios[0].threats[0].end == 7


@pytest.mark.parametrize(
    ("path", "nearest"),
    [
        ("species.herb.carying_capacity", "species.herb.carrying_capacity"),
        ("species.herbs.carrying_capacity", "species.herb.carrying_capacity"),
        ("threats.poaching.proportoin", "threats.poaching.proportion"),
        ("interventions.patrol.annual_cost", "interventions.patrols.annual_cost"),
        ("study.yaers", "study.years"),
    ],
)
def test_a_bad_path_names_the_nearest_valid_paths(study: Study, path: str, nearest: str) -> None:
    with pytest.raises(paths.ParameterPathError) as caught:
        paths.resolve(study, path)
    message = str(caught.value)
    assert "\n" not in message
    assert f"no parameter {path!r}" in message
    assert f"nearest valid paths: {nearest}" in message


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("study.seed", "one root seed"),
        ("species.herb.stages", "not a number"),
        ("species.herb", "not a number"),
        ("scenarios.patrols", "starts with one of"),
        ("species.herb.U[5][0]", "not in the study"),
    ],
)
def test_paths_that_are_not_parameters_are_refused(study: Study, path: str, why: str) -> None:
    with pytest.raises(paths.ParameterPathError, match=why):
        paths.resolve(study, path)


@pytest.mark.parametrize(
    "path",
    [
        HERB_U,
        "species.herb.carrying_capacity",
        "species.herb.initial[1]",
        "threats.poaching.proportion",
        "interventions.patrols.fraction",
        "interventions.patrols.annual_cost",
        "study.years",
    ],
)
def test_assign_equals_from_dict_of_the_edited_dict(study: Study, path: str) -> None:
    p = paths.resolve(study, path)
    value = p.value(p.base * 0.9 if not p.integer else p.base - 1)  # type: ignore[operator]
    edited = copy.deepcopy(study.to_dict())
    container = edited
    keys = p.keys
    for key in keys[:-1]:
        if isinstance(container, list) and isinstance(key, str):
            container = next(t for t in container if t["name"] == key)
        else:
            container = container[key]
    container[keys[-1]] = value
    assert paths.assign(study, {p: value}) == Study.from_dict(edited)


def test_assign_leaves_the_study_unchanged_at_its_own_values(study: Study) -> None:
    doc = study.to_dict()
    chosen = [paths.resolve(study, path, doc=doc) for path in paths.numeric_paths(doc)]
    for p in chosen:
        assert paths.assign(study, {p: p.base}, doc=doc) == study, p.path  # type: ignore[dict-item]


def test_a_refused_value_gives_the_rule_and_the_accepted_range(study: Study) -> None:
    # U[1][1] + U[1][0]... column 1 of U holds 0.0 (juvenile row) and 0.8: survival <= 1 allows 1.0
    # column 0 holds 0.2 and 0.45: U[1][0] may rise to 1 - 0.2 = 0.8 (closed form of the edge)
    with pytest.raises(paths.ParameterValueError) as caught:
        factors(study, [parse_setting("species.herb.U[1][0]=0.3:0.9")])
    message = str(caught.value)
    assert "\n" not in message
    assert "species.herb.U[1][0] = 0.9 is refused" in message
    assert "column sums" in message
    edge = float(message.split("accepts values up to ")[1].split()[0])
    assert edge == pytest.approx(0.8, abs=1e-6)


def test_an_integer_edge_is_an_integer_and_honours_other_fields(study: Study) -> None:
    # years must be >= 1, and the study reports at year 10 (outputs.horizons): the edge is 10
    with pytest.raises(paths.ParameterValueError, match="accepts values down to 10 with"):
        factors(study, [parse_setting("study.years=-5:30:3")])


def test_a_refused_combination_names_the_sample(study: Study) -> None:
    # each end alone keeps column 0 of U within 1; together 0.5 + 0.7 = 1.2 does not
    settings = [
        parse_setting("species.herb.U[0][0]=0.1:0.5:2"),
        parse_setting("species.herb.U[1][0]=0.3:0.7:2"),
    ]
    doc = study.to_dict()
    parameters, factor_list = factors(study, settings, doc=doc)
    design = designs.grid(factor_list)
    with pytest.raises(paths.ParameterValueError) as caught:
        sample_studies(study, parameters, design, doc=doc)
    message = str(caught.value)
    assert message.startswith("sample 3 (U_0_0=0.5, U_1_0=0.7) is refused: ")
    assert "column sums" in message
    assert "each value is accepted on its own; their combination is not" in message


def test_short_names_tell_parameters_apart(study: Study) -> None:
    chosen = [
        paths.resolve(study, path)
        for path in (
            "threats.poaching.proportion",
            "interventions.patrols.fraction",
            HERB_U,
            "species.herb.F[0][1]",
        )
    ]
    assert paths.short_names(chosen) == ["proportion", "fraction", "U_1_1", "F_0_1"]
    twice = [
        paths.resolve(study, "interventions.patrols.annual_cost"),
        paths.resolve(study, "threats.poaching.start"),
    ]
    assert paths.short_names(twice) == ["annual_cost", "start"]


def test_a_path_given_twice_is_refused(study: Study) -> None:
    with pytest.raises(paths.ParameterPathError, match="given twice"):
        factors(study, [parse_setting(f"{HERB_U}=0.5:0.9"), parse_setting(f"{HERB_U}=0.6:0.9")])


def test_values_are_rounded_for_integer_parameters(study: Study) -> None:
    (years,), (factor,) = factors(
        study,
        [
            SweptParameter(
                path="study.years", distribution=designs.Uniform(low=10, high=30), points=3
            )
        ],
    )
    assert factor.integer
    design = designs.grid([factor])
    np.testing.assert_array_equal(design.values[:, 0], [10, 20, 30])
    assert paths.assign(study, {years: 19.6}).years == 20


# ---------------------------------------------------------------------------------------------------
# initial_total of a species written with per-stage counts: the counts scaled to the total


def test_initial_total_of_per_stage_counts_resolves_to_their_sum(study: Study) -> None:
    p = paths.resolve(study, "species.herb.initial_total")
    assert (p.base, p.integer) == (30, True)  # initial = (10, 20)


@pytest.mark.parametrize(
    ("total", "initial"),
    [
        (60, (20, 40)),  # twice the counts: exact
        (45, (15, 30)),  # 1.5 times: exact
        # 50/30 x (10, 20) = (16.67, 33.33): floors (16, 33) hold 49; the one left goes to the
        # larger remainder (0.67): (17, 33) (Hamilton's largest-remainder method)
        (50, (17, 33)),
        (0, (0, 0)),
    ],
)
def test_initial_total_scales_the_stage_structure(
    study: Study, total: int, initial: tuple[int, ...]
) -> None:
    p = paths.resolve(study, "species.herb.initial_total")
    changed = paths.assign(study, {p: total})
    species = changed.species[0].species
    assert species.initial == initial
    assert species.initial_total is None  # the study keeps its per-stage form
    assert int(species.initial_abundance.sum()) == total


def multi_population_study() -> Study:
    two = herb(
        initial=None,
        carrying_capacity=None,
        populations=(
            Population(name="a", initial=(10, 20), carrying_capacity=60.0),
            Population(name="b", initial=(0, 30), carrying_capacity=60.0),
        ),
    )
    return harvest_study(species=(two,))


def test_initial_total_of_a_species_with_populations_scales_every_population() -> None:
    study = multi_population_study()
    p = paths.resolve(study, "species.herb.initial_total")
    assert p.base == 60
    # x 61/60 = (10.17, 20.33) and (0, 30.5): floors hold 60; the one left goes to the largest
    # remainder over all cells together (0.5, population b's adults), so the species total is exact
    pops = paths.assign(study, {p: 61}).species[0].species.populations
    assert [q.initial for q in pops] == [(10, 20), (0, 31)]
    pops = paths.assign(study, {p: 120}).species[0].species.populations
    assert [q.initial for q in pops] == [(20, 40), (0, 60)]


def test_initial_total_of_one_population_scales_that_population_only() -> None:
    study = multi_population_study()
    p = paths.resolve(study, "species.herb.populations.a.initial_total")
    assert p.base == 30
    pops = paths.assign(study, {p: 90}).species[0].species.populations
    assert [q.initial for q in pops] == [(30, 60), (0, 30)]


def test_initial_total_of_zero_counts_names_the_alternative() -> None:
    study = harvest_study(species=(herb(initial=(0, 0)),))
    p = paths.resolve(study, "species.herb.initial_total")
    with pytest.raises(paths.ParameterValueError, match=r"species\.herb\.initial\[i\]"):
        paths.assign(study, {p: 10})
