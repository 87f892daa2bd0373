"""Matrix readers of pva.io (a user's CSV file; the names that delegate to pva.datasets) against the
shipped data files and their documented contents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pva import analysis, io
from pva.errors import StudyFileError

RECORD = "compadre_Nov_22_2017_row4910"


def test_read_matrix_csv_popbio_layout_equals_json(package_data: Path):
    # teasel.csv and teasel.json are two exports of the same popbio data set (pva/data/README.md).
    data = io.read_matrix_csv(package_data / "popbio" / "teasel.csv")
    doc = json.loads((package_data / "popbio" / "teasel.json").read_text())
    assert data.stages == tuple(doc["stages"])
    np.testing.assert_array_equal(data.A, np.array(doc["matrix"]))
    assert data.U is None
    assert data.name == "teasel"
    with pytest.raises(ValueError, match="read-only"):
        data.A[0, 0] = 1.0


def test_read_matrix_csv_plain_numbers(tmp_path: Path):
    p = tmp_path / "plain.csv"
    p.write_text("0,1.5\n0.5,0.8\n")
    data = io.read_matrix_csv(p)
    assert data.stages == ("1", "2")
    np.testing.assert_array_equal(data.A, [[0, 1.5], [0.5, 0.8]])
    p.write_text("juv,adult\n0,1.5\n0.5,0.8\n")  # names over the columns only
    data = io.read_matrix_csv(p)
    assert data.stages == ("juv", "adult")
    np.testing.assert_array_equal(data.A, [[0, 1.5], [0.5, 0.8]])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("1,2\n3\n", "line 2 has 1 fields"),
        ("1,2,3\n4,5,6\n", "square"),
        ('"stage","a","b"\n"a",1,x\n"b",1,2\n', "'x' is not a number"),
        ('"stage","a","b"\n"b",1,2\n"a",1,2\n', "labelled 'b'"),
        ('"stage","a","b"\n"a",1,2\n', "2 stages but there are 1 data rows"),
    ],
)
def test_read_matrix_csv_errors_name_file_and_problem(tmp_path: Path, text, match):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(StudyFileError, match=match) as info:
        io.read_matrix_csv(p)
    assert str(p) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_load_compadre_record():
    # The record's qc block (computed by the data curators; pva/data/README.md) gives
    # lambda = 1.0580286045 and A == U + F + C.
    data = io.load_compadre(RECORD)
    assert data.metadata["SpeciesAccepted"] == "Setaria incrassata"
    assert data.A.shape == (4, 4)
    assert len(data.stages) == 4
    np.testing.assert_allclose(data.U + data.F + data.C, data.A, atol=1e-12)
    assert analysis.growth_rate(data.A) == pytest.approx(data.metadata["qc"]["lambda"], abs=1e-9)


def test_load_compadre_nulls_become_nan(package_data: Path):
    # README: matA contains NA in 2 plant matrices; find one and check NaN survives reading.
    with (package_data / "compadre" / "compadre_sample.jsonl").open() as fh:
        rid = next(r["id"] for r in map(json.loads, fh) if r["qc"]["na_A"])
    data = io.load_compadre(rid)
    assert np.isnan(data.A).any()
    with pytest.raises(ValueError, match="finite"):
        analysis.validate_matrix(data.A)


def test_load_compadre_errors():
    with pytest.raises(ValueError, match="must look like"):
        io.load_compadre("teasel")
    with pytest.raises(ValueError, match="no record 'comadre_Nov_28_2017_row1' in the shipped"):
        io.load_compadre("comadre_Nov_28_2017_row1")


def test_load_popbio_matrices():
    hud = io.load_popbio_matrices("hudsonia")
    assert list(hud) == ["A85", "A86", "A87", "A88"]
    assert hud["A85"].stages[0] == "seed"
    (teasel,) = io.load_popbio_matrices("teasel").values()
    assert teasel.A.shape == (6, 6)
    with pytest.raises(ValueError, match="no popbio data set 'no_such_set'"):
        io.load_popbio_matrices("no_such_set")
