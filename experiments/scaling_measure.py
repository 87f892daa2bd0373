"""Time and peak memory of one ``pva`` command, measured in a fresh process (issue 17).

:func:`measure` runs ``pva <argv>`` in a new Python process, as a user's shell would (through the
command's entry point, :func:`pva.__main__.main`), and returns
its wall time (seen from outside: interpreter start-up and imports included), and the peak
resident memory of that process (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, read in it just
before it exits: the calling process of a run, not its workers) and of its workers
(``RUSAGE_CHILDREN``: the largest of the worker processes it waited for), and the CPU time of both.
:func:`load` is the
machine's load average (``os.getloadavg``) with the number of cores, to print beside figures
measured on a shared machine.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Sequence

# the entry point of the `pva` command (pva.__main__.main), as its console script runs it: a
# parallel `pva run` starts its workers there, before the command loads
_WRAPPER = """
import resource, sys
from pva.__main__ import main
status = main(sys.argv[1:])
me = resource.getrusage(resource.RUSAGE_SELF)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
print(f"PVA-MAXRSS-KB {me.ru_maxrss} {children.ru_maxrss} {cpu}", file=sys.stderr)
sys.exit(status)
"""


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One command's cost."""

    seconds: float
    """Wall time of the whole command (start-up included)."""
    peak_mib: float
    """Peak resident memory of the command's own process, MiB."""
    workers_peak_mib: float
    """Peak resident memory of the largest worker process it waited for, MiB (0: none)."""
    cpu_seconds: float
    """CPU time (user + system) of the process and the workers it waited for: steadier than the
    wall time on a shared machine."""


def measure(argv: Sequence[str], *, env: dict[str, str] | None = None) -> Measurement:
    """Run ``pva argv`` in a new process; raise :class:`RuntimeError` with its output if it
    fails."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"pva {' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}")
    line = next(x for x in proc.stderr.splitlines() if x.startswith("PVA-MAXRSS-KB"))
    me, children, cpu = line.split()[1:]
    return Measurement(seconds, int(me) / 1024, int(children) / 1024, float(cpu))


def load() -> str:
    """The load average over 1, 5 and 15 minutes and the number of cores, e.g.
    ``"load 3.1, 2.9, 2.5 on 2 cores"``."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f}, {five:.1f}, {fifteen:.1f} on {os.cpu_count()} cores"
