"""`pva assess`: a census file in, the Red List category, the criteria met and the plausible range
out, as a table and as JSON; bad input is one line on stderr and exit status 2 (issue 16, part 5).

The categories are the IUCN thresholds (IUCN 2012; Guidelines v16) on the series of
tests/unit/test_census.py: an 80% reduction over 10 years (3 generations of 2 years are shorter)
is CR under A2; 40 mature individuals are CR under D.
"""

from __future__ import annotations

import json

import pytest

from pva import cli


def _write(tmp_path, text, name="census.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


DECLINE = "year,mature\n" + "".join(f"{2000 + t},{1000 if t < 10 else 200}\n" for t in range(11))


def test_table_names_category_criteria_and_range(tmp_path, capsys):
    path = _write(tmp_path, DECLINE)
    assert cli.main(["assess", path, "-g", "2", "--criteria", "A", "--criterion-a", "A2"]) == 0
    out = capsys.readouterr().out
    assert "category: CR A2a" in out
    assert "plausible range: CR" in out
    assert "assessed at 2010" in out


def test_json_with_a_range_of_estimates(tmp_path, capsys):
    # best 240 (EN D), low 40 (CR D), high 260 (VU D1) in every year
    text = "year,low,best,high\n" + "".join(f"{y},40,240,260\n" for y in (2018, 2020, 2022))
    path = _write(tmp_path, text)
    assert cli.main(["assess", path, "-g", "3", "--criteria", "D", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["category"] == "EN"
    assert doc["criteria"] == "EN D"
    assert doc["range"] == {"lower": "VU", "upper": "CR"}
    assert doc["levels"]["D"] == "EN"
    assert doc["census"]["interpolated"] == [2019, 2021]


def test_range_options_and_b_attributes(tmp_path, capsys):
    # EOO 4,000 km2 (EN B1 threshold 5,000), 4 locations and a continuing decline: EN B1ab(v);
    # with EOO up to 6,000 km2 and up to 11 locations the lower end is NT (one of a-c only)
    text = "year,mature\n" + "".join(f"{2000 + t},{20000 * 0.99**t:.1f}\n" for t in range(15))
    path = _write(tmp_path, text)
    args = ["assess", path, "-g", "1", "--criteria", "B", "--eoo", "3000,4000,6000"]
    assert cli.main([*args, "--locations", "3,4,11", "--continuing-decline", "yes", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["criteria"] == "EN B1ab(v)"
    assert doc["range"] == {"lower": "NT", "upper": "EN"}


def test_text_and_json_write_the_subconditions(tmp_path, capsys):
    # 1,000, 600 and 200 mature in 2000, 2005 and 2010; G = 8; EOO 50 and AOO 8 km² (CR), one
    # location ((a)) and a continuing decline ((b)(v)): CR B1ab(v)+2ab(v); 200 < 250 with more
    # than 25% lost in one generation: CR C1 (IUCN 2012 B1, B2 and C1; notation as the Red List's
    # "CR A2ace;B1ab(iii)")
    path = _write(tmp_path, "year,mature\n2000,1000\n2005,600\n2010,200\n")
    args = ["assess", path, "-g", "8", "--eoo", "50", "--aoo", "8", "--locations", "1"]
    args += ["--continuing-decline", "yes"]
    assert cli.main(args) == 0
    assert "category: CR B1ab(v)+2ab(v); C1\n" in capsys.readouterr().out
    assert cli.main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["criteria"] == "CR B1ab(v)+2ab(v); C1"


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("year,mature\n2000,10\n2001,abc\n", [], "line 3, column 'mature' must be a number"),
        ("year,count\n2000,10\n", [], "the header must name the columns"),
        ("year,mature\n2001,10\n2000,10\n", [], "increasing"),
        ("year,mature\n2000,10\n", ["-g", "x"], "--generation-length must be a number"),
        ("year,mature\n2000,10\n", ["-g", "0"], "generation_length must be > 0"),
        ("year,mature\n2000,10\n", ["--locations", "2.5"], "--locations must be a whole number"),
        ("year,mature\n2000,10\n", ["--criteria", "Z"], "criteria must be a subset"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, text, args, message):
    path = _write(tmp_path, text)
    full = ["assess", path, *args] if "-g" in args else ["assess", path, "-g", "2", *args]
    assert cli.main(full) == 2
    err = capsys.readouterr().err
    assert err.startswith("pva assess: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert cli.main(["assess", str(tmp_path / "none.csv"), "-g", "2"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_shipped_series_by_its_count_column(capsys, package_data):
    # the Yellowstone grizzly's adult females (Morris & Doak 2002, Table 3.1) rose from 44 (1959) to
    # 99 (1997): no reduction over 3 generations of 12 years (36 years back: 1961, 44 -> 99)
    path = package_data / "popbio" / "grizzly.csv"
    args = ["assess", str(path), "--count-column", "N", "-g", "12", "--criteria", "A", "--json"]
    assert cli.main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["category"] == "LC"
    assert doc["levels"]["A2"] == "not met"
    assert doc["census"]["censuses"] == 39
