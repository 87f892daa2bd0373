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


def wright_fisher_genotypes(
    *,
    size: int,
    carrying_capacity: int,
    offspring: float,
    survival: float,
    lethal_equivalents: float,
    loci: int,
    generations: int,
    replicates: int,
    rng: np.random.Generator,
    selfing: bool = True,
) -> dict[str, npt.NDArray[np.float64]]:
    """A monoecious Wright-Fisher population with explicit diploid genotypes at unlinked loci.

    Each generation every adult dies after breeding; ``Poisson(offspring x adults)`` zygotes are
    made, each from two parents drawn at random among the adults (the same one twice with
    probability 1/N when ``selfing``, never without it), taking one of each parent's two alleles at
    every locus at random (Mendel, free recombination). Each zygote survives its first year with
    probability ``survival x exp(-B f_i)``, ``f_i`` its own realised inbreeding: the share of its
    loci whose two alleles are copies of the same founder allele (the founders carry 2 N x loci
    distinct alleles, so identity in state is identity by descent). Survivors above
    ``carrying_capacity`` are removed at random. Gene diversity is the mean over loci of Nei's
    (1978) unbiased gene diversity ``2n / (2n - 1) (1 - sum_i p_i^2)`` of the n adults: the
    probability that two distinct genes differ, 1 for the founders.

    This is the ideal population of Wright (1931) with selfing: two genes of a zygote are two
    draws with replacement from the 2N genes of the N parents, so its expected gene diversity
    falls by ``1 - 1/(2N)`` a generation exactly, N the number of parents, and a zygote's
    expected inbreeding is ``1 - H (1 - 1/(2N))``. The inbreeding depression is VORTEX-like,
    individual by individual. Genotypes are arrays (individuals, 2, loci) of allele ids; each
    replicate is simulated generation by generation, nothing is vectorised across replicates.

    Returns
    -------
    dict
        ``adults`` (replicates, generations + 1): individuals at each census;
        ``gene_diversity`` (replicates, generations + 1): relative to generation 0, NaN when
        extinct; ``inbreeding`` (replicates, generations + 1): the zygotes' mean realised ``f``
        in the generation that produced them (NaN at 0 and when none were made);
        ``survival`` (replicates, generations + 1): the zygotes' first-year survival divided by
        ``survival`` (the inbreeding depression realised), NaN where undefined.
    """
    shape = (replicates, generations + 1)
    out = {
        "adults": np.zeros(shape),
        "gene_diversity": np.full(shape, np.nan),
        "inbreeding": np.full(shape, np.nan),
        "survival": np.full(shape, np.nan),
    }
    locus = np.arange(loci)
    for r in range(replicates):
        genotypes = np.arange(2 * size * loci).reshape(size, 2, loci)
        out["adults"][r, 0] = size
        out["gene_diversity"][r, 0] = 1.0
        for t in range(1, generations + 1):
            n = len(genotypes)
            if n == 0:
                break
            zygotes = int(rng.poisson(offspring * n))
            mother = rng.integers(n, size=zygotes)
            father = rng.integers(n, size=zygotes)
            if not selfing and n > 1:
                same = mother == father
                while same.any():  # redraw until the two parents differ
                    father[same] = rng.integers(n, size=int(same.sum()))
                    same = mother == father
            egg = genotypes[mother[:, None], rng.integers(2, size=(zygotes, loci)), locus]
            sperm = genotypes[father[:, None], rng.integers(2, size=(zygotes, loci)), locus]
            f = (egg == sperm).mean(axis=1)
            alive = rng.random(zygotes) < survival * np.exp(-lethal_equivalents * f)
            if zygotes:
                out["inbreeding"][r, t] = f.mean()
                out["survival"][r, t] = alive.mean() / survival
            genotypes = np.stack([egg[alive], sperm[alive]], axis=1)
            if len(genotypes) > carrying_capacity:
                keep = rng.choice(len(genotypes), carrying_capacity, replace=False)
                genotypes = genotypes[keep]
            out["adults"][r, t] = len(genotypes)
            if len(genotypes):
                out["gene_diversity"][r, t] = _gene_diversity(genotypes, loci)
    return out


def _gene_diversity(genotypes: npt.NDArray[np.int64], loci: int) -> float:
    """Mean over loci of Nei's unbiased gene diversity ``2n/(2n - 1) (1 - sum_i p_i^2)``; allele
    ids are distinct across loci (id mod loci is the locus). NaN for a single gene copy."""
    copies = 2 * len(genotypes)
    counts = np.bincount(genotypes.ravel()).astype(float)
    locus_of = np.arange(counts.size) % loci
    homozygosity = np.bincount(locus_of, weights=counts**2, minlength=loci) / copies**2
    return float(copies / (copies - 1) * (1.0 - homozygosity.mean()))
