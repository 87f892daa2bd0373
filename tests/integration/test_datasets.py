"""pva.datasets: the data sets shipped with pva and COMPADRE/COMADRE release files.

The release-format files are Rcompadre's COMPADRE and COMADRE sample objects (tests/data/compadre,
S4 ``CompadreDB`` in RData, the class of the official releases); the shipped JSON Lines samples were
extracted from the same objects with R (pva/data/README.md), so the two readers must agree.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from pva import analysis, datasets, io

# pva/data/README.md lists these 14 popbio data sets (all of popbio 2.8's data/ folder)
POPBIO = {
    "aq.census", "aq.trans", "calathea", "grizzly", "hudcorrs", "hudsonia", "hudvrs",
    "monkeyflower", "nematode", "teasel", "test.census", "tortoise", "whale", "woodpecker",
}  # fmt: skip


def _sample(database: str) -> list[dict]:
    path = datasets.data_dir() / "compadre" / f"{database}_sample.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- popbio ---------------------------------------------------------------------------------------


def test_every_popbio_data_set_ships_and_reads():
    assert set(datasets.popbio_names()) == POPBIO
    for name in POPBIO:
        path = datasets.data_dir() / "popbio"
        if (path / f"{name}.json").is_file():
            assert datasets.popbio_document(name)
        if (path / f"{name}.csv").is_file():
            assert datasets.popbio_table(name)
    matrices = {k: datasets.load_popbio(k) for k in ("calathea", "hudsonia", "teasel", "tortoise")}
    # the counts the README states: 17 Calathea matrices (16 plot-years and the pooled one, last),
    # Hudsonia A85..A88, one teasel matrix, 4 tortoise fertility variants of 8 stages
    assert len(matrices["calathea"]) == 17
    assert list(matrices["calathea"])[-1] == "pooled"
    assert list(matrices["hudsonia"]) == ["A85", "A86", "A87", "A88"]
    assert [m.A.shape for m in matrices["teasel"].values()] == [(6, 6)]
    assert [m.A.shape for m in matrices["tortoise"].values()] == [(8, 8)] * 4


def test_popbio_whale_json_equals_csv_and_caswell_lambda():
    (whale,) = datasets.load_popbio("whale").values()
    csv_export = io.read_matrix_csv(datasets.data_dir() / "popbio" / "whale.csv")
    np.testing.assert_array_equal(whale.A, csv_export.A)
    assert whale.stages == csv_export.stages == ("yearling", "juvenile", "mature", "postreprod")
    assert analysis.growth_rate(whale.A) == pytest.approx(1.0254, abs=5e-5)  # Caswell 2001, Ex. 5.1


def test_popbio_tables_as_documented():
    # grizzly: 39 annual counts 1959-1997 (Morris & Doak 2002, Table 3.1)
    grizzly = datasets.popbio_table("grizzly")
    assert [int(r["year"]) for r in grizzly] == list(range(1959, 1998))
    # hudvrs: 24 vital rates; hudcorrs: correlations of the first 13 of them, in the same order
    rates = [r["rate"] for r in datasets.popbio_table("hudvrs")]
    corrs = datasets.popbio_document("hudcorrs")
    assert len(rates) == 24
    assert corrs["rates"] == rates[:13]
    assert np.asarray(corrs["corrin"]).shape == (13, 13)


def test_popbio_errors_name_the_choices():
    with pytest.raises(ValueError, match=r"no popbio data set 'orca'.*whale"):
        datasets.load_popbio("orca")
    with pytest.raises(ValueError, match="must be a popbio data set name"):
        datasets.popbio_table("../x")
    with pytest.raises(ValueError, match="holds no projection matrices"):
        datasets.load_popbio("hudcorrs")


def test_load_matrix_by_data_set_name():
    assert datasets.load_matrix("whale").name == "whale"
    assert datasets.load_matrix("hudsonia:A86").name == "hudsonia:A86"
    with pytest.raises(ValueError, match=r"has the matrices A85, A86, A87, A88.*'hudsonia:A85'"):
        datasets.load_matrix("hudsonia")
    with pytest.raises(ValueError, match="neither a file, nor a COMPADRE/COMADRE id"):
        datasets.load_matrix("orca")
    assert datasets.load_matrix("compadre_Nov_22_2017_row6382").metadata["SpeciesAccepted"] == (
        "Mammillaria crucigera"
    )


# --- the shipped COMPADRE/COMADRE sample ----------------------------------------------------------


def test_sample_ids():
    plants, animals = datasets.compadre_ids("compadre"), datasets.compadre_ids("comadre")
    assert len(plants) == len(set(plants)) == 150
    assert len(animals) == len(set(animals)) == 150
    assert all(i.startswith("compadre_Nov_22_2017_row") for i in plants)
    assert all(i.startswith("comadre_Nov_28_2017_row") for i in animals)
    assert datasets.compadre_ids() == plants + animals
    with pytest.raises(ValueError, match="database must be"):
        datasets.compadre_ids("plants")


# --- release files --------------------------------------------------------------------------------


@pytest.mark.parametrize("database", ["compadre", "comadre"])
def test_release_file_equals_shipped_sample(compadre_release_files, database):
    # Row k of Rcompadre's sample object is the sample record with sample_index k.
    release = datasets.read_compadre_release(compadre_release_files[database])
    records = _sample(database)
    assert release.database == database
    assert release.date_created == records[0]["db_date"]
    assert release.version == records[0]["db_version"] == "X.X.X"
    assert len(release) == len(records) == 150
    for record in records:
        from_rda = release.record(record["sample_index"])
        from_jsonl = datasets.load_compadre(record["id"])
        for part in "AUFC":
            # exact: the JSON Lines hold R's values written with 17 significant digits
            np.testing.assert_array_equal(getattr(from_rda, part), getattr(from_jsonl, part))
        assert from_rda.stages == from_jsonl.stages
        for key in ("SpeciesAccepted", "Authors", "DOI_ISBN", "MatrixComposite", "Lat", "Lon"):
            a, b = from_rda.metadata[key], from_jsonl.metadata[key]
            if isinstance(a, float) and isinstance(b, float):
                assert math.isclose(a, b, rel_tol=1e-14), (key, a, b)  # Lat/Lon: 15 digits there
            else:
                assert a == b, (record["id"], key, a, b)
        lam = record["qc"]["lambda"]
        if lam is not None and lam > 0:
            assert analysis.growth_rate(from_rda.A) == pytest.approx(lam, rel=1e-9)


def test_release_ids_resolve_by_row(compadre_release_files, monkeypatch):
    path = compadre_release_files["comadre"]
    release = datasets.read_compadre_release(path)
    assert release.ids()[0] == "comadre_Nov_28_2017_row1"
    assert len(release.ids()) == 150
    by_id = datasets.load_compadre("comadre_Nov_28_2017_row7", release=path)
    np.testing.assert_array_equal(by_id.A, release.record(7).A)
    assert by_id.name == "comadre_Nov_28_2017_row7"
    assert by_id.source == str(path.resolve())
    assert by_id.metadata["db_date"] == "Nov_28_2017"
    # the same through $PVA_COMPADRE (several files, os.pathsep-separated)
    both = f"{compadre_release_files['compadre']}{datasets.os.pathsep}{path}"
    monkeypatch.setenv(datasets.COMPADRE_ENV, both)
    np.testing.assert_array_equal(datasets.load_compadre("comadre_Nov_28_2017_row7").A, by_id.A)
    # an id of another release (the shipped sample's COMPADRE of Nov_22_2017 is in the first file
    # named, whose rows are 1..150) is looked up there, and the error says so
    with pytest.raises(ValueError, match=r"has rows 1\.\.150; no row 6382"):
        datasets.load_compadre("compadre_Nov_22_2017_row6382")


def test_sample_ids_still_resolve_beside_a_release_of_another_date(compadre_release_files):
    data = datasets.load_compadre(
        "compadre_Nov_22_2017_row6382", release=compadre_release_files["comadre"]
    )
    assert data.source.endswith("compadre_sample.jsonl")
    assert data.metadata["SpeciesAccepted"] == "Mammillaria crucigera"


def test_release_matrix_id(compadre_release_files):
    # Current releases have a MatrixID column; the 2017 objects do not, so one is added here to
    # the real table (numbers in the style of COMPADRE 6's ids).
    release = datasets.read_compadre_release(compadre_release_files["compadre"])
    with pytest.raises(ValueError, match=r"names no record of .*its ids are compadre_Nov_22_2017"):
        release.load("249843")
    with_ids = dataclasses.replace(
        release, table=release.table.assign(MatrixID=np.arange(249800, 249950))
    )
    data = with_ids.load("249843")
    np.testing.assert_array_equal(data.A, release.record(44).A)
    assert data.metadata["MatrixID"] == 249843
    assert with_ids.load(249843).name == "compadre_Nov_22_2017_row44"
    with pytest.raises(ValueError, match="has no record with MatrixID 1"):
        with_ids.load("1")
    with pytest.raises(ValueError, match="MatrixID 249843, which no named release file holds"):
        datasets.load_compadre("249843")


def test_release_errors(compadre_release_files, tmp_path: Path, monkeypatch):
    import pandas as pd
    import rdata  # pva reads releases with it; here it writes an R data file of another kind

    with pytest.raises(FileNotFoundError, match="no COMPADRE/COMADRE release file"):
        datasets.read_compadre_release(tmp_path / "missing.RData")
    text = tmp_path / "notes.RData"
    text.write_text("not R data\n")
    with pytest.raises(ValueError, match=r"notes\.RData: not an R data file"):
        datasets.read_compadre_release(text)
    other = tmp_path / "teasel.rda"
    rdata.write_rda(other, {"teasel": pd.DataFrame({"seed1": [0.0, 0.966]})})
    with pytest.raises(ValueError, match=r"holds no CompadreDB object .* found 'teasel'"):
        datasets.read_compadre_release(other)
    with pytest.raises(ValueError, match="holds no CompadreDB object"):
        datasets.load_compadre("compadre_Nov_22_2017_row1", release=other)
    path = compadre_release_files["compadre"]
    with pytest.raises(
        ValueError, match="names the COMPADRE release of Jan_1_2024, which no named release"
    ):
        datasets.load_compadre("compadre_Jan_1_2024_row5", release=path)
    with pytest.raises(ValueError, match="must look like"):
        datasets.load_compadre("compadre_row5", release=path)
    with pytest.raises(ValueError, match="must look like"):
        datasets.load_compadre(True)  # type: ignore[arg-type]
    monkeypatch.setenv(datasets.COMPADRE_ENV, str(tmp_path / "gone.RData"))
    with pytest.raises(FileNotFoundError, match=r"gone\.RData' \(\$PVA_COMPADRE is"):
        datasets.load_compadre("compadre_Nov_22_2017_row6382")


def test_study_species_from_a_release_file(compadre_release_files, tmp_path: Path):
    # compadre_file is relative to the study file; row 114 of the sample object is the record
    # compadre_Nov_22_2017_row6382 of the shipped sample (Mammillaria crucigera).
    (tmp_path / "releases").mkdir()
    shutil.copy(compadre_release_files["compadre"], tmp_path / "releases" / "Compadre.rda")
    study = tmp_path / "study.toml"
    study.write_text(
        '[study]\nname = "from a release"\nyears = 5\nreplicates = 10\nseed = 1\n\n'
        '[[species]]\ncompadre = "compadre_Nov_22_2017_row114"\n'
        'compadre_file = "releases/Compadre.rda"\ninitial_total = 100\n\n'
        '[[scenarios]]\nname = "no action"\n',
        encoding="utf-8",
    )
    (entry,) = io.read_study(study).species
    record = datasets.load_compadre("compadre_Nov_22_2017_row6382")
    assert entry.name == "Mammillaria crucigera"
    np.testing.assert_array_equal(entry.species.U_array, record.U)
    np.testing.assert_array_equal(entry.species.F_array, record.F)
    assert "compadre_Nov_22_2017_row114" in entry.source
    study.write_text(study.read_text().replace("releases/", "elsewhere/"), encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"study.toml: no COMPADRE/COMADRE release file .*elsewhere"
    ):
        io.read_study(study)
