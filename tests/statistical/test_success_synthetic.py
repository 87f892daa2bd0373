"""The success analysis recovers a known factor: the synthetic portfolio of pva.success.synthetic,
whose extinction probabilities are known exactly under every design (Galton-Watson generating
functions; Harris 1963), analysed by the same pipeline as the real portfolio (run_success, the
paired outcomes, a GLM). Tolerances: z = 4 Monte Carlo SEs, Bonferroni-adjusted (pva.testing)."""

from __future__ import annotations

import numpy as np
import pytest

from pva.success import names, synthetic
from pva.success.outcomes import run_success
from pva.testing import assert_mc_close

YEARS, REPLICATES = 30, 1000


@pytest.fixture(scope="module")
def outcomes():
    study = synthetic.synthetic_study(years=YEARS, replicates=REPLICATES, seed=1963)
    return run_success(study, jobs=2, red_list=False)


def test_extinctions_prevented_match_the_exact_values(outcomes) -> None:
    """Every (species, design): mean paired difference of extinction against the exact
    P(extinct | no action) - P(extinct | abated from the design's start)."""
    entries = synthetic.synthetic_species()
    exact = np.array(
        [
            [
                synthetic.exact_extinction(s, None, YEARS)
                - synthetic.exact_extinction(s, int(start), YEARS)
                for start in outcomes["start"].sel(species=s.name).values
            ]
            for s in entries
        ]
    )
    estimate = outcomes["extinctions_prevented"].transpose("species", names.DESIGN).values
    se = outcomes["extinctions_prevented_mcse"].transpose("species", names.DESIGN).values
    se = np.maximum(se, 1 / REPLICATES)  # a cell with no variation has SE 0: floor it at 1/R
    assert_mc_close(estimate, exact, se, n_tests=exact.size)


def test_acting_after_the_threshold_year_is_recovered_with_its_sign_and_size(outcomes) -> None:
    pytest.importorskip("statsmodels")
    contrasts = synthetic.timing_contrasts(outcomes)
    by_name = {c.name: c for c in contrasts}
    late_declining = by_name["late, declining"]
    assert late_declining.exact < -0.5  # the known factor: a large loss in declining species
    assert late_declining.estimate < 0
    assert abs(by_name["late, stable"].exact) < 0.05  # and little in the others
    assert_mc_close(
        [c.estimate for c in contrasts],
        [c.exact for c in contrasts],
        [c.mcse for c in contrasts],
        n_tests=len(contrasts),
    )
