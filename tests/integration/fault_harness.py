"""Helpers of the fault tests: run ``pva`` as a user does (a subprocess of ``python -m pva``, the
entry point of the ``pva`` script), stop it at a known point and look at what it leaves behind.

Synchronisation is explicit, never a tuned sleep: a process is stopped at a named point by the test
hook of :mod:`pva._signals` (``$PVA_TEST_PAUSE_AT = "<point>:<pid of the test>"``: the process
sends SIGUSR1 to the test and waits there), and a test waits for that signal (which names the
process that sent it) or for a condition on the process table, each with a generous deadline that
only a hang reaches.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from pva._signals import PAUSE_ENV

PVA = [sys.executable, "-m", "pva"]
"""The ``pva`` command (the console script runs the same ``pva.__main__.main``)."""

DEADLINE = 60.0
"""Seconds after which a wait is a failure (a hang), not a slow machine."""

STUDY = """
[study]
name = "faults"
years = {years}
replicates = {replicates}
chunk_size = {chunk_size}
seed = 11

[[species]]
name = "toy"
stages = ["juvenile", "adult"]
U = [[0.2, 0.0], [0.3, 0.9]]
F = [[0.0, 0.5], [0.0, 0.0]]
initial = [50, 100]
carrying_capacity = 400.0

[[threats]]
type = "Harvest"
name = "poaching"
stages = ["adult"]
proportion = 0.05

[[interventions]]
type = "ConflictMitigation"
name = "patrols"
threat = "poaching"
fraction = 0.5

[[scenarios]]
name = "no action"

[[scenarios]]
name = "patrols"
actions = ["patrols"]
"""


def write_study(
    folder: Path, *, replicates: int = 64, chunk_size: int = 8, years: int = 20
) -> Path:
    """A small two-scenario study of ``replicates / chunk_size`` tasks, in ``folder``."""
    path = folder / "faults.toml"
    path.write_text(
        STUDY.format(replicates=replicates, chunk_size=chunk_size, years=years), encoding="utf-8"
    )
    return path


PAUSED = signal.SIGUSR1
"""What a paused process sends the test (:func:`pva._signals.pause_point`)."""


def environment(pause: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != PAUSE_ENV}
    if pause is not None:
        env[PAUSE_ENV] = f"{pause}:{os.getpid()}"
    return env


def _ignore(signum: int, frame: object) -> None:
    """A SIGUSR1 that arrives while not awaited (a second worker at its pause point) is dropped."""


def start(args: list[str], *, pause: str | None = None) -> subprocess.Popen[str]:
    """Start ``pva args`` in its own session (so that a test can signal its process group as a
    terminal's Ctrl-C does), stopping at the pause point ``pause`` if given."""
    signal.signal(PAUSED, _ignore)
    signal.pthread_sigmask(signal.SIG_BLOCK, {PAUSED})  # held for sigtimedwait, never lost
    while signal.sigtimedwait({PAUSED}, 0) is not None:  # drop any left by an earlier test
        pass
    return subprocess.Popen(
        [*PVA, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(pause),
        start_new_session=True,
        preexec_fn=_as_in_a_terminal,
    )


def _as_in_a_terminal() -> None:
    """Ctrl-C and SIGTERM as a terminal's foreground command receives them. A test run started
    in the background of a non-interactive shell (``pytest &``) ignores SIGINT, and its children
    would inherit that: pva then rightly ignores Ctrl-C, and the test of it could not run."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``pva args`` to the end (failing the test if it hangs)."""
    return subprocess.run(
        [*PVA, *args],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=DEADLINE * 3,
        check=False,
    )


def wait_for_pause(proc: subprocess.Popen[str]) -> int:
    """Wait until ``proc`` (or one of its children) reaches its pause point; return the pid of
    the process that did. Fails if ``proc`` ends first or the deadline passes."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        info = signal.sigtimedwait({PAUSED}, 0.2)
        if info is not None and (info.si_pid == proc.pid or info.si_pid in children(proc.pid)):
            return info.si_pid
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"pva ended ({proc.returncode}) before its pause point: {err}")
    raise AssertionError(f"pva did not reach its pause point in {DEADLINE} s")


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Wait for the process to end (a hang fails the test); return (status, stdout, stderr)."""
    try:
        out, err = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"pva hung (killed after {DEADLINE} s): {err}") from None
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {PAUSED})
    return proc.returncode, out, err


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def wait_gone(pids: list[int], deadline: float = 15.0) -> list[int]:
    """Wait until none of ``pids`` runs; return those still running at the deadline."""
    end = time.monotonic() + deadline
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < end:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


def kill_all(pids: list[int]) -> None:
    """Clean up after a failed test: SIGKILL whatever of ``pids`` still runs."""
    for p in pids:
        if alive(p):
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)


def one_line(err: str, start: str) -> str:
    """The single line of ``err``, which must start with ``start`` and hold no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert lines[0].startswith(start), err
    return lines[0]


def temporaries(folder: Path) -> list[Path]:
    """Temporary files of pva's atomic writer left in ``folder``."""
    return sorted(folder.glob(".*.tmp"))


# ---------------------------------------------------------------------------------------------------
# a small file system of our own: a tmpfs in a private mount namespace
# ---------------------------------------------------------------------------------------------------


def unshare_command() -> list[str] | None:
    """``unshare`` for a private mount namespace (a user namespace too when not root, where the
    kernel allows it), or None where there is no ``unshare``."""
    if shutil.which("unshare") is None:
        return None
    if os.geteuid() == 0:
        return ["unshare", "--mount", "--propagation", "private"]
    return ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]


def with_small_filesystems(
    mounts: list[tuple[Path, str, bool]], script: str
) -> subprocess.CompletedProcess[str] | None:
    """Run the shell ``script`` with a fresh tmpfs at each ``(mount point, size, read only)``, in a
    private mount namespace that ends with the script (nothing outside sees the mounts). Returns
    None if mounting is not permitted here; status 99 if a mount failed."""
    unshare = unshare_command()
    if unshare is None:
        return None
    for point, _, _ in mounts:
        point.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(
        [*unshare, "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {mounts[0][0]}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return None
    lines = ["set -u"]
    for point, size, read_only in mounts:
        lines.append(f"mount -t tmpfs -o size={size} tmpfs {point} || exit 99")
        if read_only:
            lines.append(f"mount -o remount,ro {point} || exit 99")
    return subprocess.run(
        [*unshare, "sh", "-c", "\n".join([*lines, script])],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=DEADLINE * 3,
        check=False,
    )
