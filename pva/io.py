"""Files in and out. Nothing else in pva reads files, except :mod:`pva.datasets` (the data sets
shipped with pva and COMPADRE/COMADRE release files).

Sections: matrix readers (a user's CSV file; the shipped data sets through :mod:`pva.datasets`),
study files and results files.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------------
# Matrix readers
# ---------------------------------------------------------------------------------------------------
import contextlib
import csv
import errno
import json
import os
import re
import shutil
import tempfile
import tomllib
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from pva import _signals, datasets, streams
from pva.datasets import MatrixData, _float_or_nan
from pva.errors import DamagedCheckpointWarning, StudyFileError, StudyFileTypeError
from pva.study import Study, UnknownKeyError

if TYPE_CHECKING:
    import xarray as xr

    from pva.census import Census

# xarray (with pandas) and the census reader (with the Red List code) are imported by the functions
# that use them: the worker processes of a run import this module for :class:`TaskArrays` and start
# half a second faster without them.


def _integer_text(cell: str) -> bool:
    """Whether a CSV cell is written as an integer (a stage name such as ``"2"`` may be one)."""
    return cell.strip().lstrip("+-").isdigit()


def read_matrix_csv(path: str | os.PathLike[str]) -> MatrixData:
    """Read a projection matrix from a CSV file.

    Two layouts are accepted: popbio's (a header row of stage names, the first column holding the
    row's stage name, e.g. ``teasel.csv``) and a plain numeric square table without names (stages
    are then called ``"1"``, ``"2"``, ...). Empty fields and ``NA`` are read as NaN.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    StudyFileError
        A :class:`ValueError` naming the file and the problem (ragged rows, non-numbers, not
        square, names that disagree).
    """
    p = Path(path)
    text = read_text(p, what="a CSV file").removeprefix("\ufeff")
    rows = [row for row in csv.reader(text.splitlines()) if any(cell.strip() for cell in row)]
    if not rows:
        raise StudyFileError(f"{p}: the file is empty", file=str(p))

    def numeric(cell: str) -> bool:
        try:
            float(cell)
        except ValueError:
            return cell.strip() in {"", "NA"}
        return True

    header_has_names = not all(numeric(c) for c in rows[0])
    # a row of numbers with one stray word is read as a header: say so when the shape then fails
    word = next((c for c in rows[0] if not numeric(c)), None)
    why = (
        f" (line 1 was read as a header of stage names because {word!r} is not a number)"
        if header_has_names and any(numeric(c) and c.strip() for c in rows[0])
        else ""
    )
    fractions = [c.strip() for c in rows[0] if numeric(c) and c.strip() and not _integer_text(c)]
    if header_has_names and fractions:
        # stage names may be numbers ("1", "2": ages), but not fractions: a row of the matrix
        # with a typo would otherwise be read silently as the stages' names
        raise StudyFileError(
            f"{p}: line 1 mixes words ({word!r}) and fractions ({fractions[0]!r}): it is neither a "
            "header of stage names nor a row of numbers; correct the cell or the header",
            file=str(p),
        )
    if header_has_names and all(len(r) == len(rows[0]) and numeric(r[0]) for r in rows[1:]):
        # A header of stage names over a purely numeric square table (no row labels).
        names = [c.strip() for c in rows[0]]
        n = len(names)
        if len(rows) - 1 != n:
            raise StudyFileError(
                f"{p}: the header names {n} stages but there are {len(rows) - 1} data rows; a "
                f"matrix must be square{why}"
            )
        values = [
            [_float_or_nan(c, f"{p}: line {k}") for c in row]
            for k, row in enumerate(rows[1:], start=2)
        ]
    elif header_has_names:
        header, body = rows[0], rows[1:]
        names = [c.strip() for c in header[1:]]
        n = len(names)
        if len(body) != n:
            raise StudyFileError(
                f"{p}: the header names {n} stages but there are {len(body)} data rows; a matrix "
                f"must be square{why}"
            )
        values = []
        for k, row in enumerate(body, start=2):
            if len(row) != n + 1:
                raise StudyFileError(f"{p}: line {k} has {len(row)} fields; expected {n + 1}")
            if row[0].strip() != names[k - 2]:
                raise StudyFileError(
                    f"{p}: line {k} is labelled {row[0].strip()!r} but column {k - 1} is "
                    f"{names[k - 2]!r}; rows and columns must list the stages in one order"
                )
            values.append([_float_or_nan(c, f"{p}: line {k}") for c in row[1:]])
    else:
        n = len(rows)
        values = []
        for k, row in enumerate(rows, start=1):
            if len(row) != n:
                raise StudyFileError(
                    f"{p}: line {k} has {len(row)} fields but there are {n} rows; a matrix must "
                    "be square"
                )
            values.append([_float_or_nan(c, f"{p}: line {k}") for c in row])
        names = [str(i + 1) for i in range(n)]
    return MatrixData(name=p.stem, stages=tuple(names), A=np.array(values), source=str(p))


def load_compadre(
    record_id: str | int,
    *,
    release: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
) -> MatrixData:
    """Load one COMPADRE/COMADRE matrix model by its id: :func:`pva.datasets.load_compadre`."""
    return datasets.load_compadre(record_id, release=release)


def load_popbio_matrices(name: str) -> dict[str, MatrixData]:
    """The projection matrices of a shipped popbio data set: :func:`pva.datasets.load_popbio`."""
    return datasets.load_popbio(name)


# ---------------------------------------------------------------------------------------------------
# (end of matrix readers)
# ---------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------
# Study files (TOML; schema in docs/study-file.md) and results files (NetCDF-4)
# ---------------------------------------------------------------------------------------------------


MAX_STUDY_FILE_BYTES = 8 * 2**20
"""Largest study, species or matrix file read (8 MiB; a study of many species is a few hundred KiB).
Checked before the file is read."""

MAX_NESTING = 20
"""Deepest nesting of arrays, inline tables and dotted keys in a study or species file (the
deepest the schema uses is 4: the matrices of a MatrixSelection environment). Checked before the
file is parsed."""

MAX_INTEGER_DIGITS = 30
"""Most digits of an integer in a study file (int64 has 19)."""


def read_text(path: str | os.PathLike[str], *, what: str = "a study file") -> str:
    """The text of a small UTF-8 file, its size bounded by :data:`MAX_STUDY_FILE_BYTES` before
    it is read. Errors name the file: :class:`StudyFileError` if too large or not UTF-8 text,
    :class:`OSError` if it cannot be read (with the reason)."""
    p = Path(path)
    if not p.is_file():
        if p.exists():
            raise StudyFileError(f"{p}: not a regular file; expected {what}", file=str(p))
        raise FileNotFoundError(f"{p}: no such file")
    size = p.stat().st_size
    with p.open("rb") as fh:
        data = fh.read(MAX_STUDY_FILE_BYTES + 1)  # st_size can lie (a growing file)
    if max(size, len(data)) > MAX_STUDY_FILE_BYTES:
        raise StudyFileError(
            f"{p}: the file has {max(size, len(data)):,} bytes; {what} may have at most "
            f"{MAX_STUDY_FILE_BYTES:,}",
            file=str(p),
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StudyFileError(
            f"{p}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); expected "
            f"{what}",
            file=str(p),
        ) from None


def read_system_text(path: str | os.PathLike[str]) -> str | None:
    """A small text file of the operating system (``/proc/meminfo``, a cgroup's ``memory.max``),
    stripped; None if it cannot be read (absent, not permitted, another system)."""
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def discard_stdout() -> None:
    """Send what is left to write on stdout to /dev/null: when the reader of a pipe has gone
    (``pva summary ... | head``), so that Python's final flush does not fail with a second error."""
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)


_STRINGS_AND_COMMENTS = re.compile(
    r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'  # multi-line basic string (unrolled loop)
    r"|'''.*?'''"  # multi-line literal string
    r'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"'  # basic string
    r"|'[^'\n]*'"  # literal string
    r"|#[^\n]*",  # comment
    re.DOTALL,
)

_DOTTED_KEY = re.compile(r"[A-Za-z0-9_-]+(?:[ \t]*\.[ \t]*[A-Za-z0-9_-]+)+")
"""A dotted key (``a.b.c``) in TOML text whose strings are masked (quoted parts read as ``_``)."""

_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


def _mask(match: re.Match[str]) -> str:
    """A string keeps its place in a key as ``_``; a comment disappears; line breaks stay."""
    t = match.group()
    return ("" if t[0] == "#" else "_") + "\n" * t.count("\n")


def _structure(text: str) -> tuple[int, int, int, int, str]:
    """(deepest nesting of ``[`` and ``{``, its line, most parts of a dotted key, its line, its
    start) outside strings and comments: a linear scan of the TOML text, so that what tomllib
    handles badly (it recurses into nested arrays and is quadratic in the parts of a dotted key) is
    refused before tomllib sees it."""
    plain = _STRINGS_AND_COMMENTS.sub(_mask, text)
    raw = plain.encode("utf-8", errors="surrogateescape")  # brackets are single bytes in UTF-8
    chars = np.frombuffer(raw, dtype=np.uint8)
    step = np.isin(chars, _OPEN).astype(np.int64) - np.isin(chars, _CLOSE)
    depth = np.cumsum(step)
    deepest = int(depth.max(initial=0))
    where = raw.count(b"\n", 0, int(np.argmax(depth))) + 1 if deepest else 1
    parts = key_line = 0
    key = ""
    for match in _DOTTED_KEY.finditer(plain):
        n = match.group().count(".") + 1
        if n > parts:
            parts, key_line, key = n, plain.count("\n", 0, match.start()) + 1, match.group()[:40]
    return deepest, where, parts, key_line, key


def _check_document(doc: Any, path: Path) -> None:
    """Refuse tables or arrays nested deeper than :data:`MAX_NESTING` (dotted keys build them
    without brackets) and integers of more than :data:`MAX_INTEGER_DIGITS` digits, naming the key;
    iteratively, so that the check itself cannot overflow the stack."""
    todo: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while todo:
        value, key, depth = todo.pop()
        if depth > MAX_NESTING:
            raise StudyFileError(
                f"{path}: {key or 'the file'} is nested {depth} levels deep; at most "
                f"{MAX_NESTING} are allowed",
                file=str(path),
                key=key or None,
            )
        if isinstance(value, dict):
            todo.extend((v, f"{key}.{k}" if key else str(k), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            todo.extend((v, f"{key}[{i}]", depth + 1) for i, v in enumerate(value))
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and abs(value) >= 10**MAX_INTEGER_DIGITS
        ):
            raise StudyFileError(
                f"{path}: {key} is an integer of {len(str(abs(value)))} digits; at most "
                f"{MAX_INTEGER_DIGITS} are allowed",
                file=str(path),
                key=key,
            )


def _toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file within the limits above; errors name the file (and tomllib's line)."""
    text = read_text(path)
    deepest, line, parts, key_line, key = _structure(text)
    if deepest > MAX_NESTING:
        raise StudyFileError(
            f"{path} (line {line}): arrays or inline tables nested {deepest} deep; at most "
            f"{MAX_NESTING} levels are allowed",
            file=str(path),
        )
    if parts > MAX_NESTING:
        raise StudyFileError(
            f"{path} (line {key_line}): the dotted key {key}... has {parts} parts; at most "
            f"{MAX_NESTING} levels are allowed",
            file=str(path),
        )
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{path}: not valid TOML: {exc}", file=str(path)) from None
    except ValueError as exc:  # Python refuses to read an integer of more than 4,300 digits
        reason = " ".join(str(exc).split(";")[0].split())
        raise StudyFileError(
            f"{path}: not valid TOML: {reason}; integers may have at most {MAX_INTEGER_DIGITS} "
            "digits",
            file=str(path),
        ) from None
    _check_document(doc, path)
    return doc, text


def _key_line(text: str, key: str, table: str) -> int | None:
    """Best-effort line (1-based) of ``key`` in the table ``table`` (e.g. ``threats[2].x``).

    tomllib keeps no positions, so this searches the text: from the header of the table's outermost
    array element (the third ``[[threats]]`` for ``threats[2]``) for ``key =`` or a ``[..key]`` header.
    """
    lines = text.splitlines()
    start = 0
    head = re.match(r"\[?([A-Za-z_]+)\]?(?:\[(\d+)\])?", table)
    if head is not None and head.group(2) is not None:
        header = re.compile(rf"^\s*\[\[\s*{re.escape(head.group(1))}\s*\]\]")
        hits = [i for i, line in enumerate(lines) if header.match(line)]
        index = int(head.group(2))
        if index < len(hits):
            start = hits[index]
    elif head is not None and table.startswith("["):
        header = re.compile(rf"^\s*\[\s*{re.escape(head.group(1))}\s*\]")
        start = next((i for i, line in enumerate(lines) if header.match(line)), 0)
    k = re.escape(key)
    pattern = re.compile(rf'(^\s*|[{{,]\s*)("{k}"|{k})\s*=|^\s*\[\[?[^\]]*\b{k}\s*\]\]?')
    for i in range(start, len(lines)):
        if pattern.search(lines[i]):
            return i + 1
    return None


def _compadre_species(table: Mapping[str, Any], where: str, base: Path) -> dict[str, Any]:
    """Fill stages, U, F (and C) of a species table from a COMPADRE/COMADRE record, looked up in
    the release file ``compadre_file`` (relative to ``base``, the study's folder) if given."""
    record_id = table["compadre"]
    if isinstance(record_id, bool) or not isinstance(record_id, str | int):
        raise StudyFileError(
            f"{where}.compadre must be a record id (or a release's MatrixID); got {record_id!r}"
        )
    release = table.get("compadre_file")
    if release is not None and not isinstance(release, str):
        raise StudyFileError(f"{where}.compadre_file must be a path; got {release!r}")
    data = load_compadre(record_id, release=None if release is None else base / release)
    out: dict[str, Any] = {}
    for part in ("U", "F", "C"):
        matrix = getattr(data, part)
        if matrix is None or (part == "C" and not np.any(matrix)):
            continue
        if np.isnan(matrix).any():
            raise StudyFileError(
                f"{where}: COMPADRE record {record_id} has missing (NA) entries in mat{part}"
            )
        out[part] = matrix.tolist()
    if "U" not in out or "F" not in out:
        raise StudyFileError(f"{where}: COMPADRE record {record_id} has no matU/matF split")
    meta = data.metadata
    out["stages"] = list(data.stages)
    taxon = str(meta.get("SpeciesAccepted") or "")
    out["name"] = taxon or record_id
    out["taxon"] = taxon
    if meta.get("CommonName"):
        out["common_name"] = str(meta["CommonName"])
    if meta.get("Country"):
        out["country"] = str(meta["Country"])
    if meta.get("MatrixPopulation"):
        out["site"] = str(meta["MatrixPopulation"])
    cite = ", ".join(
        str(meta[k]) for k in ("Authors", "YearPublication", "Journal", "DOI_ISBN") if meta.get(k)
    )
    out["source"] = f"{cite} (via {data.name}, Salguero-Gómez et al. 2015/2016)"
    rest = {k: v for k, v in table.items() if k not in ("compadre", "compadre_file")}
    return {**out, **rest}


def read_census(path: str | os.PathLike[str], *, column: str | None = None) -> Census:
    """Read a census series of mature individuals from a CSV file (header ``year,mature`` or
    ``year,low,best,high``, or the counts in ``column``; :func:`pva.census.parse_census`).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        Naming the file, line and column of a bad cell or header.
    """
    from pva.census import parse_census

    p = Path(path)
    with p.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return parse_census(rows, where=str(p), column=column)


def read_study(path: str | os.PathLike[str]) -> Study:
    """Read a study file into a validated :class:`pva.study.Study`. Nothing in it is executed.

    Species tables may hold the species inline, refer to a species file with ``file = "..."``
    (relative to the study file; the table's other keys override the file's), or to a
    COMPADRE/COMADRE record with ``compadre = "<id>"`` (stages and U, F, C from the record; the table
    gives the rest). See ``docs/study-file.md``. A ``[sweep]`` or ``[uncertainty]`` table is left to
    :func:`read_sweep`.

    Raises
    ------
    StudyFileError
        (a ValueError) naming the file, the table and the key — and for an unknown key the line.
    TypeError
        For a value of the wrong kind, naming it.
    OSError
        If a file cannot be read.
    """
    document = _study_document(Path(path))
    return _parsed(document, lambda: Study.from_dict(document.doc))


class _Document(NamedTuple):
    """A study file parsed, with its species tables resolved (files and COMPADRE records)."""

    path: Path
    doc: dict[str, Any]
    text: str
    texts: dict[str, tuple[Path, str]]
    """Species table path -> the species file it came from and its text."""


def _study_document(path: Path) -> _Document:
    doc, text = _toml(path)
    texts: dict[str, tuple[Path, str]] = {}  # species table path -> file it came from
    species = doc.get("species", [])
    if isinstance(species, list):
        resolved = []
        for i, table in enumerate(species):
            where = f"species[{i}]"
            if isinstance(table, dict) and "file" in table:
                ref = table["file"]
                if not isinstance(ref, str):
                    raise StudyFileError(f"{path}: {where}.file must be a path; got {ref!r}")
                sub_path = path.parent / ref
                if not sub_path.is_file():
                    raise FileNotFoundError(
                        f"{path}: {where}.file {ref!r} not found (looked for {sub_path}; "
                        "paths are relative to the study file)"
                    )
                sub, sub_text = _toml(sub_path)
                texts[where] = (sub_path, sub_text)
                table = {**sub, **{k: v for k, v in table.items() if k != "file"}}
            if isinstance(table, dict) and "compadre" in table:
                try:
                    table = _compadre_species(table, where, path.parent)
                except (ValueError, OSError) as exc:
                    raise StudyFileError(f"{path}: {exc}") from None
            resolved.append(table)
        doc = {**doc, "species": resolved}
    return _Document(path, doc, text, texts)


def _parsed(document: _Document, parse: Callable[[], Any]) -> Any:
    """``parse()``, with its errors naming the file (and, for an unknown key, the line)."""
    path, text = document.path, document.text
    try:
        return parse()
    except UnknownKeyError as exc:
        file, body = document.texts.get(exc.table.split(".")[0], (path, text))
        line = _key_line(body, exc.key, exc.table)
        at = f" (line {line})" if line is not None else ""
        raise StudyFileError(
            f"{file}{at}: {exc}", file=str(file), table=exc.table, key=exc.key
        ) from None
    except StudyFileError as exc:
        table, key = _locate(str(exc))
        raise StudyFileError(
            f"{path}: {exc}", file=str(path), table=exc.table or table, key=exc.key or key
        ) from None
    except TypeError as exc:
        table, key = _locate(str(exc))
        raise StudyFileTypeError(f"{path}: {exc}", file=str(path), table=table, key=key) from None
    except ValueError as exc:
        table, key = _locate(str(exc))
        raise StudyFileError(f"{path}: {exc}", file=str(path), table=table, key=key) from None


_WHERE = re.compile(r"^(\[[\w.]+\]|(?:species|threats|interventions|scenarios)\[\d+\][\w.\[\]]*)")
_FIELD = re.compile(r"(?:^|: )([A-Za-z_][\w\[\]]*?)(?:\[\d+\])* must ")


def _locate(message: str) -> tuple[str | None, str | None]:
    """The table (``species[0].vital_rates``, ``[study]``) and the key a validation message is
    about, read from its start (``"species[0]: Population 'main': initial_total must be ..."``);
    None where the message does not say."""
    where = _WHERE.match(message)
    field = _FIELD.search(message)
    return (where.group(1) if where else None), (field.group(1) if field else None)


class SweepFile(NamedTuple):
    """A study file read by :func:`read_sweep`: the base study and what to vary in it."""

    study: Study
    sweep: Any
    """:class:`pva.sensitivity.SweepSettings` of the ``[sweep]`` table, or None."""
    uncertainty: Any
    """:class:`pva.sensitivity.UncertaintySettings` of the ``[uncertainty]`` table, or None."""


def read_sweep(path: str | os.PathLike[str]) -> SweepFile:
    """Read a study file with its ``[sweep]`` and ``[uncertainty]`` tables (``pva sweep``).

    The study is read as :func:`read_study` reads it; each table is checked for its form (paths
    that parse, ranges, distributions; see ``docs/study-file.md``), with errors naming the file
    and the table. Whether the paths lead to numbers of the study is checked when the sweep is
    set up (:func:`pva.sensitivity.sweep`).
    """
    # pva.sensitivity runs sweeps through the runner, which writes checkpoints through this module
    from pva.sensitivity.settings import SweepSettings, UncertaintySettings

    document = _study_document(Path(path))
    study = _parsed(document, lambda: Study.from_dict(document.doc))
    tables = {"sweep": SweepSettings, "uncertainty": UncertaintySettings}
    found: dict[str, Any] = {}
    for key, settings in tables.items():
        if key in document.doc:
            table = document.doc[key]
            found[key] = _parsed(
                document,
                lambda table=table, settings=settings, key=key: settings.from_dict(
                    table, where=f"[{key}]"
                ),
            )
    return SweepFile(study, found.get("sweep"), found.get("uncertainty"))


# ---------------------------------------------------------------------------------------------------
# Writing files: one atomic writer
# ---------------------------------------------------------------------------------------------------

_TMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")
"""Temporary files of :func:`atomic_write`: ``.<name>.<pid>.<random>.tmp`` beside the target."""


class WriteError(OSError):
    """A file could not be written (no space, read-only, no permission); the message names the
    file and the reason, and the old file (if any) is left as it was."""

    def __str__(self) -> str:
        return str(self.args[1]) if len(self.args) > 1 else super().__str__()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files :func:`atomic_write` left in ``folder`` when its process was
    killed (SIGKILL cannot be caught): those whose process (the pid in the name) no longer runs
    on this machine. Returns the files removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TMP_NAME.match(entry.name)
        if match is None or _pid_alive(int(match.group("pid"))) or not entry.is_file():
            continue
        with_path = Path(entry.path)
        try:
            with_path.unlink()
        except OSError:
            continue
        removed.append(with_path)
    return removed


def _write_error(path: Path, exc: OSError) -> WriteError:
    reason = exc.strerror or str(exc)
    return WriteError(exc.errno or errno.EIO, f"cannot write {path}: {reason}")


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically: ``write(tmp)`` fills a temporary file in the same folder, which
    is renamed over ``path`` only when ``write`` returns, so a crash or an exception never leaves a
    truncated ``path`` (an old one stays as it was) and never leaves the temporary file behind.

    The temporary file is ``.<name>.<pid>.<random>.tmp``; one left by a killed process (SIGKILL
    cannot be caught) is removed by the next write into the folder
    (:func:`remove_stale_temporaries`). The folder is created if needed. The file gets the mode an
    ordinary ``open()`` would give it (``0666`` less the umask), not the private ``0600`` of
    :func:`tempfile.mkstemp`: results are for sharing. Returns the path written.

    Raises
    ------
    WriteError
        (an :class:`OSError`) naming ``path`` and the reason (no space left, read-only, ...).
    """
    path = Path(path)
    try:
        with atomic_file(path) as tmp:
            write(tmp)
    except OSError as exc:
        if isinstance(exc, WriteError):
            raise
        raise _write_error(path, exc) from None
    return path


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """The temporary file of :func:`atomic_write` for a block that fills it: renamed over
    ``path`` when the block ends, removed if it raises (its exception passes unchanged, so a
    block that does more than write, such as a run, keeps its own errors)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path.parent)
        fd, name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
        )
    except OSError as exc:
        raise _write_error(path, exc) from None
    os.close(fd)
    tmp = Path(name)
    # os.umask can only be read by setting it
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        yield tmp
        try:
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, path)
        except OSError as exc:
            raise _write_error(path, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` as UTF-8, atomically (:func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: str | os.PathLike[str], data: bytes | memoryview) -> Path:
    """Write ``data`` to ``path``, atomically (:func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def free_space(folder: str | os.PathLike[str]) -> int:
    """Bytes free for this user in ``folder`` (or its nearest existing parent)."""
    p = Path(folder).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


def check_output(
    path: str | os.PathLike[str], *, needed: int = 0, folder: bool = False, what: str = "results"
) -> Path:
    """Check, before any work, that ``path`` (a file, or with ``folder`` a folder) can be written:
    its folder exists or can be created, is writable (a probe file is created and removed, which
    also catches read-only mounts that permission bits do not show), and has at least ``needed``
    bytes free. Temporary files of killed writers are removed from it.

    Raises
    ------
    WriteError
        (an :class:`OSError`) in one line naming the place, the reason and, for space, the bytes
        needed and free.
    """
    path = Path(path)
    where = path if folder else path.parent
    if not folder and path.is_dir():
        raise WriteError(errno.EISDIR, f"cannot write {what} to {path}: it is a folder")
    created = [p for p in (where, *where.parents) if not p.exists()]
    try:
        try:
            where.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=where, prefix=".pva-probe.", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise WriteError(
                exc.errno or errno.EIO,
                f"cannot write {what} to {where}: {exc.strerror or exc}",
            ) from None
        remove_stale_temporaries(where)
        free = free_space(where)
        if needed > free:
            from pva.resources import format_bytes  # resources imports the study layer

            raise WriteError(
                errno.ENOSPC,
                f"not enough space for the {what} in {where}: about {format_bytes(needed)} "
                f"needed, {format_bytes(free)} free",
            )
    except WriteError:
        for p in created:  # deepest first: leave no empty folder behind a refusal
            with contextlib.suppress(OSError):
                p.rmdir()
        raise
    return path


def results_bytes(ds: xr.Dataset) -> bytes:
    """A results Dataset encoded as NetCDF-4 in memory (abundance variables compressed with zlib).

    SIGINT and SIGTERM are held back while xarray encodes (:func:`pva._signals.deferred`): an
    interrupt inside ``to_netcdf`` leaves a lock held that xarray's cleanup then waits for forever.
    Encoding into memory also keeps the HDF5 library's error stack off the terminal when a disk is
    full: the bytes are written by plain Python afterwards."""
    import xarray as xr

    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset; got {type(ds).__name__}")
    encoding = _encoding(ds)  # one species per chunk: readers take a species at a time
    with _signals.deferred():
        _signals.pause_point("encode")
        try:
            data = ds.to_netcdf(None, engine="netcdf4", format="NETCDF4", encoding=encoding)
        except (ValueError, NotImplementedError):  # an xarray without in-memory NetCDF-4
            with tempfile.TemporaryDirectory(prefix="pva-") as folder:
                scratch = Path(folder) / "results.nc"
                ds.to_netcdf(scratch, engine="netcdf4", format="NETCDF4", encoding=encoding)
                return scratch.read_bytes()
    return bytes(data) if data is not None else b""


def write_results(ds: xr.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write a results Dataset to NetCDF-4, atomically (:func:`atomic_write`).

    The file is encoded in memory first (:func:`results_bytes`), its size checked against the
    free space, then written. Abundance variables are compressed (zlib) in chunks of one species
    (readers reduce a file species by species: :func:`open_results` with ``lazy=True``); attributes must be strings
    or numbers (the study is stored as JSON). Returns the path written.

    Raises
    ------
    WriteError
        If the folder cannot hold the file (checked before writing) or the write fails.
    """
    data = results_bytes(ds)
    path = Path(path)
    check_output(path, needed=len(data) + 2**16)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            _signals.pause_point("write")
            fh.write(data)

    return atomic_write(path, write)


STREAM_CACHE = 2**24
"""Bytes of HDF5 chunk cache of each variable a :class:`ResultsStream` writes (16 MiB): four
chunks of at most :data:`_CHUNK_VALUES` values of 8 bytes. A run's tasks arrive in order, each
filling a few neighbouring chunks, so a chunk is compressed and written once, when it leaves the
cache, and the cache bounds the memory of writing whatever the study's size."""


class ResultsStream:
    """A results file filled in piece by piece while a run goes on (``pva run``), so that the
    calling process never holds the whole study: :func:`pva.runner.run_study_to_file`.

    ``skeleton`` holds everything but the variables of ``template`` (coordinates, per-species
    variables, attributes) and is written first by xarray, as :func:`write_results` writes it.
    ``template`` holds the streamed variables with a replicate dimension of length 1: they are
    created with the encoding xarray gives them in a file (data type, attributes, fill value, the
    ``coordinates`` attribute), compressed and chunked as :func:`write_results` does, at their full
    size, and filled by :meth:`write`. Cells never written read as the fill value (NaN for floats):
    an integer variable must be written whole. The file read back equals the Dataset
    :func:`write_results` would have written (``tests/integration/test_streamed_results.py``).

    Use as a context manager on a temporary file (:func:`atomic_file` renames it when done).
    """

    def __init__(self, path: Path, skeleton: xr.Dataset, template: xr.Dataset) -> None:
        import netCDF4

        # the temporary file is this process's alone: HDF5's file lock protects nothing here and
        # is refused by some network file systems (NFS), where the lock would fail the run
        os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
        encoded = template.to_netcdf(None, engine="netcdf4", format="NETCDF4")
        try:
            with _signals.deferred():  # xarray's write lock: see results_bytes
                _signals.pause_point("encode")
                skeleton.to_netcdf(
                    path, engine="netcdf4", format="NETCDF4", encoding=_encoding(skeleton)
                )
        except OSError as exc:
            raise _write_error(path, exc) from None
        self.attrs: dict[str, str | int] = {}
        """Global attributes to set when the file is closed (known only at the end)."""
        self._path = path
        self._file = netCDF4.Dataset(path, "a")
        try:
            for dim, size in template.sizes.items():
                if dim not in self._file.dimensions:
                    self._file.createDimension(str(dim), size)
            with netCDF4.Dataset("template.nc", memory=bytes(encoded)) as spec:
                for name in template.data_vars:
                    self._create(spec.variables[str(name)])
        except BaseException:
            self._file.close()
            raise

    def _create(self, spec: Any) -> None:
        """The variable ``spec`` (of the encoded template) at its full size in the file."""
        attrs = {a: spec.getncattr(a) for a in spec.ncattrs()}
        full = {d: self._file.dimensions[d].size for d in spec.dimensions}
        var = self._file.createVariable(
            spec.name,
            spec.dtype,
            spec.dimensions,
            zlib=True,
            complevel=COMPRESSION_LEVEL,
            shuffle=True,
            chunksizes=_chunk_sizes(full),
            fill_value=attrs.pop("_FillValue", None),
        )
        var.set_auto_maskandscale(False)  # the values as given, as xarray writes them
        var.set_var_chunk_cache(size=STREAM_CACHE, nelems=1009, preemption=0.75)
        var.setncatts(attrs)

    def write(self, name: str, key: tuple[Any, ...], values: npt.ArrayLike) -> None:
        """Write ``values`` into ``variable[key]`` (integers and slices; one axis may take a list
        of indices, as netCDF4 allows)."""
        try:
            self._file.variables[name][key] = values
        except RuntimeError as exc:  # netCDF4's HDF5 errors (a full disk, a vanished file)
            raise self._error(exc) from None

    def close(self) -> None:
        """Set :attr:`attrs` and close the file (every chunk written to disk)."""
        if not self._file.isopen():
            return
        try:
            _signals.pause_point("write")
            for key, value in self.attrs.items():
                self._file.setncattr(key, value)
        finally:
            try:
                self._file.close()
            except RuntimeError as exc:
                raise self._error(exc) from None

    def _error(self, exc: RuntimeError) -> OSError:
        """An HDF5 error as one line: a full disk said as :func:`check_output` says it (HDF5
        reports only "HDF error")."""
        folder = self._path.parent
        free = free_space(folder)
        if free < 2 * STREAM_CACHE:
            from pva.resources import format_bytes  # resources imports the study layer

            return WriteError(
                errno.ENOSPC,
                f"not enough space for the results in {folder}: the disk filled up while they "
                f"were written ({format_bytes(free)} free)",
            )
        return WriteError(errno.EIO, f"cannot write {self._path}: NetCDF write failed ({exc})")

    def __enter__(self) -> ResultsStream:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:  # the file is discarded: close without raising over the original error
            with contextlib.suppress(Exception):
                self._file.close()


def open_results(path: str | os.PathLike[str], *, lazy: bool = False) -> xr.Dataset:
    """Read a results file written by :func:`write_results`.

    By default everything is read into memory and the file is closed. With ``lazy=True`` the
    variables are read from the file only when used (the file stays open until the Dataset is
    closed or collected): a selection, e.g. one species, reads only its part. The summaries
    (:mod:`pva.summary`), figures and report read a lazy Dataset species by species, so their
    memory stays that of one species' trajectories whatever the number of species.
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no results file {str(path)!r}")
    try:
        if lazy:
            return xr.open_dataset(path, engine="netcdf4")
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return ds.load()
    except (OSError, ValueError) as exc:
        raise StudyFileError(f"{path}: not a readable NetCDF results file ({exc})") from None


def _compressed(ds: xr.Dataset) -> set[str]:
    """The variables :func:`write_results` compresses: abundance-like arrays of 3 dims or more."""
    return {str(n) for n in ds.data_vars if ds[n].dtype.kind in "iuf" and ds[n].ndim >= 3}


_CHUNK_VALUES = 2**19
"""At most this many values per chunk of a compressed variable (4 MiB of int64): a chunk fits the
HDF5 chunk cache, so a run's task writes and a summary's species reads touch each chunk once."""


def _chunks(var: xr.Variable | xr.DataArray) -> tuple[int, ...]:
    """Chunk sizes of a compressed results variable (:func:`_chunk_sizes`)."""
    return _chunk_sizes(var.sizes)


def _chunk_sizes(dim_sizes: Mapping[Any, int]) -> tuple[int, ...]:
    """Chunk sizes of a compressed results variable of dims ``dim_sizes`` (in order): one species
    per chunk (summaries read the file species by species), all of the other dims but
    replicates, and as many replicates as :data:`_CHUNK_VALUES` allows."""
    sizes = dict(dim_sizes)
    if "species" in sizes:
        sizes["species"] = 1
    if "replicate" in sizes:
        others = int(np.prod([n for d, n in sizes.items() if d != "replicate"]))
        sizes["replicate"] = max(1, min(sizes["replicate"], _CHUNK_VALUES // max(others, 1)))
    return tuple(max(1, int(n)) for n in sizes.values())


COMPRESSION_LEVEL = 1
"""zlib level of the compressed results variables. Counts stored as int64 are mostly zero bytes,
which the byte shuffle filter gathers before zlib: at level 1 the 20-species benchmark file
(experiments/benchmark_workers.py) is 8.2 MB against 7.8 MB at level 4, and is encoded in 0.6 s
against 1.0 s, which every ``pva run`` pays after its workers are done."""


def _encoding(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    """NetCDF encoding of the compressed variables of ``ds``: byte shuffle and zlib at
    :data:`COMPRESSION_LEVEL`, chunked by species."""
    return {
        n: {
            "zlib": True,
            "complevel": COMPRESSION_LEVEL,
            "shuffle": True,
            "chunksizes": _chunks(ds[n]),
        }
        for n in _compressed(ds)
    }


# ---------------------------------------------------------------------------------------------------
# Checkpoints of a run (pva.runner)
# ---------------------------------------------------------------------------------------------------


class TaskArrays(NamedTuple):
    """What one task of a run (one species, one replicate chunk, every scenario) produces."""

    mature: npt.NDArray[np.int64]
    """Mature individuals, (scenario, replicate, year, population)."""
    total: npt.NDArray[np.int64]
    """All individuals, (scenario, replicate, year, population)."""
    extinction_risk: npt.NDArray[np.float64] | None = None
    """Nested criterion-E probabilities, (scenario, replicate, assessment year, window), or None."""
    projected_mature: npt.NDArray[np.float64] | None = None
    """Nested projections of mature individuals, (scenario, replicate, assessment year, lead), or
    None."""
    gene_diversity: npt.NDArray[np.float64] | None = None
    """Gene diversity relative to year 0, (scenario, replicate, year, population), or None (a
    species without genetics)."""
    captive_individuals: npt.NDArray[np.float64] | None = None
    """Individuals in the ex-situ programmes of each scenario, (scenario, replicate, year), or None
    (no scenario keeps one)."""
    captive_gene_diversity: npt.NDArray[np.float64] | None = None
    """Their gene diversity (mean over programmes weighted by individuals; NaN where none),
    (scenario, replicate, year), or None."""


_MANIFEST = "manifest.json"


class Checkpoints:
    """Finished tasks of one study and seed in a folder: ``manifest.json`` (the study's digest and
    the seed entropy) and one ``task-<species>-<chunk>.npz`` per task, each written atomically.

    A damaged file — a truncated or empty task file, a manifest that is not JSON — is reported as
    a :class:`~pva.errors.DamagedCheckpointWarning` and replaced: the task is run again, the
    manifest rewritten (with the entropy of the study's intact task files when the run gives none).

    Parameters
    ----------
    folder
        Created if needed.
    digest
        :meth:`pva.study.Study.digest` (without the seed) of the study being run.
    entropy
        The run's seed entropy, or None to take the checkpoints' (or, in a new folder, fresh entropy).

    Raises
    ------
    ValueError
        If the folder holds intact checkpoints of another study or another seed.
    """

    def __init__(self, folder: str | os.PathLike[str], digest: str, entropy: int | None) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _write_error(self.folder, exc) from None
        remove_stale_temporaries(self.folder)
        manifest = self.folder / _MANIFEST
        saved = self._read_manifest(manifest)
        if saved is not None:
            saved_digest, saved_entropy = saved
            if saved_digest != digest:
                raise ValueError(
                    f"checkpoints in {self.folder} belong to a different study (its specification "
                    "changed); use an empty --checkpoint-dir or delete that folder"
                )
            if entropy is not None and saved_entropy != entropy:
                raise ValueError(
                    f"checkpoints in {self.folder} were run with seed entropy {saved_entropy}, not "
                    f"{entropy}; use an empty --checkpoint-dir or the same seed"
                )
            entropy = saved_entropy
        elif entropy is None:
            entropy = self._entropy_of_tasks(digest)
        if entropy is None:
            entropy = streams.resolve_entropy(None)
        if saved is None:
            write_text(manifest, json.dumps({"digest": digest, "entropy": str(entropy)}))
        self.digest = digest
        self.entropy: int = entropy

    @staticmethod
    def _read_manifest(manifest: Path) -> tuple[str, int] | None:
        """(digest, entropy) of the manifest; None if there is none or it is damaged (warned)."""
        if not manifest.exists():
            return None
        try:
            saved = json.loads(manifest.read_text(encoding="utf-8"))
            return str(saved["digest"]), int(saved["entropy"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            warnings.warn(
                f"checkpoint manifest {manifest} is damaged ({_reason(exc)}); it is written again "
                "(intact task files of this study and seed are kept)",
                DamagedCheckpointWarning,
                stacklevel=4,
            )
            return None

    def _entropy_of_tasks(self, digest: str) -> int | None:
        """The seed entropy of the first intact task file of this study, if any."""
        for path in sorted(self.folder.glob("task-*.npz")):
            try:
                with path.open("rb") as fh, np.load(fh, allow_pickle=False) as data:
                    if str(data["digest"]) == digest:
                        return int(data["entropy"])
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                continue
        return None

    def _task_file(self, species: int, chunk: int) -> Path:
        return self.folder / f"task-{species:04d}-{chunk:06d}.npz"

    def holds(self, species: int, chunk: int) -> bool:
        """Whether a file of the task (species index, chunk index) is here (:meth:`load` says
        whether it is intact)."""
        return self._task_file(species, chunk).exists()

    def load(
        self,
        species: int,
        chunk: int,
        *,
        shape: tuple[int, ...],
        risk_shape: tuple[int, ...] | None = None,
        projected_shape: tuple[int, ...] | None = None,
    ) -> TaskArrays | None:
        """The saved task (species index, chunk index), or None if it has not finished or its file
        is damaged — unreadable, or arrays without ``shape`` (mature and total), ``risk_shape``
        (extinction risk) and ``projected_shape`` (projected mature individuals) when expected:
        then a :class:`~pva.errors.DamagedCheckpointWarning` says so and the file is removed, so
        that the task runs again.

        Raises
        ------
        ValueError
            If the file is intact but belongs to another study or seed.
        """
        path = self._task_file(species, chunk)
        if not path.exists():
            return None
        try:
            # our own handle: numpy leaves its own open when it refuses a file
            with path.open("rb") as fh:
                if fh.read(4) != b"PK\x03\x04":
                    return self._damaged(path, "not an .npz (zip) file")
                fh.seek(0)
                with np.load(fh, allow_pickle=False) as data:
                    digest, entropy = str(data["digest"]), int(data["entropy"])
                    mature, total = data["mature"], data["total"]
                    optional = {
                        key: data[key] if key in data.files else None
                        for key in (
                            "extinction_risk",
                            "projected_mature",
                            "gene_diversity",
                            "captive_individuals",
                            "captive_gene_diversity",
                        )
                    }
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            return self._damaged(path, _reason(exc))
        if digest != self.digest or entropy != self.entropy:
            raise ValueError(f"checkpoint {path} belongs to a different study or seed")
        if mature.shape != shape or total.shape != shape:
            return self._damaged(path, f"its arrays have shape {mature.shape}, not {shape}")
        for key, expected in (
            ("extinction_risk", risk_shape),
            ("projected_mature", projected_shape),
        ):
            got = optional[key]
            if expected is not None and (got is None or got.shape != expected):
                found = None if got is None else got.shape
                return self._damaged(path, f"its {key} has shape {found}, not {expected}")
        gene = optional["gene_diversity"]
        if gene is not None and gene.shape != shape:
            return self._damaged(path, f"its gene_diversity has shape {gene.shape}, not {shape}")
        for key in ("captive_individuals", "captive_gene_diversity"):
            got = optional[key]
            if got is not None and got.shape != shape[:3]:
                return self._damaged(path, f"its {key} has shape {got.shape}, not {shape[:3]}")
        return TaskArrays(
            mature,
            total,
            optional["extinction_risk"],
            optional["projected_mature"],
            optional["gene_diversity"],
            optional["captive_individuals"],
            optional["captive_gene_diversity"],
        )

    @staticmethod
    def _damaged(path: Path, reason: str) -> None:
        warnings.warn(
            f"checkpoint {path} is damaged ({reason}); its task is run again",
            DamagedCheckpointWarning,
            stacklevel=4,
        )
        path.unlink(missing_ok=True)

    def save(self, species: int, chunk: int, task: TaskArrays) -> None:
        """Save a finished task (atomically: a crash leaves either the whole file or none)."""
        digest, entropy = np.array(self.digest), np.array(str(self.entropy))
        optional = {
            "extinction_risk": task.extinction_risk,
            "projected_mature": task.projected_mature,
            "gene_diversity": task.gene_diversity,
            "captive_individuals": task.captive_individuals,
            "captive_gene_diversity": task.captive_gene_diversity,
        }
        arrays = {
            "mature": task.mature,
            "total": task.total,
            "digest": digest,
            "entropy": entropy,
            **{key: value for key, value in optional.items() if value is not None},
        }

        def write(tmp: Path) -> None:
            # a file handle: given a path, np.savez would append ".npz" to the temporary name
            with tmp.open("wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]

        atomic_write(self._task_file(species, chunk), write)


class SampleCheckpoints(Checkpoints):
    """Finished samples of a sweep (:mod:`pva.sensitivity`) in a folder: the manifest of
    :class:`Checkpoints` (the sweep's digest and seed entropy) and one ``sample-<s>.npz`` of named
    arrays (what the sample's task returned) per finished sample, each written atomically."""

    def _sample_file(self, sample: int) -> Path:
        return self.folder / f"sample-{sample:07d}.npz"

    def load_sample(self, sample: int) -> dict[str, npt.NDArray[Any]] | None:
        """The saved arrays of sample ``sample``, or None if it has not finished or its file is
        damaged (then a :class:`~pva.errors.DamagedCheckpointWarning` says so and the file is
        removed, so that the sample runs again).

        Raises
        ------
        ValueError
            If the file belongs to another sweep or seed.
        """
        path = self._sample_file(sample)
        if not path.exists():
            return None
        try:
            # our own handle: numpy leaves its own open when it refuses a file
            with path.open("rb") as fh, np.load(fh, allow_pickle=False) as data:
                digest, entropy = str(data["_digest"]), int(data["_entropy"])
                arrays = {key: data[key] for key in data.files if not key.startswith("_")}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            return self._damaged(path, _reason(exc))
        if digest != self.digest or entropy != self.entropy:
            raise ValueError(f"checkpoint {path} belongs to a different sweep or seed")
        return arrays

    def save_sample(self, sample: int, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        """Save a finished sample's arrays (atomically)."""
        stamp = {"_digest": np.array(self.digest), "_entropy": np.array(str(self.entropy))}

        def write(tmp: Path) -> None:
            with tmp.open("wb") as fh:
                np.savez(fh, **stamp, **arrays)

        atomic_write(self._sample_file(sample), write)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
