"""Shared fixtures and Hypothesis profiles for the pva test suite."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from pva import datasets

# Hypothesis profiles (as xarray). "ci": the same examples on every run (derandomize: a failure in
# CI is a fact about the code, not about the draw), no deadlines (shared CI machines have noisy
# timings) and the blob that reproduces a failure. "dev": random examples, so local runs keep
# exploring. HYPOTHESIS_PROFILE chooses; otherwise "ci" where $CI is set (.ci/run sets the profile).
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(scope="session")
def package_data() -> Path:
    """The data sets shipped with pva (``pva/data``: ``popbio/``, ``compadre/``; see its README)."""
    return datasets.data_dir()


@pytest.fixture(scope="session")
def compadre_release_files() -> dict[str, Path]:
    """Rcompadre's COMPADRE and COMADRE sample objects, S4 ``CompadreDB`` in RData files of the
    release format (tests/data/compadre; provenance and licence in the README there)."""
    folder = Path(__file__).resolve().parent / "data" / "compadre"
    return {"compadre": folder / "Compadre.rda", "comadre": folder / "Comadre.rda"}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Where ``$PVA_FAIL_ON_SKIP`` is set (.ci/run sets it), a skipped test fails the run, except
    the browser tests on a machine without Chromium: a test skipped for missing data or a missing
    dependency would otherwise pass unseen."""
    if not os.environ.get("PVA_FAIL_ON_SKIP"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    no_chromium = shutil.which("chromium") is None and not os.path.exists("/usr/bin/chromium")
    unexpected = [
        report.nodeid
        for report in reporter.stats.get("skipped", [])
        if not (no_chromium and "browser" in getattr(report, "keywords", {}))
    ]
    if unexpected:
        reporter.write_line(
            f"PVA_FAIL_ON_SKIP: {len(unexpected)} skipped (only browser tests without Chromium may "
            f"skip): {', '.join(unexpected)}",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
