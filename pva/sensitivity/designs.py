"""Designs of experiments over factors: grid, one-at-a-time, Latin hypercube, Sobol'/Saltelli and
Morris; and the distributions factors (and uncertain parameters) are drawn from.

A design is a set of points in the unit hypercube ``[0, 1]^D`` (:attr:`Design.unit`), mapped to
each factor's values through its distribution's quantile function (:attr:`Design.values`). Nothing
here knows of pva's model: a factor is a name with a range, so the same design, evaluation and
indices serve a PVA study (:func:`pva.sensitivity.sweep`) and any Python function
(:func:`pva.sensitivity.evaluate`, e.g. the Ishigami test function of the tests).

The random designs take a :class:`numpy.random.Generator` (from :func:`pva.streams.sweep_generator`
in a sweep): Latin hypercube points from :class:`scipy.stats.qmc.LatinHypercube`, the scrambled
Sobol' sequence of Saltelli's scheme and Morris trajectories from SALib (the ``sensitivity`` extra).

References
----------
McKay, M.D., R.J. Beckman & W.J. Conover. 1979. A comparison of three methods for selecting values
of input variables in the analysis of output from a computer code. Technometrics 21:239-245.
Morris, M.D. 1991. Factorial sampling plans for preliminary computational experiments.
Technometrics 33:161-174.
Saltelli, A. 2002. Making best use of model evaluations to compute sensitivity indices. Computer
Physics Communications 145:280-297.
Saltelli, A. et al. 2010. Variance based sensitivity analysis of model output. Design and estimator
for the total sensitivity index. Computer Physics Communications 181:259-270.
Herman, J. & W. Usher. 2017. SALib: an open-source Python library for sensitivity analysis. Journal
of Open Source Software 2(9):97.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from pva import validation

if TYPE_CHECKING:
    from scipy.stats import qmc

FloatArray = npt.NDArray[np.float64]
DesignKind = Literal["grid", "oat", "lhs", "sobol", "morris", "random"]
DESIGNS: tuple[str, ...] = ("grid", "oat", "lhs", "sobol", "morris")
"""The designs a sweep can ask for (``random`` is the draws of parameter uncertainty)."""


# ---------------------------------------------------------------------------------------------------
# distributions
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Distribution:
    """A distribution of a factor's values; :meth:`ppf` maps ``u`` in [0, 1] to values."""

    kind: ClassVar[str] = ""
    low: float
    """Smallest value (the support's lower end)."""
    high: float
    """Largest value (the support's upper end)."""

    def __post_init__(self) -> None:
        own = f"{self.kind} distribution"
        low = validation.number(self.low, "low", owner=own)
        high = validation.number(self.high, "high", owner=own)
        if not low < high:
            raise ValueError(f"{own}: low must be < high; got low={low!r}, high={high!r}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        """Quantile function at ``u`` (any shape, values in [0, 1])."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The study-file table of the distribution (``distribution = "<kind>"`` and its keys)."""
        return {"distribution": self.kind, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Uniform(Distribution):
    """Uniform on [low, high]."""

    kind: ClassVar[str] = "uniform"

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Triangular(Distribution):
    """Triangular on [low, high] with its peak at ``mode``."""

    kind: ClassVar[str] = "triangular"
    mode: float
    """Most likely value, in [low, high]."""

    def __post_init__(self) -> None:
        super().__post_init__()
        mode = validation.number(
            self.mode, "mode", owner="triangular distribution", low=self.low, high=self.high
        )
        object.__setattr__(self, "mode", mode)

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        import scipy.stats

        width = self.high - self.low
        c = (self.mode - self.low) / width
        return np.asarray(scipy.stats.triang.ppf(u, c, loc=self.low, scale=width), dtype=float)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TruncatedNormal(Distribution):
    """Normal with ``mean`` and ``sd`` truncated to [low, high]."""

    kind: ClassVar[str] = "truncated_normal"
    mean: float
    """Mean of the normal before truncation."""
    sd: float
    """Standard deviation of the normal before truncation, > 0."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = "truncated_normal distribution"
        object.__setattr__(self, "mean", validation.number(self.mean, "mean", owner=own))
        sd = validation.number(self.sd, "sd", owner=own, low=0, low_open=True)
        object.__setattr__(self, "sd", sd)

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        import scipy.stats

        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return np.asarray(
            scipy.stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd), dtype=float
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Beta(Distribution):
    """Beta with ``mean`` and ``sd`` on [low, high] (default [0, 1]); shape parameters by the
    method of moments, as for vital rates (Morris & Doak 2002, Box 8.3)."""

    kind: ClassVar[str] = "beta"
    low: float = 0.0
    high: float = 1.0
    mean: float
    """Mean, strictly inside (low, high)."""
    sd: float
    """Standard deviation, > 0 and below sqrt((mean - low)(high - mean))."""

    def __post_init__(self) -> None:
        super().__post_init__()
        own = "beta distribution"
        mean = validation.number(
            self.mean,
            "mean",
            owner=own,
            low=self.low,
            high=self.high,
            low_open=True,
            high_open=True,
        )
        sd = validation.number(self.sd, "sd", owner=own, low=0, low_open=True)
        limit = math.sqrt((mean - self.low) * (self.high - mean))
        if sd >= limit:
            raise ValueError(
                f"{own}: sd must be < sqrt((mean - low)(high - mean)) = {limit!r}; got {sd!r}"
            )
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "sd", sd)

    def shapes(self) -> tuple[float, float]:
        """(a, b) of the beta on the unit interval (Morris & Doak 2002, Box 8.3)."""
        width = self.high - self.low
        m, v = (self.mean - self.low) / width, (self.sd / width) ** 2
        k = m * (1 - m) / v - 1
        return m * k, (1 - m) * k

    def ppf(self, u: npt.ArrayLike) -> FloatArray:
        import scipy.stats

        a, b = self.shapes()
        return np.asarray(
            scipy.stats.beta.ppf(u, a, b, loc=self.low, scale=self.high - self.low), dtype=float
        )


DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.kind: cls for cls in (Uniform, Triangular, TruncatedNormal, Beta)
}
"""The distributions by the name a study file gives them."""


def distribution_from_dict(table: Mapping[str, Any], *, where: str) -> Distribution:
    """A distribution from a table ``{distribution = "<kind>", ...}`` (default uniform).

    Raises
    ------
    ValueError
        For an unknown kind or key (naming ``where``), or a bad value.
    TypeError
        If ``table`` is not a table.
    """
    if not isinstance(table, Mapping):
        raise TypeError(f"{where} must be a table; got {table!r}")
    kind = table.get("distribution", "uniform")
    if kind not in DISTRIBUTIONS:
        raise ValueError(
            f"{where}: distribution must be one of {sorted(DISTRIBUTIONS)}; got {kind!r}"
        )
    cls = DISTRIBUTIONS[kind]
    allowed = [f.name for f in dataclasses.fields(cls)]
    body = {k: v for k, v in table.items() if k != "distribution"}
    validation.check_keys(body, allowed, where)
    try:
        return cls(**body)
    except TypeError as exc:
        missing = sorted(
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in body and f.default is dataclasses.MISSING
        )
        if missing:
            raise ValueError(f"{where}: a {kind} distribution needs {missing}") from None
        raise TypeError(f"{where}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


# ---------------------------------------------------------------------------------------------------
# factors
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Factor:
    """A factor of a design: a name and the distribution of its values."""

    name: str
    """Short name (``param_<name>`` in a sweep's results)."""
    distribution: Distribution
    """Values are ``distribution.ppf(u)`` for design points ``u`` in [0, 1]."""
    points: int | None = None
    """Values of a grid or one-at-a-time design: ``points`` evenly spaced from low to high."""
    base: float | None = None
    """The value the one-at-a-time design holds the factor at while others vary."""
    integer: bool = False
    """Whether values are rounded to whole numbers (they are drawn in [low, high])."""

    def __post_init__(self) -> None:
        validation.name(self.name, "name", owner="Factor")
        own = f"Factor {self.name!r}"
        validation.instance(self.distribution, "distribution", Distribution, owner=own)
        if self.points is not None:
            validation.integer(self.points, "points", owner=own, minimum=1)
        if self.base is not None:
            object.__setattr__(self, "base", validation.number(self.base, "base", owner=own))
        validation.flag(self.integer, "integer", owner=own)

    @classmethod
    def uniform(cls, name: str, low: float, high: float, **fields: Any) -> Factor:
        """A factor uniform on [low, high]."""
        return cls(name=name, distribution=Uniform(low=low, high=high), **fields)

    @property
    def low(self) -> float:
        return self.distribution.low

    @property
    def high(self) -> float:
        return self.distribution.high

    def values(self, unit: npt.ArrayLike) -> FloatArray:
        """The factor's values at design points ``unit`` (rounded if :attr:`integer`)."""
        x = self.distribution.ppf(unit)
        return np.rint(x) if self.integer else x

    def levels(self) -> FloatArray:
        """The ``points`` grid values, evenly spaced on [low, high] (uniform factors only)."""
        if self.points is None:
            raise ValueError(
                f"factor {self.name!r} needs a number of points for a grid or one-at-a-time "
                "design (PATH=LOW:HIGH:N)"
            )
        if not isinstance(self.distribution, Uniform):
            raise ValueError(
                f"factor {self.name!r}: grid and one-at-a-time designs take ranges, not a "
                f"{self.distribution.kind} distribution"
            )
        return np.linspace(0.0, 1.0, self.points) if self.points > 1 else np.array([0.5])


# ---------------------------------------------------------------------------------------------------
# designs
# ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Design:
    """Points of a design: ``unit`` (samples, factors) in the unit hypercube, and ``values``, the
    factors' values there (each through its distribution; one-at-a-time base points hold the
    base value itself)."""

    kind: DesignKind
    factors: tuple[Factor, ...]
    unit: FloatArray
    """(samples, factors): design points in [0, 1] (a one-at-a-time base value outside the range
    lies outside it)."""
    values: FloatArray
    """(samples, factors): the factors' values."""
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """What the analysis needs besides the points: ``base_samples`` and ``second_order`` (Sobol'),
    ``levels`` and ``trajectories`` (Morris)."""

    @property
    def samples(self) -> int:
        return int(self.values.shape[0])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.factors)

    def to_json(self) -> str:
        """The design's kind, settings and factors as JSON (the points are in the results)."""
        return json.dumps(
            {
                "design": self.kind,
                **dict(self.settings),
                "factors": [
                    {
                        "name": f.name,
                        **f.distribution.to_dict(),
                        "points": f.points,
                        "base": f.base,
                        "integer": f.integer,
                    }
                    for f in self.factors
                ],
            },
            sort_keys=True,
        )


def _factors(factors: Sequence[Factor]) -> tuple[Factor, ...]:
    out = tuple(factors)
    if not out:
        raise ValueError("a design needs at least one factor")
    for f in out:
        validation.instance(f, "factors", Factor, owner="design")
    names = [f.name for f in out]
    if len(set(names)) != len(names):
        raise ValueError(f"design factors must have distinct names; got {names!r}")
    return out


def _design(
    kind: DesignKind, factors: tuple[Factor, ...], unit: FloatArray, **settings: Any
) -> Design:
    values = np.column_stack([f.values(unit[:, i]) for i, f in enumerate(factors)])
    return Design(kind, factors, unit, values.astype(float), settings)


def grid(factors: Sequence[Factor]) -> Design:
    """Every combination of the factors' :meth:`Factor.levels` (a full factorial), the first
    factor varying slowest."""
    factors = _factors(factors)
    unit = np.array(list(itertools.product(*(f.levels() for f in factors))), dtype=float)
    return _design("grid", factors, unit)


def one_at_a_time(factors: Sequence[Factor]) -> Design:
    """The base point (every factor at its ``base``), then each factor in turn over its levels with
    the others at their bases: ``1 + sum(points)`` samples."""
    factors = _factors(factors)
    for f in factors:
        if f.base is None:
            raise ValueError(
                f"a one-at-a-time design needs a base value of {f.name!r}; the study leaves it "
                "unset"
            )
    base_unit = np.array([(f.base - f.low) / (f.high - f.low) for f in factors])  # type: ignore[operator]
    # the base point holds the study's own values, also where they lie outside [low, high]
    base = np.array([round(f.base) if f.integer else f.base for f in factors], dtype=float)  # type: ignore[arg-type]
    unit_rows, value_rows = [base_unit], [base]
    for i, f in enumerate(factors):
        levels = f.levels()
        for u, x in zip(levels, f.values(levels), strict=True):
            unit_row, value_row = base_unit.copy(), base.copy()
            unit_row[i], value_row[i] = u, x
            unit_rows.append(unit_row)
            value_rows.append(value_row)
    unit, values = np.array(unit_rows), np.array(value_rows)
    return Design("oat", factors, unit, values, {})


def latin_hypercube(factors: Sequence[Factor], samples: int, *, rng: np.random.Generator) -> Design:
    """A Latin hypercube of ``samples`` points (McKay et al. 1979), from
    :class:`scipy.stats.qmc.LatinHypercube` seeded with ``rng``."""
    factors = _factors(factors)
    samples = validation.integer(samples, "samples", minimum=2)
    unit = _latin_hypercube(len(factors), rng).random(samples)
    return _design("lhs", factors, unit)


def random(factors: Sequence[Factor], samples: int, *, rng: np.random.Generator) -> Design:
    """``samples`` independent draws of every factor from its distribution (plain Monte Carlo: the
    parameter draws of :func:`pva.sensitivity.run_uncertainty`, which its variance split assumes
    independent)."""
    factors = _factors(factors)
    samples = validation.integer(samples, "samples", minimum=1)
    return _design("random", factors, rng.random((samples, len(factors))))


def _latin_hypercube(d: int, rng: np.random.Generator) -> qmc.LatinHypercube:
    """scipy's Latin hypercube sampler drawing from ``rng`` (its keyword is ``rng`` from scipy
    1.15, ``seed`` before)."""
    from scipy.stats import qmc

    try:
        return qmc.LatinHypercube(d=d, rng=rng)
    except TypeError:  # pragma: no cover - scipy < 1.15
        return qmc.LatinHypercube(d=d, seed=rng)


def _salib(kind: str) -> Any:
    try:
        if kind == "sobol":
            from SALib.sample import sobol as module
        else:
            from SALib.sample import morris as module
    except ImportError:  # SALib is the `sensitivity` extra (tests/integration/test_sweep.py)
        raise ImportError(
            f"the {kind} design needs SALib: pip install 'pva[sensitivity]' (from a checkout: "
            "pip install '.[sensitivity]')"
        ) from None
    return module


def _unit_problem(factors: tuple[Factor, ...]) -> dict[str, Any]:
    return {
        "num_vars": len(factors),
        "names": [f.name for f in factors],
        "bounds": [[0.0, 1.0]] * len(factors),
    }


def sobol(
    factors: Sequence[Factor],
    base_samples: int,
    *,
    rng: np.random.Generator,
    second_order: bool = True,
) -> Design:
    """Saltelli's (2002, 2010) design for Sobol' indices from a scrambled Sobol' sequence (SALib's
    ``sample.sobol``): for each of ``base_samples`` = N rows, the points A, AB_1 .. AB_D (A with
    column j from B), with ``second_order`` BA_1 .. BA_D, and B: N (2D + 2) samples (N (D + 2)
    without second order). N must be a power of 2, the sequence's balanced size."""
    factors = _factors(factors)
    n = validation.integer(base_samples, "samples", minimum=2)
    if n & (n - 1):
        low = 1 << (n.bit_length() - 1)
        raise ValueError(
            f"sobol samples (base samples N) must be a power of 2, the sizes at which a Sobol' "
            f"sequence is balanced; got {n!r} (nearest: {low} or {2 * low})"
        )
    module = _salib("sobol")
    unit = module.sample(
        _unit_problem(factors), n, calc_second_order=second_order, scramble=True, seed=rng
    )
    return _design(
        "sobol",
        factors,
        np.asarray(unit, dtype=float),
        base_samples=n,
        second_order=bool(second_order),
    )


def morris(
    factors: Sequence[Factor], trajectories: int, *, rng: np.random.Generator, levels: int = 4
) -> Design:
    """Morris's (1991) elementary-effects design: ``trajectories`` random one-at-a-time paths on a
    grid of ``levels`` levels (SALib's ``sample.morris``): trajectories (D + 1) samples."""
    factors = _factors(factors)
    r = validation.integer(trajectories, "samples (trajectories)", minimum=2)
    levels = validation.integer(levels, "levels", minimum=2)
    if levels % 2:
        raise ValueError(f"morris levels must be even (Morris 1991's step); got {levels!r}")
    module = _salib("morris")
    unit = module.sample(_unit_problem(factors), r, num_levels=levels, seed=rng)
    return _design("morris", factors, np.asarray(unit, dtype=float), trajectories=r, levels=levels)


def make(
    kind: str,
    factors: Sequence[Factor],
    *,
    samples: int | None = None,
    levels: int = 4,
    rng: np.random.Generator | None = None,
) -> Design:
    """The design ``kind`` (one of :data:`DESIGNS`) of ``factors``.

    ``samples``: Latin hypercube points (default 100), Sobol' base samples N (a power of 2,
    default 64) or Morris trajectories (default 10); grid and one-at-a-time designs take their
    size from the factors' points and refuse ``samples``. ``rng`` is required by the random
    designs (lhs, sobol, morris).
    """
    if kind not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}; got {kind!r}")
    if kind in ("grid", "oat"):
        if samples is not None:
            raise ValueError(
                f"a {kind} design takes its size from the parameters' points (PATH=LOW:HIGH:N); "
                f"samples={samples!r} applies to lhs, sobol and morris"
            )
        return grid(factors) if kind == "grid" else one_at_a_time(factors)
    if rng is None:
        raise TypeError(f"a {kind} design needs rng (a numpy Generator)")
    builders: dict[str, Callable[[], Design]] = {
        "lhs": lambda: latin_hypercube(factors, 100 if samples is None else samples, rng=rng),
        "sobol": lambda: sobol(factors, 64 if samples is None else samples, rng=rng),
        "morris": lambda: morris(
            factors, 10 if samples is None else samples, rng=rng, levels=levels
        ),
    }
    return builders[kind]()
