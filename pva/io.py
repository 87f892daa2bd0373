"""Files in and out. Nothing else in pva reads files, except :mod:`pva.datasets` (the data sets
shipped with pva and COMPADRE/COMADRE release files).

Sections: matrix readers (a user's CSV file; the shipped data sets through :mod:`pva.datasets`),
study files and results files.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------------
# Matrix readers
# ---------------------------------------------------------------------------------------------------
import csv
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import xarray as xr

from pva import datasets, streams
from pva.census import Census, parse_census
from pva.datasets import MatrixData, _float_or_nan
from pva.errors import StudyFileError
from pva.study import Study, UnknownKeyError


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
    p = Path(path)
    with p.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return parse_census(rows, where=str(p), column=column)


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
                    table = _compadre_species(table, where, path.parent)
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
        projected_shape: tuple[int, ...] | None = None,
    ) -> TaskArrays | None:
        """The saved task (species index, chunk index), or None if it has not finished.

        Raises
        ------
        ValueError
            If the file belongs to another study or seed, or its arrays do not have ``shape``
            (mature and total), ``risk_shape`` (extinction risk) and ``projected_shape``
            (projected mature individuals), when expected.
        """
        path = self._task_file(species, chunk)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            if str(data["digest"]) != self.digest or int(data["entropy"]) != self.entropy:
                raise ValueError(f"checkpoint {path} belongs to a different study or seed")
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
        if mature.shape != shape or total.shape != shape:
            raise ValueError(f"checkpoint {path} has shape {mature.shape}, expected {shape}")
        for key, expected in (
            ("extinction_risk", risk_shape),
            ("projected_mature", projected_shape),
        ):
            got = optional[key]
            if expected is not None and (got is None or got.shape != expected):
                found = None if got is None else got.shape
                raise ValueError(f"checkpoint {path} has {key} {found}, expected {expected}")
        if optional["gene_diversity"] is not None and optional["gene_diversity"].shape != shape:
            found = optional["gene_diversity"].shape
            raise ValueError(f"checkpoint {path} has gene_diversity {found}, expected {shape}")
        for key in ("captive_individuals", "captive_gene_diversity"):
            got = optional[key]
            if got is not None and got.shape != shape[:3]:
                raise ValueError(f"checkpoint {path} has {key} {got.shape}, expected {shape[:3]}")
        return TaskArrays(
            mature,
            total,
            optional["extinction_risk"],
            optional["projected_mature"],
            optional["gene_diversity"],
            optional["captive_individuals"],
            optional["captive_gene_diversity"],
        )

    def save(self, species: int, chunk: int, task: TaskArrays) -> None:
        """Save a finished task (atomically: a crash leaves either the whole file or none)."""
        digest, entropy = np.array(self.digest), np.array(str(self.entropy))

        def write(tmp: Path) -> None:
            # a file handle: given a path, np.savez would append ".npz" to the temporary name
            nested = {
                key: value
                for key, value in (
                    ("extinction_risk", task.extinction_risk),
                    ("projected_mature", task.projected_mature),
                    ("gene_diversity", task.gene_diversity),
                    ("captive_individuals", task.captive_individuals),
                    ("captive_gene_diversity", task.captive_gene_diversity),
                )
                if value is not None
            }
            with tmp.open("wb") as fh:
                np.savez(
                    fh,
                    mature=task.mature,
                    total=task.total,
                    digest=digest,
                    entropy=entropy,
                    **nested,
                )

        atomic_write(self._task_file(species, chunk), write)
