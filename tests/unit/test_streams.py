"""The seeding policy: streams depend on (entropy, species, chunk), never on workers or call order."""

from __future__ import annotations

import numpy as np
import pytest

from pva import streams


def _draws(s: streams.Streams) -> list[float]:
    return [float(g.random()) for g in (s.environment, s.catastrophes, s.demography, s.events)]


def test_same_key_same_numbers() -> None:
    assert _draws(streams.chunk_streams(7, "heather", 3)) == _draws(
        streams.chunk_streams(7, "heather", 3)
    )


def test_sources_are_distinct_streams() -> None:
    draws = _draws(streams.chunk_streams(7, "heather", 0))
    assert len(set(draws)) == 4


@pytest.mark.parametrize(
    ("other"),
    [
        (8, "heather", 3, None),
        (7, "tortoise", 3, None),
        (7, "heather", 4, None),
        (7, "heather", 3, "x"),
    ],
)
def test_any_key_change_changes_numbers(other: tuple[int, str, int, str | None]) -> None:
    base = _draws(streams.chunk_streams(7, "heather", 3))
    entropy, species, chunk, scenario = other
    assert _draws(streams.chunk_streams(entropy, species, chunk, scenario=scenario)) != base


def test_chunk_key_equals_spawned_child() -> None:
    # SeedSequence(e, spawn_key=(k,)) is the k-th child of SeedSequence(e): chunks can be re-run alone.
    entropy = 12345
    explicit = np.random.SeedSequence(entropy, spawn_key=(5,))
    spawned = np.random.SeedSequence(entropy).spawn(6)[5]
    assert explicit.generate_state(4).tolist() == spawned.generate_state(4).tolist()


def test_stable_key_is_not_salted_hash() -> None:
    # sha256-based: a fixed value on every machine and process (hash() would be salted).
    import hashlib

    expected = int.from_bytes(hashlib.sha256(b"heather").digest()[:4], "little")
    assert streams.stable_key("heather") == expected


def test_resolve_entropy() -> None:
    assert streams.resolve_entropy(42) == 42
    fresh = streams.resolve_entropy(None)
    assert isinstance(fresh, int)
    assert fresh > 0
    with pytest.raises(TypeError, match="seed must be"):
        streams.resolve_entropy(True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seed must be"):
        streams.resolve_entropy(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="got -1"):
        streams.resolve_entropy(-1)


def test_chunk_bounds_cover_replicates_once() -> None:
    bounds = streams.chunk_bounds(1000, 256)
    assert bounds == [(0, 256), (256, 512), (512, 768), (768, 1000)]
    assert streams.chunk_bounds(3, 256) == [(0, 3)]
    with pytest.raises(ValueError, match="replicates must be an integer >= 1; got 0"):
        streams.chunk_bounds(0)
    with pytest.raises(ValueError, match="chunk_size"):
        streams.chunk_bounds(10, 0)
    with pytest.raises(TypeError, match=r"chunk_size must be an integer; got 2\.5"):
        streams.chunk_bounds(10, 2.5)  # type: ignore[arg-type]
