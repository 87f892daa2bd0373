"""The HTML report in a real browser: Debian's headless Chromium loads it offline and every figure
decodes (``naturalWidth > 0``), with no resource or script error.

The report carries a few lines of script that, on ``load``, mark each decoded ``<img>`` with
``data-loaded`` and write ``data-figures-loaded="n/m"`` on ``<body>``; errors (a resource that fails,
a script error) are counted in ``data-errors`` on ``<html>``. ``--dump-dom`` prints the DOM after the
load event, so these attributes can be read without the DevTools protocol. A control page with a
broken image shows that the check can fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest_results import known_results

from pva import report

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)

pytest.importorskip("matplotlib", reason="the report's figures need matplotlib (the 'plot' extra)")


def dump_dom(page: Path, profile: Path) -> tuple[str, str]:
    """The DOM of ``page`` after its load event, and Chromium's log (stderr)."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def console_errors(log: str) -> list[str]:
    """Lines of Chromium's log that report a page's console message or an uncaught error."""
    return [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def test_report_loads_and_every_figure_renders(tmp_path: Path) -> None:
    page = report.write_report(known_results(8), tmp_path / "report.html", dpi=40)
    n_images = page.read_text(encoding="utf-8").count("<img ")
    assert n_images == 13  # as tests/unit/test_report.py counts them
    dom, log = dump_dom(page, tmp_path / "profile")
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None, dom[:500]
    assert f'data-figures-loaded="{n_images}/{n_images}"' in body.group(0)
    assert dom.count('data-loaded="true"') == n_images
    assert re.search(r'<html[^>]*data-errors="0"', dom), dom[:300]
    assert console_errors(log) == []


def test_broken_figure_is_detected(tmp_path: Path) -> None:
    control = tmp_path / "broken.html"
    good = report.render_report(known_results(4), dpi=30, red_list=False)
    # corrupt one embedded PNG: the browser must report it as not decoded
    broken = good.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1)
    control.write_text(broken, encoding="utf-8")
    dom, _ = dump_dom(control, tmp_path / "profile")
    assert 'data-figures-loaded="4/5"' in dom
    assert not re.search(r'<html[^>]*data-errors="0"', dom)
