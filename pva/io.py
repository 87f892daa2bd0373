"""Files in and out. Nothing else in pva reads files.

Sections: matrix readers (popbio CSV/JSON, COMPADRE/COMADRE JSON Lines) and the location of the
shared data folder. Study files and results have their own sections.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------------
# Matrix readers
# ---------------------------------------------------------------------------------------------------
import csv
import dataclasses
import json
import os
import re
import tempfile
import tomllib
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import streams
from pva.errors import StudyFileError
from pva.study import Study, UnknownKeyError

_SHARED_DATA_ENV = "PVA_SHARED_DATA"
_COMPADRE_FILES = {"compadre": "compadre_sample.jsonl", "comadre": "comadre_sample.jsonl"}
_COMPADRE_ID = re.compile(r"^(compadre|comadre)_[A-Za-z]{3}_\d{1,2}_\d{4}_row\d+$")


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class MatrixData:
    """A projection matrix read from a file, with its parts and provenance.

    Matrices are read-only float arrays of shape (n, n), ``A[to, from]``; entries that the source
    marks as missing are NaN.
    """

    name: str
    """Identifier: the record id, the data set and matrix name, or the file name."""
    stages: tuple[str, ...]
    """Stage names in matrix order."""
    A: npt.NDArray[np.float64]
    """Projection matrix."""
    U: npt.NDArray[np.float64] | None = None
    """Survival/transition part, if the source gives it."""
    F: npt.NDArray[np.float64] | None = None
    """Sexual reproduction part, if the source gives it."""
    C: npt.NDArray[np.float64] | None = None
    """Clonal reproduction part, if the source gives it."""
    source: str = ""
    """The file it was read from."""
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Other fields of the record (read-only)."""

    def __post_init__(self) -> None:
        n = len(self.stages)
        for field in ("A", "U", "F", "C"):
            value = getattr(self, field)
            if value is None:
                continue
            arr = np.array(value, dtype=float)
            if arr.shape != (n, n):
                raise StudyFileError(
                    f"{self.source or self.name}: {field} must be {n}x{n} to match the {n} stages; "
                    f"got shape {arr.shape}"
                )
            arr.flags.writeable = False
            object.__setattr__(self, field, arr)
        object.__setattr__(self, "metadata", types.MappingProxyType(dict(self.metadata)))


def shared_data_dir() -> Path:
    """The folder of shared data sets (``../shared/data`` beside the repository).

    Looks at ``$PVA_SHARED_DATA`` first, then for ``shared/data`` in the current directory and its
    parents, then beside the source checkout of the package.

    Raises
    ------
    FileNotFoundError
        If none is found, saying where it looked.
    """
    env = os.environ.get(_SHARED_DATA_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"${_SHARED_DATA_ENV} is {env!r}, which is not a directory")
        return path
    starts = [Path.cwd().resolve(), Path(__file__).resolve().parent]
    looked: list[str] = []
    for start in starts:
        for folder in (start, *start.parents):
            candidate = folder / "shared" / "data"
            if candidate.is_dir():
                return candidate
            looked.append(str(candidate))
    raise FileNotFoundError(
        f"no shared data folder found: set ${_SHARED_DATA_ENV} or run from a checkout beside "
        f"shared/data (looked in {looked[0]} and its parents, and beside the package)"
    )


def _float_or_nan(value: Any, where: str) -> float:
    if value is None or (isinstance(value, str) and value.strip() in {"", "NA"}):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise StudyFileError(f"{where}: {value!r} is not a number") from None


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
    with p.open(newline="", encoding="utf-8-sig") as fh:
        rows = [row for row in csv.reader(fh) if any(cell.strip() for cell in row)]
    if not rows:
        raise StudyFileError(f"{p}: the file is empty")

    def numeric(cell: str) -> bool:
        try:
            float(cell)
        except ValueError:
            return cell.strip() in {"", "NA"}
        return True

    header_has_names = not all(numeric(c) for c in rows[0])
    if header_has_names and all(len(r) == len(rows[0]) and numeric(r[0]) for r in rows[1:]):
        # A header of stage names over a purely numeric square table (no row labels).
        names = [c.strip() for c in rows[0]]
        n = len(names)
        if len(rows) - 1 != n:
            raise StudyFileError(
                f"{p}: the header names {n} stages but there are {len(rows) - 1} data rows; a "
                "matrix must be square"
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
                "must be square"
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


def _compadre_matrix(
    record: Mapping[str, Any], key: str, where: str
) -> npt.NDArray[np.float64] | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
        raise StudyFileError(f"{where}: {key} must be a list of rows; got {type(value).__name__}")
    return np.array([[_float_or_nan(x, f"{where}: {key}") for x in row] for row in value])


def load_compadre(record_id: str, *, data_dir: str | os.PathLike[str] | None = None) -> MatrixData:
    """Load one matrix model from the COMPADRE/COMADRE samples by its id.

    Parameters
    ----------
    record_id
        For example ``"compadre_Nov_22_2017_row4910"``; the prefix chooses the database.
    data_dir
        The shared data folder (default: :func:`shared_data_dir`); the records are read from
        ``compadre/{compadre,comadre}_sample.jsonl`` in it (Salguero-Gómez et al. 2015, 2016).

    Returns
    -------
    MatrixData
        ``A``, ``U``, ``F``, ``C`` (matA..matC; NA entries are NaN), stage names from the authors'
        class labels, and the rest of the record (taxonomy, source, ``qc`` flags) as metadata.

    Raises
    ------
    ValueError
        If the id is malformed or not in the file.
    FileNotFoundError
        If the data file is missing.
    """
    if not isinstance(record_id, str) or not _COMPADRE_ID.match(record_id):
        raise ValueError(
            f"record_id must look like 'compadre_Nov_22_2017_row4910' (or comadre_...); got "
            f"{record_id!r}"
        )
    root = Path(data_dir) if data_dir is not None else shared_data_dir()
    path = root / "compadre" / _COMPADRE_FILES[record_id.split("_", 1)[0]]
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if f'"{record_id}"' not in line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise StudyFileError(f"{path}: line {lineno} is not valid JSON ({exc})") from None
            if record.get("id") != record_id:
                continue
            where = f"{path}: record {record_id}"
            stages_raw = record.get("stages")
            if not isinstance(stages_raw, list):
                raise StudyFileError(f"{where}: 'stages' must be a list")
            stages = tuple(
                str(s.get("author") or s.get("number")) if isinstance(s, dict) else str(s)
                for s in stages_raw
            )
            A = _compadre_matrix(record, "matA", where)
            if A is None:
                raise StudyFileError(f"{where}: matA is missing")
            meta = {k: v for k, v in record.items() if k not in {"matA", "matU", "matF", "matC"}}
            return MatrixData(
                name=record_id,
                stages=stages,
                A=A,
                U=_compadre_matrix(record, "matU", where),
                F=_compadre_matrix(record, "matF", where),
                C=_compadre_matrix(record, "matC", where),
                source=str(path),
                metadata=meta,
            )
    raise ValueError(f"{path}: no record with id {record_id!r}")


def load_popbio_matrices(
    name: str, *, data_dir: str | os.PathLike[str] | None = None
) -> dict[str, MatrixData]:
    """Load the projection matrices of a popbio data set (``teasel``, ``hudsonia``, ...).

    Reads ``popbio/{name}.json`` from the shared data folder (popbio 2.8 data exported as JSON;
    Stubben & Milligan 2007). A file with one ``"matrix"`` gives ``{name: ...}``; one with
    ``"matrices"`` gives them in the file's ``"names"`` order, keyed by those names.

    Raises
    ------
    FileNotFoundError
        If there is no such data set.
    StudyFileError
        If the file does not follow that layout.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.]+", name):
        raise ValueError(f"name must be a popbio data set name such as 'teasel'; got {name!r}")
    root = Path(data_dir) if data_dir is not None else shared_data_dir()
    path = root / "popbio" / f"{name}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise StudyFileError(f"{path}: not valid JSON ({exc})") from None
    stages = doc.get("stages")
    if not isinstance(stages, list):
        raise StudyFileError(f"{path}: 'stages' must be a list of stage names")
    if "matrix" in doc:
        items = {name: doc["matrix"]}
    elif isinstance(doc.get("matrices"), dict):
        order = doc.get("names") or list(doc["matrices"])
        missing = [k for k in order if k not in doc["matrices"]]
        if missing:
            raise StudyFileError(f"{path}: 'names' lists {missing!r}, absent from 'matrices'")
        items = {k: doc["matrices"][k] for k in order}
    else:
        raise StudyFileError(f"{path}: expected a 'matrix' or a 'matrices' object")
    out: dict[str, MatrixData] = {}
    for key, rows in items.items():
        where = f"{path}: matrix {key!r}"
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise StudyFileError(f"{where} must be a list of rows")
        A = np.array([[_float_or_nan(x, where) for x in r] for r in rows])
        out[key] = MatrixData(
            name=f"{name}:{key}" if key != name else name,
            stages=tuple(str(s) for s in stages),
            A=A,
            source=str(path),
        )
    return out


# ---------------------------------------------------------------------------------------------------
# (end of matrix readers)
# ---------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------
# Study files (TOML; schema in docs/study-file.md) and results files (NetCDF-4)
# ---------------------------------------------------------------------------------------------------


def _toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; syntax errors name the file and the line (tomllib's message)."""
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{path}: not valid TOML: {exc}") from None


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


def _compadre_species(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Fill stages, U, F (and C) of a species table from a COMPADRE/COMADRE record."""
    record_id = table["compadre"]
    if not isinstance(record_id, str):
        raise StudyFileError(f"{where}.compadre must be a record id string; got {record_id!r}")
    data = load_compadre(record_id)
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
    rest = {k: v for k, v in table.items() if k != "compadre"}
    return {**out, **rest}


def read_study(path: str | os.PathLike[str]) -> Study:
    """Read a study file into a validated :class:`pva.study.Study`. Nothing in it is executed.

    Species tables may hold the species inline, refer to a species file with ``file = "..."``
    (relative to the study file; the table's other keys override the file's), or to a
    COMPADRE/COMADRE record with ``compadre = "<id>"`` (stages and U, F, C from the record; the table
    gives the rest). See ``docs/study-file.md``.

    Raises
    ------
    StudyFileError
        (a ValueError) naming the file, the table and the key — and for an unknown key the line.
    TypeError
        For a value of the wrong kind, naming it.
    OSError
        If a file cannot be read.
    """
    path = Path(path)
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
                    table = _compadre_species(table, where)
                except (ValueError, OSError) as exc:
                    raise StudyFileError(f"{path}: {exc}") from None
            resolved.append(table)
        doc = {**doc, "species": resolved}
    try:
        return Study.from_dict(doc)
    except UnknownKeyError as exc:
        file, body = texts.get(exc.table.split(".")[0], (path, text))
        line = _key_line(body, exc.key, exc.table)
        at = f" (line {line})" if line is not None else ""
        raise StudyFileError(f"{file}{at}: {exc}") from None
    except StudyFileError as exc:
        raise StudyFileError(f"{path}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{path}: {exc}") from None


# ---------------------------------------------------------------------------------------------------
# Writing files: one atomic writer
# ---------------------------------------------------------------------------------------------------


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically: ``write(tmp)`` fills a temporary file in the same folder, which
    is renamed over ``path`` only when ``write`` returns, so a crash or an exception never leaves a
    truncated ``path`` (an old one stays as it was) and never leaves the temporary file behind.

    The folder is created if needed. The file gets the mode an ordinary ``open()`` would give it
    (``0666`` less the umask), not the private ``0600`` of :func:`tempfile.mkstemp`: results are
    for sharing. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    # os.umask can only be read by setting it
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` as UTF-8, atomically (:func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path``, atomically (:func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_results(ds: xr.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write a results Dataset to NetCDF-4, atomically (:func:`atomic_write`).

    Abundance variables are compressed (zlib); attributes must be strings or numbers (the study is
    stored as JSON). Returns the path written.
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset; got {type(ds).__name__}")
    encoding = {
        name: {"zlib": True, "complevel": 4}
        for name in ds.data_vars
        if ds[name].dtype.kind in "iuf" and ds[name].ndim >= 3
    }
    return atomic_write(
        path,
        lambda tmp: ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=encoding),
    )


def open_results(path: str | os.PathLike[str]) -> xr.Dataset:
    """Read a results file written by :func:`write_results` into memory (the file is closed)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no results file {str(path)!r}")
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return ds.load()
    except (OSError, ValueError) as exc:
        raise StudyFileError(f"{path}: not a readable NetCDF results file ({exc})") from None


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


_MANIFEST = "manifest.json"


class Checkpoints:
    """Finished tasks of one study and seed in a folder: ``manifest.json`` (the study's digest and
    the seed entropy) and one ``task-<species>-<chunk>.npz`` per task, each written atomically.

    Parameters
    ----------
    folder
        Created if needed.
    digest
        :meth:`pva.study.Study.digest` of the study being run.
    entropy
        The run's seed entropy, or None to take the checkpoints' (or, in a new folder, fresh entropy).

    Raises
    ------
    ValueError
        If the folder holds checkpoints of another study or another seed, or an unreadable manifest.
    """

    def __init__(self, folder: str | os.PathLike[str], digest: str, entropy: int | None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self.folder / _MANIFEST
        if manifest.exists():
            try:
                saved = json.loads(manifest.read_text(encoding="utf-8"))
                saved_digest, saved_entropy = str(saved["digest"]), int(saved["entropy"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"checkpoint manifest {manifest} is unreadable ({exc})") from None
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
        if entropy is None:
            entropy = streams.resolve_entropy(None)
        if not manifest.exists():
            write_text(manifest, json.dumps({"digest": digest, "entropy": str(entropy)}))
        self.digest = digest
        self.entropy: int = entropy

    def _task_file(self, species: int, chunk: int) -> Path:
        return self.folder / f"task-{species:04d}-{chunk:06d}.npz"

    def load(
        self,
        species: int,
        chunk: int,
        *,
        shape: tuple[int, ...],
        risk_shape: tuple[int, ...] | None = None,
    ) -> TaskArrays | None:
        """The saved task (species index, chunk index), or None if it has not finished.

        Raises
        ------
        ValueError
            If the file belongs to another study or seed, or its arrays do not have ``shape``
            (mature and total) and ``risk_shape`` (extinction risk, when expected).
        """
        path = self._task_file(species, chunk)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            if str(data["digest"]) != self.digest or int(data["entropy"]) != self.entropy:
                raise ValueError(f"checkpoint {path} belongs to a different study or seed")
            mature, total = data["mature"], data["total"]
            risk = data["extinction_risk"] if "extinction_risk" in data.files else None
        if mature.shape != shape or total.shape != shape:
            raise ValueError(f"checkpoint {path} has shape {mature.shape}, expected {shape}")
        if risk_shape is not None and (risk is None or risk.shape != risk_shape):
            got = None if risk is None else risk.shape
            raise ValueError(f"checkpoint {path} has extinction_risk {got}, expected {risk_shape}")
        return TaskArrays(mature, total, risk)

    def save(self, species: int, chunk: int, task: TaskArrays) -> None:
        """Save a finished task (atomically: a crash leaves either the whole file or none)."""
        digest, entropy = np.array(self.digest), np.array(str(self.entropy))

        def write(tmp: Path) -> None:
            # a file handle: given a path, np.savez would append ".npz" to the temporary name
            with tmp.open("wb") as fh:
                if task.extinction_risk is None:
                    np.savez(
                        fh, mature=task.mature, total=task.total, digest=digest, entropy=entropy
                    )
                else:
                    np.savez(
                        fh,
                        mature=task.mature,
                        total=task.total,
                        digest=digest,
                        entropy=entropy,
                        extinction_risk=task.extinction_risk,
                    )

        atomic_write(self._task_file(species, chunk), write)
