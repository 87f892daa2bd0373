"""``pva analyse`` shows full stage names, the stable stage distribution, reproductive values,
sensitivities and elasticities, in the table and in ``--json`` (issue 15, item 7).

Reference values: popbio 2.8's ``eigen.analysis`` of Caswell's killer whale matrix (popbio's
``whale``), computed with R 4.2.2 on this project's machine:

    library(popbio); data(whale); e <- eigen.analysis(whale)
    e$stable.stage; e$repro.value; e$sensitivities; e$elasticities
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pva import cli

STABLE = [0.03697186829, 0.31607121119, 0.32290967680, 0.32404724372]
REPRODUCTIVE = [1.0, 1.049044834, 1.571320338, 0.0]
SENSITIVITY = [
    [0.04220825465, 0.3608368954, 0.3686439042, 0.3699425865],
    [0.04427835151, 0.3785340812, 0.3867239833, 0.3880863594],
    [0.06632268898, 0.5669903526, 0.5792576642, 0.5812983102],
    [0.0, 0.0, 0.0, 0.0],
]
ELASTICITY = [
    [0.0, 0.001513103297, 0.04069515136, 0.0],
    [0.04220825465, 0.336325826526, 0.0, 0.0],
    [0.0, 0.040695151357, 0.5385625128, 0.0],
    [0.0, 0.0, 0.0, 0.0],
]


def test_json_has_every_vector_and_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["analyse", "whale", "--fecundity-rows", "0", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["stages"] == ["yearling", "juvenile", "mature", "postreprod"]
    np.testing.assert_allclose(doc["stable_stage"], STABLE, atol=1e-9)
    np.testing.assert_allclose(doc["reproductive_value"], REPRODUCTIVE, atol=1e-9)
    np.testing.assert_allclose(doc["sensitivity"], SENSITIVITY, atol=1e-9)
    np.testing.assert_allclose(doc["elasticity"], ELASTICITY, atol=1e-9)


def test_table_has_every_vector_and_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["analyse", "whale", "--fecundity-rows", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("stage ")))
    assert lines[start].split() == ["stage", "stable", "stage", "reproductive", "value"]
    assert lines[start + 3].split() == ["mature", f"{STABLE[2]:.4f}", f"{REPRODUCTIVE[2]:.4f}"]
    s = lines.index("sensitivity (rows = stage at t+1, columns = stage at t)")
    assert lines[s + 1].split() == ["yearling", "juvenile", "mature", "postreprod"]
    assert lines[s + 3].split() == ["juvenile", *(f"{v:.4f}" for v in SENSITIVITY[1])]
    e = lines.index("elasticity (rows = stage at t+1, columns = stage at t)")
    assert lines[e + 4].split() == ["mature", *(f"{v:.4f}" for v in ELASTICITY[2])]


def test_long_stage_names_are_not_cut(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    names = ["seedling in the litter layer", "small vegetative rosette", "flowering adult"]
    matrix = tmp_path / "long.csv"
    matrix.write_text(
        ","
        + ",".join(names)
        + "\n"
        + "\n".join(
            f"{name},{row}"
            for name, row in zip(names, ["0.1,0,5.0", "0.3,0.5,0", "0,0.3,0.8"], strict=True)
        )
        + "\n",
        encoding="utf-8",
    )
    assert cli.main(["analyse", str(matrix), "--fecundity-rows", "0"]) == 0
    out = capsys.readouterr().out
    for name in names:
        assert name in out
    # columns of the matrices are numbered; the rows carry the full names
    assert "sensitivity (rows = stage at t+1, columns = stage at t, by number)" in out
    assert "1 seedling in the litter layer" in out
    assert "~" not in out
