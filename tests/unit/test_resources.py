"""The resource estimate (pva.resources): close to the memory a real run uses, and a refusal before
anything of the run's size is allocated."""

from __future__ import annotations

import resource
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from pva import io, resources, runner
from pva.errors import ResourceError
from pva.model import Species
from pva.scenario import ConflictMitigation, Harvest, Scenario
from pva.study import Outputs, RedListE, Study

FACTOR = 1.6
"""The estimate is within this factor of the measured peak (the module docstring says so)."""

HERB = Species(
    name="herb",
    stages=("seedling", "juvenile", "adult"),
    U=((0.1, 0.0, 0.0), (0.3, 0.5, 0.0), (0.0, 0.3, 0.9)),
    F=((0.0, 0.0, 1.2), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
    initial=(40, 30, 60),
    carrying_capacity=300.0,
    generation_length=6.0,
)
POACHING = Harvest(name="poaching", stages=("adult",), proportion=0.05)
SCENARIOS = (
    Scenario("no action", (POACHING,)),
    Scenario("patrols", (POACHING, ConflictMitigation(name="patrols", threat="poaching"))),
)


def _study(**settings: object) -> Study:
    base: dict[str, object] = {
        "name": "sizes",
        "species": (HERB,),
        "scenarios": SCENARIOS,
        "seed": 5,
        "years": 50,
        "replicates": 200,
    }
    return Study(**{**base, **settings})  # type: ignore[arg-type]


def _peak(study: Study) -> int:
    """Peak bytes traced while the study runs (numpy's arrays included; tracemalloc sees them)."""
    tracemalloc.start()
    try:
        runner.run_study(study, backend="sequential")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "settings",
    [
        {"replicates": 2000, "years": 40},  # the results dominate
        {"replicates": 400, "years": 300, "chunk_size": 400},  # one large task dominates
        {
            "replicates": 40,
            "years": 10,
            "outputs": Outputs(red_list_e=RedListE(years=(5,), inner_replicates=50)),
        },  # nested criterion E dominates
    ],
    ids=["results", "task", "nested E"],
)
def test_the_estimate_is_within_a_factor_of_the_measured_peak(settings: dict[str, object]) -> None:
    runner.run_study(_study(replicates=8, years=5), backend="sequential")  # warm caches and imports
    study = _study(**settings)
    need = resources.estimate(study, backend="sequential")
    simulating = need.results + need.schedules + need.task + need.nested
    measured = _peak(study)
    assert measured / FACTOR <= simulating <= measured * FACTOR, (simulating, measured)
    assert need.memory >= simulating


def test_workers_add_their_memory() -> None:
    study = _study(replicates=1024, chunk_size=256)  # 4 tasks
    one = resources.estimate(study, jobs=1)
    two = resources.estimate(study, jobs=2, backend="loky")
    assert two.jobs == 2
    assert two.memory >= one.memory + 2 * resources.WORKER_BASE - one.task
    assert resources.estimate(study, jobs=2, backend="threading").workers == 0
    assert resources.estimate(_study(), jobs=64).jobs == 1  # one task: one worker at most


def test_a_run_that_cannot_fit_is_refused_in_one_line() -> None:
    need = resources.estimate(_study(replicates=10**6, years=1000))
    with pytest.raises(ResourceError) as caught:
        resources.require_memory(need, available=2**30, where="study.toml: [study]")
    assert need.memory > resources.ALWAYS_ALLOWED
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("study.toml: [study]: the run needs about ")
    assert (
        f"results {resources.format_bytes(need.results)} for 1 species x 2 scenarios x 1,000,000 replicates x 1,001 years"
        in message
    )
    assert "but 1.0 GiB are available" in message
    assert message.endswith(
        "use fewer [study] replicates or years (or fewer species or scenarios per study)"
    )
    resources.require_memory(need, available=need.memory)  # exactly enough: no error


def test_a_small_run_is_never_refused() -> None:
    """Available memory moves from second to second on a shared machine: a run of less than
    ALWAYS_ALLOWED is let through even when the figure dips below it."""
    need = resources.estimate(_study())
    assert need.memory < resources.ALWAYS_ALLOWED
    resources.require_memory(need, available=1)


def test_the_advice_names_what_to_shrink() -> None:
    nested = _study(outputs=Outputs(red_list_e=RedListE(years=(5,), inner_replicates=10**6)))
    assert "inner_replicates" in resources.estimate(nested).advice()
    long = _study(replicates=10, years=10**7)
    assert resources.estimate(long).advice().startswith("use fewer [study] years")
    many_jobs = _study(replicates=4096, years=2)
    assert "--jobs" in resources.estimate(many_jobs, jobs=16, backend="loky").advice()


def test_validate_of_a_billion_years_allocates_nothing_year_sized(tmp_path: Path) -> None:
    """`pva validate` of years = 1e9 reached 4 GB in 1.8 s (it compiled every schedule)."""
    text = (
        '[study]\nname = "long"\nyears = 1000000000\nreplicates = 10\nseed = 1\n\n'
        '[[species]]\nname = "herb"\nstages = ["plant"]\nU = [[0.6]]\nF = [[0.5]]\ninitial = [30]\n\n'
        '[[threats]]\ntype = "Harvest"\nname = "grazing"\nproportion = 0.2\n'
    )
    path = tmp_path / "long.toml"
    path.write_text(text, encoding="utf-8")
    tracemalloc.start()
    try:
        study = io.read_study(path)
        need = resources.estimate(study)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # one year-sized array would be 8 GB
    assert need.schedules > 10**10  # what compiling the schedules would have cost
    with pytest.raises(ResourceError, match="fewer \\[study\\] years"):
        resources.require_memory(need, available=2**34)


def test_run_study_refuses_a_trillion_replicates_before_listing_chunks() -> None:
    """`replicates = 1e12` grew by ~370 MB/s building chunk lists."""
    study = _study(replicates=10**12)
    tracemalloc.start()
    try:
        with pytest.raises(ResourceError, match="1,000,000,000,000 replicates"):
            runner.run_study(study, backend="sequential")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # the chunk list alone would be 4e9 tuples


def test_available_memory_respects_ulimit() -> None:
    limit = 3 * 2**30
    code = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, resource.getrlimit(resource.RLIMIT_AS)[1]))\n"
        "from pva import resources\n"
        "print(resources.available_memory())\n"
    )
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY and hard < limit:
        pytest.skip("the hard address-space limit is below the one set here")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert 0 < int(out.stdout) < limit


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (512, "512 bytes"),
        (1536, "1.5 KiB"),
        (25 * 2**20, "25 MiB"),
        (3 * 2**40, "3 TiB"),
        (2**60, "1e+06 TiB"),
    ],
)
def test_bytes_read_as_people_write_them(n: int, text: str) -> None:
    assert resources.format_bytes(n) == text
