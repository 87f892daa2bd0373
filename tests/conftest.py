"""Shared fixtures, Hypothesis profiles and the kinds of test for the pva test suite.

A test's kind is the folder it lives in, and each folder gives its tests a marker (see ``KINDS``), so
a new file gets its kind by where it is put: ``python -m pytest tests/unit`` is the fast loop,
``-m "not slow"`` leaves out the Monte Carlo checks against theory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import xarray as xr
from conftest_results import known_results, one_species_study, run_and_simulate
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


TESTS = Path(__file__).resolve().parent

KINDS = {
    "unit": "unit",
    "statistical": "slow",
    "integration": "integration",
    "browser": "browser",
    "properties": "properties",
}
"""Folder under tests/ -> the marker its tests get. unit: fast (tiny Monte Carlo sizes, no
subprocesses; the folder runs in under 20 s); statistical: Monte Carlo checks against theory;
integration: CLI verbs end to end, the runner with processes or Dask, files written and read back;
browser: the HTML report in headless Chromium; properties: Hypothesis."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/ with the kind of its folder. A test outside the kind folders,
    or one marked slow in tests/unit, is an error: the folder is the kind."""
    for item in items:
        path = Path(item.path).resolve()
        if not path.is_relative_to(TESTS):
            continue
        kind = path.relative_to(TESTS).parts[0]
        if kind not in KINDS:
            raise pytest.UsageError(
                f"{item.nodeid}: a test lives in one of tests/{{{','.join(KINDS)}}}/ "
                "(its folder gives its kind and marker; see tests/conftest.py)"
            )
        if kind == "unit" and item.get_closest_marker("slow") is not None:
            raise pytest.UsageError(
                f"{item.nodeid} is marked slow but lives in tests/unit, the fast loop: move it to "
                "tests/statistical (a Monte Carlo check against theory) or tests/integration"
            )
        item.add_marker(KINDS[kind])


@pytest.fixture(scope="session")
def results() -> xr.Dataset:
    """The two-species, two-scenario Dataset of known answers, 8 replicates
    (:func:`conftest_results.known_results`; read, never modify)."""
    return known_results(8)


@pytest.fixture(scope="session")
def run_and_simulation() -> tuple[xr.Dataset, xr.Dataset]:
    """``pva run`` and :func:`pva.simulate` of :func:`conftest_results.one_species_study`, with the
    same seed (read, never modify)."""
    return run_and_simulate(one_species_study())


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
