"""Shared fixtures and Hypothesis profiles for the pva test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

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
