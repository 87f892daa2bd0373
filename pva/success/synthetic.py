"""A synthetic portfolio whose success depends on a known factor, to verify the success analysis.

Every species is a Galton-Watson process (one stage, no survival, Poisson offspring with mean
``growth`` a year) under a chronic threat that lowers its fecundity to ``threatened`` a year,
from ``initial`` individuals, without density dependence. Each design abates the whole threat
from its start year on. For a species with ``threatened < 1`` (declining) acting before the
threshold year rescues most populations and acting after it finds most already extinct; for a
species with ``threatened > 1`` timing matters little. The probability of extinction by the
horizon under each design is known exactly (:func:`exact_extinction`: the composition of the
yearly offspring generating functions; Harris 1963), so the size of "acting after the threshold"
is known before any simulation, and the success analysis must recover it within its Monte Carlo
error (tests/statistical/test_success_synthetic.py; experiments/success_factors.py).

References
----------
Harris, T.E. (1963) The Theory of Branching Processes. Springer, ch. I.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import results
from pva.model import Species
from pva.scenario import Scenario, ThreatAbatement, VitalRateReduction
from pva.study import Study
from pva.success.names import DESIGN, EXTINCT, TERM

__all__ = [
    "SyntheticSpecies",
    "TimingContrast",
    "exact_extinction",
    "synthetic_species",
    "synthetic_study",
    "timing_contrasts",
]

EARLY_STARTS = (0, 2, 4, 6, 8)
LATE_STARTS = (12, 14, 16, 18, 20)
THRESHOLD = 10
"""Designs starting before this year are "early", the others "late"."""


@dataclasses.dataclass(frozen=True)
class SyntheticSpecies:
    """One synthetic species: Poisson offspring means with and without the threat."""

    name: str
    growth: float
    """Mean offspring per individual a year without the threat (λ)."""
    threatened: float
    """Mean offspring per individual a year under the threat."""
    initial: int
    """Individuals at year 0."""

    @property
    def declining(self) -> bool:
        return self.threatened < 1.0


def synthetic_species() -> tuple[SyntheticSpecies, ...]:
    """Four declining species (threatened mean 0.7-0.8) and four that are not (1.05-1.1), with
    15-40 individuals and unthreatened means 1.15-1.3."""
    out = []
    for k, (growth, initial) in enumerate(((1.15, 15), (1.2, 25), (1.25, 30), (1.3, 40))):
        out.append(SyntheticSpecies(f"declining {k + 1}", growth, 0.7 + 0.1 * (k % 2), initial))
        out.append(SyntheticSpecies(f"stable {k + 1}", growth, 1.05 + 0.05 * (k % 2), initial))
    return tuple(out)


def synthetic_study(
    species: Sequence[SyntheticSpecies] | None = None,
    *,
    starts: Sequence[int] = (*EARLY_STARTS, *LATE_STARTS),
    years: int = 30,
    replicates: int = 2000,
    seed: int | None = 1963,
) -> Study:
    """The synthetic portfolio as a study: "no action" (the threats) and one design per start
    year abating each species' threat completely from then on, at a cost of 1 a year."""
    entries = tuple(species) if species is not None else synthetic_species()
    threats = tuple(
        VitalRateReduction(name=f"threat ({s.name})", fecundity=s.threatened / s.growth)
        for s in entries
    )
    applies = {t.name: (s.name,) for s, t in zip(entries, threats, strict=True)}
    scenarios = [Scenario("no action", threats)]
    for start in starts:
        actions = []
        for s in entries:
            action = ThreatAbatement(
                name=f"abatement from {start} ({s.name})",
                threat=f"threat ({s.name})",
                fraction=1.0,
                start=start,
                annual_cost=1.0,
            )
            actions.append(action)
            applies[action.name] = (s.name,)
        scenarios.append(Scenario(f"abatement from year {start}", (*threats, *actions)))
    return Study(
        name="success_synthetic",
        species=tuple(
            Species(
                name=s.name, stages=("all",), U=((0.0,),), F=((s.growth,),), initial=(s.initial,)
            )
            for s in entries
        ),
        scenarios=tuple(scenarios),
        years=years,
        replicates=replicates,
        seed=seed,
        applies_to=tuple(applies.items()),
        no_action="no action",
    )


def exact_extinction(species: SyntheticSpecies, start: int | None, years: int) -> float:
    """P(no individuals at year ``years``) with the threat abated from step ``start`` on (None:
    never): ``(f_0 ∘ f_1 ∘ ... ∘ f_{years-1})(0) ** initial`` with ``f_t(s) = exp(m_t (s - 1))``,
    ``m_t`` the threatened mean before ``start`` and the unthreatened one from then on (Harris
    1963, ch. I)."""
    means: npt.NDArray[np.float64] = np.full(years, species.threatened)
    if start is not None:
        means[start:] = species.growth
    s = 0.0
    for m in reversed(means.tolist()):
        s = math.exp(m * (s - 1.0))
    return float(s**species.initial)


@dataclasses.dataclass(frozen=True)
class TimingContrast:
    """A contrast of mean extinctions prevented between groups of (species, design) pairs: the
    estimate from the fitted model, its Monte Carlo SE, and the exact value."""

    name: str
    estimate: float
    """From the Gaussian GLM of ``extinctions_prevented`` (per unit of the indicators)."""
    mcse: float
    """Monte Carlo SE: the same linear combination of paired replicate differences, species by
    species (replicates are independent across species, paired across designs)."""
    exact: float
    """The same combination of :func:`exact_extinction` differences."""


def timing_contrasts(
    outcomes: xr.Dataset,
    species: Sequence[SyntheticSpecies] | None = None,
    *,
    threshold: int = THRESHOLD,
) -> tuple[TimingContrast, ...]:
    """Fit extinctions prevented on "late" (start >= ``threshold``), "declining" and their product
    (:func:`pva.success.fit_outcome`, Gaussian) and return, against their exact values:

    * ``late, declining``: mean of late minus early designs among declining species;
    * ``late, stable``: the same among the other species;
    * ``late x declining``: the difference of the two (the interaction).

    The model with these three indicators is saturated on the four cells, so its coefficients are
    contrasts of the cells' mean outcomes, and the exact values are the same contrasts of the
    exact probabilities.
    """
    from pva.success.analysis import design_matrix, fit_outcome

    entries = {s.name: s for s in (species or synthetic_species())}
    names = [str(n) for n in outcomes[results.SPECIES].values]
    starts = np.asarray(outcomes["start"].transpose(results.SPECIES, DESIGN).values)
    declining = np.array([entries[n].declining for n in names], dtype=float)
    late = (starts >= threshold).astype(float)
    data = outcomes.assign(
        late=((results.SPECIES, DESIGN), late),
        declining=((results.SPECIES,), declining),
        late_declining=((results.SPECIES, DESIGN), late * declining[:, None]),
    )
    factors = ("late", "declining", "late_declining")
    m = design_matrix(data, factors=factors)
    fit = fit_outcome(data, "extinctions_prevented", m=m, bootstrap=0)
    per_unit = {f: float(fit["coefficient"].sel({TERM: f})) / m.scale[f] for f in factors}

    years = int(outcomes.attrs["horizon"])
    exact = np.array(
        [
            [
                exact_extinction(entries[n], None, years)
                - exact_extinction(entries[n], int(s), years)
                for s in starts[i]
            ]
            for i, n in enumerate(names)
        ]
    )
    extinct = outcomes[EXTINCT]
    base = np.asarray(extinct.sel({results.SCENARIO: outcomes.attrs["no_action"]}).values, float)
    designs = [str(d) for d in outcomes[DESIGN].values]
    acted = np.asarray(extinct.sel({results.SCENARIO: designs}).values, float)
    paired = base[:, None, :] - acted  # (species, design, replicate)

    def contrast(weights: npt.NDArray[np.float64]) -> tuple[float, float]:
        """(exact value, Monte Carlo SE) of sum w_sd * mean prevented_sd."""
        per_species = np.einsum("sd,sdr->sr", weights, paired)
        reps = paired.shape[-1]
        se = float(np.sqrt(np.sum(per_species.var(axis=1, ddof=1)) / reps))
        return float(np.sum(weights * exact)), se

    def cell(group: npt.NDArray[np.float64], is_late: bool) -> npt.NDArray[np.float64]:
        mask = group[:, None] * (late if is_late else 1.0 - late)
        return mask / mask.sum()

    dec, sta = declining, 1.0 - declining
    w_dec = cell(dec, True) - cell(dec, False)
    w_sta = cell(sta, True) - cell(sta, False)
    out = []
    for name, estimate, weights in (
        ("late, declining", per_unit["late"] + per_unit["late_declining"], w_dec),
        ("late, stable", per_unit["late"], w_sta),
        ("late x declining", per_unit["late_declining"], w_dec - w_sta),
    ):
        value, se = contrast(weights)
        out.append(TimingContrast(name, estimate, se, value))
    return tuple(out)
