"""``Species.from_matrix`` with an entry mask (issue 15, item 6): seed-bank survival and germination
stay survival.

Hudsonia montana (Morris & Doak 2002, Table 6.7; popbio's hudsonia): in the mean of the four annual
matrices, rows seed and seedlings hold both what plants produce (columns tiny..large: births) and
what seeds do (a11 seed-bank survival, a21 germination: survival). The reference split is the one
of scenarios/species/hudsonia.toml, written out by hand below; its generation length is 28.3 years,
the one the demo records.
"""

from __future__ import annotations

import numpy as np
import pytest

import pva
from pva.model import Species

STAGES = ("seed", "seedlings", "tiny", "small", "medium", "large")
INITIAL = (4264, 3, 30, 16, 25, 5)


def mean_hudsonia() -> np.ndarray:
    return np.mean([m.A for m in pva.datasets.load_popbio("hudsonia").values()], axis=0)


def test_a_mask_keeps_seeds_surviving() -> None:
    A = mean_hudsonia()
    mask = np.zeros((6, 6), dtype=bool)
    mask[:2, 2:] = True  # seeds and seedlings produced by plants
    species = Species.from_matrix(A, name="h", stages=STAGES, reproduction=mask, initial=INITIAL)
    # by hand: F is the plants' output, U everything else
    F = np.where(mask, A, 0.0)
    by_hand = Species(name="h", stages=STAGES, U=(A - F).tolist(), F=F.tolist(), initial=INITIAL)
    np.testing.assert_array_equal(species.U_array, by_hand.U_array)
    np.testing.assert_array_equal(species.F_array, by_hand.F_array)
    assert species.mature_stages == ("tiny", "small", "medium", "large")
    assert species.generation_length == pytest.approx(by_hand.generation_length)
    assert species.generation_length == pytest.approx(28.3, abs=0.05)


def test_whole_rows_make_seeds_mature() -> None:
    # what the mask avoids: rows 0-1 as births count seeds as mature, generation length 4.9
    rows = Species.from_matrix(
        mean_hudsonia(), name="h", stages=STAGES, reproduction_rows=(0, 1), initial=INITIAL
    )
    assert "seed" in rows.mature_stages
    assert rows.generation_length == pytest.approx(4.9, abs=0.05)


def test_mask_errors() -> None:
    A = mean_hudsonia()
    with pytest.raises(TypeError, match="not both"):
        Species.from_matrix(
            A, name="h", stages=STAGES, reproduction_rows=(0,), reproduction=np.eye(6, dtype=bool),
            initial=INITIAL,
        )  # fmt: skip
    with pytest.raises(ValueError, match=r"boolean mask of shape \(6, 6\)"):
        Species.from_matrix(
            A, name="h", stages=STAGES, reproduction=np.ones((5, 5), bool), initial=INITIAL
        )
    with pytest.raises(ValueError, match="boolean mask"):
        Species.from_matrix(
            A, name="h", stages=STAGES, reproduction=np.full((6, 6), 0.5), initial=INITIAL
        )
