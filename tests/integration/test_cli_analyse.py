"""The `pva analyse` verb (called through pva.cli.main, as the console script does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pva import cli


def test_analyse_csv_prints_lambda_and_elasticities(package_data: Path, capsys):
    # Caswell 2001 Example 5.1: killer whale lambda = 1.0254.
    status = cli.main(
        ["analyse", str(package_data / "popbio" / "whale.csv"), "--fecundity-rows", "0"]
    )
    out, err = capsys.readouterr()
    assert status == 0
    assert "lambda (dominant eigenvalue)" in out
    assert "1.0254" in out
    assert "generation length" in out
    assert "elasticity" in out
    assert "reducible" in err  # the post-reproductive stage, reported as one warning line


def test_analyse_without_u_and_f_says_what_is_missing(package_data: Path, capsys):
    assert cli.main(["analyse", str(package_data / "popbio" / "teasel.csv")]) == 0
    out = capsys.readouterr().out
    assert "need U and F" in out


def test_analyse_compadre_json(package_data: Path, capsys):
    assert cli.main(["analyse", "compadre_Nov_22_2017_row4910", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["lambda"] == pytest.approx(1.0580286045, abs=1e-9)  # the record's qc lambda
    assert len(doc["elasticity"]) == 4
    assert doc["generation_length"] > 1


def test_analyse_shipped_data_set_by_name(package_data: Path, capsys):
    # the README's example: a popbio data set shipped with pva, named without a path
    assert cli.main(["analyse", "whale", "--fecundity-rows", "0", "--json"]) == 0
    by_name = json.loads(capsys.readouterr().out)
    path = str(package_data / "popbio" / "whale.csv")
    assert cli.main(["analyse", path, "--fecundity-rows", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == by_name
    assert cli.main(["analyse", "hudsonia:A85", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matrix"] == "hudsonia:A85"


def test_analyse_record_of_a_release_file(compadre_release_files, monkeypatch, capsys):
    # Row 114 of the COMPADRE sample object is compadre_Nov_22_2017_row6382 of the shipped sample:
    # Mammillaria crucigera, whose qc lambda is 0.895 (Contreras & Valverde 2002).
    release = str(compadre_release_files["compadre"])
    assert cli.main(["analyse", "compadre_Nov_22_2017_row6382", "--json"]) == 0
    sample = json.loads(capsys.readouterr().out)
    argv = ["analyse", "compadre_Nov_22_2017_row114", "--json"]
    assert cli.main([*argv, "--compadre", release]) == 0
    from_release = json.loads(capsys.readouterr().out)
    assert from_release["matrix"] == "compadre_Nov_22_2017_row114"
    assert from_release["lambda"] == sample["lambda"] == pytest.approx(0.895, abs=5e-4)
    assert from_release["elasticity"] == sample["elasticity"]
    monkeypatch.setenv("PVA_COMPADRE", release)
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out) == from_release
    monkeypatch.delenv("PVA_COMPADRE")
    # unknown row, and an id of a release that was not named: one line, exit 2
    assert cli.main(["analyse", "compadre_Nov_22_2017_row151", "--compadre", release]) == 2
    assert "has rows 1..150; no row 151" in capsys.readouterr().err
    assert cli.main(["analyse", "compadre_Nov_22_2017_row114"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no record 'compadre_Nov_22_2017_row114' in the shipped COMPADRE sample" in err
    assert cli.main(["analyse", "compadre_Nov_22_2017_row1", "--compadre", __file__]) == 2
    assert "not an R data file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "match"),
    [("1,2\n3\n", "line 2 has 1 fields"), ("0.5,-1\n0.2,0.3\n", "must be non-negative")],
)
def test_analyse_bad_file_one_line_exit_2(tmp_path: Path, capsys, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    assert cli.main(["analyse", str(p)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("pva analyse: error:")
    assert match in err


def test_analyse_missing_file(tmp_path: Path, capsys):
    assert cli.main(["analyse", str(tmp_path / "none.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "none.csv" in err
    # neither a file nor a database id: say what MATRIX may be, not just "no such file"
    assert cli.main(["analyse", "orca"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'orca' is neither a file, nor a COMPADRE/COMADRE id" in err


def test_analyse_bad_fecundity_rows(package_data: Path, capsys):
    path = str(package_data / "popbio" / "whale.csv")
    assert cli.main(["analyse", path, "--fecundity-rows", "x"]) == 2
    assert "--fecundity-rows" in capsys.readouterr().err
