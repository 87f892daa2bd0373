"""The population genetics of a projection, as functions on arrays (any shape, element by element).

The engine (:mod:`pva.engine`) keeps, for every scenario, replicate and site, the gene diversity
``H`` (expected heterozygosity, relative to the species' reference ``H0 = 1``) and García-Dorado's
purged inbreeding coefficient ``g``, and calls these functions once a year. Nothing here draws
random numbers: given the realised numbers of breeders, the genetic state is the expectation over
the genealogies those breeders could have.

The model, and where each piece comes from:

* **Effective size** (:func:`effective_size`). From the breeding males ``Nm`` and females ``Nf``,
  ``Ne = 4 Nm Nf / (Nm + Nf)`` (Wright 1931), times ``4 / (Vk + 2)`` for a variance ``Vk`` in family
  size (Ne = 4N / (Vk + 2) for a population of constant size N; Crow & Kimura 1970, eq. 7.6.3.31;
  Hill 1972). With Poisson family sizes (``Vk = 2``) the factor is 1; for equal numbers of the two
  sexes the product is Hill's (1972) ``8N / (Vk_m + Vk_f + 4)`` with ``Vk_m = Vk_f = Vk``; for
  unequal sexes multiplying the two corrections is the approximation. Or ``Ne = ratio x N``.
* **Loss of gene diversity** (:func:`retention`). Per generation ``H' = H (1 - 1/(2 Ne))``
  (Wright 1931; Crow & Kimura 1970, eq. 3.11.3), per year ``(1 - 1/(2 Ne))^(1/G)`` with G the
  generation length in years. The yearly spreading of a generation's loss is the approximation for
  overlapping generations (exact for G = 1); with Ne varying from year to year the product over a
  generation is governed by the harmonic mean of the yearly Ne (Wright 1938).
* **Inbreeding**: ``F = 1 - H / H0`` (with H relative to H0, ``F = 1 - H``).
* **Purging** (:func:`purged`). The purged inbreeding coefficient of García-Dorado (2012, eq. 13)
  ``g_t = [(1 - 1/(2 Ne)) g_{t-1} + 1/(2 Ne)] (1 - 2 d F_{t-1})``, d the purging coefficient
  (``s (1 - 2h) / 2``: 0.5 for recessive lethals), valid when Ne d >= 1; per year both factors are
  taken to the power 1/G. Without purging (d = 0) ``g = F``.
* **Inbreeding depression** (:func:`depression`). Fitness ``exp(-B ((1 - p) F + p g))``: B lethal
  equivalents (Morton et al. 1956), a share p of them recessive lethals that purging removes, the
  rest not (VORTEX's split; Lacy 2000; Lacy et al. 2015).
* **Mixing** (:func:`mix`). Immigrants, translocated and released individuals bring their own gene
  diversity; the gene diversity of the mixture is taken as the mean weighted by numbers. The
  expected heterozygosity of a mixture of sources is this weighted mean plus the divergence
  between them (``H_T = H_S + D_ST``; Nei 1973), so the weighted mean is a lower bound, exact when
  the sources share their allele frequencies: it ignores the boost of genetic rescue by a
  divergent source.

References
----------
Crow, J.F. & M. Kimura. 1970. An Introduction to Population Genetics Theory. Harper & Row.
García-Dorado, A. 2012. Understanding and predicting the fitness decline of shrunk populations:
    inbreeding, purging, mutation, and standard selection. Genetics 190:1461-1476.
Hill, W.G. 1972. Effective size of populations with overlapping generations. Theoretical Population
    Biology 3:278-289.
Lacy, R.C. 2000. Structure of the VORTEX simulation model for population viability analysis.
    Ecological Bulletins 48:191-203.
Lacy, R.C., P.S. Miller & K. Traylor-Holzer. 2015. Vortex 10 User's Manual. IUCN SSC Conservation
    Breeding Specialist Group and Chicago Zoological Society.
Morton, N.E., J.F. Crow & H.J. Muller. 1956. An estimate of the mutational damage in man from data on
    consanguineous marriages. PNAS 42:855-863.
Nei, M. 1973. Analysis of gene diversity in subdivided populations. PNAS 70:3321-3323.
O'Grady, J.J., B.W. Brook, D.H. Reed, J.D. Ballou, D.W. Tonkyn & R. Frankham. 2006. Realistic
    levels of inbreeding depression strongly affect extinction risk in wild populations.
    Biological Conservation 133:42-51.
Ralls, K., J.D. Ballou & A. Templeton. 1988. Estimates of lethal equivalents and the cost of
    inbreeding in mammals. Conservation Biology 2:185-193.
Wright, S. 1931. Evolution in Mendelian populations. Genetics 16:97-159.
Wright, S. 1938. Size of population and breeding structure in relation to evolution. Science
    87:430-431.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "depression",
    "effective_size",
    "effective_size_from_ratio",
    "mix",
    "purged",
    "retention",
]


def effective_size(
    females: npt.ArrayLike, males: npt.ArrayLike, *, family_size_variance: float = 2.0
) -> FloatArray:
    """Effective size of a year's breeders: ``4 Nm Nf / (Nm + Nf) x 4 / (Vk + 2)``.

    Parameters
    ----------
    females, males
        Breeding females and males (any shape, broadcast together).
    family_size_variance
        Variance in lifetime family size ``Vk`` (2: Poisson).

    Returns
    -------
    numpy.ndarray
        Ne in individuals; 0 where either sex is absent (no breeding).
    """
    nf = np.asarray(females, dtype=float)
    nm = np.asarray(males, dtype=float)
    both = nf + nm
    with np.errstate(divide="ignore", invalid="ignore"):
        sexes = np.where(both > 0, 4.0 * nf * nm / np.where(both > 0, both, 1.0), 0.0)
    return sexes * (4.0 / (family_size_variance + 2.0))


def effective_size_from_ratio(mature: npt.ArrayLike, ratio: float) -> FloatArray:
    """``Ne = ratio x N`` with N the mature individuals (both sexes), but never below
    ``min(N, 1)``.

    A ratio measured on populations of tens or hundreds (Frankham 1995) would give a handful of
    breeders an Ne below 1, and ``Ne <= 0.5`` would lose all gene diversity in a year. The
    smallest variance effective size of a breeding population is 1: every offspring from one
    parent, its two genes drawn with replacement from that parent's two (``H' = H / 2``).

    Frankham, R. 1995. Effective population size/adult population size ratios in wildlife: a
    review. Genetical Research 66:95-107.
    """
    n = np.asarray(mature, dtype=float)
    return np.maximum(n * ratio, np.minimum(n, 1.0))


def retention(ne: npt.ArrayLike, generation_length: float) -> FloatArray:
    """Share of gene diversity kept in one year: ``(1 - 1/(2 Ne))^(1/G)``.

    Where ``Ne`` is 0 nobody bred and nothing is lost (1); where ``Ne <= 0.5`` everything is
    (0: one gamete cannot carry two alleles).
    """
    n = np.asarray(ne, dtype=float)
    with np.errstate(divide="ignore"):
        per_generation = np.clip(1.0 - 0.5 / np.where(n > 0, n, np.inf), 0.0, 1.0)
    return np.where(n > 0, per_generation ** (1.0 / generation_length), 1.0)


def purged(
    g: npt.ArrayLike,
    inbreeding: npt.ArrayLike,
    kept: npt.ArrayLike,
    *,
    purging: float,
    generation_length: float,
) -> FloatArray:
    """García-Dorado's (2012) purged inbreeding coefficient one year on.

    ``g' = [1 - (1 - g) kept] (1 - 2 d F)^(1/G)``, where ``kept`` is the year's
    :func:`retention` (``(1 - 1/(2 Ne))^(1/G)``), ``F`` the inbreeding at the start of the year and
    ``d`` = ``purging``. With ``d = 0`` this is the recursion of F itself, so ``g = F``.
    """
    gg = np.asarray(g, dtype=float)
    grown = 1.0 - (1.0 - gg) * np.asarray(kept, dtype=float)
    if purging == 0:
        return grown
    selected = np.clip(1.0 - 2.0 * purging * np.asarray(inbreeding, dtype=float), 0.0, 1.0)
    return grown * selected ** (1.0 / generation_length)


def depression(
    inbreeding: npt.ArrayLike,
    g: npt.ArrayLike,
    *,
    lethal_equivalents: float,
    lethal_proportion: float,
) -> FloatArray:
    """Fitness of the inbred relative to the outbred: ``exp(-B ((1 - p) F + p g))``."""
    f = np.asarray(inbreeding, dtype=float)
    load = (1.0 - lethal_proportion) * f + lethal_proportion * np.asarray(g, dtype=float)
    return np.exp(-lethal_equivalents * load)


def mix(
    h: npt.ArrayLike, residents: npt.ArrayLike, h_in: npt.ArrayLike, arrivals: npt.ArrayLike
) -> FloatArray:
    """Gene diversity after ``arrivals`` individuals of diversity ``h_in`` join ``residents`` of
    diversity ``h``: the mean weighted by numbers (``h`` where nobody is there)."""
    n = np.asarray(residents, dtype=float)
    a = np.asarray(arrivals, dtype=float)
    total = n + a
    with np.errstate(divide="ignore", invalid="ignore"):
        mixed = (n * np.asarray(h, dtype=float) + a * np.asarray(h_in, dtype=float)) / total
    return np.where(total > 0, mixed, np.asarray(h, dtype=float))
