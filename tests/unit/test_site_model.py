"""Sites as they are (issue 13, item 3): coordinates, environmental correlation between sites (a
matrix or RAMAS's correlation-distance function), dispersal from RAMAS's dispersal-distance
function with transit mortality, density-dependent emigration and relative rates by stage. Closed
forms of each definition, validation messages, and the exact properties of the engine's draws
(perfectly correlated sites share their states; moves conserve individuals)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special

from pva import engine
from pva.model import (
    DensityDependence,
    Dispersal,
    DispersalKernel,
    MatrixSelection,
    Population,
    SiteCorrelation,
    Species,
    VitalRate,
    VitalRates,
    VitalRateStochasticity,
    distances,
)
from pva.streams import single_streams

SITES = ((0.0, 0.0), (30.0, 40.0), (100.0, 0.0))
"""Three sites: 50 km between the first two, 100 km between the first and the last."""


def sites(
    n: int = 3, initial: tuple[int, ...] = (20, 10), **changes: object
) -> tuple[Population, ...]:
    return tuple(
        Population(name=f"s{i}", initial=initial, coordinates=SITES[i], **changes)  # type: ignore[arg-type]
        for i in range(n)
    )


def species(**changes: object) -> Species:
    fields: dict[str, object] = {
        "name": "sites",
        "stages": ("juvenile", "adult"),
        "U": ((0.0, 0.0), (0.5, 0.8)),
        "F": ((0.0, 0.6), (0.0, 0.0)),
        "populations": sites(),
    }
    fields.update(changes)
    return Species(**fields)  # type: ignore[arg-type]


def test_distances_between_coordinates():
    d = distances(SITES)
    np.testing.assert_allclose(d[0], [0.0, 50.0, 100.0])
    np.testing.assert_allclose(d, d.T)


def test_dispersal_kernel_is_ramas_dispersal_distance_function():
    """``m_ij = a exp(-d_ij^c / b)`` for d <= Dmax, else 0 (Akçakaya & Root 2005)."""
    kernel = DispersalKernel(rate=0.3, scale=40.0, exponent=1.5, maximum_distance=80.0)
    D = species(dispersal=Dispersal(kernel=kernel)).dispersal_array
    m = 0.3 * math.exp(-(50.0**1.5) / 40.0)
    # s0-s2 are 100 km apart and s1-s2 80.6 km: beyond Dmax = 80 km, no dispersal
    expected = np.array([[0, m, 0], [m, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(D, expected, rtol=1e-12)
    unlimited = species(
        dispersal=Dispersal(kernel=DispersalKernel(rate=0.3, scale=40.0, exponent=1.5))
    )
    assert unlimited.dispersal_array[1, 2] == pytest.approx(
        0.3 * math.exp(-(math.hypot(70, 40) ** 1.5) / 40.0), rel=1e-12
    )


def test_site_correlation_is_ramas_correlation_distance_function():
    """``C_ij = a exp(-d_ij^c / b)``, 1 on the diagonal."""
    C = species(correlation=SiteCorrelation(scale=50.0, maximum=0.9)).site_correlation
    d = distances(SITES)
    expected = 0.9 * np.exp(-d / 50.0)
    np.fill_diagonal(expected, 1.0)
    np.testing.assert_allclose(C, expected)
    given = ((1.0, 0.5, 0.2), (0.5, 1.0, 0.3), (0.2, 0.3, 1.0))
    np.testing.assert_allclose(
        species(correlation=SiteCorrelation(matrix=given)).site_correlation, given
    )


def test_without_a_correlation_the_sites_share_one_environment():
    assert species().site_correlation is None


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Population(name="a", initial=(1,), coordinates=(1.0,)), ValueError, "coordinates"),
        (lambda: Population(name="a", initial=(1,), coordinates="here"), TypeError, "coordinates"),
        (lambda: DispersalKernel(rate=1.5, scale=1.0), ValueError, "rate"),
        (lambda: DispersalKernel(rate=0.5, scale=0.0), ValueError, "scale"),
        (lambda: Dispersal(), ValueError, "exactly one of rates or kernel"),
        (lambda: Dispersal(rates=((0, 0.5), (0.5, 0))), None, None),
        (
            lambda: Dispersal(rates=((0, 0.5), (0.5, 0)), stages=("a",), relative_rates=(1.0,)),
            ValueError,
            "stages or relative_rates",
        ),
        (lambda: Dispersal(rates=((0, 0.5), (0.5, 0)), mortality=1.2), ValueError, "mortality"),
        (lambda: SiteCorrelation(), ValueError, "exactly one of matrix or scale"),
        (lambda: SiteCorrelation(scale=10.0, exponent=3.0), ValueError, "exponent"),
        (
            lambda: SiteCorrelation(matrix=((1.0, 0.9, -0.9), (0.9, 1.0, 0.9), (-0.9, 0.9, 1.0))),
            ValueError,
            "positive semi-definite",
        ),
        (lambda: SiteCorrelation(matrix=((1.0, 0.5), (0.4, 1.0))), ValueError, "symmetric"),
    ],
)
def test_site_specifications_validate(make, error, match):
    if error is None:
        make()
        return
    with pytest.raises(error, match=match):
        make()


def test_species_checks_sites_against_populations():
    with pytest.raises(ValueError, match="coordinates of every population"):
        species(
            populations=(*sites(2), Population(name="x", initial=(1, 1))),
            correlation=SiteCorrelation(scale=10.0),
        )
    with pytest.raises(ValueError, match="must be 3x3"):
        species(correlation=SiteCorrelation(matrix=((1.0, 0.0), (0.0, 1.0))))
    with pytest.raises(ValueError, match=r"columns .* must sum to <= 1"):
        species(dispersal=Dispersal(kernel=DispersalKernel(rate=0.9, scale=1e6)))
    with pytest.raises(ValueError, match="relative_rates must have 2 entries"):
        species(
            dispersal=Dispersal(rates=(np.ones((3, 3)) - np.eye(3)) * 0.1, relative_rates=(1.0,))
        )


def matrix_selection() -> MatrixSelection:
    good = ((0.0, 0.0), (0.5, 0.8))
    bad = ((0.0, 0.0), (0.2, 0.5))
    fec = ((0.0, 0.6), (0.0, 0.0))
    return MatrixSelection(U=(good, bad), F=(fec, fec))


def test_perfectly_correlated_sites_share_their_states_and_independent_ones_do_not():
    ones = ((1.0,) * 3,) * 3
    same = engine.sample_environment(
        species(environment=matrix_selection(), correlation=SiteCorrelation(matrix=ones)),
        years=20,
        replicates=50,
        rng=np.random.default_rng(1),
    )
    assert same["state"].shape == (50, 20, 3)
    assert np.all(same["state"] == same["state"][..., :1])
    apart = engine.sample_environment(
        species(environment=matrix_selection(), correlation=SiteCorrelation(matrix=np.eye(3))),
        years=20,
        replicates=50,
        rng=np.random.default_rng(1),
    )
    assert np.any(apart["state"] != apart["state"][..., :1])


def test_a_sites_state_is_picked_by_phi_of_its_score():
    """The Gaussian copula: the uniform that picks a site's state is ``Phi(z)`` of its normal
    score, through the states' cumulative probabilities."""
    sp = species(environment=matrix_selection(), correlation=SiteCorrelation(scale=60.0))
    env = engine.sample_environment(sp, years=10, replicates=40, rng=np.random.default_rng(2))
    u = scipy.special.ndtr(env["score"])
    np.testing.assert_array_equal(env["state"], (u >= 0.5).astype(int))


def test_vital_rates_are_drawn_per_site_with_a_correlation():
    rates = VitalRates(
        rates=(VitalRate(name="s", mean=0.6, sd=0.1), VitalRate(name="f", mean=0.6)),
        U=((0.0, 0.0), ("s", 0.8)),
        F=((0.0, "f"), (0.0, 0.0)),
    )
    sp = species(
        U=None,
        F=None,
        vital_rates=rates,
        environment=VitalRateStochasticity(),
        correlation=SiteCorrelation(scale=60.0),
    )
    env = engine.sample_environment(sp, years=5, replicates=30, rng=np.random.default_rng(3))
    assert env["s"].shape == (30, 5, 3)
    assert np.all(env["f"] == 0.6)
    p = engine.project(sp, years=5, replicates=30, streams=single_streams(3))
    assert p.total.shape == (30, 6, 3)


def test_carrying_capacity_scores_are_correlated_by_site():
    pops = sites(initial=(20, 10), carrying_capacity=50.0, carrying_capacity_cv=0.2)
    sp = species(populations=pops, correlation=SiteCorrelation(matrix=((1.0,) * 3,) * 3))
    env = engine.sample_environment(sp, years=4, replicates=10, rng=np.random.default_rng(4))
    z = env["carrying_capacity_score"]
    np.testing.assert_allclose(z, np.broadcast_to(z[..., :1], z.shape))


# ---------------------------------------------------------------------------------------------------
# dispersal


def movers(**dispersal: object) -> Species:
    """Adults that never die nor breed, dispersing by the kernel: only dispersal changes counts."""
    return species(
        U=((1.0, 0.0), (0.0, 1.0)),
        F=((0.0, 0.0), (0.0, 0.0)),
        populations=sites(initial=(30, 50), carrying_capacity=60.0),
        density_dependence=None,
        dispersal=Dispersal(kernel=DispersalKernel(rate=0.3, scale=80.0), **dispersal),  # type: ignore[arg-type]
        generation_length=1.0,
    )


@pytest.mark.parametrize(
    "dispersal",
    [
        pytest.param({}, id="kernel"),
        pytest.param({"relative_rates": (0.5, 1.0)}, id="relative rates"),
        pytest.param({"density_dependent": True}, id="density-dependent emigration"),
    ],
)
def test_dispersal_conserves_individuals_before_transit_mortality(dispersal):
    # K = 60 sets density-dependent emigration; no ceiling truncates to it
    sp = movers(**dispersal).with_(density_dependence=DensityDependence(ceiling=False))
    p = engine.project(sp, years=15, replicates=200, streams=single_streams(5))
    by_stage = p.abundance.sum(axis=2)  # (R, year, stage)
    np.testing.assert_array_equal(by_stage, np.broadcast_to(by_stage[:, :1], by_stage.shape))
    assert np.any(p.abundance[:, 1:] != p.abundance[:, :1])  # they did move


def test_transit_mortality_only_removes_dispersers():
    sp = movers(mortality=0.4).with_(
        populations=sites(initial=(30, 50), carrying_capacity=1e9), density_dependence=None
    )
    p = engine.project(sp, years=5, replicates=200, streams=single_streams(6))
    total = p.total.sum(axis=-1)
    assert np.all(np.diff(total, axis=1) <= 0)
    assert np.all(total[:, -1] < total[:, 0])


def test_a_stage_with_relative_rate_zero_stays():
    sp = movers(relative_rates=(0.0, 1.0)).with_(
        populations=sites(initial=(30, 50), carrying_capacity=1e9), density_dependence=None
    )
    p = engine.project(sp, years=5, replicates=50, streams=single_streams(7))
    np.testing.assert_array_equal(
        p.abundance[..., 0], np.broadcast_to(30, p.abundance[..., 0].shape)
    )


def test_deterministic_dispersal_follows_the_kernel_and_mortality():
    """Without demographic stochasticity one year of dispersal is ``n' = n + (D - diag(colsums)) n``
    less the mortality of the movers, exactly."""
    sp = movers(mortality=0.25).with_(
        populations=sites(initial=(0, 40), carrying_capacity=1e9),
        density_dependence=None,
        demographic_stochasticity=False,
    )
    D = sp.dispersal_array
    n0 = np.full(3, 40.0)
    expected = n0 - D.sum(axis=0) * n0 + 0.75 * D @ n0
    p = engine.project(sp, years=1, replicates=1, streams=single_streams(0))
    np.testing.assert_allclose(p.abundance[0, 1, :, 1], expected, rtol=1e-12)
