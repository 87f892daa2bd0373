"""Shared fixtures and Hypothesis profiles for the pva test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis profiles (as xarray): "dev" for quick local runs, "ci" without deadlines (shared CI
# machines have noisy timings) and printing the blob needed to reproduce a failure.
settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "ci",
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
"""../shared/data beside the repository root (the published data sets; see their READMEs)."""


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data, or skip the test when the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"shared data folder {SHARED_DATA} is absent (published data sets not available)"
        )
    return SHARED_DATA
