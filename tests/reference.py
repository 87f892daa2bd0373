"""A slow, obvious, per-individual reference model for checking the vectorised engine.

The engine (``pva.engine``) draws whole stage classes at once (multinomial fates, Poisson births,
multivariate hypergeometric culls) over all replicates at a time. This module does the same model the
way one would explain it on a blackboard — one replicate, one year, one individual at a time — so
that the two can be compared in distribution (``tests/statistical/test_engine_theory.py``), as
msprime checks its coalescent against ``algorithms.py``.

Model (Caswell 2001, section 15.1 on demographic stochasticity; Akçakaya 2000 for the ceiling):

1. Environment: if several annual matrices are given, one is chosen for the year, iid with the given
   probabilities (Morris & Doak 2002, section 7.2).
2. Each individual alive at the start of the year, in stage ``j``:
   * moves to stage ``i`` with probability ``U[i, j]`` or dies with ``1 - sum_i U[i, j]`` (one
     categorical draw);
   * independently leaves ``Poisson(F[i, j])`` offspring in stage ``i``, for every ``i``.
3. Ceiling: if more than ``K`` individuals are alive after that, individuals are removed one at a time,
   each chosen uniformly among those still alive, until ``K`` remain.

Nothing here is vectorised over individuals on purpose; it is meant to be read, not to be fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def project_reference(
    U: npt.ArrayLike | Sequence[npt.ArrayLike],
    F: npt.ArrayLike | Sequence[npt.ArrayLike],
    initial: Sequence[int],
    *,
    years: int,
    replicates: int,
    rng: np.random.Generator,
    carrying_capacity: float = math.inf,
    probabilities: Sequence[float] | None = None,
) -> npt.NDArray[np.int64]:
    """Simulate the stage-structured branching process individual by individual.

    Parameters
    ----------
    U, F
        One matrix ``[to, from]`` each, or sequences of annual matrices of equal length (the
        environmental states, chosen iid every year with ``probabilities``, default equal).
    initial
        Individuals per stage at year 0.
    years, replicates
        Projection horizon (years) and number of independent replicates.
    rng
        The only source of randomness.
    carrying_capacity
        Ceiling K on the total number of individuals at the end of each year.

    Returns
    -------
    numpy.ndarray
        Individuals per stage, shape (replicates, years + 1, stages), int64.
    """
    U_states = np.asarray(U, dtype=float)
    F_states = np.asarray(F, dtype=float)
    if U_states.ndim == 2:
        U_states, F_states = U_states[None], F_states[None]
    states, stages, _ = U_states.shape
    weights = np.full(states, 1.0 / states) if probabilities is None else np.asarray(probabilities)
    out = np.zeros((replicates, years + 1, stages), dtype=np.int64)
    for replicate in range(replicates):
        # the population as a list of individuals, each represented by its stage
        individuals = [stage for stage in range(stages) for _ in range(int(initial[stage]))]
        out[replicate, 0] = np.bincount(individuals, minlength=stages)
        for year in range(1, years + 1):
            state = int(rng.choice(states, p=weights)) if states > 1 else 0
            survival, fecundity = U_states[state], F_states[state]
            next_year: list[int] = []
            for stage in individuals:
                # fate: stage i with probability U[i, stage]; death takes the rest of the unit interval
                u = rng.random()
                cumulative = 0.0
                for destination in range(stages):
                    cumulative += survival[destination, stage]
                    if u < cumulative:
                        next_year.append(destination)
                        break
                for destination in range(stages):
                    if fecundity[destination, stage] > 0:
                        babies = int(rng.poisson(fecundity[destination, stage]))
                        next_year.extend([destination] * babies)
            while len(next_year) > carrying_capacity:
                next_year.pop(int(rng.integers(len(next_year))))
            individuals = next_year
            out[replicate, year] = np.bincount(individuals, minlength=stages)
    return out
