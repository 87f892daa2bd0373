"""Frozen, validated specifications of a species for stochastic projection.

Everything here is a value: frozen, keyword-only dataclasses whose fields are tuples (never ndarrays),
validated once in ``__post_init__``. Invalid input raises :class:`ValueError` (bad value) or
:class:`TypeError` (bad kind) naming the field, the value and the rule. Numpy views of the matrices are
``functools.cached_property`` attributes. The engine (:mod:`pva.engine`) reads these specifications;
nothing here draws random numbers.

Matrices follow Caswell (2001): ``A[to, from]``, ``n(t + 1) = A n(t)``, split as ``A = U + F + C``
(survival and transitions, sexual reproduction, clonal reproduction).

References
----------
Caswell, H. 2001. Matrix Population Models, 2nd ed. Sinauer.
Morris, W.F. & D.F. Doak. 2002. Quantitative Conservation Biology. Sinauer.
Lacy, R.C. 2000. Structure of the VORTEX simulation model for population viability analysis.
    Ecological Bulletins 48:191-203.
Lacy, R.C., P.S. Miller & K. Traylor-Holzer. 2021. Vortex 10 User's Manual. IUCN SSC CPSG.
Akçakaya, H.R. & P. Sjögren-Gulve. 2000. Population viability analyses in conservation planning: an
    overview. Ecological Bulletins 48:9-21 (RAMAS conventions for ceilings and dispersal).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Self, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from pva import analysis, validation
from pva.errors import DensityDependenceWarning, MatrixStructureWarning

FloatArray: TypeAlias = npt.NDArray[np.float64]
Matrix: TypeAlias = tuple[tuple[float, ...], ...]
"""A square matrix as a tuple of rows, ``M[to][from]``."""
ExpressionMatrix: TypeAlias = tuple[tuple[str | float, ...], ...]
"""A matrix whose entries are numbers or vital-rate expressions (see :func:`compile_expression`)."""

_TOL = 1e-9
"""Slack for sums of probabilities that are 1 up to rounding (e.g. published matrices to 4 digits)."""

MAX_COUNT = 2**60
"""The engine's largest count of individuals of one stage in one population (int64 with room for
sums and a year's births); :func:`count_limit` lowers it for many stages and populations."""

MAX_GENERATION_LENGTH = 10_000.0
"""Longest generation length accepted, in years (the Red List's windows are multiples of it)."""


def count_limit(n_stages: int, n_populations: int) -> int:
    """The largest number of individuals the engine holds in one stage of one population of a
    species with ``n_stages`` stages and ``n_populations`` populations: ``min(2**60, 2**62 //
    ((n_stages + 1) n_populations))``, so that the sum over stages and populations, and a year's
    survivors plus births, stay below ``2**63`` (int64). Initial numbers above it are refused;
    a projection that grows beyond it is capped there (see :class:`pva.errors.CountCapWarning`)."""
    return min(MAX_COUNT, 2**62 // ((n_stages + 1) * max(n_populations, 1)))


# --------------------------------------------------------------------------------------------------
# validation: scalars, names and kinds by pva.validation; matrices here


def _matrix(owner: str, field: str, value: object, n: int | None = None) -> Matrix:
    """Coerce a nested sequence (list of rows, ndarray, TOML arrays) to a validated tuple matrix."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(
            f"{owner}: {field} must be a matrix given as a sequence of rows; got {value!r}"
        )
    rows = []
    for row in value:
        if isinstance(row, str) or not isinstance(row, Sequence | np.ndarray):
            raise TypeError(f"{owner}: {field} must be a sequence of rows; got row {row!r}")
        rows.append(tuple(validation.number(x, field, owner=owner) for x in row))
    shape = (len(rows), *sorted({len(r) for r in rows}))
    size = n if n is not None else len(rows)
    if shape != (size, size):
        raise ValueError(
            f"{owner}: {field} must be a {size}x{size} matrix; got rows of shape {shape!r}"
        )
    return tuple(rows)


def _rows(M: FloatArray) -> Matrix:
    """An ndarray as a tuple matrix of floats."""
    return tuple(tuple(float(x) for x in row) for row in M.tolist())


def _set(obj: object, field: str, value: object) -> None:
    object.__setattr__(obj, field, value)


def _to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _to_jsonable(getattr(value, f.name))
        return out
    if isinstance(value, tuple | list):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class _Spec:
    """Mixin: JSON-able dict round trip with validation identical to construction."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (tuples become lists, nested specs carry a ``"type"`` tag)."""
        return _to_jsonable(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, where: str | None = None) -> Self:
        """Rebuild a specification from :meth:`to_dict` output (or a parsed study file).

        Nested specifications are built from their tables by :func:`pva.validation.from_table`
        (their ``"type"`` tag may be left out where only one class fits); an unknown key raises
        :class:`pva.validation.UnknownKeyError` naming the table (``where``, default the class
        name) and the key.
        """
        return validation.from_table(cls, d, where=where or cls.__name__)


# --------------------------------------------------------------------------------------------------
# safe vital-rate expressions


_QUOTED = re.compile(r"`([^`]+)`")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

MAX_EXPRESSION_LENGTH = 1_000
"""Longest vital-rate expression, in characters."""
MAX_EXPRESSION_OPERATORS = 100
"""Most operators (``+ - * /``, unary minus and plus) in one expression."""
MAX_EXPRESSION_DEPTH = 20
"""Deepest nesting of parentheses in one expression."""
MAX_INTEGER_DIGITS = 30
"""Most digits of an integer literal in an expression (a float holds about 17 of them)."""

_ALLOWED_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


@dataclasses.dataclass(frozen=True)
class CompiledExpression:
    """A parsed vital-rate expression: evaluate with ``expr(rates)`` for arrays of rates."""

    source: str
    names: frozenset[str]
    _tree: ast.Expression = dataclasses.field(repr=False, compare=False)
    _aliases: tuple[tuple[str, str], ...] = dataclasses.field(repr=False, compare=False)

    def __call__(self, rates: Mapping[str, Any]) -> Any:
        """Evaluate with ``rates`` mapping each name to a number or an array (broadcast together)."""
        alias = dict(self._aliases)
        return _evaluate(self._tree.body, rates, alias, self.source)


def _evaluate(node: ast.AST, rates: Mapping[str, Any], alias: dict[str, str], source: str) -> Any:
    if isinstance(node, ast.Constant):
        # numbers only (compile_expression); numpy's, so that 1/0 is inf (refused by
        # VitalRates' finiteness check), not a ZeroDivisionError
        return np.float64(cast(float, node.value))
    if isinstance(node, ast.Name):
        return rates[alias.get(node.id, node.id)]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, rates, alias, source)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        op = _ALLOWED_BINOPS[type(node.op)]
        return op(
            _evaluate(node.left, rates, alias, source), _evaluate(node.right, rates, alias, source)
        )
    raise ValueError(f"vital-rate expression {source!r}: unsupported element {ast.dump(node)}")


def _shown(source: str) -> str:
    """An expression for a message: whole if short, else its start and length."""
    return repr(source) if len(source) <= 80 else f"{source[:60]!r}... ({len(source)} characters)"


def _check_size(text: str) -> None:
    """Refuse an expression too long, with too many operators or too deeply nested, before the
    Python parser sees it (the parser and the evaluator recurse, so size is bounded first)."""
    shown = _shown(text)
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ValueError(
            f"vital-rate expression {shown} is too long: at most {MAX_EXPRESSION_LENGTH} "
            "characters are allowed"
        )
    bare = _QUOTED.sub("x", text)  # operators inside backticks belong to names
    # exponents (1e-3) are part of numbers, not operators
    operators = sum(bare.count(c) for c in "+-*/") - len(re.findall(r"\d[eE][+-]", bare))
    if operators > MAX_EXPRESSION_OPERATORS:
        raise ValueError(
            f"vital-rate expression {shown} has {operators} operators: at most "
            f"{MAX_EXPRESSION_OPERATORS} are allowed"
        )
    depth = deepest = 0
    for c in bare:
        depth += (c == "(") - (c == ")")
        deepest = max(deepest, depth)
    if deepest > MAX_EXPRESSION_DEPTH:
        raise ValueError(
            f"vital-rate expression {shown} nests parentheses {deepest} deep: at most "
            f"{MAX_EXPRESSION_DEPTH} levels are allowed"
        )


def _check_constant(value: object, source: str) -> None:
    if not validation.is_number(value):
        raise ValueError(f"vital-rate expression {_shown(source)}: constants must be numbers")
    if isinstance(value, int) and len(str(abs(value))) > MAX_INTEGER_DIGITS:
        raise ValueError(
            f"vital-rate expression {_shown(source)}: an integer has {len(str(abs(value)))} "
            f"digits; at most {MAX_INTEGER_DIGITS} are allowed (write large numbers as 1e40)"
        )
    if not math.isfinite(float(cast(float, value))):
        raise ValueError(
            f"vital-rate expression {_shown(source)}: the constant {value!r} is not finite "
            "(a number beyond 1.8e308 reads as infinity)"
        )


def compile_expression(
    source: str | float, known: Sequence[str] | None = None
) -> CompiledExpression:
    """Parse a vital-rate expression safely (never ``eval``).

    The language has numbers, rate names, ``+ - * /``, unary minus and parentheses, e.g.
    ``"s3 * (1 - g43)"``. Names that are not Python identifiers are written in backticks, e.g.
    ``"s3 * (1 - `g>4,3`)"`` for Morris & Doak's (2002, Box 8.10) growth rates. An expression has
    at most :data:`MAX_EXPRESSION_LENGTH` characters, :data:`MAX_EXPRESSION_OPERATORS` operators,
    :data:`MAX_EXPRESSION_DEPTH` levels of parentheses and integers of at most
    :data:`MAX_INTEGER_DIGITS` digits; every constant is finite.

    Parameters
    ----------
    source
        The expression, or a plain number.
    known
        If given, the rate names the expression may use; others raise :class:`ValueError`.

    Raises
    ------
    ValueError
        On a syntax error, a disallowed construct (calls, attributes, powers, comparisons ...), an
        unknown name, a constant that is not finite or an expression beyond the limits above.
    """
    text = repr(float(source)) if validation.is_number(source) else source
    if not isinstance(text, str):
        raise TypeError(f"a vital-rate expression must be a string or a number; got {source!r}")
    _check_size(text)
    # Backtick-quoted names become identifiers that occur nowhere in the text, so that they can
    # never stand for (or be shadowed by) a rate the user named, such as "__rate0__".
    taken = set(_IDENTIFIER.findall(text))
    aliases: dict[str, str] = {}

    def _quote(match: re.Match[str]) -> str:
        quoted = match.group(1)
        for key, name in aliases.items():
            if name == quoted:
                return key
        k = len(aliases)
        while f"__rate{k}__" in taken:
            k += 1
        key = f"__rate{k}__"
        taken.add(key)
        aliases[key] = quoted
        return key

    try:
        tree = ast.parse(_QUOTED.sub(_quote, text), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"vital-rate expression {_shown(text)} is not valid: {exc.msg}") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(aliases.get(node.id, node.id))
        elif isinstance(node, ast.Constant):
            _check_constant(node.value, text)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _ALLOWED_BINOPS:
                raise ValueError(
                    f"vital-rate expression {_shown(text)}: only + - * / are allowed; "
                    f"got {type(node.op).__name__}"
                )
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise ValueError(
                    f"vital-rate expression {_shown(text)}: only unary minus is allowed"
                )
        elif not isinstance(node, ast.Expression | ast.Load | ast.operator | ast.unaryop):
            raise ValueError(
                f"vital-rate expression {_shown(text)}: {type(node).__name__} is not allowed "
                "(numbers, rate names, + - * / and parentheses only)"
            )
    if known is not None:
        unknown = sorted(names - set(known))
        if unknown:
            raise ValueError(
                f"vital-rate expression {_shown(text)} uses unknown rate(s) {unknown!r}; "
                f"known rates: {list(known)!r}"
            )
    return CompiledExpression(text, frozenset(names), tree, tuple(aliases.items()))


# --------------------------------------------------------------------------------------------------
# vital rates


Distribution = Literal["beta", "lognormal", "stretched_beta", "fixed"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class VitalRate(_Spec):
    """One vital rate: its mean, its between-year SD and the distribution it is drawn from.

    The distributions follow Morris & Doak (2002, ch. 8): beta for probabilities, lognormal or a
    stretched beta (a beta on ``[lower, upper]``) for fecundities; "fixed" never varies.
    """

    name: str
    """Rate name, used in matrix-entry expressions."""
    mean: float
    """Mean of the rate (a probability for beta; offspring per individual per year otherwise)."""
    sd: float = 0.0
    """Standard deviation among years (environmental variation), same units as ``mean``."""
    distribution: Distribution = "beta"
    """Distribution of the annual values."""
    lower: float = 0.0
    """Lower bound of a stretched beta."""
    upper: float = 1.0
    """Upper bound of a stretched beta."""

    def __post_init__(self) -> None:
        validation.name(self.name, "name", owner="VitalRate")
        if "`" in self.name:
            raise ValueError(f"VitalRate: name must not contain backticks; got {self.name!r}")
        own = validation.owner(self)
        validation.one_of(
            self.distribution,
            "distribution",
            ("beta", "lognormal", "stretched_beta", "fixed"),
            owner=own,
        )
        mean = validation.number(self.mean, "mean", owner=own)
        sd = validation.number(self.sd, "sd", owner=own, low=0)
        lower = validation.number(self.lower, "lower", owner=own)
        upper = validation.number(self.upper, "upper", owner=own)
        _set(self, "mean", mean)
        _set(self, "sd", sd)
        _set(self, "lower", lower)
        _set(self, "upper", upper)
        if self.distribution == "beta":
            self._check_beta(own, mean, sd, 0.0, 1.0)
        elif self.distribution == "stretched_beta":
            if not lower < upper:
                raise ValueError(
                    f"{own}: lower must be < upper; got lower={lower!r}, upper={upper!r}"
                )
            self._check_beta(own, mean, sd, lower, upper)
        elif self.distribution == "lognormal":
            if mean <= 0 and sd > 0:
                raise ValueError(
                    f"{own}: mean must be > 0 for a lognormal with sd > 0; got {mean!r}"
                )
            if mean < 0:
                raise ValueError(f"{own}: mean must be >= 0; got {mean!r}")
        elif sd != 0:
            raise ValueError(f"{own}: sd must be 0 for a fixed rate; got {sd!r}")

    @staticmethod
    def _check_beta(own: str, mean: float, sd: float, lower: float, upper: float) -> None:
        if not lower <= mean <= upper:
            raise ValueError(f"{own}: mean must lie in [{lower}, {upper}] for a beta; got {mean!r}")
        # A beta with mean m on [a, b] has variance < (m - a)(b - m) (Morris & Doak 2002, Box 8.3).
        limit = (mean - lower) * (upper - mean)
        if sd > 0 and sd * sd >= limit:
            raise ValueError(
                f"{own}: sd={sd!r} is too large for a beta with mean {mean!r} on [{lower}, {upper}]: "
                f"sd must be < sqrt((mean - lower)(upper - mean)) = {math.sqrt(limit)!r} "
                "(the largest SD possible)"
            )

    @property
    def variable(self) -> bool:
        """Whether the rate varies among years (an SD below 1e-12 counts as none: its square
        underflows the moment formulas and no simulation could tell it from 0)."""
        return self.sd > 1e-12 and self.distribution != "fixed"

    def beta_parameters(self) -> tuple[float, float]:
        """Shape parameters (a, b) of the (stretched) beta with this mean and SD (method of moments,
        Morris & Doak 2002, Box 8.3): ``a = m (m(1-m)/v - 1)``, ``b = (1-m)(m(1-m)/v - 1)`` on the
        unit interval after rescaling to ``[lower, upper]``."""
        width = self.upper - self.lower
        m = (self.mean - self.lower) / width
        v = (self.sd / width) ** 2
        k = m * (1 - m) / v - 1
        return m * k, (1 - m) * k

    def lognormal_parameters(self) -> tuple[float, float]:
        """(mu, sigma) of the log of a lognormal with this mean and SD:
        ``sigma^2 = log(1 + sd^2/mean^2)``, ``mu = log(mean) - sigma^2/2``."""
        s2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - s2 / 2, math.sqrt(s2)

    def quantile(self, z: npt.ArrayLike, *, exact: bool = False) -> FloatArray:
        """The rate's value at standard normal scores ``z`` (any shape): ``F^-1(Phi(z))``.

        This is the Gaussian copula of Morris & Doak (2002, Box 8.10). Lognormal rates are
        ``exp(mu + sigma z)``. Beta and stretched beta rates invert the regularised incomplete beta
        function, from the upper tail for ``z > 0`` so that both tails keep full precision. Unless
        ``exact``, beta quantiles are interpolated linearly in a table over ``z`` in [-8, 8] (16,385
        points; absolute error below 1e-6 for shape parameters >= 0.1 and ~1e-8 for typical shapes),
        about 15 times faster than inverting every draw; shapes below 0.1 are inverted exactly.
        Scores beyond +-8 (probability 1.2e-15) count as +-8. Morris & Doak used a 99-point table.
        """
        zz = np.asarray(z, dtype=float)
        if not self.variable:
            return np.full(zz.shape, self.mean)
        if self.distribution == "lognormal":
            mu, sigma = self.lognormal_parameters()
            return np.exp(mu + sigma * zz)
        # beyond |z| = 8 (probability 1.2e-15) the incomplete-beta inversion can fail to converge
        zz = np.clip(zz, -_Z_MAX, _Z_MAX)
        a, b = self.beta_parameters()
        if exact or min(a, b) < 0.1:
            # near-degenerate U shapes jump at z ~ 0 faster than the table resolves
            x = _beta_quantile(a, b, zz)
        else:
            grid, table = self._beta_table
            # the grid is uniform, so the cell is found by arithmetic rather than bisection
            pos = (zz - grid[0]) * ((grid.size - 1) / (grid[-1] - grid[0]))
            i = np.minimum(pos.astype(np.intp), grid.size - 2)
            w = pos - i
            x = table[i] * (1 - w) + table[i + 1] * w
        return self.lower + (self.upper - self.lower) * x

    @functools.cached_property
    def _beta_table(self) -> tuple[FloatArray, FloatArray]:
        grid = np.linspace(-_Z_MAX, _Z_MAX, 16_385)
        return grid, _beta_quantile(*self.beta_parameters(), grid)


_Z_MAX = 8.0
"""Normal scores are clipped to [-8, 8] before a beta quantile is taken."""


_BETA_NORMAL = 1e6
"""Shape parameters above which a beta is drawn from its normal approximation."""


def _beta_quantile(a: float, b: float, z: FloatArray) -> FloatArray:
    """Quantile of Beta(a, b) at probability Phi(z), accurate in both tails.

    When both shapes exceed 1e6 (an SD below ~5e-4 of the unit interval) the inversion becomes
    slow and the beta is indistinguishable from a normal with its mean and SD: the quantile error
    is about skewness x SD < 1e-6, so the normal quantile is used, clipped to [0, 1].
    """
    if min(a, b) > _BETA_NORMAL:
        mean, sd = a / (a + b), math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        return np.clip(mean + sd * z, 0.0, 1.0)
    import scipy.special  # here, not at the top: a quarter of a second of each worker's start

    lower = scipy.special.betaincinv(a, b, scipy.special.ndtr(np.minimum(z, 0.0)))
    upper = scipy.special.betainccinv(a, b, scipy.special.ndtr(-np.maximum(z, 0.0)))
    return np.where(z <= 0, lower, upper)


def _rate_bounds(rate: VitalRate) -> tuple[float, ...]:
    """The bounds of the values a rate can take in a run: none beyond its mean if it does not vary;
    [0, 1] for a beta, [lower, upper] for a stretched beta, 0 (the infimum) for a lognormal."""
    if not rate.variable:
        return ()
    if rate.distribution == "beta":
        return (0.0, 1.0)
    if rate.distribution == "stretched_beta":
        return (rate.lower, rate.upper)
    return (0.0,)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VitalRates(_Spec):
    """Matrix entries of U, F (and C) as expressions over named vital rates.

    Example (Morris & Doak 2002, Box 8.10; popbio ``hudmxdef``): the tiny -> small entry of
    *Hudsonia montana* is ``"s3 * `g>4,3`"`` and tiny -> tiny is ``"s3 * (1 - `g>4,3`)"``.
    """

    rates: tuple[VitalRate, ...]
    """The vital rates, with means and (for environmental stochasticity) SDs and distributions."""
    U: ExpressionMatrix
    """Survival/transition entries ``U[to][from]``: numbers or expressions."""
    F: ExpressionMatrix
    """Sexual reproduction entries ``F[to][from]``."""
    C: ExpressionMatrix | None = None
    """Clonal reproduction entries, if any."""

    def __post_init__(self) -> None:
        own = validation.owner(self)
        rates = tuple(self.rates)
        for r in rates:
            if not isinstance(r, VitalRate):
                raise TypeError(f"{own}: rates must hold VitalRate objects; got {r!r}")
        validation.names([r.name for r in rates], "rates (names)", owner=own)
        _set(self, "rates", rates)
        names = [r.name for r in rates]
        n = None
        for field in ("U", "F", "C"):
            value = getattr(self, field)
            if value is None:
                continue
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise TypeError(f"{own}: {field} must be a sequence of rows; got {value!r}")
            rows = tuple(
                tuple(float(x) if validation.is_number(x) else x for x in row) for row in value
            )
            size = n if n is not None else len(rows)
            if (len(rows), *sorted({len(r) for r in rows})) != (size, size):
                raise ValueError(f"{own}: {field} must be a {size}x{size} matrix; got {value!r}")
            n = size
            for row in rows:
                for entry in row:
                    compile_expression(entry, names)
            _set(self, field, rows)
        self._check_finite(own)

    def _probes(self) -> tuple[dict[str, FloatArray], list[str]]:
        """Values of the rates to evaluate the expressions at: all at their means, then each
        varying rate alone at each bound of its distribution (others at their means), then all at
        their lower and all at their upper bounds. Returns the values (one array per rate, one
        entry per probe) and a description of each probe."""
        means = {r.name: r.mean for r in self.rates}
        bounds = {r.name: _rate_bounds(r) for r in self.rates}
        probes = [dict(means)]
        labels = ["the rates' means"]
        for r in self.rates:
            for b in bounds[r.name]:
                probes.append({**means, r.name: b})
                labels.append(f"{r.name}={b!r} (a bound of its {r.distribution} distribution)")
        for k, side in ((0, "lower"), (-1, "upper")):
            if any(bounds.values()):
                probes.append({n: (bounds[n][k] if bounds[n] else means[n]) for n in means})
                labels.append(f"every varying rate at its {side} bound")
        values = {n: np.array([p[n] for p in probes], dtype=float) for n in means}
        return values, labels

    def _check_finite(self, own: str) -> None:
        """Every expression is a finite number at the rates' means and at the bounds of their
        distributions (a division by a rate that can be 0, or an overflow, fails here rather than
        as NaN in the middle of a run)."""
        values, labels = self._probes()
        for field, entries in self.compiled.items():
            for (i, j), expr in entries:
                with np.errstate(all="ignore"):
                    v = np.broadcast_to(np.asarray(expr(values), dtype=float), (len(labels),))
                bad = ~np.isfinite(v)
                if bad.any():
                    k = int(np.argmax(bad))
                    raise ValueError(
                        f"{own}: {field}[{i}][{j}] = {_shown(expr.source)} must be a finite number "
                        f"at every value the rates can take; it is {float(v[k])!r} at {labels[k]} "
                        "(a division by zero or an overflow)"
                    )

    @functools.cached_property
    def n_stages(self) -> int:
        return len(self.U)

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rates)

    @functools.cached_property
    def means(self) -> dict[str, float]:
        return {r.name: r.mean for r in self.rates}

    @functools.cached_property
    def compiled(self) -> dict[str, tuple[tuple[tuple[int, int], CompiledExpression], ...]]:
        """For U, F, C: the non-constant entries ((to, from), expression)."""
        out: dict[str, tuple[tuple[tuple[int, int], CompiledExpression], ...]] = {}
        for field in ("U", "F", "C"):
            value = getattr(self, field)
            entries = []
            if value is not None:
                for i, row in enumerate(value):
                    for j, entry in enumerate(row):
                        if isinstance(entry, str):
                            entries.append(((i, j), compile_expression(entry, self.names)))
            out[field] = tuple(entries)
        return out

    def matrices(self, rates: Mapping[str, Any]) -> dict[str, FloatArray]:
        """Evaluate U, F and C for rates given as numbers or arrays of shape ``batch``.

        Returns arrays of shape ``batch + (n, n)``; vectorised over the batch (e.g. replicates).
        """
        batch = np.broadcast_shapes(*(np.shape(v) for v in rates.values())) if rates else ()
        out: dict[str, FloatArray] = {}
        n = self.n_stages
        for field in ("U", "F", "C"):
            value = getattr(self, field)
            M = np.zeros((*batch, n, n))
            if value is not None:
                for i, row in enumerate(value):
                    for j, entry in enumerate(row):
                        if not isinstance(entry, str):
                            M[..., i, j] = entry
                for (i, j), expr in self.compiled[field]:
                    M[..., i, j] = expr(rates)
            out[field] = M
        return out


# --------------------------------------------------------------------------------------------------
# environmental stochasticity


@dataclasses.dataclass(frozen=True, kw_only=True)
class MatrixSelection(_Spec):
    """Environmental stochasticity by choosing one of several annual matrices each year.

    States are drawn iid with ``probabilities`` or as a Markov chain with ``transition`` (Caswell 2001,
    section 14.3; Tuljapurkar 1990), the same for all populations of a replicate.
    """

    U: tuple[Matrix, ...]
    """Survival/transition matrix of each environmental state."""
    F: tuple[Matrix, ...]
    """Reproduction matrix of each state."""
    C: tuple[Matrix, ...] | None = None
    """Clonal reproduction matrix of each state, if any."""
    names: tuple[str, ...] | None = None
    """State names (e.g. years), for provenance."""
    probabilities: tuple[float, ...] | None = None
    """iid probabilities of the states (default equal); ignored when ``transition`` is given, except
    as the distribution of the first year's state (default: the stationary distribution)."""
    transition: Matrix | None = None
    """Markov chain ``P[to][from]`` between states (columns sum to 1)."""

    def __post_init__(self) -> None:
        own = validation.owner(self)
        for field in ("U", "F", "C"):
            value = getattr(self, field)
            if value is not None and (
                isinstance(value, str | Mapping) or not isinstance(value, Sequence | np.ndarray)
            ):
                raise TypeError(f"{own}: {field} must be a list of matrices; got {value!r}")
        if not self.U:
            raise ValueError(f"{own}: U must hold at least one matrix; got {self.U!r}")
        k = len(self.U)
        first = self.U[0]
        if isinstance(first, str | Mapping) or not isinstance(first, Sequence | np.ndarray):
            raise TypeError(f"{own}: U must be a list of matrices; got {self.U!r}")
        n = len(first)
        _set(self, "U", tuple(_matrix(own, f"U[{i}]", m, n) for i, m in enumerate(self.U)))
        for field in ("F", "C"):
            value = getattr(self, field)
            if value is None:
                continue
            if len(value) != k:
                raise ValueError(f"{own}: {field} must hold {k} matrices like U; got {len(value)}")
            _set(
                self, field, tuple(_matrix(own, f"{field}[{i}]", m, n) for i, m in enumerate(value))
            )
        for i, m in enumerate(self.U):
            _check_survival(own, f"U[{i}]", np.asarray(m))
        for field in ("F", "C"):
            for i, m in enumerate(getattr(self, field) or ()):
                if np.any(np.asarray(m) < 0):
                    raise ValueError(f"{own}: {field}[{i}] must be >= 0; got {m!r}")
        if self.names is not None:
            names = validation.names(self.names, "names", owner=own)
            if len(names) != k:
                raise ValueError(f"{own}: names must name {k} states; got {names!r}")
            _set(self, "names", names)
        if self.probabilities is not None:
            p = tuple(
                validation.probability(x, "probabilities", owner=own) for x in self.probabilities
            )
            if len(p) != k or abs(sum(p) - 1) > 1e-6:
                raise ValueError(
                    f"{own}: probabilities must be {k} probabilities summing to 1; got {p!r}"
                )
            _set(self, "probabilities", p)
        if self.transition is not None:
            P = _matrix(own, "transition", self.transition, k)
            arr = np.asarray(P)
            if np.any(arr < 0) or np.any(np.abs(arr.sum(axis=0) - 1) > 1e-6):
                raise ValueError(
                    f"{own}: transition must have non-negative columns summing to 1 (P[to][from]); "
                    f"got {P!r}"
                )
            _set(self, "transition", P)

    @classmethod
    def from_matrices(
        cls,
        matrices: Sequence[npt.ArrayLike],
        *,
        reproduction: npt.ArrayLike,
        names: Sequence[str] | None = None,
        probabilities: Sequence[float] | None = None,
        transition: Matrix | None = None,
    ) -> MatrixSelection:
        """Split whole matrices ``A`` into U and F with a boolean ``reproduction`` mask ``[to][from]``
        (True where an entry counts offspring)."""
        mask = np.asarray(reproduction, dtype=bool)
        As = [np.asarray(A, dtype=float) for A in matrices]
        return cls(
            U=tuple(np.where(mask, 0.0, A).tolist() for A in As),
            F=tuple(np.where(mask, A, 0.0).tolist() for A in As),
            names=None if names is None else tuple(names),
            probabilities=None if probabilities is None else tuple(probabilities),
            transition=transition,
        )

    @functools.cached_property
    def n_states(self) -> int:
        return len(self.U)

    @functools.cached_property
    def U_stack(self) -> FloatArray:
        """Shape (states, n, n)."""
        return np.asarray(self.U, dtype=float)

    @functools.cached_property
    def F_stack(self) -> FloatArray:
        return np.asarray(self.F, dtype=float)

    @functools.cached_property
    def C_stack(self) -> FloatArray:
        return np.zeros_like(self.U_stack) if self.C is None else np.asarray(self.C, dtype=float)

    @functools.cached_property
    def weights(self) -> FloatArray:
        """Long-run frequency of each state: the stationary distribution of ``transition`` or the iid
        probabilities."""
        if self.transition is not None:
            P = np.asarray(self.transition)
            w, v = np.linalg.eig(P)
            x = np.abs(np.real(v[:, np.argmin(np.abs(w - 1))]))
            return x / x.sum()
        if self.probabilities is not None:
            return np.asarray(self.probabilities, dtype=float)
        return np.full(self.n_states, 1.0 / self.n_states)

    @functools.cached_property
    def initial_probabilities(self) -> FloatArray:
        """Distribution of the first year's state."""
        if self.probabilities is not None:
            return np.asarray(self.probabilities, dtype=float)
        return self.weights


@dataclasses.dataclass(frozen=True, kw_only=True)
class VitalRateStochasticity(_Spec):
    """Environmental stochasticity by drawing vital rates every year (Morris & Doak 2002, ch. 8).

    Each variable rate of :attr:`Species.vital_rates` (``sd > 0``) is drawn every year from its
    distribution (beta, lognormal or stretched beta with its mean and SD) through a Gaussian copula:
    normal scores ``z`` with correlation matrix ``correlation`` within a year are mapped through the
    standard normal CDF and the rate's quantile function, as Morris & Doak (2002, Box 8.10) do. The
    correlations are those of the normal scores; Spearman rank correlations of the rates are then
    ``(6/pi) arcsin(r/2)`` (the Gaussian copula).

    Between years, either

    * each score follows an AR(1) with coefficient ``autocorrelation`` (stationary, so the within-year
      correlations are kept exactly), or
    * ``between_year_correlation`` (Morris & Doak's ``corrout``) enters their multi-year correlation
      matrix over ``span`` years (lag-d blocks ``corrout^d``), negative eigenvalues of which are set to
      0 and the result rescaled to a correlation matrix, as in their ``vitalsim`` (Box 8.10); scores
      are then a moving window of iid normals times rows of its square root. The realised
      correlations are those of the corrected matrix (:attr:`window_correlation`), which differ from
      the given ones when those are not jointly possible (as for *Hudsonia*).
    """

    rates: tuple[str, ...] | None = None
    """Order of the rows of the correlation matrices (default: the variable rates in the order of
    ``Species.vital_rates``). Variable rates not listed are drawn independently."""
    correlation: Matrix | None = None
    """Within-year correlation of the normal scores (default identity)."""
    autocorrelation: float = 0.0
    """AR(1) coefficient of every rate's normal score between years, in (-1, 1)."""
    between_year_correlation: Matrix | None = None
    """Morris & Doak's ``corrout``: entry [i][j] is the correlation of rate i in year t + 1 with rate j
    in year t, as their ``vitalsim`` builds the multi-year matrix; replaces ``autocorrelation``."""
    span: int = 20
    """Years in Morris & Doak's multi-year correlation matrix (their ``yrspan``)."""

    def __post_init__(self) -> None:
        own = validation.owner(self)
        if self.rates is not None:
            _set(self, "rates", validation.names(self.rates, "rates", owner=own))
        phi = validation.number(
            self.autocorrelation,
            "autocorrelation",
            owner=own,
            low=-1,
            high=1,
            low_open=True,
            high_open=True,
        )
        _set(self, "autocorrelation", phi)
        if self.between_year_correlation is not None and phi != 0:
            raise ValueError(
                f"{own}: give autocorrelation or between_year_correlation, not both; "
                f"got autocorrelation={phi!r}"
            )
        # the window's "next year" block lies two blocks past the middle (vitalsim)
        _set(self, "span", validation.integer(self.span, "span", owner=own, minimum=4))
        for field in ("correlation", "between_year_correlation"):
            value = getattr(self, field)
            if value is None:
                continue
            if self.rates is None:
                raise ValueError(f"{own}: {field} needs `rates` naming its rows; got rates=None")
            M = _matrix(own, field, value, len(self.rates))
            arr = np.asarray(M)
            if np.any(np.abs(arr) > 1 + _TOL):
                raise ValueError(f"{own}: {field} entries must lie in [-1, 1]; got {M!r}")
            _set(self, field, M)
        if self.correlation is not None:
            R = np.asarray(self.correlation)
            if not np.allclose(R, R.T) or not np.allclose(np.diag(R), 1):
                raise ValueError(
                    f"{own}: correlation must be symmetric with a unit diagonal; got {R.tolist()!r}"
                )
            smallest = float(np.linalg.eigvalsh(R).min())
            if smallest < -1e-8:
                raise ValueError(
                    f"{own}: correlation must be positive semi-definite; got smallest eigenvalue "
                    f"{smallest!r}"
                )

    @functools.cached_property
    def within_year_root(self) -> FloatArray:
        """L with ``L L' = correlation``, shape (k, k) for the k listed rates."""
        k = len(self.rates or ())
        if self.correlation is None:
            return np.eye(k)
        return _sqrt_psd(np.asarray(self.correlation, dtype=float))

    @functools.cached_property
    def window_correlation(self) -> FloatArray | None:
        """Morris & Doak's corrected multi-year correlation matrix, shape (span k, span k)."""
        if self.between_year_correlation is None:
            return None
        k = len(self.rates or ())
        Cin = np.eye(k) if self.correlation is None else np.asarray(self.correlation, dtype=float)
        Cout = np.asarray(self.between_year_correlation, dtype=float)
        span = self.span
        M = np.empty((span * k, span * k))
        for i in range(span):
            for j in range(span):
                if i == j:
                    block = Cin
                elif i > j:
                    block = np.linalg.matrix_power(Cout, i - j)
                else:
                    block = np.linalg.matrix_power(Cout.T, j - i)
                M[i * k : (i + 1) * k, j * k : (j + 1) * k] = block
        w, v = np.linalg.eigh((M + M.T) / 2)
        if w.min() < 0:
            # Morris & Doak (2002, Box 8.10): zero every eigenvalue no larger than the most negative
            # one in magnitude, then rescale the covariance back to a correlation matrix.
            w = np.where(w <= abs(w.min()), 0.0, w)
            M = (v * w) @ v.T
            d = np.sqrt(np.diag(M))
            with np.errstate(divide="ignore", invalid="ignore"):
                M = np.where(np.outer(d, d) > 0, M / np.outer(d, d), 0.0)
        return M

    @functools.cached_property
    def window_rows(self) -> FloatArray | None:
        """Rows of the square root of :attr:`window_correlation` that make next year's scores from
        a window of ``span k`` iid normals (the block after the middle, as in ``vitalsim``)."""
        M = self.window_correlation
        if M is None:
            return None
        k = len(self.rates or ())
        w, v = np.linalg.eigh((M + M.T) / 2)
        root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T  # the symmetric square root W D^1/2 W'
        start = round(self.span / 2) * k
        return root[start + k : start + 2 * k]


def _sqrt_psd(S: FloatArray) -> FloatArray:
    """A square root L with L L' = S for a positive semi-definite S (eigen-decomposition, so
    singular matrices such as perfect correlations are allowed)."""
    w, v = np.linalg.eigh((S + S.T) / 2)
    return v * np.sqrt(np.clip(w, 0, None))


Environment: TypeAlias = MatrixSelection | VitalRateStochasticity | None


# --------------------------------------------------------------------------------------------------
# catastrophes, density dependence, mating


@dataclasses.dataclass(frozen=True, kw_only=True)
class Catastrophe(_Spec):
    """A catastrophe type: strikes with an annual probability, multiplying vital rates and K.

    Drawn independently per replicate, year and (with ``scope="population"``) population from the
    catastrophes stream (Mangel & Tier 1994; RAMAS Metapop and VORTEX conventions: a multiplicative,
    single-year effect on survival, reproduction and carrying capacity).
    """

    name: str
    probability: float
    """Annual probability of striking."""
    survival_multiplier: float | tuple[float, ...] = 1.0
    """Multiplier of survival (columns of U) in a year it strikes, one number or one per stage."""
    fecundity_multiplier: float | tuple[float, ...] = 1.0
    """Multiplier of fecundity (columns of F and C), one number or one per stage."""
    carrying_capacity_multiplier: float = 1.0
    """Multiplier of K in a year it strikes."""
    scope: Literal["population", "species"] = "population"
    """"population": each population is struck independently; "species": all at once."""

    def __post_init__(self) -> None:
        validation.name(self.name, "name", owner="Catastrophe")
        own = validation.owner(self)
        _set(
            self, "probability", validation.probability(self.probability, "probability", owner=own)
        )
        for field in ("survival_multiplier", "fecundity_multiplier"):
            value = getattr(self, field)
            if validation.is_number(value):
                _set(self, field, validation.number(value, field, owner=own, low=0))
            else:
                if isinstance(value, str) or not isinstance(value, Sequence):
                    raise TypeError(f"{own}: {field} must be a number or a sequence; got {value!r}")
                _set(
                    self, field, tuple(validation.number(x, field, owner=own, low=0) for x in value)
                )
        _set(
            self,
            "carrying_capacity_multiplier",
            validation.number(
                self.carrying_capacity_multiplier, "carrying_capacity_multiplier", owner=own, low=0
            ),
        )
        validation.one_of(self.scope, "scope", ("population", "species"), owner=own)


DensityKind = Literal["ceiling", "beverton_holt", "ricker", "theta_logistic", "vortex_breeding"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class DensityDependence(_Spec):
    """Density dependence relative to each population's carrying capacity K.

    With ``x = N_w / K`` (``N_w`` the abundance weighted by ``weights``, at the start of the year),
    the chosen vital rates are multiplied by

    * ``"ceiling"``: 1; instead, after dispersal, ``N_w`` is truncated to K (RAMAS "ceiling";
      Akçakaya 2000). Excess individuals are removed at random across the counted stages.
    * ``"beverton_holt"``: ``1 / (1 + b x)`` (Beverton & Holt 1957; Caswell 2001, ch. 16);
    * ``"ricker"``: ``exp(-b x)`` (Ricker 1954);
    * ``"theta_logistic"``: ``exp(-b x^theta)`` (Gilpin & Ayala 1973; for one stage with
      ``lambda = e^r`` and ``b = r`` this is ``N' = N exp(r (1 - (N/K)^theta))``);
    * ``"vortex_breeding"`` (fecundity only): ``P(N) / P0`` with
      ``P(N) = (P0 - (P0 - PK) x^B) N / (A + N)`` (Lacy et al., Vortex manual: density-dependent
      breeding with Allee parameter A and steepness B); ``F`` is the fecundity at low density.
      As in VORTEX, which always truncates the population to K as well (Lacy 2000), this kind
      also has the ceiling unless ``ceiling=False``.

    For the three scalings, ``strength`` b defaults to the value that makes the mean deterministic
    model stationary (λ = 1) at ``N_w = K``: for fecundity ``g* = 1/R0`` (Caswell 2001, section 5.3.4:
    λ = 1 exactly when R0 = 1), for survival found by bisection on λ; then b = 1/g* - 1 (Beverton-Holt)
    or -log g* (Ricker, theta-logistic).

    A mate-finding Allee effect (Dennis 1989; McCarthy 1997) multiplies fecundity by
    ``N_w / (allee + N_w)`` whatever the kind.
    """

    kind: DensityKind = "ceiling"
    """The form of density dependence (see the class docstring)."""
    applies_to: tuple[Literal["fecundity", "survival"], ...] = ("fecundity",)
    """Which vital rates the scaling multiplies."""
    weights: tuple[float, ...] | None = None
    """Weight of each stage in the abundance that counts (default 1 for every stage)."""
    strength: float | None = None
    """b above; None = stationary at K (see class docstring)."""
    theta: float = 1.0
    """Exponent of the theta-logistic."""
    breeding_low: float = 1.0
    """VORTEX P0: proportion breeding at low density."""
    breeding_at_k: float = 1.0
    """VORTEX PK: proportion breeding at K."""
    steepness: float = 2.0
    """VORTEX B."""
    allee: float = 0.0
    """Allee parameter A (individuals of weighted abundance at which fecundity is halved)."""
    ceiling: bool | None = None
    """Also truncate to K at the end of the year (default: for kinds "ceiling" and
    "vortex_breeding", not for the three scalings, whose own equilibrium is K)."""

    def __post_init__(self) -> None:
        own = validation.owner(self)
        validation.one_of(
            self.kind,
            "kind",
            ("ceiling", "beverton_holt", "ricker", "theta_logistic", "vortex_breeding"),
            owner=own,
        )
        applies = (self.applies_to,) if isinstance(self.applies_to, str) else tuple(self.applies_to)
        for a in applies:
            validation.one_of(a, "applies_to", ("fecundity", "survival"), owner=own)
        if not applies:
            raise ValueError(
                f"{own}: applies_to must name fecundity and/or survival; got {self.applies_to!r}"
            )
        if self.kind == "vortex_breeding" and applies != ("fecundity",):
            raise ValueError(
                f"{own}: applies_to must be ('fecundity',) for vortex_breeding; got {applies!r}"
            )
        _set(self, "applies_to", applies)
        if self.weights is not None:
            w = validation.numbers(self.weights, "weights", owner=own, low=0)
            if not any(w):
                raise ValueError(f"{own}: weights must not all be 0; got {w!r}")
            _set(self, "weights", w)
        if self.strength is not None:
            _set(self, "strength", validation.number(self.strength, "strength", owner=own, low=0))
        _set(self, "theta", validation.number(self.theta, "theta", owner=own, low=0, low_open=True))
        _set(
            self,
            "breeding_low",
            validation.probability(self.breeding_low, "breeding_low", owner=own),
        )
        _set(
            self,
            "breeding_at_k",
            validation.probability(self.breeding_at_k, "breeding_at_k", owner=own),
        )
        if self.kind == "vortex_breeding" and self.breeding_low == 0:
            raise ValueError(
                f"{own}: breeding_low must be > 0 for vortex_breeding; got {self.breeding_low!r}"
            )
        _set(self, "steepness", validation.number(self.steepness, "steepness", owner=own, low=0))
        _set(self, "allee", validation.number(self.allee, "allee", owner=own, low=0))
        if self.ceiling is None:
            _set(self, "ceiling", self.kind in ("ceiling", "vortex_breeding"))
        else:
            validation.flag(self.ceiling, "ceiling", owner=own)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Mating(_Spec):
    """Females-only dynamics with a mating-limited birth rate (Caswell & Weeks 1986; Caswell 2001,
    ch. 17; Lindström & Kokko 1998; VORTEX's monogamous/polygynous breeding).

    The species' matrices describe females (F = female offspring per female). Males are not
    projected: each year the number of mature males is drawn as Poisson with mean
    ``mature females x (1 - sex_ratio) / sex_ratio`` (its expectation without demographic
    stochasticity), and only mated females breed: ``min(females, males)`` for monogamy,
    ``min(females, harem_size x males)`` for polygyny.
    """

    system: Literal["monogamous", "polygynous"] = "monogamous"
    sex_ratio: float = 0.5
    """Proportion of females at birth (and among mature individuals)."""
    harem_size: float = 1.0
    """Females one male can mate with per year (polygyny)."""

    def __post_init__(self) -> None:
        own = validation.owner(self)
        validation.one_of(self.system, "system", ("monogamous", "polygynous"), owner=own)
        r = validation.probability(self.sex_ratio, "sex_ratio", owner=own)
        if not 0 < r < 1:
            raise ValueError(f"{own}: sex_ratio must lie strictly between 0 and 1; got {r!r}")
        _set(self, "sex_ratio", r)
        h = validation.number(self.harem_size, "harem_size", owner=own, low=1)
        if self.system == "monogamous" and h != 1:
            raise ValueError(f"{own}: harem_size must be 1 for monogamy; got {h!r}")
        _set(self, "harem_size", h)


# --------------------------------------------------------------------------------------------------
# populations, dispersal


@dataclasses.dataclass(frozen=True, kw_only=True)
class Population(_Spec):
    """One population (site) of a species."""

    name: str = "main"
    initial: tuple[int, ...] | None = None
    """Initial individuals per stage."""
    initial_total: int | None = None
    """Initial individuals, spread over stages by the stable stage distribution."""
    carrying_capacity: float | None = None
    """K in individuals of weighted abundance (see :class:`DensityDependence`); None = unlimited."""
    carrying_capacity_cv: float = 0.0
    """Coefficient of variation of K among years (lognormal with mean K; environment stream)."""
    carrying_capacity_trend: float = 0.0
    """Trend of K in percent per year: ``K_t = K (1 + trend/100)^t``."""
    coordinates: tuple[float, float] | None = None
    """Position of the site (x, y) in km on a planar projection; needed for correlation or
    dispersal that follow distance (:class:`SiteCorrelation`, :class:`DispersalKernel`)."""

    def __post_init__(self) -> None:
        validation.name(self.name, "name", owner="Population")
        own = validation.owner(self)
        if self.coordinates is not None:
            xy = validation.numbers(
                self.coordinates, "coordinates (x, y in km)", owner=own, length=2
            )
            _set(self, "coordinates", xy)
        if self.initial is not None and self.initial_total is not None:
            raise ValueError(f"{own}: give initial or initial_total, not both")
        if self.initial is not None:
            _set(
                self, "initial", validation.integers(self.initial, "initial", owner=own, minimum=0)
            )
        if self.initial_total is not None:
            total = validation.integer(self.initial_total, "initial_total", owner=own, minimum=0)
            _set(self, "initial_total", total)
        if self.carrying_capacity is not None:
            _set(
                self,
                "carrying_capacity",
                validation.number(self.carrying_capacity, "carrying_capacity", owner=own, low=0),
            )
        _set(
            self,
            "carrying_capacity_cv",
            validation.number(self.carrying_capacity_cv, "carrying_capacity_cv", owner=own, low=0),
        )
        # percent per year: -100 would wipe K out in one year
        trend = validation.number(
            self.carrying_capacity_trend,
            "carrying_capacity_trend",
            owner=own,
            low=-100,
            low_open=True,
        )
        _set(self, "carrying_capacity_trend", trend)


def distances(coordinates: Sequence[tuple[float, float]]) -> FloatArray:
    """Euclidean distances between sites (km), shape (sites, sites), from their (x, y) in km."""
    xy = np.asarray(coordinates, dtype=float).reshape(-1, 2)
    return cast(FloatArray, np.hypot(*np.moveaxis(xy[:, None, :] - xy[None, :, :], -1, 0)))


@dataclasses.dataclass(frozen=True, kw_only=True)
class DispersalKernel(_Spec):
    """Dispersal rates that fall with distance: RAMAS Metapop's dispersal-distance function
    ``m_ij = a exp(-d_ij^c / b)`` for ``d_ij <= Dmax``, else 0 (Akçakaya & Root 2005, RAMAS
    Metapop 5 manual; Akçakaya 2000), with ``a = rate``, ``b = scale``, ``c = exponent`` and
    ``Dmax = maximum_distance``. ``m_ij`` is the annual probability that an individual of a
    dispersing stage moves from site j to site i; the distances come from the sites'
    ``coordinates``."""

    rate: float
    """``a``: the rate at distance 0, in [0, 1]."""
    scale: float
    """``b``: in km^c (with ``exponent`` 1, the distance at which the rate falls to a / e), > 0."""
    exponent: float = 1.0
    """``c``: shape of the decline (1: exponential, 2: Gaussian), > 0."""
    maximum_distance: float | None = None
    """``Dmax`` in km: no dispersal between sites farther apart (None: no limit)."""

    def __post_init__(self) -> None:
        own = validation.owner(self)
        _set(self, "rate", validation.probability(self.rate, "rate", owner=own))
        _set(self, "scale", validation.number(self.scale, "scale", owner=own, low=0, low_open=True))
        _set(
            self,
            "exponent",
            validation.number(self.exponent, "exponent", owner=own, low=0, low_open=True),
        )
        if self.maximum_distance is not None:
            _set(
                self,
                "maximum_distance",
                validation.number(self.maximum_distance, "maximum_distance", owner=own, low=0),
            )

    def rates(self, d: FloatArray) -> FloatArray:
        """``m[i, j]`` for the distances ``d`` (km), shape of ``d``; 0 on the diagonal."""
        m = self.rate * np.exp(-(d**self.exponent) / self.scale)
        if self.maximum_distance is not None:
            m = np.where(d <= self.maximum_distance, m, 0.0)
        np.fill_diagonal(m, 0.0)
        return cast(FloatArray, m)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Dispersal(_Spec):
    """Annual dispersal among populations (RAMAS Metapop conventions; Akçakaya 2000).

    ``rates[i][j]`` (or a :class:`DispersalKernel` of the distances between the sites) is the
    probability that an individual of a dispersing stage moves from population j to population i
    in a year; it stays with probability ``1 - sum_i rates[i][j]``. The diagonal is 0. Each stage's
    rates are multiplied by its ``relative_rates`` entry (RAMAS's relative dispersal by stage), and,
    with ``density_dependent``, by ``min(1, N_j / K_j)`` of the source j (``N_j`` its weighted
    abundance at the start of the year): emigration falls linearly to 0 as the source empties and
    is at its full rate at K and above; a source without K always disperses at the full rate. A
    disperser dies in transit with probability ``mortality``, after the moves are drawn (so the
    moves themselves conserve individuals).
    """

    rates: Matrix | None = None
    """Dispersal matrix ``rates[to][from]`` (or give ``kernel``)."""
    kernel: DispersalKernel | None = None
    """Rates from the distances between the sites' coordinates (instead of ``rates``)."""
    stages: tuple[str, ...] | None = None
    """Stages that disperse (default all); not with ``relative_rates``."""
    relative_rates: tuple[float, ...] | None = None
    """Multiplier of the rates for each stage, in [0, 1] (one per stage of the species)."""
    mortality: float = 0.0
    """Probability that a disperser dies in transit."""
    density_dependent: bool = False
    """Emigration scales with the source's ``min(1, N/K)`` (see the class docstring)."""

    def __post_init__(self) -> None:
        own = validation.owner(self)
        if (self.rates is None) == (self.kernel is None):
            raise ValueError(
                f"{own}: give exactly one of rates or kernel; got rates={self.rates!r}, "
                f"kernel={self.kernel!r}"
            )
        if self.rates is not None:
            M = _matrix(own, "rates", self.rates)
            _check_dispersal_rates(own, "rates", np.asarray(M))
            _set(self, "rates", M)
        else:
            validation.instance(self.kernel, "kernel", DispersalKernel, owner=own)
        if self.stages is not None:
            _set(self, "stages", validation.names(self.stages, "stages", owner=own))
        if self.relative_rates is not None:
            if self.stages is not None:
                raise ValueError(
                    f"{own}: give stages or relative_rates, not both; got stages={self.stages!r}"
                )
            _set(
                self,
                "relative_rates",
                validation.numbers(self.relative_rates, "relative_rates", owner=own, low=0, high=1),
            )
        _set(self, "mortality", validation.probability(self.mortality, "mortality", owner=own))
        validation.flag(self.density_dependent, "density_dependent", owner=own)


def _check_dispersal_rates(own: str, field: str, arr: FloatArray) -> None:
    if np.any(arr < 0) or np.any(arr > 1):
        raise ValueError(f"{own}: {field} must be probabilities in [0, 1]; got {arr.tolist()!r}")
    if np.any(np.diag(arr) != 0):
        raise ValueError(
            f"{own}: {field} must have a zero diagonal (staying is 1 - column sum); got "
            f"{arr.tolist()!r}"
        )
    sums = arr.sum(axis=0)
    if np.any(sums > 1 + _TOL):
        raise ValueError(
            f"{own}: {field} columns (from population j) must sum to <= 1; got sums "
            f"{sums.tolist()!r}"
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SiteCorrelation(_Spec):
    """Correlation of the environment between sites (populations): a matrix, or a function of
    distance, RAMAS Metapop's correlation-distance function ``C_ij = a exp(-d_ij^c / b)``
    (Akçakaya & Root 2005; ``a = maximum``, ``b = scale``, ``c = exponent``; the diagonal is 1).

    The engine draws the normal scores of the environment of each site jointly with these
    correlations (a Gaussian copula): the uniform that picks a :class:`MatrixSelection` state is
    ``Phi(z_p)`` at site p, and the scores of :class:`VitalRateStochasticity` have correlation
    ``C_pq R_kl`` between rate k at site p and rate l at site q (``R`` the within-year correlation
    of the rates); carrying-capacity variation is correlated the same way. Without it every site
    shares one environment (correlation 1), as before. Catastrophes keep their own ``scope``.
    """

    matrix: Matrix | None = None
    """Correlation matrix between the sites, in the order of the species' populations."""
    scale: float | None = None
    """``b``: in km^c (with ``exponent`` 1, the distance at which the correlation is a / e)."""
    exponent: float = 1.0
    """``c``: in (0, 2], so that the function gives a valid (positive semi-definite) correlation
    matrix for any sites in the plane (the powered-exponential family)."""
    maximum: float = 1.0
    """``a``: correlation at distance 0 between two distinct sites, in [0, 1]."""

    def __post_init__(self) -> None:
        own = validation.owner(self)
        if (self.matrix is None) == (self.scale is None):
            raise ValueError(
                f"{own}: give exactly one of matrix or scale; got matrix={self.matrix!r}, "
                f"scale={self.scale!r}"
            )
        if self.matrix is not None:
            M = _matrix(own, "matrix", self.matrix)
            _check_correlation(own, "matrix", np.asarray(M))
            _set(self, "matrix", M)
        else:
            _set(
                self,
                "scale",
                validation.number(self.scale, "scale", owner=own, low=0, low_open=True),
            )
        _set(
            self,
            "exponent",
            validation.number(self.exponent, "exponent", owner=own, low=0, high=2, low_open=True),
        )
        _set(self, "maximum", validation.probability(self.maximum, "maximum", owner=own))

    def correlations(self, d: FloatArray | None) -> FloatArray:
        """The correlation matrix for sites at distances ``d`` (km), or the given matrix."""
        if self.matrix is not None:
            return np.asarray(self.matrix, dtype=float)
        C = self.maximum * np.exp(-(np.asarray(d) ** self.exponent) / cast(float, self.scale))
        np.fill_diagonal(C, 1.0)
        return cast(FloatArray, C)


def _check_correlation(own: str, field: str, R: FloatArray) -> None:
    if np.any(np.abs(R) > 1 + _TOL) or not np.allclose(R, R.T) or not np.allclose(np.diag(R), 1):
        raise ValueError(
            f"{own}: {field} must be symmetric with a unit diagonal and entries in [-1, 1]; got "
            f"{R.tolist()!r}"
        )
    smallest = float(np.linalg.eigvalsh(R).min())
    if smallest < -1e-8:
        raise ValueError(
            f"{own}: {field} must be positive semi-definite; got smallest eigenvalue {smallest!r}"
        )


# --------------------------------------------------------------------------------------------------
# genetics


@dataclasses.dataclass(frozen=True, kw_only=True)
class Genetics(_Spec):
    """Gene diversity, inbreeding and inbreeding depression, per replicate and site.

    Gene diversity H (expected heterozygosity, relative to the species' reference H0 = 1) is lost
    by drift at the rate the effective size sets, per generation ``H' = H (1 - 1/(2 Ne))``
    (Wright 1931; Crow & Kimura 1970), spread over the generation length G in years:
    ``H_{t+1} = H_t (1 - 1/(2 Ne_t))^(1/G)`` each year, with ``Ne_t`` the effective size of the
    year's breeders. Over many years the product gives the harmonic mean of the yearly Ne, as
    theory has it for a fluctuating population (Wright 1938); the yearly spreading is the
    approximation (exact for G = 1, non-overlapping generations). Ne is ``effective_size_ratio``
    times the mature individuals, or from the realised numbers of breeding males and females and
    the variance in family size (:func:`pva.genetics.effective_size`). Inbreeding is
    ``F = 1 - H / H0``.

    Inbreeding depression multiplies the survival of the first-year ``stages`` (and fecundity) by
    ``exp(-B ((1 - p) F + p g))`` (Morton et al. 1956's lethal equivalents B): a share ``p``
    (``lethal_proportion``) of B is due to recessive lethals, which selection purges, the rest
    (e.g. overdominance) cannot be purged, as in VORTEX (Lacy 2000; Lacy et al. 2015). Purging is
    García-Dorado's (2012) purged inbreeding coefficient ``g``, per generation
    ``g' = [(1 - 1/(2 Ne)) g + 1/(2 Ne)] (1 - 2 d F)`` with purging coefficient ``d`` (0.5 for
    recessive lethals); per year as above, both factors to the power 1/G. See
    :mod:`pva.genetics` for each formula and its source.
    """

    lethal_equivalents: float = 6.29
    """B, diploid lethal equivalents on first-year survival. 6.29 is VORTEX 10's default (Lacy et
    al. 2015), which that manual takes from O'Grady et al.'s (2006) meta-analysis of wild birds and
    mammals as the share of their overall estimate that acts on fecundity and first-year survival;
    across the whole life history O'Grady et al. found about 12 diploid lethal equivalents (their
    abstract). Ralls et al. (1988) found a median of 3.1 (mean 4.6, range -1.4 to 30.3) for
    juvenile survival in 40 captive mammal populations, VORTEX's earlier default."""
    lethal_proportion: float = 0.5
    """Share of B due to recessive lethal alleles (purgeable), in [0, 1]; VORTEX's default 0.5."""
    purging: float = 0.5
    """Purging coefficient d of the lethal part, in [0, 0.5] (García-Dorado 2012: d = s(1 - 2h)/2,
    0.5 for recessive lethals; 0: no purging)."""
    fecundity_lethal_equivalents: float = 0.0
    """B on fecundity (of every reproducing stage), split and purged like survival's."""
    stages: tuple[str, ...] | None = None
    """Stages whose survival is first-year survival (default: the stages offspring are born
    into). For a pre-breeding-census model, where first-year survival is inside F, use
    ``fecundity_lethal_equivalents`` instead."""
    effective_size_ratio: float | None = None
    """Ne / N with N the mature individuals (both sexes), in (0, 2]; None: Ne from the breeders
    (:func:`pva.genetics.effective_size`)."""
    family_size_variance: float = 2.0
    """Variance in lifetime family size Vk (2 for Poisson family sizes, i.e. Ne = N for equal
    sexes; 0 for equalised family sizes, as in a managed captive population, Ne = 2N)."""
    initial_gene_diversity: float | tuple[float, ...] = 1.0
    """Gene diversity of each population at year 0 relative to the species' reference, in (0, 1]
    (one number for all, or one per population)."""
    release_gene_diversity: float = 1.0
    """Gene diversity of individuals released from outside the model (releases that name no
    ex-situ programme), relative to the reference, in [0, 1]."""

    def __post_init__(self) -> None:
        own = validation.owner(self)
        _set(
            self,
            "lethal_equivalents",
            validation.number(self.lethal_equivalents, "lethal_equivalents", owner=own, low=0),
        )
        _set(
            self,
            "fecundity_lethal_equivalents",
            validation.number(
                self.fecundity_lethal_equivalents, "fecundity_lethal_equivalents", owner=own, low=0
            ),
        )
        _set(
            self,
            "lethal_proportion",
            validation.probability(self.lethal_proportion, "lethal_proportion", owner=own),
        )
        _set(
            self, "purging", validation.number(self.purging, "purging", owner=own, low=0, high=0.5)
        )
        if self.stages is not None:
            _set(self, "stages", validation.names(self.stages, "stages", owner=own))
        if self.effective_size_ratio is not None:
            _set(
                self,
                "effective_size_ratio",
                validation.number(
                    self.effective_size_ratio,
                    "effective_size_ratio",
                    owner=own,
                    low=0,
                    high=2,
                    low_open=True,
                ),
            )
        _set(
            self,
            "family_size_variance",
            validation.number(self.family_size_variance, "family_size_variance", owner=own, low=0),
        )
        h0 = self.initial_gene_diversity
        if validation.is_number(h0):
            h0 = validation.number(
                h0, "initial_gene_diversity", owner=own, low=0, high=1, low_open=True
            )
        else:
            h0 = validation.numbers(h0, "initial_gene_diversity", owner=own, low=0, high=1)
            if not h0 or min(h0) <= 0:
                raise ValueError(
                    f"{own}: initial_gene_diversity must be numbers in (0, 1]; got "
                    f"{self.initial_gene_diversity!r}"
                )
        _set(self, "initial_gene_diversity", h0)
        _set(
            self,
            "release_gene_diversity",
            validation.probability(
                self.release_gene_diversity, "release_gene_diversity", owner=own
            ),
        )


# --------------------------------------------------------------------------------------------------
# the species


def _check_survival(owner: str, field: str, U: FloatArray) -> None:
    if np.any(U < 0):
        raise ValueError(f"{owner}.{field} must be >= 0; got {U.tolist()!r}")
    sums = U.sum(axis=0)
    if np.any(sums > 1 + 1e-6):
        raise ValueError(
            f"{owner}.{field} column sums (survival of each stage) must be <= 1; got {sums.tolist()!r}"
        )


def largest_remainder(total: int, weights: FloatArray) -> npt.NDArray[np.int64]:
    """Integers summing to ``total`` proportional to ``weights`` (Hamilton's largest-remainder method)."""
    w = np.asarray(weights, dtype=float)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    short = total - int(base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:short]] += 1
    return base


Litter = Literal["poisson", "binomial"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Species(_Spec):
    """A species for stochastic projection: stages, vital rates, sites and sources of risk.

    Give the mean matrices either as ``U``, ``F`` (and ``C``) or as ``vital_rates``; with a
    :class:`MatrixSelection` environment they may be omitted (the mean is then the long-run weighted
    mean of the annual matrices).
    """

    name: str
    stages: tuple[str, ...]
    """Stage names, first stage first (usually juveniles or seeds)."""
    U: Matrix | None = None
    """Mean survival/transition matrix ``U[to][from]`` (column sums <= 1)."""
    F: Matrix | None = None
    """Mean sexual reproduction matrix (offspring per individual per year)."""
    C: Matrix | None = None
    """Mean clonal reproduction matrix."""
    vital_rates: VitalRates | None = None
    """U, F, C as expressions over named vital rates (instead of U, F, C)."""
    mature_stages: tuple[str, ...] | None = None
    """Stages counted as mature individuals (IUCN); default: stages with a positive F column."""
    generation_length: float | None = None
    """Generation length in years (IUCN); default computed by :func:`pva.analysis.generation_length`."""
    initial: tuple[int, ...] | None = None
    """Initial individuals per stage of the single default population."""
    initial_total: int | None = None
    """Initial total of the default population, spread by the stable stage distribution."""
    carrying_capacity: float | None = None
    """K of the default population (ignored if ``populations`` is given; then it must be None)."""
    populations: tuple[Population, ...] = ()
    """Populations (sites); default one population "main" built from the three fields above."""
    dispersal: Dispersal | None = None
    """Annual dispersal among ``populations``."""
    quasi_extinction_threshold: float = 0.0
    """Quasi-extinction when abundance falls to or below this (0 = extinction)."""
    quasi_extinction_on: Literal["total", "mature"] = "total"
    environment: MatrixSelection | VitalRateStochasticity | None = None
    """Environmental stochasticity; None = the mean matrices every year."""
    catastrophes: tuple[Catastrophe, ...] = ()
    """Catastrophe types, each drawn independently every year."""
    density_dependence: DensityDependence | None = None
    """Density dependence relative to each population's K. None: a ceiling at K when some population
    has a carrying capacity (RAMAS's default, so that a K and the threats that shrink it always act),
    otherwise density independent."""
    demographic_stochasticity: bool = True
    """Integer individuals with random fates and births; False: ``n(t + 1) = A_t n(t)`` in reals."""
    sex: Mating | None = None
    """Females-only dynamics with mate-limited births; abundances then count females, except the
    reported mature individuals, which count both sexes (see :attr:`pva.engine.Projection.mature`)."""
    litter: Litter = "poisson"
    """Offspring numbers: "poisson" (Poisson(F n)) or "binomial" (each individual has
    Binomial(max_litter, f / max_litter) offspring)."""
    max_litter: int | None = None
    """Largest litter (offspring per individual per year) for binomial litters."""
    correlation: SiteCorrelation | None = None
    """Correlation of the environment between ``populations`` (None: one shared environment)."""
    genetics: Genetics | None = None
    """Gene diversity, inbreeding and inbreeding depression (None: not modelled)."""

    def __post_init__(self) -> None:
        validation.name(self.name, "name", owner="Species")
        own = validation.owner(self)
        self._check_stages(own)
        self._check_matrices(own)
        self._check_environment(own)
        self._check_mature_stages(own)
        pops = self._check_populations(own)
        self._check_dispersal(own, pops)
        self._check_quasi_extinction(own)
        self._check_catastrophes(own)
        self._check_density_dependence(own, pops)
        self._check_reproduction(own)
        self._check_generation_length(own)
        self._check_correlation(own, pops)
        self._check_genetics(own, pops)

    # ---- validators, one per group of fields (in this order: later ones use earlier results) ----

    def _check_stages(self, own: str) -> None:
        stages = validation.names(self.stages, "stages", owner=own)
        if not stages:
            raise ValueError(f"{own}: stages must name at least one stage; got {self.stages!r}")
        _set(self, "stages", stages)

    def _check_matrices(self, own: str) -> None:
        """U, F, C or vital_rates (or neither, with a MatrixSelection environment)."""
        n = len(self.stages)
        given = [f for f in ("U", "F", "C") if getattr(self, f) is not None]
        if self.vital_rates is not None:
            if given:
                raise ValueError(f"{own}: give U/F/C or vital_rates, not both; got {given!r} too")
            validation.instance(self.vital_rates, "vital_rates", VitalRates, owner=own)
            if self.vital_rates.n_stages != n:
                raise ValueError(
                    f"{own}: vital_rates matrices must be {n}x{n} to match "
                    f"stages={self.stages!r}; got {self.vital_rates.n_stages}"
                )
        elif not (isinstance(self.environment, MatrixSelection) and not given):
            if self.U is None or self.F is None:
                raise ValueError(
                    f"{own}: U and F (or vital_rates) are required; got U={self.U!r}, F={self.F!r}"
                )
            for f in given:
                _set(self, f, _matrix(own, f, getattr(self, f), n))
        _check_survival(own, "U", self.U_array)
        for f, M in (("F", self.F_array), ("C", self.C_array)):
            if np.any(M < 0):
                raise ValueError(f"{own}: {f} must be >= 0; got {M.tolist()!r}")

    def _check_environment(self, own: str) -> None:
        n = len(self.stages)
        env = validation.instance(
            self.environment,
            "environment",
            (MatrixSelection, VitalRateStochasticity),
            owner=own,
            optional=True,
        )
        if isinstance(env, MatrixSelection) and env.U_stack.shape[1] != n:
            raise ValueError(
                f"{own}: environment matrices must be {n}x{n}; got {env.U_stack.shape[1:]!r}"
            )
        if isinstance(env, VitalRateStochasticity):
            if self.vital_rates is None:
                raise ValueError(
                    f"{own}: environment VitalRateStochasticity needs vital_rates; got None"
                )
            if env.rates is not None:
                unknown = sorted(set(env.rates) - set(self.vital_rates.names))
                if unknown:
                    raise ValueError(
                        f"{own}: environment.rates names unknown vital rates {unknown!r}"
                    )

    def _check_mature_stages(self, own: str) -> None:
        """Default: the stages that reproduce (a positive column of F + C)."""
        stages = self.stages
        if self.mature_stages is None:
            fert = (self.F_array + self.C_array).sum(axis=0) > 0
            _set(self, "mature_stages", tuple(s for s, m in zip(stages, fert, strict=True) if m))
            return
        mature = validation.names(self.mature_stages, "mature_stages", owner=own)
        unknown = sorted(set(mature) - set(stages))
        if unknown:
            raise ValueError(
                f"{own}: mature_stages names unknown stages {unknown!r}; stages are {stages!r}"
            )
        _set(self, "mature_stages", mature)

    def _check_populations(self, own: str) -> tuple[Population, ...]:
        """The populations, or the default one built from initial/initial_total/carrying_capacity
        (held privately, so that the user's fields round-trip as given)."""
        n = len(self.stages)
        if self.populations:
            if (
                self.initial is not None
                or self.initial_total is not None
                or self.carrying_capacity is not None
            ):
                raise ValueError(
                    f"{own}: with populations given, set initial/initial_total/carrying_capacity "
                    "on each Population, not on the Species"
                )
            pops = tuple(self.populations)
            for p in pops:
                if not isinstance(p, Population):
                    raise TypeError(f"{own}: populations must hold Population objects; got {p!r}")
            validation.names([p.name for p in pops], "populations (names)", owner=own)
        else:
            pops = (
                Population(
                    name="main",
                    initial=self.initial,
                    initial_total=self.initial_total,
                    carrying_capacity=self.carrying_capacity,
                ),
            )
        limit = count_limit(n, len(pops))
        for p in pops:
            if p.initial is None and p.initial_total is None:
                raise ValueError(f"{own}: population {p.name!r} needs initial or initial_total")
            if p.initial is not None and len(p.initial) != n:
                raise ValueError(
                    f"{own}: population {p.name!r} initial must have {n} entries (one per stage); "
                    f"got {p.initial!r}"
                )
            largest = max(p.initial) if p.initial is not None else p.initial_total
            if largest is not None and largest > limit:
                field = "initial" if p.initial is not None else "initial_total"
                raise ValueError(
                    f"{own}: population {p.name!r} {field} must be at most {limit} individuals "
                    f"(the engine's integer range for {n} stages and {len(pops)} population(s)); "
                    f"got {largest!r}"
                )
        if self.populations:
            _set(self, "populations", pops)
        else:
            _set(self, "_default_population", pops)
        return pops

    def _check_dispersal(self, own: str, pops: tuple[Population, ...]) -> None:
        d = self.dispersal
        if d is None:
            return
        validation.instance(d, "dispersal", Dispersal, owner=own)
        if d.rates is not None and len(d.rates) != len(pops):
            raise ValueError(
                f"{own}: dispersal.rates must be {len(pops)}x{len(pops)} (populations); "
                f"got {len(d.rates)}"
            )
        if d.kernel is not None:
            _check_dispersal_rates(
                own,
                "dispersal.kernel rates",
                d.kernel.rates(self._distances(own, "dispersal.kernel", pops)),
            )
        unknown = sorted(set(d.stages or ()) - set(self.stages))
        if unknown:
            raise ValueError(f"{own}: dispersal.stages names unknown stages {unknown!r}")
        if d.relative_rates is not None and len(d.relative_rates) != len(self.stages):
            raise ValueError(
                f"{own}: dispersal.relative_rates must have {len(self.stages)} entries (one per "
                f"stage); got {d.relative_rates!r}"
            )

    def _distances(self, own: str, field: str, pops: tuple[Population, ...]) -> FloatArray:
        """Distances between the populations (km), for ``field`` that needs their coordinates."""
        missing = [p.name for p in pops if p.coordinates is None]
        if missing:
            raise ValueError(
                f"{own}: {field} needs the coordinates of every population; missing for {missing!r}"
            )
        return distances([cast(tuple[float, float], p.coordinates) for p in pops])

    def _check_correlation(self, own: str, pops: tuple[Population, ...]) -> None:
        c = validation.instance(
            self.correlation, "correlation", SiteCorrelation, owner=own, optional=True
        )
        if c is None:
            return
        if c.matrix is not None and len(c.matrix) != len(pops):
            raise ValueError(
                f"{own}: correlation.matrix must be {len(pops)}x{len(pops)} (populations); got "
                f"{len(c.matrix)}"
            )
        if c.scale is not None:
            self._distances(own, "correlation.scale", pops)

    def _check_genetics(self, own: str, pops: tuple[Population, ...]) -> None:
        g = validation.instance(self.genetics, "genetics", Genetics, owner=own, optional=True)
        if g is None:
            return
        if self.generation_length is None:
            raise ValueError(
                f"{own}: genetics needs a generation_length (it could not be computed from the "
                "matrices); give generation_length in years"
            )
        unknown = sorted(set(g.stages or ()) - set(self.stages))
        if unknown:
            raise ValueError(f"{own}: genetics.stages names unknown stages {unknown!r}")
        h0 = g.initial_gene_diversity
        if isinstance(h0, tuple) and len(h0) != len(pops):
            raise ValueError(
                f"{own}: genetics.initial_gene_diversity must give one value per population "
                f"({len(pops)}); got {h0!r}"
            )

    def _check_quasi_extinction(self, own: str) -> None:
        threshold = validation.number(
            self.quasi_extinction_threshold, "quasi_extinction_threshold", owner=own, low=0
        )
        _set(self, "quasi_extinction_threshold", threshold)
        validation.one_of(
            self.quasi_extinction_on, "quasi_extinction_on", ("total", "mature"), owner=own
        )

    def _check_catastrophes(self, own: str) -> None:
        n = len(self.stages)
        cats = tuple(self.catastrophes)
        for c in cats:
            if not isinstance(c, Catastrophe):
                raise TypeError(f"{own}: catastrophes must hold Catastrophe objects; got {c!r}")
            for field in ("survival_multiplier", "fecundity_multiplier"):
                value = getattr(c, field)
                if isinstance(value, tuple) and len(value) != n:
                    raise ValueError(
                        f"{own}: catastrophe {c.name!r} {field} must be one number or {n} "
                        f"(one per stage); got {value!r}"
                    )
        validation.names([c.name for c in cats], "catastrophes (names)", owner=own)
        _set(self, "catastrophes", cats)
        if cats:
            self._check_catastrophe_survival(own, cats)

    def _check_catastrophe_survival(self, own: str, cats: tuple[Catastrophe, ...]) -> None:
        """A catastrophe's survival multiplier may exceed 1 (a good year), but not so far that the
        survival of a stage (a column sum of U; the largest over the environmental states of a
        MatrixSelection) would exceed 1: the engine would cap it, so the stated effect could not
        happen even in an average year."""
        U = self.U_array[None]
        if isinstance(self.environment, MatrixSelection):
            U = np.concatenate([U, self.environment.U_stack])
        survival = U.sum(axis=1).max(axis=0)  # (stages,)
        for c in cats:
            m = np.broadcast_to(np.asarray(c.survival_multiplier, dtype=float), survival.shape)
            over = m * survival > 1 + 1e-9
            if over.any():
                j = int(np.argmax(over))
                raise ValueError(
                    f"{own}: catastrophe {c.name!r} survival_multiplier={float(m[j])!r} would raise "
                    f"the survival of stage {self.stages[j]!r} from {survival[j]:.6g} to "
                    f"{m[j] * survival[j]:.6g}, above 1; for this stage it must be at most "
                    f"{1 / survival[j]:.6g} (survival is a probability)"
                )

    def _check_density_dependence(self, own: str, pops: tuple[Population, ...]) -> None:
        """Default: a ceiling at K when some population has a carrying capacity."""
        dd = self.density_dependence
        if dd is None and any(p.carrying_capacity is not None for p in pops):
            dd = DensityDependence(kind="ceiling")
            _set(self, "density_dependence", dd)
        if dd is None:
            return
        validation.instance(dd, "density_dependence", DensityDependence, owner=own)
        if dd.weights is not None and len(dd.weights) != len(self.stages):
            raise ValueError(
                f"{own}: density_dependence.weights must have {len(self.stages)} entries; "
                f"got {dd.weights!r}"
            )
        if all(p.carrying_capacity is None for p in pops):
            raise ValueError(
                f"{own}: density_dependence needs a carrying_capacity on at least one population"
            )

    def _check_reproduction(self, own: str) -> None:
        """Demographic stochasticity, mating and litter sizes."""
        validation.flag(self.demographic_stochasticity, "demographic_stochasticity", owner=own)
        validation.instance(self.sex, "sex", Mating, owner=own, optional=True)
        validation.one_of(self.litter, "litter", ("poisson", "binomial"), owner=own)
        if self.litter == "poisson":
            if self.max_litter is not None:
                raise ValueError(
                    f"{own}: max_litter applies only to litter='binomial'; got {self.max_litter!r}"
                )
            return
        if self.max_litter is None:
            raise ValueError(f"{own}: max_litter is required for binomial litters; got None")
        m = validation.integer(self.max_litter, "max_litter", owner=own, minimum=1)
        _set(self, "max_litter", m)
        worst = float((self.F_array + self.C_array).sum(axis=0).max())
        if worst > m:
            raise ValueError(
                f"{own}: mean offspring per individual {worst!r} exceeds max_litter={m!r} "
                "(binomial litters cannot exceed it)"
            )

    def _check_generation_length(self, own: str) -> None:
        """Default: computed from the mean matrices (:func:`pva.analysis.generation_length`)."""
        if self.generation_length is None:
            computed = self._computed_generation_length()
            if computed is not None and computed > MAX_GENERATION_LENGTH:
                raise ValueError(
                    f"{own}: the generation length computed from U and F is {computed:.6g} years, "
                    f"beyond the {MAX_GENERATION_LENGTH:g} accepted; give generation_length"
                )
            _set(self, "generation_length", computed)
            return
        g = validation.number(self.generation_length, "generation_length", owner=own)
        if g <= 0:
            raise ValueError(f"{own}: generation_length must be > 0 years; got {g!r}")
        if g > MAX_GENERATION_LENGTH:
            raise ValueError(
                f"{own}: generation_length must be at most {MAX_GENERATION_LENGTH:g} years; "
                f"got {g!r}"
            )
        _set(self, "generation_length", g)

    def _computed_generation_length(self) -> float | None:
        fn = getattr(analysis, "generation_length", None)
        if fn is None:
            return None
        try:
            # over/underflow with extreme entries gives a value that is not finite: None below
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                # a reducible life cycle (e.g. a post-reproductive stage) is fine for projection;
                # pva.analysis warns about it where eigenvectors are reported, not here
                warnings.simplefilter("ignore", MatrixStructureWarning)
                value = float(fn(self.U_array, self.F_array + self.C_array))
        except (ValueError, ArithmeticError, np.linalg.LinAlgError):
            return None
        return value if math.isfinite(value) and value > 0 else None

    # ---- numpy views -------------------------------------------------------------------------

    def _mean_matrices(self) -> dict[str, FloatArray]:
        if self.vital_rates is not None:
            return self.vital_rates.matrices(self.vital_rates.means)
        if self.U is None and isinstance(self.environment, MatrixSelection):
            w = self.environment.weights
            env = self.environment
            return {
                "U": np.einsum("k,kij->ij", w, env.U_stack),
                "F": np.einsum("k,kij->ij", w, env.F_stack),
                "C": np.einsum("k,kij->ij", w, env.C_stack),
            }
        n = len(self.stages)
        return {
            f: np.zeros((n, n))
            if getattr(self, f) is None
            else np.asarray(getattr(self, f), dtype=float)
            for f in ("U", "F", "C")
        }

    @functools.cached_property
    def U_array(self) -> FloatArray:
        """Mean U as an ndarray (n, n)."""
        return self._mean_matrices()["U"]

    @functools.cached_property
    def F_array(self) -> FloatArray:
        return self._mean_matrices()["F"]

    @functools.cached_property
    def C_array(self) -> FloatArray:
        return self._mean_matrices()["C"]

    @property
    def A(self) -> FloatArray:
        """Mean projection matrix A = U + F + C, shape (n_stages, n_stages)."""
        return self.U_array + self.F_array + self.C_array

    @property
    def n_stages(self) -> int:
        return len(self.stages)

    @property
    def all_populations(self) -> tuple[Population, ...]:
        """The populations, including the implicit default one."""
        return self.populations or self._default_population  # type: ignore[attr-defined]

    @property
    def population_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.all_populations)

    @property
    def n_populations(self) -> int:
        return len(self.all_populations)

    @functools.cached_property
    def mature_mask(self) -> npt.NDArray[np.bool_]:
        """True for the stages counted as mature individuals, shape (n_stages,)."""
        mature = set(self.mature_stages or ())
        return np.array([s in mature for s in self.stages], dtype=bool)

    @functools.cached_property
    def stable_stage_distribution(self) -> FloatArray:
        """Right eigenvector of A for the dominant eigenvalue, summing to 1 (Caswell 2001, ch. 4)."""
        w, v = np.linalg.eig(self.A)
        x = np.abs(np.real(v[:, np.argmax(np.real(w))]))
        return x / x.sum()

    @functools.cached_property
    def initial_abundance(self) -> npt.NDArray[np.int64]:
        """Initial individuals, shape (n_populations, n_stages); ``initial_total`` is spread by the
        stable stage distribution, rounded by the largest-remainder method."""
        rows = []
        for p in self.all_populations:
            if p.initial is not None:
                rows.append(np.asarray(p.initial, dtype=np.int64))
            else:
                rows.append(
                    largest_remainder(int(p.initial_total or 0), self.stable_stage_distribution)
                )
        return np.stack(rows)

    @functools.cached_property
    def carrying_capacities(self) -> FloatArray:
        """K of each population, ``inf`` where unlimited, shape (n_populations,)."""
        return np.array(
            [
                np.inf if p.carrying_capacity is None else p.carrying_capacity
                for p in self.all_populations
            ]
        )

    @functools.cached_property
    def dispersal_array(self) -> FloatArray | None:
        """Dispersal rates ``D[to, from]`` between populations, (P, P), or None."""
        d = self.dispersal
        if d is None:
            return None
        if d.rates is not None:
            return np.asarray(d.rates, dtype=float)
        own = validation.owner(self)
        return cast(DispersalKernel, d.kernel).rates(
            self._distances(own, "dispersal.kernel", self.all_populations)
        )

    @functools.cached_property
    def dispersal_weights(self) -> FloatArray:
        """Multiplier of the dispersal rates for each stage, (n_stages,): ``relative_rates``, or 1
        for the dispersing stages and 0 for the others."""
        d = self.dispersal
        if d is not None and d.relative_rates is not None:
            return np.asarray(d.relative_rates, dtype=float)
        return self.dispersal_mask.astype(float)

    @functools.cached_property
    def dispersal_mask(self) -> npt.NDArray[np.bool_]:
        """Stages that disperse, shape (n_stages,)."""
        d = self.dispersal
        if d is None:
            return np.zeros(self.n_stages, dtype=bool)
        if d.relative_rates is not None:
            return np.asarray(d.relative_rates) > 0
        if d.stages is None:
            return np.ones(self.n_stages, dtype=bool)
        return np.array([s in d.stages for s in self.stages])

    @functools.cached_property
    def site_correlation(self) -> FloatArray | None:
        """Correlation of the environment between populations, (P, P), or None (one shared
        environment)."""
        c = self.correlation
        if c is None:
            return None
        d = (
            None
            if c.scale is None
            else self._distances(validation.owner(self), "correlation.scale", self.all_populations)
        )
        return c.correlations(d)

    @functools.cached_property
    def first_year_mask(self) -> npt.NDArray[np.bool_]:
        """Stages whose survival inbreeding depression lowers (:attr:`Genetics.stages`; default
        the stages offspring are born into), shape (n_stages,)."""
        g = self.genetics
        if g is not None and g.stages is not None:
            return np.array([s in g.stages for s in self.stages])
        return cast(npt.NDArray[np.bool_], (self.F_array + self.C_array).sum(axis=1) > 0)

    @functools.cached_property
    def initial_gene_diversity(self) -> FloatArray:
        """Gene diversity of each population at year 0 relative to the reference, (P,) (1 without
        genetics)."""
        h0 = 1.0 if self.genetics is None else self.genetics.initial_gene_diversity
        return np.broadcast_to(np.asarray(h0, dtype=float), (self.n_populations,)).copy()

    @functools.cached_property
    def density_weights(self) -> FloatArray:
        """Weight of each stage in density-dependent abundance, shape (n_stages,)."""
        dd = self.density_dependence
        if dd is None or dd.weights is None:
            return np.ones(self.n_stages)
        return np.asarray(dd.weights, dtype=float)

    def with_(self, **changes: Any) -> Species:
        """A copy with fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_matrix(
        cls,
        A: npt.ArrayLike,
        *,
        name: str,
        stages: Sequence[str],
        reproduction_rows: Sequence[int] | None = None,
        clonal_rows: Sequence[int] = (),
        reproduction: npt.ArrayLike | None = None,
        **fields: Any,
    ) -> Species:
        """A species from a single projection matrix ``A`` (e.g. a published Leslie matrix).

        ``A`` is split by :func:`pva.analysis.split_matrix` (Caswell 2001, section 5.1): the
        entries marked by ``reproduction`` (a boolean mask ``[to][from]``, as
        :meth:`MatrixSelection.from_matrices` takes), or else every entry of a row in
        ``reproduction_rows``, are sexual reproduction ``F``; every entry of a row in
        ``clonal_rows`` is clonal reproduction ``C``; the rest is survival/transition ``U``, so
        ``U + F + C == A``. The other ``fields`` are passed to :class:`Species` unchanged, and the
        result is validated like any species (e.g. column sums of ``U`` must not exceed 1).

        A mask keeps survival what whole rows would call births: for *Hudsonia montana* (stages
        seed, seedlings, tiny..large) ``reproduction_rows=(0, 1)`` would turn seed-bank survival
        (``a11``) and germination (``a21``) into reproduction, making seeds mature and giving a
        generation length of 4.9 years instead of 28.3; a mask with ``True`` in rows 0-1 and
        columns 2-5 only marks the seeds and seedlings that plants produce.

        Parameters
        ----------
        A
            Square projection matrix ``A[to, from]``, shape (n_stages, n_stages).
        name, stages
            As in :class:`Species`.
        reproduction_rows
            Rows of ``A`` holding only sexual reproduction; default the first row (when no
            ``reproduction`` mask is given).
        clonal_rows
            Rows of ``A`` holding only clonal reproduction; default none.
        reproduction
            Boolean mask of the sexual-reproduction entries, shape (n_stages, n_stages), instead
            of ``reproduction_rows``.
        **fields
            Any other :class:`Species` field except ``U``, ``F``, ``C`` and ``vital_rates``.

        Raises
        ------
        ValueError
            If a row index is out of range or repeated in both row lists, the mask has the wrong
            shape or marks a clonal row, ``A`` is not a square finite non-negative matrix of
            ``len(stages)`` rows, or the species is invalid.
        TypeError
            If ``fields`` holds ``U``, ``F``, ``C`` or ``vital_rates``, or both
            ``reproduction_rows`` and ``reproduction`` are given.
        """
        own = f"Species.from_matrix({name!r})"
        clash = sorted({"U", "F", "C", "vital_rates"} & set(fields))
        if clash:
            raise TypeError(f"{own}: the matrix replaces {clash!r}; do not pass them as well")
        if reproduction is not None and reproduction_rows is not None:
            raise TypeError(
                f"{own}: give reproduction_rows or the reproduction mask, not both; got "
                f"reproduction_rows={reproduction_rows!r}"
            )
        size = len(stages) if isinstance(stages, Sequence) and not isinstance(stages, str) else None
        M = np.asarray(_matrix(own, "A", A, size), dtype=float)
        n = M.shape[0]
        rows: dict[str, list[int]] = {}
        for label, given in (
            ("reproduction_rows", (0,) if reproduction_rows is None else reproduction_rows),
            ("clonal_rows", clonal_rows),
        ):
            listed = [given] if validation.is_integer(given) else given
            rows[label] = list(
                validation.integers(listed, f"{label} (row indices)", owner=own, minimum=0)
            )
            for r in rows[label]:
                if r >= n:
                    raise ValueError(
                        f"{own}: {label} must hold row indices in 0..{n - 1}; got {r!r} in "
                        f"{given!r}"
                    )
        both = sorted(set(rows["reproduction_rows"]) & set(rows["clonal_rows"]))
        if both:
            raise ValueError(
                f"{own}: rows {both!r} are in both reproduction_rows and clonal_rows; a row is "
                "either sexual or clonal reproduction"
            )
        clonal = np.zeros((n, n), dtype=bool)
        clonal[rows["clonal_rows"], :] = True
        if reproduction is None:
            U, F, C = analysis.split_matrix(
                M, reproduction_rows=rows["reproduction_rows"], clonal_mask=clonal
            )
        else:
            mask = np.asarray(reproduction)
            if mask.shape != (n, n) or not np.isin(mask, (0, 1)).all():
                raise ValueError(
                    f"{own}: reproduction must be a boolean mask of shape {(n, n)} (True where an "
                    f"entry counts offspring); got {reproduction!r}"
                )
            U, F, C = analysis.split_matrix(
                M, reproduction_mask=mask.astype(bool), clonal_mask=clonal
            )
        return cls(
            name=name,
            stages=tuple(stages),
            U=_rows(U),
            F=_rows(F),
            C=_rows(C) if rows["clonal_rows"] else None,
            **fields,
        )


def hudsonia_vital_rates(
    rates: Sequence[tuple[str, float, float]], *, fecundity_distribution: Distribution = "lognormal"
) -> VitalRates:
    """Morris & Doak's (2002, Box 8.10) *Hudsonia montana* matrix as data (popbio ``hudmxdef``).

    ``rates`` are (name, mean, variance) rows in the order of popbio's ``hudvrs`` table. Growth and
    survival rates (the first 13) and the last six are betas; ``f11``, ``f13``..``f16`` are
    lognormal, as in Morris & Doak's ``vitalsim`` example.
    """
    lognormal = {"f11", "f13", "f14", "f15", "f16"}
    vrs = tuple(
        VitalRate(
            name=name,
            mean=mean,
            sd=math.sqrt(var),
            distribution=fecundity_distribution
            if name in lognormal
            else ("beta" if var > 0 else "fixed"),
        )
        for name, mean, var in rates
    )
    U = (
        ("f11", 0, 0, 0, 0, 0),
        ("f21", 0, 0, 0, 0, 0),
        (0, "f32", "s3 * (1 - `g>4,3`)", "s4 * (1 - `g>4,4`)", "s5 * (1 - `g>4,5`)", 0),
        (
            0,
            0,
            "s3 * `g>4,3`",
            "s4 * (`g>4,4` - `g>5,4`)",
            "s5 * (`g>4,5` - `g>5,5`)",
            "s6 * (1 - `g>5,6`)",
        ),
        (
            0,
            0,
            0,
            "s4 * (`g>5,4` - `g>6,4`)",
            "s5 * (`g>5,5` - `g>6,5`)",
            "s6 * (`g>5,6` - `g>6,6`)",
        ),
        (0, 0, 0, "s4 * `g>6,4`", "s5 * `g>6,5`", "s6 * `g>6,6`"),
    )
    F = (
        (0, 0, "f13", "f14", "f15", "f16"),
        (0, 0, "f23", "f24", "f25", "f26"),
        (0, 0, 0, 0, 0, 0),
        (0, 0, 0, 0, 0, 0),
        (0, 0, 0, 0, 0, 0),
        (0, 0, 0, 0, 0, 0),
    )
    return VitalRates(rates=vrs, U=U, F=F)


# ---------------------------------------------------------------------------------------------------
# density dependence of a species: its strength, and whether it can act
# ---------------------------------------------------------------------------------------------------


def _lambda(A: FloatArray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(A))))


def density_strength(species: Species) -> float:
    """Strength ``b`` of Beverton-Holt, Ricker or theta-logistic density dependence.

    Given by the user, or the value that makes the mean deterministic model stationary (λ = 1) at
    weighted abundance K: the scaling ``g*`` of the chosen rates with λ(g*) = 1 is ``1/R0`` for
    fecundity (λ = 1 exactly when R0 = 1; Caswell 2001, section 5.3.4), ``1/λ`` for both fecundity and
    survival, and found by root finding for survival alone; then ``b = 1/g* - 1`` (Beverton-Holt) or
    ``-log g*`` (Ricker and theta-logistic). A population that cannot grow (λ <= 1) gets ``b = 0``.
    """
    dd = species.density_dependence
    if dd is None or dd.kind in ("ceiling", "vortex_breeding"):
        return 0.0
    if dd.strength is not None:
        return float(dd.strength)
    U, F = species.U_array, species.F_array + species.C_array
    lam0 = _lambda(U + F)
    if lam0 <= 1:
        return 0.0
    applies = set(dd.applies_to)
    if applies == {"fecundity", "survival"}:
        g = 1 / lam0
    elif applies == {"fecundity"}:
        R0 = _lambda(F @ np.linalg.inv(np.eye(species.n_stages) - U))
        g = 1 / R0
    else:
        if _lambda(F) >= 1:
            raise ValueError(
                f"Species({species.name!r}).density_dependence: scaling survival alone cannot bring "
                f"lambda to 1 (reproduction alone gives lambda = {_lambda(F)!r}); give strength"
            )
        import scipy.optimize  # here, not at the top: it slows every worker's start-up

        g = scipy.optimize.brentq(lambda x: _lambda(x * U + F) - 1, 0.0, 1.0)
    return 1 / g - 1 if dd.kind == "beverton_holt" else -float(np.log(g))


def inert_density_dependence(species: Species) -> str:
    """Why the density dependence of ``species`` cannot act, or "" when it can.

    A Beverton-Holt, Ricker or theta-logistic scaling at its default strength (``strength=None``)
    gets ``b = 0`` when the mean matrix has λ <= 1 (:func:`density_strength`): the population never
    grows, so no strength makes K an equilibrium. Without a ceiling and an Allee effect the
    projection is then exactly density independent.
    """
    dd = species.density_dependence
    if dd is None or dd.kind not in ("beverton_holt", "ricker", "theta_logistic"):
        return ""
    if dd.strength is not None or dd.ceiling or dd.allee > 0:
        return ""
    lam = _lambda(species.U_array + species.F_array + species.C_array)
    if lam > 1:
        return ""
    return (
        f"Species({species.name!r}).density_dependence: kind={dd.kind!r} at its default strength "
        f"cannot act: the mean matrix has lambda = {lam:.4g} <= 1, so the strength that makes K an "
        "equilibrium is 0 and the projection is density independent; give strength, ceiling=true "
        "or kind='ceiling'"
    )


def warn_inert_density_dependence(species: Species) -> None:
    """Warn (:class:`pva.errors.DensityDependenceWarning`) when :func:`inert_density_dependence`
    finds that the density dependence of ``species`` cannot act. One place, so that a study
    validated and then run warns once."""
    reason = inert_density_dependence(species)
    if reason:
        warnings.warn(reason, DensityDependenceWarning, stacklevel=1)
