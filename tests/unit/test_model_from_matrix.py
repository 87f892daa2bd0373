"""Species.from_matrix (a species from one projection matrix) and mature counts under Mating."""

from __future__ import annotations

import numpy as np
import pytest

from pva import datasets
from pva.analysis import growth_rate
from pva.engine import project
from pva.model import Mating, Species
from pva.streams import single_streams


def _whale() -> tuple[np.ndarray, list[str]]:
    (whale,) = datasets.load_popbio("whale").values()  # Caswell 2001, Example 5.1
    return np.array(whale.A), list(whale.stages)


def test_whale_split_sums_back_and_keeps_lambda() -> None:
    A, stages = _whale()
    sp = Species.from_matrix(A, name="whale", stages=stages, initial_total=100)
    np.testing.assert_array_equal(sp.U_array + sp.F_array + sp.C_array, A)
    # the top row is reproduction (Caswell 2001, example 2.1: killer whale, yearling row)
    np.testing.assert_array_equal(sp.F_array[0], A[0])
    assert not sp.F_array[1:].any()
    assert not sp.U_array[0].any()
    assert growth_rate(sp.A) == pytest.approx(growth_rate(A), rel=1e-12)
    # juveniles have a (tiny) fecundity, so they count as mature by default
    assert sp.mature_stages == ("juvenile", "mature")
    assert sp.initial_abundance.sum() == 100


def test_clonal_rows_go_to_C() -> None:
    A = [[0.0, 2.0], [0.3, 0.5]]
    # a made-up case: row 1 is all clonal (ramets), so U is empty and survival is not modelled
    sp = Species.from_matrix(A, name="x", stages=("a", "b"), clonal_rows=(1,), initial=(1, 1))
    np.testing.assert_array_equal(sp.C_array, [[0, 0], [0.3, 0.5]])
    np.testing.assert_array_equal(sp.F_array, [[0, 2.0], [0, 0]])
    assert not sp.U_array.any()


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"reproduction_rows": (4,)}, r"reproduction_rows.*0\.\.1.*4"),
        ({"reproduction_rows": (-1,)}, r"reproduction_rows.*-1"),
        ({"clonal_rows": (0,)}, r"\[0\].*both reproduction_rows and clonal_rows"),
    ],
)
def test_bad_rows_are_refused_by_name(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Species.from_matrix([[0.0, 2.0], [0.5, 0.8]], name="x", stages=("a", "b"), **kw)  # type: ignore[arg-type]


def test_a_row_index_of_the_wrong_kind_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"clonal_rows.* must be an integer; got True"):
        Species.from_matrix(
            [[0.0, 2.0], [0.5, 0.8]], name="x", stages=("a", "b"), clonal_rows=(True,)
        )


def test_validated_like_any_species() -> None:
    # column 1 of U would sum to 1.2 once the top row is taken out as F
    with pytest.raises(ValueError, match="column sums"):
        Species.from_matrix([[0.0, 2.0], [0.5, 1.2]], name="x", stages=("a", "b"), initial=(1, 1))
    with pytest.raises(ValueError, match="2x2"):
        Species.from_matrix([[0.0, 2.0, 1.0]], name="x", stages=("a", "b"))
    with pytest.raises(TypeError, match="'F'"):
        Species.from_matrix(
            [[0.0, 2.0], [0.5, 0.8]], name="x", stages=("a", "b"), F=((0, 0), (0, 0))
        )


# ---- mature individuals of both sexes under Mating --------------------------------------------


@pytest.mark.parametrize("stochastic", [False, True])
@pytest.mark.parametrize("ratio", [0.5, 0.8])
def test_mature_counts_both_sexes_under_mating(stochastic: bool, ratio: float) -> None:
    sp = Species(
        name="toy",
        stages=("juvenile", "adult"),
        U=((0.2, 0.0), (0.5, 0.8)),
        F=((0.0, 1.5), (0.0, 0.0)),
        initial=(10, 100),
        sex=Mating(sex_ratio=ratio),
        demographic_stochasticity=stochastic,
    )
    out = project(sp, years=5, replicates=20, streams=single_streams(3), record=("abundance",))
    assert out.mature.dtype == (np.int64 if stochastic else np.float64)
    # 100 mature females at a female fraction r stand for 100 / r mature individuals
    assert out.mature[0, 0, 0] == pytest.approx(100 / ratio)
    females = out.abundance[..., 1]  # type: ignore[index]
    expected = np.rint(females / ratio) if stochastic else females / ratio
    np.testing.assert_allclose(out.mature, expected, rtol=1e-12)
    # total stays in females, the unit of the matrices and of K
    np.testing.assert_array_equal(out.total, out.abundance.sum(axis=-1))  # type: ignore[union-attr]


def test_simulate_reports_mature_of_both_sexes() -> None:
    from pva import results as names
    from pva.simulation import simulate

    sp = Species(
        name="toy",
        stages=("juvenile", "adult"),
        U=((0.2, 0.0), (0.5, 0.8)),
        F=((0.0, 1.5), (0.0, 0.0)),
        initial=(10, 30),
        sex=Mating(sex_ratio=0.6),
    )
    ds = simulate(sp, years=3, replicates=5, seed=2)
    assert ds[names.MATURE].dtype == np.int64
    females = ds[names.ABUNDANCE].isel(stage=1).values
    np.testing.assert_array_equal(ds[names.MATURE].values, np.rint(females / 0.6))
    assert int(ds[names.MATURE].isel(year=0).values.ravel()[0]) == 50  # 30 females / 0.6
