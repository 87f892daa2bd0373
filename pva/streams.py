"""The one place where seeds become random-number streams.

Policy (numpy's ``random/parallel`` guide; ``docs/architecture.md``):

* one root entropy per study or call; ``seed=None`` draws fresh entropy from the OS, which is recorded
  so that the run can be repeated;
* each (species, replicate chunk) gets its own :class:`numpy.random.SeedSequence` through an explicit
  ``spawn_key``, so the numbers depend on the chunk layout (``replicates``, ``chunk_size``) and never on
  the number of workers;
* inside a chunk, separate child streams for the environment, catastrophes, demography and scenario
  events. Scenarios share the chunk keys by default, so replicate *r* sees the same environmental and
  catastrophe history under every scenario (common random numbers): intervention effects are paired
  differences with far less Monte Carlo noise;
* the nested criterion-E projections of a chunk (:func:`nested_seed`, :func:`batch_streams`) and each
  scenario event (:func:`event_stream`) get their own keys below the chunk's; an event shared by
  the species at a site gets a key without the species, so that it strikes them all in the same
  replicates and years;
* a single-generator call (:func:`generator`: ``pva.analysis.stochastic_growth_rate``,
  ``pva.countpva.extinction_band``) takes a seed or a Generator, and reports the entropy it resolved;
* a parameter sweep (:mod:`pva.sensitivity`) runs every sample on the study's entropy and chunk keys
  (common random numbers across samples); its design points, bootstrap and parameter draws come
  from :func:`sweep_generator`, on keys no model stream uses.

Nothing else in pva builds a SeedSequence or a Generator.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

import numpy as np

from pva import validation

DEFAULT_CHUNK_SIZE = 2048
"""Replicates per task. Part of the reproducibility contract: results depend on it, not on workers.

Wide enough that the engine's fixed cost per year (a few dozen numpy calls, whatever the number of
replicates) is small beside the work on a task's replicates (all scenarios of a species are
projected together): a study of up to 2,048 replicates is one task per species; narrow enough that
larger studies still spread over workers. ``pva.simulate`` projects its chunks together, each on its
own streams, so its speed does not depend on the chunk size (``results/benchmark_engine.md``)."""

_ENVIRONMENT, _CATASTROPHES, _DEMOGRAPHY, _EVENTS = 0, 1, 2, 3
_EVENT_CHILD = 0x45564E54  # "EVNT": marks the per-event children of the events stream
_EX_SITU_CHILD = 0x45585354  # "EXST": marks the ex-situ child of the demography stream
_SHARED_EVENT = 0x53495445  # "SITE": replaces the species in the key of an event shared by species
_NESTED_E = 4
"""spawn_key component that marks the nested criterion-E streams of a chunk; the chunk's own four
streams use the components 0-3 (:func:`chunk_streams`) at a shorter key."""
_SWEEP = 0x53574550  # "SWEP": marks the streams of a sweep's design, bootstrap and parameter draws
_SWEEP_PURPOSES = ("design", "bootstrap", "uncertainty")
_BOOTSTRAP = 0x424F4F54  # "BOOT": the one-component key of the summaries' paired bootstrap


def stable_key(name: str) -> int:
    """A 32-bit integer key for a name, stable across processes and Python versions.

    Python's ``hash()`` is salted per process, so it must never be used for seeding.
    """
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "little")


def resolve_entropy(seed: int | None) -> int:
    """Return the root entropy for ``seed``: the seed itself, or fresh OS entropy when ``None``.

    Raises
    ------
    TypeError
        If ``seed`` is not an integer (a bool or float is refused, not truncated).
    ValueError
        If ``seed`` is negative.
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if not validation.is_integer(seed):
        raise TypeError(f"seed must be a non-negative integer or None; got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None; got {seed!r}")
    return int(seed)


@dataclasses.dataclass(frozen=True)
class Streams:
    """Independent generators for one (species, chunk): one per source of randomness."""

    environment: np.random.Generator
    """Annual environmental states, vital-rate draws and carrying-capacity variation."""
    catastrophes: np.random.Generator
    """Whether each catastrophe type strikes in each year and replicate."""
    demography: np.random.Generator
    """Individual fates: survival, transitions, births, harvest, post-release survival, dispersal."""
    events: np.random.Generator
    """Stochastic threats that a scenario adds (e.g. disease outbreaks of a given frequency)."""


def chunk_streams(
    entropy: int, species: str, chunk: int, *, scenario: str | None = None
) -> Streams:
    """Return the streams of replicate chunk ``chunk`` of species ``species``.

    Parameters
    ----------
    entropy
        Root entropy of the study (see :func:`resolve_entropy`).
    species
        Species name; keyed by :func:`stable_key`, so adding a species to a study leaves the numbers
        of the others unchanged.
    chunk
        Index of the replicate chunk (replicates ``chunk * chunk_size`` onwards).
    scenario
        ``None`` (default) for common random numbers across scenarios; a scenario name for
        independent streams per scenario.
    """
    key: tuple[int, ...] = (stable_key(species),)
    if scenario is not None:
        key += (stable_key(scenario),)
    key += (int(chunk),)
    return _streams_below(entropy, key)


def _streams_below(entropy: int | Sequence[int] | None, key: tuple[int, ...]) -> Streams:
    """The four streams whose spawn keys extend ``key`` by 0 (environment) .. 3 (events)."""
    children = [
        np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(*key, index)))
        for index in (_ENVIRONMENT, _CATASTROPHES, _DEMOGRAPHY, _EVENTS)
    ]
    return Streams(*children)


def nested_seed(entropy: int, species: str, chunk: int, year: int) -> np.random.SeedSequence:
    """The root SeedSequence of the inner projections of replicate chunk ``chunk`` of ``species``
    from assessment year ``year`` (:func:`pva.nested.extinction_risk_windows`).

    Its ``spawn_key`` extends the chunk's key (:func:`chunk_streams`) with a component for "nested E"
    and the assessment year, so the inner futures depend on the chunk layout alone (never on ``jobs``
    or the backend), and every scenario of the species sees the same inner random numbers (common
    random numbers, as for the outer projections).
    """
    return np.random.SeedSequence(
        entropy, spawn_key=(stable_key(species), int(chunk), _NESTED_E, int(year))
    )


def batch_streams(seed: np.random.SeedSequence, batch: int) -> Streams:
    """The streams of batch ``batch`` under ``seed`` (a :func:`nested_seed`): spawn keys
    ``seed.spawn_key + (batch, s)`` for the four streams ``s``."""
    return _streams_below(seed.entropy, (*seed.spawn_key, int(batch)))


def generator(
    *, seed: int | None = None, rng: np.random.Generator | None = None
) -> tuple[np.random.Generator, str | None]:
    """The generator of a single-stream call, and the entropy it was seeded with.

    Give ``seed`` (an integer, or None for fresh OS entropy) or ``rng`` (a Generator used as is), not
    both. Returns ``(generator, entropy)``; ``entropy`` is the resolved root seed as a string (for
    provenance), or None when ``rng`` was given.

    Raises
    ------
    TypeError
        If both are given, ``rng`` is not a Generator, or ``seed`` not an integer.
    ValueError
        If ``seed`` is negative.
    """
    if rng is not None and seed is not None:
        raise TypeError("give seed or rng, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator; got {rng!r}")
        return rng, None
    root = resolve_entropy(seed)
    return np.random.default_rng(np.random.SeedSequence(root)), str(root)


def bootstrap_generator(entropy: int | None) -> np.random.Generator:
    """The generator of the paired bootstrap over replicates that a summary of results with root
    ``entropy`` draws (:mod:`pva.summary.costs`): a key of its own below the root (one component,
    where every projection stream has three or more), so the same results give the same intervals
    and the resampling shares no numbers with the projections. ``None`` (results without a recorded
    entropy) uses 0."""
    root = 0 if entropy is None else int(entropy)
    return np.random.default_rng(np.random.SeedSequence(root, spawn_key=(_BOOTSTRAP,)))


def single_streams(rng: np.random.Generator | int | None) -> Streams:
    """Streams for a quick call that has a single generator or seed (tests, notebooks)."""
    root = np.random.default_rng(rng)
    children = root.spawn(4)
    return Streams(*children)


def sweep_generator(entropy: int, purpose: str) -> np.random.Generator:
    """The generator of one random part of a parameter sweep (:mod:`pva.sensitivity`).

    ``purpose`` is ``"design"`` (Latin hypercube points, the scrambling of a Sobol' sequence, Morris
    trajectories), ``"bootstrap"`` (resampling for the intervals of sensitivity indices) or
    ``"uncertainty"`` (the parameter draws of a run with parameter uncertainty). Its spawn key
    ``(SWEEP, purpose)`` has two components, a length no model stream has (a chunk's streams have
    three or four, :func:`chunk_streams`; nested ones more), so a sweep's own random numbers never
    coincide with the replicates' while those keep the chunk keys of the study: every sample of a
    sweep sees the same environment and catastrophe histories (common random numbers).
    """
    if purpose not in _SWEEP_PURPOSES:
        raise ValueError(f"purpose must be one of {_SWEEP_PURPOSES}; got {purpose!r}")
    key = (_SWEEP, _SWEEP_PURPOSES.index(purpose))
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=key))


def chunk_bounds(replicates: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[tuple[int, int]]:
    """Half-open replicate ranges ``[(start, stop), ...]`` of the fixed chunk layout."""
    replicates = validation.integer(replicates, "replicates", minimum=1)
    chunk_size = validation.integer(chunk_size, "chunk_size", minimum=1)
    return [
        (start, min(start + chunk_size, replicates)) for start in range(0, replicates, chunk_size)
    ]


def event_stream(
    events: np.random.Generator, name: str, *, shared: bool = False
) -> np.random.Generator:
    """The generator of the scenario event ``name``: a child of the events stream's SeedSequence
    keyed by the name, so that an epidemic strikes the same replicates in the same years in every
    scenario that has it, whatever other events the scenario has and in whatever order (common
    random numbers; a scenario that lists an extra event or its threats in another order would
    otherwise shift every later event's draws). Falls back to ``events`` itself for a generator
    without a SeedSequence.

    With ``shared`` (an event of a site shared by species, :class:`pva.sites.SiteCatastrophe`), the
    key leaves out the species: every stream key of a species starts with :func:`stable_key` of
    its name (:func:`chunk_streams`, :func:`nested_seed`), and a shared event's key replaces that
    component by a mark of its own, keeping the rest (scenario, chunk, nested year and batch). So
    replicate r of chunk k draws the same numbers for that event in every species: the species at
    a site are struck in the same years, and the draws never depend on which species the study
    holds or in what order."""
    seq = getattr(events.bit_generator, "seed_seq", None)
    if not isinstance(seq, np.random.SeedSequence):
        return events
    below = seq.spawn_key
    if shared:
        below = (_SHARED_EVENT, *below[1:])
    key = (*below, _EVENT_CHILD, stable_key(name))
    return np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=key))


def ex_situ_stream(demography: np.random.Generator) -> np.random.Generator:
    """The generator of the ex-situ (captive) populations of a chunk: a child of the demography
    stream's SeedSequence under a key of its own, so that drawing founders, captive fates and births
    and releases from captivity never shifts the wild demographic draws (a scenario with a
    programme draws in the wild what any scenario in the same state draws). Falls back to a child
    spawned from ``demography`` for a generator without a SeedSequence."""
    seq = getattr(demography.bit_generator, "seed_seq", None)
    if not isinstance(seq, np.random.SeedSequence):
        return demography.spawn(1)[0]
    key = (*seq.spawn_key, _EX_SITU_CHILD)
    return np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=key))
