"""Warnings and errors of pva.

Bad input raises :class:`ValueError` (bad values) or :class:`TypeError` (bad kinds) whose message names
the field, the value and the rule. Warnings are subclasses of :class:`PVAWarning`, so users (and the
test suite, which turns them into errors) can filter them by kind.
"""

from __future__ import annotations


class PVAWarning(UserWarning):
    """Base class of every warning pva emits."""


class MatrixStructureWarning(PVAWarning):
    """A projection matrix is reducible or imprimitive: λ is still the spectral radius, but the stable
    stage distribution and convergence to it may not hold (Caswell 2001, section 4.5)."""


class DensityDependenceWarning(PVAWarning):
    """Density dependence as specified cannot act: the projection is density independent (e.g. a
    Beverton-Holt, Ricker or theta-logistic scaling at its default strength on a species whose mean
    matrix cannot grow, where the strength that makes K an equilibrium is 0)."""


class StudyFileError(ValueError):
    """A study or data file does not follow its schema; the message names the file and the key."""
