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


class InactiveActionWarning(PVAWarning):
    """A threat or intervention never acts within the study's years (it starts at or after the
    horizon): almost always a mistake in ``start``, ``delay`` or ``years``."""


class SurvivalCapWarning(PVAWarning):
    """A threat may push a survival probability above 1, where the engine caps it at 1."""


class CountCapWarning(PVAWarning):
    """Abundance reached the engine's largest count (see :func:`pva.model.count_limit`), where it
    is capped: the numbers beyond it are not simulated."""


class DamagedCheckpointWarning(PVAWarning):
    """A checkpoint file could not be read (truncated, empty, not a checkpoint); its task is run
    again."""


class DensityDependenceWarning(PVAWarning):
    """Density dependence as specified cannot act: the projection is density independent (e.g. a
    Beverton-Holt, Ricker or theta-logistic scaling at its default strength on a species whose mean
    matrix cannot grow, where the strength that makes K an equilibrium is 0)."""


class _StudyFileLocationError(Exception):
    """Where in a study file an error lies: ``file``, ``table`` and ``key`` (each None where
    unknown), beside the message."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        table: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.table = table
        self.key = key


class StudyFileError(_StudyFileLocationError, ValueError):
    """A study or data file does not follow its schema; the message names the file and the key.

    ``file``, ``table`` and ``key`` (each None where unknown) say where the problem is, for
    programs that want more than the message: e.g. ``table="species[0]"``, ``key="initial"``.
    """


class StudyFileTypeError(_StudyFileLocationError, TypeError):
    """A value of a study file has the wrong kind (a string where a number is needed, ...); like
    :class:`StudyFileError`, the message names the file and the key, and ``file``, ``table`` and
    ``key`` say where the problem is."""


class ResourceError(ValueError):
    """A run would need more memory or disk than the machine has; the message gives the estimate
    and what to change. Raised before anything is allocated or simulated."""


class TerminatedError(BaseException):
    """SIGTERM arrived while a ``pva`` command ran (raised by the command's signal handler, so
    that temporary files are removed and workers stopped on the way out, as for Ctrl-C).

    A :class:`BaseException`, like :class:`KeyboardInterrupt`, so that ``except Exception`` in a
    library does not swallow it."""
