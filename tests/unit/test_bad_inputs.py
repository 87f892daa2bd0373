"""Every bad input the issue found (issue 14), as a regression test: one line on stderr naming the
file, the table or key, the value and the rule, exit status 2, no traceback; or, where the input is
legal but never acts, a one-line warning.

Each case is run through the command (``pva.cli.main``) in-process, as the fuzz suite does.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from pva import io, runner
from pva.cli import main
from pva.errors import CountCapWarning
from pva.model import (
    MAX_COUNT,
    VitalRate,
    VitalRates,
    compile_expression,
    count_limit,
)

HEAD = """
[study]
name = "bad inputs"
years = {years}
replicates = {replicates}
seed = 3
"""

SPECIES = """
[[species]]
name = {name}
stages = ["juvenile", "adult"]
U = [[0.0, 0.0], [0.5, 0.9]]
F = [[0.0, {fecundity}], [0.0, 0.0]]
initial = {initial}
carrying_capacity = 500.0
{extra}
"""

VITAL_RATES = """
[[species]]
name = "rates"
stages = ["juvenile", "adult"]
initial = [20, 60]
carrying_capacity = 500.0

[species.vital_rates]
U = [[0.0, 0.0], [{expression}, 0.9]]
F = [[0.0, 0.6], [0.0, 0.0]]

[[species.vital_rates.rates]]
name = "s"
mean = 0.5
sd = 0.1
{more_rates}
"""


def study(
    *,
    years: object = 10,
    replicates: object = 20,
    name: str = '"herb"',
    initial: str = "[20, 60]",
    fecundity: str = "0.6",
    extra: str = "",
    tail: str = "",
) -> str:
    head = HEAD.format(years=years, replicates=replicates)
    species = SPECIES.format(
        name=name, initial=initial, fecundity=fecundity, extra=textwrap.dedent(extra)
    )
    return head + species + textwrap.dedent(tail)


def rates_study(expression: str, more_rates: str = "") -> str:
    return HEAD.format(years=10, replicates=20) + VITAL_RATES.format(
        expression=expression, more_rates=more_rates
    )


def validate(
    tmp_path: Path, text: str | bytes, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    path = tmp_path / "study.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    status = main(["validate", str(path)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_error(err: str, path: Path, verb: str = "validate") -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith(f"pva {verb}: error: {path}"), err
    return lines[0]


# (id, file text, fragments the one error line must hold: the key or table, the value, the rule)
REFUSED = [
    # silently wrong before
    (
        "initial beyond the engine's integer range",
        study(initial="[4000000000000000000, 60]"),
        ["species[0]", "initial", "4000000000000000000", f"at most {count_limit(2, 1)}"],
    ),
    (
        "NUL in a species name",
        study(name='"a\\u0000b"'),
        ["species[0]", "name", "'a\\x00b'", "printable text without control characters"],
    ),
    (
        "catastrophe pushing survival above 1",
        study(
            extra="""
            [[species.catastrophes]]
            name = "boom"
            probability = 0.1
            survival_multiplier = 3.0
            """
        ),
        ["species[0]", "catastrophe 'boom'", "survival_multiplier=3.0", "above 1", "at most 2"],
    ),
    # tracebacks before
    (
        "division by a variable's zero",
        rates_study('"s/0"'),
        ["vital_rates", "U[1][0]", "'s/0'", "finite"],
    ),
    (
        "division of constants by zero",
        rates_study('"1/0"'),
        ["vital_rates", "U[1][0]", "'1/0'", "finite"],
    ),
    (
        "division by a rate that can be 0",
        rates_study('"0.01/s"'),
        ["U[1][0]", "'0.01/s'", "s=0.0 (a bound of its beta distribution)", "finite"],
    ),
    (
        "a 401-digit integer",
        rates_study('"' + "9" * 401 + ' * 0 + s"'),
        ["vital_rates", "401 digits", "at most 30"],
    ),
    (
        "100,000 unary minus signs",
        rates_study('"' + "-" * 100_000 + 's"'),
        ["vital_rates", "100001 characters", "at most 1000 characters"],
    ),
    (
        "5,000 terms",
        rates_study('"' + "+".join(["s"] * 5000) + '"'),
        ["vital_rates", "too long", "at most 1000 characters"],
    ),
    (
        "101 operators in 1,000 characters",
        rates_study('"' + "+".join(["s"] * 102) + '"'),
        ["vital_rates", "101 operators", "at most 100"],
    ),
    (
        "parentheses 30 deep",
        rates_study('"' + "(" * 30 + "s" + ")" * 30 + '"'),
        ["vital_rates", "30 deep", "at most 20"],
    ),
    (
        "TOML nested 60,000 deep",
        study(tail="x = " + "[" * 60_000 + "]" * 60_000 + "\n"),
        ["nested 60000 deep", "at most 20 levels"],
    ),
    (
        "dotted keys 50,000 deep",
        "x." + ".".join(["a"] * 50_000) + " = 1\n" + study(),
        ["(line 1)", "the dotted key x.a.a", "50001 parts", "at most 20 levels"],
    ),
    (
        "a dotted key inside a dotted table, 22 deep in all",
        study(tail="[x" + ".a" * 10 + "]\n" + ".".join(["a"] * 11) + " = 1\n"),
        ["x.a.a", "is nested 21 levels deep", "at most 20"],
    ),
    (
        "an integer of 5,000 digits in TOML",
        study(replicates="9" * 5000),
        ["not valid TOML", "integers may have at most 30 digits"],
    ),
    (
        "initial = [2**63, 0]",
        study(initial=f"[{2**63}, 0]"),
        ["species[0]", "initial", str(2**63), "at most"],
    ),
    (
        "generation_length = 1e308",
        study(extra="generation_length = 1e308"),
        ["species[0]", "generation_length", "1e+308", "at most 10000 years"],
    ),
    # unclear before
    (
        "NaN from an expression",
        rates_study('"1e999 - 1e999 + s"'),
        ["vital_rates", "'1e999 - 1e999 + s'", "not finite"],
    ),
    (
        "years = 1e23 (as an integer)",
        study(years="100000000000000000000000"),
        ["[study]", "100,000,000,000,000,000,000,001 years", "available", "fewer [study] years"],
    ),
    (
        "initial_total = 1e30 (a float)",
        study(initial="[1, 1]").replace("initial = [1, 1]", "initial_total = 1e30"),
        ["species[0]", "initial_total", "must be an integer", "1e+30"],
    ),
    (
        "initial_total beyond the integer range",
        study(initial="[1, 1]").replace("initial = [1, 1]", f"initial_total = {2**61}"),
        ["species[0]", "initial_total", f"at most {count_limit(2, 1)}"],
    ),
    # too big, never refused before
    (
        "replicates = 1e12",
        study(replicates=10**12),
        ["[study]", "1,000,000,000,000 replicates", "available", "fewer [study] replicates"],
    ),
    (
        "years = 1e9",
        study(years=10**9),
        ["[study]", "1,000,000,001 years", "available", "fewer [study] years"],
    ),
    (
        # the 2,000 replicates needed 30 GiB; 20,000 (300 GiB) is beyond any test machine
        "years = 1e6 with 20,000 replicates",
        study(years=10**6, replicates=20_000),
        ["[study]", "20,000 replicates x 1,000,001 years", "available"],
    ),
    (
        "inner_replicates = 1e9",
        study(
            extra="generation_length = 5.0",
            tail="""
            [outputs.red_list_e]
            years = [0, 5]
            inner_replicates = 1000000000
            """,
        ),
        ["[study]", "available", "fewer [outputs.red_list_e] inner_replicates"],
    ),
    (
        "an unknown key (still one line with the line number)",
        study().replace("seed = 3", "seed = 3\nsed = 4"),
        ["(line 7)", "[study]", "unknown key 'sed'"],
    ),
]


@pytest.mark.parametrize(
    ("text", "fragments"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_a_bad_input_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, fragments: list[str]
) -> None:
    status, out, err = validate(tmp_path, text, capsys)
    assert status == 2
    assert out == ""
    line = one_error(err, tmp_path / "study.toml")
    for fragment in fragments:
        assert fragment in line, (fragment, line)


def test_a_binary_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = validate(tmp_path, b"\xff\xfe\x00binary" * 10, capsys)
    assert status == 2
    line = one_error(err, tmp_path / "study.toml")
    assert line.endswith("not UTF-8 text (byte 0xff at offset 0); expected a study file")


def test_a_huge_file_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 6 GiB species file was read whole (MemoryError). A sparse file costs no disk."""
    huge = tmp_path / "study.toml"
    with huge.open("wb") as fh:
        fh.truncate(6 * 2**30)
    assert main(["validate", str(huge)]) == 2
    line = one_error(capsys.readouterr().err, huge)
    assert (
        f"the file has {6 * 2**30:,} bytes; a study file may have at most {io.MAX_STUDY_FILE_BYTES:,}"
        in line
    )


def test_a_reserved_alias_cannot_collide_with_a_rate_name() -> None:
    """A rate named `__rate0__` beside a backtick-quoted name evaluated to the quoted rate
    ("`s` * 0 + __rate0__" gave 0.5 instead of 0.01)."""
    expr = compile_expression("`s` * 0 + __rate0__", ["s", "__rate0__"])
    assert expr.names == frozenset({"s", "__rate0__"})
    assert expr({"s": 0.5, "__rate0__": 0.01}) == pytest.approx(0.01)
    quoted = compile_expression("`g>4,3` + `s` - __rate1__ * `g>4,3`")
    assert quoted.names == frozenset({"g>4,3", "s", "__rate1__"})
    assert quoted({"g>4,3": 0.25, "s": 0.5, "__rate1__": 2.0}) == pytest.approx(0.25)


def test_the_rate_named_like_an_alias_is_the_one_projected(tmp_path: Path) -> None:
    text = rates_study(
        '"`s` * 0 + __rate0__"',
        more_rates='[[species.vital_rates.rates]]\nname = "__rate0__"\nmean = 0.01\n',
    )
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    species = io.read_study(path).species[0].species
    assert species.U_array[1, 0] == pytest.approx(0.01)


def test_counts_up_to_the_limit_are_kept_exactly() -> None:
    """The limit refused at validation is the engine's: a count at it projects unchanged to year 0
    (beyond it the engine would have capped it without a word)."""
    from pva.model import Species
    from pva.study import Study

    limit = count_limit(2, 1)
    assert limit == min(MAX_COUNT, 2**62 // 3)
    sp = Species(
        name="many",
        stages=("j", "a"),
        U=((0.0, 0.0), (0.5, 0.9)),
        F=((0.0, 0.0), (0.0, 0.0)),
        initial=(limit, 0),
    )
    with pytest.warns(CountCapWarning, match="at or beyond the engine's largest count"):
        ds = runner.run_study(
            Study(name="s", species=(sp,), years=1, replicates=2, seed=1), backend="sequential"
        )
    assert int(ds["total_abundance"].isel(year=0).max()) == limit
    with pytest.raises(ValueError, match=f"initial must be at most {limit} individuals"):
        sp.with_(initial=(limit + 1, 0))


def test_expressions_are_finite_at_the_bounds_of_their_rates() -> None:
    s = VitalRate(name="s", mean=0.5, sd=0.1)
    fixed = VitalRate(name="f", mean=0.5)  # never varies: only its mean is evaluated
    ok = VitalRates(rates=(s, fixed), U=((0.0, 0.0), ("0.1/f", 0.9)), F=((0.0, 0.5), (0.0, 0.0)))
    assert ok.matrices(ok.means)["U"][1, 0] == pytest.approx(0.2)
    with pytest.raises(ValueError, match=r"U\[1\]\[0\] = '0.1/\(1 - s\)' .* s=1.0 \(a bound"):
        VitalRates(rates=(s,), U=((0.0, 0.0), ("0.1/(1 - s)", 0.9)), F=((0.0, 0.5), (0.0, 0.0)))


def test_a_threat_that_never_acts_is_a_warning_at_validate_and_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A threat starting in year 1e20 never acted, with no warning."""
    text = study(
        tail="""
        [[threats]]
        type = "Harvest"
        name = "late"
        proportion = 0.1
        start = 100000000000000000000
        """
    )
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("ok: 1 species, 1 scenarios")
    warning = (
        "pva validate: warning: Study: Harvest 'late' starts at step 100000000000000000000, at "
        "or after the horizon of years=10: it never acts"
    )
    assert captured.err.strip() == warning
    assert main(["run", str(path), "-q", "--out", str(tmp_path / "r.nc")]) == 0
    assert capsys.readouterr().err.strip() == warning.replace("validate", "run")


def test_an_abatement_whose_delay_passes_the_horizon_is_a_warning(tmp_path: Path) -> None:
    from pva.errors import InactiveActionWarning

    text = study(
        tail="""
        [[threats]]
        type = "Harvest"
        name = "poaching"
        proportion = 0.1

        [[interventions]]
        type = "ConflictMitigation"
        name = "patrols"
        threat = "poaching"
        start = 5
        delay = 5

        [[scenarios]]
        name = "no action"

        [[scenarios]]
        name = "patrols"
        actions = ["patrols"]
        """
    )
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.warns(
        InactiveActionWarning, match=r"takes effect at step 10 \(start 5 \+ delay 5\)"
    ):
        io.read_study(path)


def test_a_rising_survival_trend_that_passes_1_is_a_warning(tmp_path: Path) -> None:
    from pva.errors import SurvivalCapWarning

    text = study(
        tail="""
        [[threats]]
        type = "ClimateTrend"
        name = "warming"
        stages = ["adult"]
        survival_trend = 0.02
        """
    )
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    # 0.9 x 1.02^10 = 1.097 > 1 within the 10 years
    with pytest.warns(SurvivalCapWarning, match="may raise the survival of stage 'adult'"):
        io.read_study(path)
    assert 0.9 * 1.02**10 > 1 > 0.9 * 1.02**5
    short = path.read_text(encoding="utf-8").replace("years = 10", "years = 5")
    path.write_text(short, encoding="utf-8")
    io.read_study(path)  # 0.9 x 1.02^5 < 1: no warning (warnings are errors in pytest)


def test_analyse_of_a_matrix_whose_lambda_overflows_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pva analyse` of a matrix of 1e308 entries exited 0 printing lambda = inf."""
    path = tmp_path / "big.csv"
    path.write_text("1e308,1e308\n1e308,1e308\n", encoding="utf-8")
    assert main(["analyse", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().startswith("pva analyse: error: A: lambda is inf, not a finite number")


def test_exploding_fecundity_is_capped_with_a_warning_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """F = 1e300 without K ended in numpy's "n < 0" (a NaN count cast to int64)."""
    text = study(fecundity="1e300").replace("carrying_capacity = 500.0\n", "")
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["run", str(path), "-q", "--out", str(tmp_path / "r.nc")]) == 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("pva run: warning: species 'herb': abundance reached ")
    assert "capped" in err
    total = xr.open_dataset(tmp_path / "r.nc")["total_abundance"].values
    assert np.all(total >= 0)
    assert total.max() <= 2 * count_limit(2, 1)


def test_a_resume_with_another_seed_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "specification changed"."""
    path = tmp_path / "study.toml"
    path.write_text(study(), encoding="utf-8")
    args = [
        "run",
        str(path),
        "-q",
        "--out",
        str(tmp_path / "r.nc"),
        "--checkpoint-dir",
        str(tmp_path / "c"),
    ]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--seed", "99"]) == 2
    line = capsys.readouterr().err.strip()
    assert "were run with seed entropy 3, not 99" in line


def test_a_header_taken_from_a_number_row_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A non-numeric cell in row 1 made it a header: with a message that did not say so when the
    shape then failed, and silently (the numbers read as stage names) when the shape fit."""
    path = tmp_path / "m.csv"
    for text in ("0.1,x,0.3\n0.5,0.9,0.1\n0.0,0.2,0.8\n", "0.5,x\n0.3,0.8\n0.1,0.2\n"):
        path.write_text(text, encoding="utf-8")
        assert main(["analyse", str(path)]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert "line 1 mixes words ('x') and fractions" in line
    # a header of words over a table with row names is read as ever
    path.write_text("stage,small,large\nsmall,0.1,2\nlarge,0.5,0.9\n", encoding="utf-8")
    assert main(["analyse", str(path)]) == 0
    assert "small" in capsys.readouterr().out
    # one word in a row of numbers, the rest of the file not square as a header: said why
    path.write_text("1,x,3\n0.5,0.9,0.1\n0.0,0.2,0.8\n", encoding="utf-8")
    assert main(["analyse", str(path)]) == 2
    line = capsys.readouterr().err.strip()
    assert "line 1 was read as a header of stage names because 'x' is not a number" in line


def test_control_characters_in_free_text_are_refused_but_line_breaks_kept() -> None:
    from pva.study import Study

    ok = study(tail="").replace("seed = 3", 'seed = 3\ndescription = "two\\nlines\\tand a tab"')
    doc = __import__("tomllib").loads(ok)
    assert Study.from_dict(doc).description == "two\nlines\tand a tab"
    doc["study"]["description"] = "bell \x07"
    with pytest.raises(ValueError, match="description must be text without control characters"):
        Study.from_dict(doc)


def test_limits_are_the_documented_ones() -> None:
    """docs/study-file.md states these numbers; this test keeps them in step."""
    from pva import model

    docs = (Path(__file__).resolve().parents[2] / "docs" / "study-file.md").read_text(
        encoding="utf-8"
    )
    stated = {
        f"{io.MAX_STUDY_FILE_BYTES // 2**20} MiB",
        f"{io.MAX_NESTING} levels",
        f"{io.MAX_INTEGER_DIGITS} digits",
        f"{model.MAX_EXPRESSION_LENGTH:,} characters",
        f"{model.MAX_EXPRESSION_OPERATORS} operators",
        f"{model.MAX_EXPRESSION_DEPTH} levels of parentheses",
        f"{model.MAX_INTEGER_DIGITS} digits",
        f"{model.MAX_GENERATION_LENGTH:,.0f} years",
        "2^60",
    }
    for phrase in stated:
        assert phrase in docs, phrase
    assert math.log2(MAX_COUNT) == 60


def test_errors_carry_the_file_the_table_and_the_key(tmp_path: Path) -> None:
    from pva.errors import StudyFileError, StudyFileTypeError

    path = tmp_path / "study.toml"
    path.write_text(study(initial="[1, 1]").replace("initial = [1, 1]", "initial_total = 1e30"))
    with pytest.raises(StudyFileTypeError) as kind:
        io.read_study(path)
    assert (kind.value.file, kind.value.table, kind.value.key) == (
        str(path),
        "species[0]",
        "initial_total",
    )
    path.write_text(study().replace("seed = 3", "seed = 3\nsed = 4"))
    with pytest.raises(StudyFileError) as unknown:
        io.read_study(path)
    assert (unknown.value.file, unknown.value.table, unknown.value.key) == (
        str(path),
        "[study]",
        "sed",
    )
    path.write_text(study(extra="generation_length = -1.0"))
    with pytest.raises(StudyFileError) as value:
        io.read_study(path)
    assert (value.value.table, value.value.key) == ("species[0]", "generation_length")
