"""Validation of the inputs shared by the Red List functions (messages name the field and value)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr


def check_generation_length(g: Any) -> float:
    """``g`` as a float number of years > 0."""
    if isinstance(g, tuple | list):
        raise ValueError(
            f"generation_length must be a number of years; got {g!r} - use classify_range for"
            " a (min, best, max) range"
        )
    try:
        gf = float(g)
    except (TypeError, ValueError):
        raise ValueError(f"generation_length must be a number of years > 0; got {g!r}") from None
    if not (np.isfinite(gf) and gf > 0):
        raise ValueError(f"generation_length must be finite and > 0 (years); got {g!r}")
    return gf


def check_counts(x: Any, field: str, ndims: tuple[int, ...]) -> npt.NDArray[np.float64]:
    """Finite, non-negative counts with one of ``ndims`` dims, as a float array."""
    a = np.asarray(x.values if isinstance(x, xr.DataArray) else x, dtype=float)
    if a.ndim not in ndims:
        raise ValueError(
            f"{field} must have {' or '.join(map(str, ndims))} dims; got shape {a.shape}"
        )
    if a.size == 0:
        raise ValueError(f"{field} must not be empty; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{field} must be finite; got {a[~np.isfinite(a)][:3]!r} among its values")
    if np.any(a < 0):
        raise ValueError(f"{field} must be >= 0; got {a[a < 0][:3]!r} among its values")
    return a


def parse_criterion_a(criterion_a: str | Iterable[str]) -> tuple[str, ...]:
    """The sub-criteria of A asked for, as a tuple of "A1".."A4"."""
    chosen = (criterion_a,) if isinstance(criterion_a, str) else tuple(criterion_a)
    bad = [c for c in chosen if c not in ("A1", "A2", "A3", "A4")]
    if bad or not chosen:
        raise ValueError(
            f"criterion_a must be one or more of 'A1', 'A2', 'A3', 'A4'; got {criterion_a!r}"
        )
    return chosen
