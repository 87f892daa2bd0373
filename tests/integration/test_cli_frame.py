"""The `pva` command frame: --version, --help, and no traceback on errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pva
from pva import cli


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"pva {pva.__version__}"


def test_no_verb_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    assert "verbs" in capsys.readouterr().out


def test_unknown_verb_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["frobnicate"])
    assert exit_info.value.code == 2


def test_console_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pva.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "usage: pva" in done.stdout
