"""Study files: schema, error messages naming key/value/reference, and the real species files."""

from __future__ import annotations

import csv
import json
import re
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest

from pva import countpva, datasets, io
from pva.errors import StudyFileError
from pva.model import Species
from pva.scenario import ConflictMitigation, Harvest, Scenario
from pva.study import Study, StudySpecies

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
DATA = datasets.data_dir()  # the published data sets shipped with pva

SPECIES = """
[[species]]
name = "toy"
taxon = "Toyus minimus"
stages = ["juvenile", "adult"]
U = [[0.2, 0.0], [0.3, 0.9]]
F = [[0.0, 0.5], [0.0, 0.0]]
initial = [10, 50]
carrying_capacity = 100.0

[species.density_dependence]
kind = "ceiling"
"""

STUDY = (
    """
[study]
name = "toy study"
years = 20
replicates = 10
seed = 3
"""
    + SPECIES
    + """
[[threats]]
type = "Harvest"
name = "poaching"
stages = ["adult"]
proportion = 0.1

[[interventions]]
type = "ConflictMitigation"
name = "patrols"
threat = "poaching"
fraction = 0.5
annual_cost = 100.0

[[scenarios]]
name = "no action"

[[scenarios]]
name = "patrols"
actions = ["patrols"]

[outputs]
horizons = [10, 20]
currency = "EUR"
"""
)


def write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_study_file_becomes_a_study(tmp_path: Path) -> None:
    study = io.read_study(write(tmp_path, STUDY))
    assert study.name == "toy study"
    assert (study.years, study.replicates, study.seed) == (20, 10, 3)
    assert study.species_names == ("toy",)
    assert study.species[0].taxon == "Toyus minimus"
    assert study.scenario_names == ("no action", "patrols")
    poaching = Harvest(name="poaching", stages=("adult",), proportion=0.1)
    assert study.scenarios[0] == Scenario("no action", (poaching,))
    assert study.scenarios[1].actions[1] == ConflictMitigation(
        name="patrols", threat="poaching", fraction=0.5, annual_cost=100.0
    )
    assert study.outputs.horizons == (10, 20)
    assert study.baseline == "no action"


def test_to_dict_from_dict_round_trip(tmp_path: Path) -> None:
    study = io.read_study(write(tmp_path, STUDY))
    again = Study.from_dict(json.loads(json.dumps(study.to_dict())))
    assert again == study
    assert again.digest() == study.digest()


def test_digest_changes_with_the_study(tmp_path: Path) -> None:
    study = io.read_study(write(tmp_path, STUDY))
    assert study.with_(replicates=11).digest() != study.digest()
    assert study.with_(seed=4).digest() != study.digest()


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("seed = 3", "seed = 3\nsed = 4", r"\[study\]: unknown key 'sed'.* \(line 7\)|line 7"),
        (
            "carrying_capacity = 100.0",
            "carying_capacity = 100.0",
            "species\\[0\\]: unknown key 'carying_capacity'",
        ),
        (
            'kind = "ceiling"',
            'kind = "ceiling"\nstrenght = 2.0',
            "species\\[0\\].density_dependence: unknown key 'strenght'",
        ),
        (
            "proportion = 0.1",
            "proportion = 0.1\nrate = 0.1",
            "threats\\[0\\]: unknown key 'rate' for type 'Harvest'",
        ),
        (
            'name = "patrols"\nactions',
            'name = "patrols"\naction',
            "scenarios\\[1\\]: unknown key 'action'",
        ),
        (
            'currency = "EUR"',
            'currency = "EUR"\nformat = "csv"',
            "\\[outputs\\]: unknown key 'format'",
        ),
    ],
)
def test_unknown_keys_are_errors_naming_key_table_and_line(
    tmp_path: Path, old: str, new: str, match: str
) -> None:
    text = STUDY.replace(old, new, 1)
    assert text != STUDY
    path = write(tmp_path, text)
    with pytest.raises(StudyFileError, match=match) as info:
        io.read_study(path)
    message = str(info.value)
    assert str(path) in message
    bad_key = new.split("\n")[-1].split(" ")[0]
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith(bad_key + " "))
    assert f"(line {line})" in message


@pytest.mark.parametrize(
    ("old", "new", "error", "match"),
    [
        ("years = 20", "years = 0", ValueError, "years must be an integer >= 1; got 0"),
        (
            "replicates = 10",
            'replicates = "ten"',
            TypeError,
            "replicates must be an integer; got 'ten'",
        ),
        ("proportion = 0.1", "proportion = 1.5", ValueError, r"proportion must be .*got 1.5"),
        ("fraction = 0.5", "fraction = -0.5", ValueError, r"fraction must be .*got -0.5"),
        ("initial = [10, 50]", "initial = [10]", ValueError, "initial must have 2 entries"),
        ('type = "Harvest"', 'type = "Hunting"', ValueError, "unknown type 'Hunting'"),
        (
            "horizons = [10, 20]",
            "horizons = [10, 30]",
            ValueError,
            "horizons must lie within years=20",
        ),
    ],
)
def test_bad_values_are_named(tmp_path: Path, old: str, new: str, error: type, match: str) -> None:
    text = STUDY.replace(old, new, 1)
    assert text != STUDY
    with pytest.raises(error, match=match):
        io.read_study(write(tmp_path, text))


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            'threat = "poaching"',
            'threat = "poachers"',
            "names threat 'poachers', which is not in the scenario",
        ),
        (
            'actions = ["patrols"]',
            'actions = ["patrol"]',
            "actions names 'patrol', which is not an intervention",
        ),
        (
            'stages = ["adult"]',
            'stages = ["adults"]',
            "names stage 'adults', which species 'toy' does not have",
        ),
        (
            '[[scenarios]]\nname = "no action"',
            '[[scenarios]]\nname = "no action"\nthreats = ["fire"]',
            "threats names 'fire'",
        ),
    ],
)
def test_bad_references_are_named(tmp_path: Path, old: str, new: str, match: str) -> None:
    text = STUDY.replace(old, new, 1)
    assert text != STUDY
    with pytest.raises(ValueError, match=match):
        io.read_study(write(tmp_path, text))


def test_toml_syntax_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, STUDY.replace("years = 20", "years = = 20"))
    with pytest.raises(StudyFileError, match=r"study.toml: not valid TOML: .*line 4"):
        io.read_study(path)


def test_declared_but_unused_interventions_are_errors(tmp_path: Path) -> None:
    text = STUDY.replace('actions = ["patrols"]', "actions = []")
    with pytest.raises(StudyFileError, match=r"actions \['patrols'\] are declared but no scenario"):
        io.read_study(write(tmp_path, text))


def test_species_file_reference_is_relative_and_the_table_overrides(tmp_path: Path) -> None:
    (tmp_path / "species").mkdir()
    body = SPECIES.replace("[[species]]\n", "").replace(
        "[species.density_dependence]", "[density_dependence]"
    )
    write(tmp_path / "species", body, "toy.toml")
    text = STUDY.replace(SPECIES, '\n[[species]]\nfile = "species/toy.toml"\ninitial = [1, 2]\n')
    study = io.read_study(write(tmp_path, text))
    assert study.species[0].species.initial == (1, 2)
    assert study.species[0].species.U == ((0.2, 0.0), (0.3, 0.9))


def test_unknown_key_in_a_species_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "species").mkdir()
    body = SPECIES.replace("[[species]]\n", "").replace(
        "[species.density_dependence]", "[density_dependence]"
    )
    write(tmp_path / "species", body.replace("initial =", "initail ="), "toy.toml")
    text = STUDY.replace(SPECIES, '\n[[species]]\nfile = "species/toy.toml"\n')
    with pytest.raises(
        StudyFileError, match=r"toy.toml \(line 7\): species\[0\]: unknown key 'initail'"
    ):
        io.read_study(write(tmp_path, text))


def test_missing_species_file_is_an_os_error(tmp_path: Path) -> None:
    text = STUDY.replace(SPECIES, '\n[[species]]\nfile = "species/none.toml"\n')
    with pytest.raises(OSError, match=r"none\.toml"):
        io.read_study(write(tmp_path, text))
    # the message names the study file, the table and where it looked, not just "[Errno 2]"
    with pytest.raises(
        FileNotFoundError, match=r"species\[0\]\.file 'species/none\.toml' not found"
    ):
        io.read_study(write(tmp_path, text))


def test_compadre_reference_fills_the_matrices(tmp_path: Path) -> None:
    table = """
[[species]]
compadre = "compadre_Nov_22_2017_row6382"
initial_total = 100
"""
    study = io.read_study(
        write(tmp_path, STUDY.replace(SPECIES, table).replace('stages = ["adult"]\n', ""))
    )
    entry = study.species[0]
    record = io.load_compadre("compadre_Nov_22_2017_row6382")
    assert entry.name == "Mammillaria crucigera" == entry.taxon
    assert entry.country == "MEX"
    np.testing.assert_array_equal(entry.species.U_array, record.U)
    np.testing.assert_array_equal(entry.species.F_array, record.F)
    assert "10.1006/jare.2001.0926" in entry.source


def test_actions_can_be_limited_to_some_species() -> None:
    a = Species(name="a", stages=("adult",), U=((0.5,),), F=((0.6,),), initial=(10,))
    b = Species(
        name="b", stages=("x", "y"), U=((0.1, 0), (0.2, 0.8)), F=((0, 1.0), (0, 0)), initial=(1, 2)
    )
    harvest = Harvest(name="h", stages=("adult",), number=1)
    study = Study(
        name="two",
        species=(a, b),
        scenarios=(Scenario("no action", (harvest,)),),
        years=5,
        applies_to={"h": ("a",)},
    )
    assert study.scenario_for("a", 0).actions == (harvest,)
    assert study.scenario_for("b", 0).actions == ()
    with pytest.raises(ValueError, match="names stage 'adult', which species 'b' does not have"):
        Study(name="two", species=(a, b), scenarios=(Scenario("no action", (harvest,)),), years=5)
    with pytest.raises(ValueError, match="applies to species 'c', which is not in the study"):
        study.with_(applies_to={"h": ("c",)})


def test_study_validation_messages() -> None:
    sp = Species(name="a", stages=("adult",), U=((0.5,),), F=((0.6,),), initial=(10,))
    with pytest.raises(ValueError, match="species names must be unique"):
        Study(name="s", species=(sp, sp))
    with pytest.raises(ValueError, match="scenarios names must be unique"):
        Study(name="s", species=(sp,), scenarios=(Scenario("x"), Scenario("x")))
    with pytest.raises(ValueError, match="two different actions are named 'h'"):
        Study(
            name="s",
            species=(sp,),
            scenarios=(
                Scenario("x", (Harvest(name="h", number=1),)),
                Scenario("y", (Harvest(name="h", number=2),)),
            ),
        )
    with pytest.raises(ValueError, match="seed must be an integer >= 0; got -1"):
        Study(name="s", species=(sp,), seed=-1)
    with pytest.raises(TypeError, match="Species or StudySpecies"):
        Study(name="s", species=("a",))
    assert Study(name="s", species=(sp,)).scenario_names == ("no action",)


# --- the study files shipped in scenarios/ ---------------------------------------------------------

STUDY_FILES = sorted(SCENARIOS.glob("*.toml"))


@pytest.mark.parametrize("path", STUDY_FILES, ids=lambda p: p.name)
def test_every_shipped_study_file_validates(path: Path) -> None:
    study = io.read_study(path)
    # a sweep's study varies numbers, not actions: its base compares two scenarios
    assert len(study.scenarios) >= 3 or path.name in ("demo.toml", "hudsonia_sweep.toml")
    assert study.baseline == "no action"
    for entry in study.species:
        assert entry.source, f"{path.name}: species {entry.name!r} has no source"


def test_the_documented_example_is_a_valid_study(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "study-file.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```toml\n(.*?)```", doc, flags=re.S)
    study = io.read_study(write(tmp_path, example))
    assert study.scenario_names == ("no action", "reroute trails", "all actions")
    assert Study.from_dict(study.to_dict()) == study


def test_at_least_five_species_are_shipped() -> None:
    names = {
        tomllib.loads(p.read_text(encoding="utf-8")).get("name")
        for p in (SCENARIOS / "species").glob("*.toml")
    }
    assert len(names) >= 5


def _species_file(name: str) -> StudySpecies:
    path = SCENARIOS / f"{name}.toml"
    return io.read_study(path).species[0]


def test_hudsonia_file_holds_the_popbio_matrices() -> None:
    doc = json.loads((DATA / "popbio" / "hudsonia.json").read_text(encoding="utf-8"))
    env = _species_file("demo").species.environment
    for k, name in enumerate(doc["names"]):
        A = np.asarray(env.U[k]) + np.asarray(env.F[k])
        np.testing.assert_array_equal(A, doc["matrices"][name])
    assert _species_file("demo").species.initial == (4264, 3, 30, 16, 25, 5)


@pytest.mark.parametrize(
    ("study", "dataset", "key"),
    [("desert_tortoise", "tortoise", "med.high"), ("killer_whale", "whale", None)],
)
def test_matrix_species_files_hold_the_popbio_matrices(
    study: str, dataset: str, key: str | None
) -> None:
    doc = json.loads((DATA / "popbio" / f"{dataset}.json").read_text(encoding="utf-8"))
    expected = doc["matrix"] if key is None else doc["matrices"][key]
    np.testing.assert_allclose(_species_file(study).species.A, expected, rtol=0, atol=1e-12)


def test_grizzly_file_reproduces_the_count_based_fit() -> None:
    """mu and sigma2 of the grizzly counts (Dennis et al. 1991; Morris & Doak 2002 ch. 3) are the
    log-mean and log-variance of the file's lognormal growth rate."""
    with (DATA / "popbio" / "grizzly.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    fit = countpva.fit([float(r["N"]) for r in rows], [int(r["year"]) for r in rows])
    (rate,) = _species_file("grizzly").species.vital_rates.rates
    mu, sigma = rate.lognormal_parameters()
    assert mu == pytest.approx(fit.mu, rel=1e-9)
    assert sigma**2 == pytest.approx(fit.sigma2, rel=1e-9)
    assert fit.mu == pytest.approx(0.0213, abs=5e-5)  # Morris & Doak 2002, ch. 3
