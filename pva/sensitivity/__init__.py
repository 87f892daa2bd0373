"""Sweeps over any parameter of a study, sensitivity indices, and parameter uncertainty.

Scientists ask how extinction risk responds to harvest, to K, to adult survival, and which
uncertain parameter matters most. This package answers with the study itself:

* :mod:`~pva.sensitivity.paths`: any number of a study addressed by a dotted path
  (``species."Hudsonia montana".U[2][1]``, ``threats.poaching.proportion``, ``study.years``), and
  the study with such numbers changed, validated by the specifications themselves;
* :mod:`~pva.sensitivity.designs`: grid, one-at-a-time, Latin hypercube, Sobol'/Saltelli and Morris
  designs over factors with ranges or distributions;
* :mod:`~pva.sensitivity.execution`: :func:`sweep` runs every sample of a design through the runner
  with common random numbers, reduced per sample to what ``pva summary`` reports, in one Dataset
  with a ``sample`` dim; :func:`run_uncertainty` draws parameters once per block of replicates;
* :mod:`~pva.sensitivity.indices`: Sobol' indices with bootstrap intervals, Morris elementary
  effects, partial rank correlations, and :func:`evaluate` for any Python function;
* :mod:`~pva.sensitivity.uncertainty`: the variance of the risk split into its parameter and
  process parts, and the plausible range of Red List categories;
* :mod:`~pva.sensitivity.settings`: the ``[sweep]`` and ``[uncertainty]`` tables of a study file.

Examples
--------
>>> from pva.sensitivity import Factor, designs, evaluate, sobol_indices
>>> from pva import streams
>>> factors = [Factor.uniform("x1", 0.0, 1.0), Factor.uniform("x2", 0.0, 1.0)]
>>> design = designs.sobol(factors, 64, rng=streams.generator(seed=1)[0])
>>> y = evaluate(lambda x: 3 * x[:, 0] + 0.01 * x[:, 1], design)
>>> indices = sobol_indices(design, y, seed=2)
>>> float(indices["total"].sel(parameter="x1")) > 0.99
True
"""

from __future__ import annotations

from pva.sensitivity import designs, paths
from pva.sensitivity.designs import (
    DESIGNS,
    Beta,
    Design,
    Distribution,
    Factor,
    Triangular,
    TruncatedNormal,
    Uniform,
)
from pva.sensitivity.execution import (
    SAMPLE_DIMS,
    default_horizons,
    reduce_sample,
    risk,
    run_uncertainty,
    sample_studies,
    sweep,
)
from pva.sensitivity.indices import evaluate, morris_indices, prcc, sobol_indices
from pva.sensitivity.paths import (
    Parameter,
    ParameterError,
    ParameterPathError,
    ParameterValueError,
    assign,
    resolve,
)
from pva.sensitivity.settings import (
    SweepSettings,
    SweptParameter,
    UncertainParameter,
    UncertaintySettings,
    factors,
    parse_setting,
)
from pva.sensitivity.uncertainty import VarianceSplit, category_range, variance_split

__all__ = [
    "DESIGNS",
    "SAMPLE_DIMS",
    "Beta",
    "Design",
    "Distribution",
    "Factor",
    "Parameter",
    "ParameterError",
    "ParameterPathError",
    "ParameterValueError",
    "SweepSettings",
    "SweptParameter",
    "Triangular",
    "TruncatedNormal",
    "UncertainParameter",
    "UncertaintySettings",
    "Uniform",
    "VarianceSplit",
    "assign",
    "category_range",
    "default_horizons",
    "designs",
    "evaluate",
    "factors",
    "morris_indices",
    "parse_setting",
    "paths",
    "prcc",
    "reduce_sample",
    "resolve",
    "risk",
    "run_uncertainty",
    "sample_studies",
    "sobol_indices",
    "sweep",
    "variance_split",
]
