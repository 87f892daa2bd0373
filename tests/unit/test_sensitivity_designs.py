"""Designs (grid, one at a time, Latin hypercube, Sobol'/Saltelli, Morris), distributions and the
[sweep] / [uncertainty] tables."""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from pva import streams
from pva.sensitivity import designs
from pva.sensitivity.designs import Beta, Factor, Triangular, TruncatedNormal, Uniform
from pva.sensitivity.settings import (
    SweepSettings,
    UncertaintySettings,
    parse_setting,
)


def rng(seed: int = 1) -> np.random.Generator:
    return streams.generator(seed=seed)[0]


def test_grid_is_every_combination() -> None:
    a = Factor.uniform("a", 0.0, 1.0, points=3)
    b = Factor.uniform("b", 10.0, 20.0, points=2)
    design = designs.grid([a, b])
    expected = [[0, 10], [0, 20], [0.5, 10], [0.5, 20], [1, 10], [1, 20]]
    np.testing.assert_allclose(design.values, expected)
    assert design.samples == 6


def test_one_at_a_time_holds_the_others_at_their_base_values() -> None:
    a = Factor.uniform("a", 0.0, 1.0, points=3, base=0.3)
    b = Factor.uniform("b", 10.0, 20.0, points=2, base=12.0)
    design = designs.one_at_a_time([a, b])
    expected = [[0.3, 12], [0, 12], [0.5, 12], [1, 12], [0.3, 10], [0.3, 20]]
    np.testing.assert_array_equal(design.values, expected)  # exact: the base values themselves


def test_one_at_a_time_needs_base_values() -> None:
    with pytest.raises(ValueError, match="needs a base value of 'a'"):
        designs.one_at_a_time([Factor.uniform("a", 0.0, 1.0, points=3)])


def test_latin_hypercube_has_one_point_per_stratum_and_repeats_with_its_seed() -> None:
    factors = [Factor.uniform(f"x{i}", -1.0, 1.0) for i in range(3)]
    design = designs.latin_hypercube(factors, 50, rng=rng(3))
    strata = np.floor(design.unit * 50).astype(int)
    for column in strata.T:
        assert sorted(column) == list(range(50))
    again = designs.latin_hypercube(factors, 50, rng=rng(3))
    np.testing.assert_array_equal(design.values, again.values)
    other = designs.latin_hypercube(factors, 50, rng=rng(4))
    assert not np.array_equal(design.values, other.values)


def test_sobol_design_follows_saltelli_and_needs_a_power_of_two() -> None:
    factors = [Factor.uniform(f"x{i}", 0.0, 2.0) for i in range(3)]
    design = designs.sobol(factors, 16, rng=rng())
    assert design.samples == 16 * (2 * 3 + 2)
    rows = design.unit.reshape(16, 8, 3)
    a, b = rows[:, 0], rows[:, -1]
    for j in range(3):  # AB_j: A with column j from B; BA_j: B with column j from A
        expected = a.copy()
        expected[:, j] = b[:, j]
        np.testing.assert_array_equal(rows[:, 1 + j], expected)
        expected = b.copy()
        expected[:, j] = a[:, j]
        np.testing.assert_array_equal(rows[:, 4 + j], expected)
    np.testing.assert_allclose(design.values, 2 * design.unit)
    with pytest.raises(ValueError, match=r"power of 2.*nearest: 16 or 32"):
        designs.sobol(factors, 20, rng=rng())


def test_morris_design_has_trajectories_of_one_step_each() -> None:
    factors = [Factor.uniform(f"x{i}", 0.0, 1.0) for i in range(4)]
    design = designs.morris(factors, 6, rng=rng(), levels=4)
    assert design.samples == 6 * 5
    steps = np.diff(design.unit.reshape(6, 5, 4), axis=1)
    assert np.all((steps != 0).sum(axis=2) == 1)  # one factor moves per step
    moved = np.abs(steps[steps != 0])
    np.testing.assert_allclose(moved, 4 / (2 * 3))  # Morris's step p / (2 (p - 1))
    with pytest.raises(ValueError, match="levels must be even"):
        designs.morris(factors, 6, rng=rng(), levels=3)


def test_make_refuses_a_size_for_grids() -> None:
    with pytest.raises(ValueError, match="takes its size from the parameters' points"):
        designs.make("grid", [Factor.uniform("a", 0.0, 1.0, points=2)], samples=10)
    with pytest.raises(ValueError, match="design must be one of"):
        designs.make("factorial", [Factor.uniform("a", 0.0, 1.0)])


@pytest.mark.parametrize(
    ("distribution", "frozen"),
    [
        (Uniform(low=2.0, high=5.0), scipy.stats.uniform(loc=2.0, scale=3.0)),
        (Triangular(low=0.0, mode=0.2, high=1.0), scipy.stats.triang(0.2, loc=0.0, scale=1.0)),
        (
            TruncatedNormal(mean=0.9, sd=0.05, low=0.8, high=1.0),
            scipy.stats.truncnorm(-2.0, 2.0, loc=0.9, scale=0.05),
        ),
    ],
)
def test_distributions_are_their_quantile_functions(distribution: object, frozen: object) -> None:
    u = np.linspace(0.01, 0.99, 9)
    np.testing.assert_allclose(distribution.ppf(u), frozen.ppf(u), rtol=1e-12)  # type: ignore[attr-defined]


def test_beta_has_the_mean_and_sd_asked_for() -> None:
    beta = Beta(mean=0.7, sd=0.1, low=0.5, high=1.0)
    a, b = beta.shapes()
    frozen = scipy.stats.beta(a, b, loc=0.5, scale=0.5)
    assert frozen.mean() == pytest.approx(0.7)
    assert frozen.std() == pytest.approx(0.1)
    with pytest.raises(ValueError, match="sd must be <"):
        Beta(mean=0.9, sd=0.35)


def test_integer_factors_are_rounded() -> None:
    factor = Factor.uniform("delay", 0.0, 10.0, points=4, integer=True)
    np.testing.assert_array_equal(designs.grid([factor]).values[:, 0], [0, 3, 7, 10])


# ---------------------------------------------------------------------------------------------------
# the [sweep] and [uncertainty] tables


def test_a_setting_reads_path_range_and_points() -> None:
    p = parse_setting('species."a=b".carrying_capacity=100:400:4')
    assert p.path == 'species."a=b".carrying_capacity'
    assert (p.distribution.low, p.distribution.high, p.points) == (100.0, 400.0, 4)
    assert parse_setting("threats.x.proportion=0:0.3").points is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("threats.x.proportion", "must be PATH=LOW:HIGH"),
        ("threats.x.proportion=0.3", "must be PATH=LOW:HIGH"),
        ("threats.x.proportion=a:b", "numbers LOW, HIGH"),
        ("threats.x.proportion=0.3:0.1", "low must be < high"),
        ("threats..x=0:1", "not valid at character"),
    ],
)
def test_bad_settings_are_refused(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_setting(text)


def test_sweep_table_round_trips() -> None:
    table = {
        "design": "lhs",
        "samples": 40,
        "parameters": {
            "threats.poaching.proportion": [0.0, 0.3, 7],
            'species."Hudsonia montana".carrying_capacity': {
                "low": 100.0,
                "high": 400.0,
                "name": "K",
            },
            "threats.trampling.survival": {
                "distribution": "triangular",
                "low": 0.8,
                "mode": 0.9,
                "high": 1.0,
            },
        },
    }
    settings = SweepSettings.from_dict(table)
    assert settings.design == "lhs"
    assert settings.samples == 40
    assert [p.name for p in settings.parameters] == [None, "K", None]
    assert isinstance(settings.parameters[2].distribution, Triangular)
    assert SweepSettings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ({"design": "lhs"}, "must be a table of path = range"),
        ({"parameters": {"a.b.c": [1.0]}}, r"give \[low, high\]"),
        ({"parameters": {"a.b.c": [0.0, 1.0]}, "design": "random"}, "design must be one of"),
        ({"parameters": {"a.b.c": [0.0, 1.0]}, "sample": 10}, "unknown key 'sample'"),
        (
            {"parameters": {"a.b.c": {"distribution": "gamma", "low": 0, "high": 1}}},
            "distribution must be one of",
        ),
        ({"parameters": {"a.b.c": {"distribution": "beta", "low": 0, "high": 1}}}, "needs"),
    ],
)
def test_bad_sweep_tables_are_refused(table: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SweepSettings.from_dict(table)


def test_uncertainty_table_round_trips() -> None:
    table = {
        "replicates_per_draw": 5,
        "parameters": {
            "species.herb.carrying_capacity": {
                "distribution": "uniform",
                "low": 40.0,
                "high": 80.0,
            },
            "threats.poaching.proportion": {"distribution": "beta", "mean": 0.1, "sd": 0.03},
            "species.herb.U[1][1]": {
                "distribution": "truncated_normal",
                "mean": 0.8,
                "sd": 0.05,
                "low": 0.7,
                "high": 0.9,
            },
        },
    }
    settings = UncertaintySettings.from_dict(table)
    assert settings.replicates_per_draw == 5
    assert isinstance(settings.parameters[1].distribution, Beta)
    assert UncertaintySettings.from_dict(settings.to_dict()) == settings
    assert math.isclose(settings.parameters[1].distribution.mean, 0.1)


@pytest.mark.parametrize(
    ("table", "settings"), [("sweep", SweepSettings), ("uncertainty", UncertaintySettings)]
)
def test_the_documented_tables_are_valid(table: str, settings: type) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "study-file.md").read_text(encoding="utf-8")
    (example,) = re.findall(rf"```toml {table}\n(.*?)```", doc, flags=re.S)
    parsed = settings.from_dict(tomllib.loads(example)[table], where=f"[{table}]")
    assert parsed.parameters
    assert settings.from_dict(parsed.to_dict()) == parsed
