"""Published data sets shipped with pva, and COMPADRE/COMADRE release files named by the user.

Shipped with the package (``pva/data``; sources, citations and licences in ``pva/data/README.md``):

- ``popbio/``: the 14 data sets of the R package popbio 2.8 (Stubben & Milligan 2007), exported
  unchanged as JSON (projection matrices) and CSV (tables): :func:`load_popbio`,
  :func:`popbio_table`, :func:`popbio_document`.
- ``compadre/``: the COMPADRE and COMADRE sample records (150 matrices each, database versions of
  November 2017; Salguero-Gómez et al. 2015, 2016), one JSON object per line: :func:`load_compadre`.
  CC BY-SA 4.0.

A COMPADRE or COMADRE release as downloaded from compadre-db.org (an RData file holding an S4
``CompadreDB`` object) is read by :func:`read_compadre_release`; :func:`load_compadre` finds records
in the releases it is given or that ``$PVA_COMPADRE`` names.

Record ids. ``<database>_<DateCreated>_row<N>`` names row ``N`` (1-based) of the release of that
database created on that date, e.g. ``compadre_Nov_22_2017_row6382``: the shipped sample uses the row
of the full 2017 release, so the same id finds the same record in that release. A release that has a
``MatrixID`` column (the current ones) also finds a record by that number (``"249843"``).

This module and :mod:`pva.io` are the only ones that read files: this one the data sets, ``io`` the
user's study, matrix and results files.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import re
import types
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pva.errors import StudyFileError

__all__ = [
    "COMPADRE_ENV",
    "CompadreRelease",
    "MatrixData",
    "compadre_ids",
    "data_dir",
    "load_compadre",
    "load_matrix",
    "load_popbio",
    "popbio_document",
    "popbio_names",
    "popbio_table",
    "read_compadre_release",
    "release_paths",
]

COMPADRE_ENV = "PVA_COMPADRE"
"""Environment variable naming COMPADRE/COMADRE release files (several separated by ``os.pathsep``)."""

_DATA = Path(__file__).resolve().parent / "data"
_SAMPLES = {  # database -> (file of the shipped sample, DateCreated of the release it was drawn from)
    "compadre": ("compadre_sample.jsonl", "Nov_22_2017"),
    "comadre": ("comadre_sample.jsonl", "Nov_28_2017"),
}
_ROW_ID = re.compile(r"^(compadre|comadre)_(\w+?)_row(\d+)$")
_MATRIX_ID = re.compile(r"^\d+$")
_PARTS = ("matA", "matU", "matF", "matC")


# ---------------------------------------------------------------------------------------------------
# A matrix and its provenance
# ---------------------------------------------------------------------------------------------------


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


def _float_or_nan(value: Any, where: str) -> float:
    """A number from a data file; empty, ``NA`` and JSON ``null`` are NaN."""
    if value is None or (isinstance(value, str) and value.strip() in {"", "NA"}):
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise StudyFileError(f"{where}: {value!r} is not a number") from None


def data_dir() -> Path:
    """The folder of the data sets shipped with pva (``popbio/``, ``compadre/`` and a README)."""
    return _DATA


# ---------------------------------------------------------------------------------------------------
# popbio data sets (Stubben & Milligan 2007; sources of each set in pva/data/README.md)
# ---------------------------------------------------------------------------------------------------


def popbio_names() -> tuple[str, ...]:
    """Names of the shipped popbio data sets, e.g. ``"hudsonia"``, ``"grizzly"``, ``"aq.census"``."""
    return tuple(
        sorted({p.stem for p in (_DATA / "popbio").iterdir() if p.suffix in {".json", ".csv"}})
    )


def _popbio_file(name: str, suffix: str) -> Path:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.]+", name):
        raise ValueError(f"name must be a popbio data set name such as 'teasel'; got {name!r}")
    path = _DATA / "popbio" / f"{name}{suffix}"
    if not path.is_file():
        kind = {".json": "JSON (matrices or documents)", ".csv": "CSV (tables)"}[suffix]
        have = sorted(p.stem for p in (_DATA / "popbio").glob(f"*{suffix}"))
        raise ValueError(f"no popbio data set {name!r} in {kind}; those are: {', '.join(have)}")
    return path


def popbio_document(name: str) -> dict[str, Any]:
    """The JSON document of a popbio data set (e.g. ``"hudcorrs"``, ``"nematode"``, ``"whale"``).

    Raises
    ------
    ValueError
        If there is no such JSON data set (the message lists them), or the file is not valid JSON.
    """
    path = _popbio_file(name, ".json")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise StudyFileError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise StudyFileError(f"{path}: expected a JSON object")
    return doc


def popbio_table(name: str) -> list[dict[str, str]]:
    """The rows of a popbio CSV table (e.g. ``"grizzly"``, ``"hudvrs"``, ``"woodpecker"``).

    Values are the file's text: convert numbers yourself; an empty string is R's ``NA``.

    Raises
    ------
    ValueError
        If there is no such CSV data set (the message lists them).
    """
    import csv

    path = _popbio_file(name, ".csv")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_popbio(name: str) -> dict[str, MatrixData]:
    """The projection matrices of a popbio data set (``teasel``, ``whale``, ``hudsonia``, ...).

    A data set with one ``"matrix"`` gives ``{name: ...}``; one with ``"matrices"`` gives them in the
    file's ``"names"`` order, keyed by those names (``hudsonia``: ``A85`` .. ``A88``; Morris & Doak
    2002, Table 6.7).

    Raises
    ------
    ValueError
        If there is no such data set or it holds no matrices (:class:`StudyFileError` for a file that
        does not follow the layout).
    """
    doc = popbio_document(name)
    path = _popbio_file(name, ".json")
    stages = doc.get("stages")
    if "matrix" in doc:
        items = {name: doc["matrix"]}
    elif isinstance(doc.get("matrices"), dict):
        order = doc.get("names") or list(doc["matrices"])
        missing = [k for k in order if k not in doc["matrices"]]
        if missing:
            raise StudyFileError(f"{path}: 'names' lists {missing!r}, absent from 'matrices'")
        items = {k: doc["matrices"][k] for k in order}
    else:
        raise ValueError(
            f"popbio data set {name!r} holds no projection matrices (see popbio_document({name!r}))"
        )
    if not isinstance(stages, list):
        raise StudyFileError(f"{path}: 'stages' must be a list of stage names")
    out: dict[str, MatrixData] = {}
    for key, rows in items.items():
        where = f"{path}: matrix {key!r}"
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise StudyFileError(f"{where} must be a list of rows")
        out[key] = MatrixData(
            name=f"{name}:{key}" if key != name else name,
            stages=tuple(str(s) for s in stages),
            A=np.array([[_float_or_nan(x, where) for x in r] for r in rows]),
            source=str(path),
        )
    return out


# ---------------------------------------------------------------------------------------------------
# COMPADRE / COMADRE: the shipped sample and release files
# ---------------------------------------------------------------------------------------------------


def compadre_ids(database: str | None = None) -> tuple[str, ...]:
    """Ids of the shipped sample records, in file order (``database``: ``"compadre"``,
    ``"comadre"`` or both)."""
    if database not in (None, *_SAMPLES):
        raise ValueError(f"database must be 'compadre', 'comadre' or None; got {database!r}")
    ids: list[str] = []
    for db, (file, _) in _SAMPLES.items():
        if database in (None, db):
            with (_DATA / "compadre" / file).open(encoding="utf-8") as fh:
                ids.extend(json.loads(line)["id"] for line in fh if line.strip())
    return tuple(ids)


def _matrix_rows(value: Any, key: str, where: str) -> npt.NDArray[np.float64] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
        raise StudyFileError(f"{where}: {key} must be a list of rows; got {type(value).__name__}")
    return np.array([[_float_or_nan(x, f"{where}: {key}") for x in row] for row in value])


def _sample_record(record_id: str, database: str) -> MatrixData:
    """A record of the shipped sample by its id (``compadre_Nov_22_2017_row6382``)."""
    path = _DATA / "compadre" / _SAMPLES[database][0]
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
            A = _matrix_rows(record.get("matA"), "matA", where)
            if A is None:
                raise StudyFileError(f"{where}: matA is missing")
            return MatrixData(
                name=record_id,
                stages=stages,
                A=A,
                U=_matrix_rows(record.get("matU"), "matU", where),
                F=_matrix_rows(record.get("matF"), "matF", where),
                C=_matrix_rows(record.get("matC"), "matC", where),
                source=str(path),
                metadata={k: v for k, v in record.items() if k not in _PARTS},
            )
    raise ValueError(
        f"no record {record_id!r} in the shipped {database.upper()} sample ({path.name}: 150 "
        f"records of the {_SAMPLES[database][1]} release; pva.datasets.compadre_ids() lists them). "
        "For other records name a release file (--compadre FILE, compadre_file in a study, or "
        f"${COMPADRE_ENV})"
    )


def _plain(value: Any) -> Any:
    """A metadata value as a plain Python scalar (NA -> None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    try:  # pandas.NA, NaT
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _stage_number(value: Any) -> Any:
    """A stage number as R stores it (a double) written as an integer: 1.0 -> 1."""
    value = _plain(value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


@dataclasses.dataclass(frozen=True, eq=False)
class CompadreRelease:
    """A COMPADRE or COMADRE release file (or any saved ``CompadreDB``), read into memory.

    Made by :func:`read_compadre_release`. ``table`` is the ``data`` slot (a pandas DataFrame, one
    row per matrix; column ``mat`` holds the matrices); rows are numbered from 1 as in R.
    """

    path: Path
    """The file read."""
    database: str
    """``"compadre"`` (plants, algae) or ``"comadre"`` (animals)."""
    version: str
    """The release's ``Version`` (e.g. ``"6.23.5.0"``)."""
    date_created: str
    """The release's ``DateCreated`` (e.g. ``"Nov_22_2017"``), part of the record ids."""
    table: Any = dataclasses.field(repr=False)
    """The ``data`` slot as a pandas DataFrame."""

    def __len__(self) -> int:
        return len(self.table)

    @property
    def id_prefix(self) -> str:
        """``<database>_<DateCreated>``: the record ids are this plus ``_row<N>``."""
        return f"{self.database}_{re.sub(r'[^A-Za-z0-9]+', '_', self.date_created).strip('_')}"

    def ids(self) -> tuple[str, ...]:
        """Record ids of all rows, ``<database>_<DateCreated>_row<N>``, N = 1..len(self)."""
        return tuple(f"{self.id_prefix}_row{n}" for n in range(1, len(self) + 1))

    def describe(self) -> str:
        """``'<path> (COMPADRE <version> of <DateCreated>, <n> matrices)'`` for messages."""
        return (
            f"{self.path} ({self.database.upper()} {self.version} of {self.date_created}, "
            f"{len(self)} matrices)"
        )

    def row_of(self, record_id: str | int) -> int | None:
        """The 1-based row that ``record_id`` names in this release, or None if it names another
        release. A row id beyond the table, or a MatrixID the release does not have, raises."""
        text = str(record_id).strip()
        if _MATRIX_ID.match(text):
            if "MatrixID" not in self.table.columns:
                return None
            hits = [
                i
                for i, v in enumerate(self.table["MatrixID"], start=1)
                if _plain(v) is not None and int(v) == int(text)
            ]
            if not hits:
                raise ValueError(f"{self.describe()} has no record with MatrixID {text}")
            return hits[0]
        match = _ROW_ID.match(text)
        if match is None or f"{match.group(1)}_{match.group(2)}" != self.id_prefix:
            return None
        row = int(match.group(3))
        if not 1 <= row <= len(self):
            raise ValueError(f"{text!r}: {self.describe()} has rows 1..{len(self)}; no row {row}")
        return row

    def record(self, row: int) -> MatrixData:
        """The matrices, stages and metadata of row ``row`` (1-based)."""
        if not 1 <= row <= len(self):
            raise ValueError(f"row must be in 1..{len(self)} for {self.describe()}; got {row!r}")
        series = self.table.iloc[row - 1]
        record_id = f"{self.id_prefix}_row{row}"
        where = f"{self.path}: {record_id}"
        mat = series["mat"]
        parts = {}
        for part in _PARTS:
            value = getattr(mat, part, None)
            parts[part] = None if value is None else np.asarray(value, dtype=float)
        if parts["matA"] is None:
            raise StudyFileError(f"{where}: the CompadreMat has no matA")
        classes = getattr(mat, "matrixClass", None)
        stages: tuple[str, ...]
        if classes is not None and "MatrixClassAuthor" in getattr(classes, "columns", ()):
            numbers = classes.get("MatrixClassNumber", range(1, len(classes) + 1))
            stages = tuple(
                str(_plain(a) or _stage_number(n))
                for a, n in zip(classes["MatrixClassAuthor"], numbers, strict=True)
            )
        else:
            stages = tuple(str(i) for i in range(1, parts["matA"].shape[0] + 1))
        metadata = {str(k): _plain(v) for k, v in series.items() if str(k) != "mat"}
        metadata.update(
            id=record_id,
            database=self.database.upper(),
            db_version=self.version,
            db_date=self.date_created,
            row=row,
            stages=[]
            if classes is None
            else [{str(k): _plain(v) for k, v in r.items()} for r in classes.to_dict("records")],
        )
        return MatrixData(
            name=record_id,
            stages=stages,
            A=parts["matA"],
            U=parts["matU"],
            F=parts["matF"],
            C=parts["matC"],
            source=str(self.path),
            metadata=metadata,
        )

    def load(self, record_id: str | int) -> MatrixData:
        """The record named by a row id of this release or a MatrixID.

        Raises
        ------
        ValueError
            If the id names no record of this release.
        """
        row = self.row_of(record_id)
        if row is None:
            raise ValueError(
                f"{record_id!r} names no record of {self.describe()}: its ids are "
                f"{self.id_prefix}_row1 .. _row{len(self)}"
                + (", or a MatrixID" if "MatrixID" in self.table.columns else "")
            )
        return self.record(row)


def _first_string(value: Any) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):
        value = value[0] if len(value) else ""
    return "" if value is None else str(value)


def read_compadre_release(path: str | os.PathLike[str]) -> CompadreRelease:
    """Read a COMPADRE or COMADRE release file: an RData file holding an S4 ``CompadreDB`` object.

    The official releases (compadre-db.org, ``COMPADRE_v.X.RData`` / ``COMADRE_v.X.RData``) and the
    sample objects of the R package Rcompadre have this form: slot ``data``, a data frame with a
    list-column ``mat`` of ``CompadreMat`` objects (``matA``, ``matU``, ``matF``, ``matC``,
    ``matrixClass``) beside the metadata columns, and slot ``version`` (``Version``,
    ``DateCreated``, ``Agreement``). Files are cached by path and modification time.

    The reader is the pure-Python package ``rdata``: it parses R's serialisation format itself,
    S4 objects and list-columns included. ``pyreadr`` (librdata) was tried on the same files and
    returns nothing: it reads only data frames, vectors and matrices and skips S4 objects and lists.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not an RData file, or holds no ``CompadreDB`` object (the message says what
        it holds).
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"no COMPADRE/COMADRE release file {str(p)!r}")
    stat = p.stat()
    return _read_release(p.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_release(path: Path, mtime_ns: int, size: int) -> CompadreRelease:
    import rdata

    with warnings.catch_warnings():
        # rdata warns for every R class it has no Python constructor for (CompadreDB, CompadreMat,
        # tbl_df: their slots and columns are what we read) and when it guesses a file's format.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"rdata\.")
        try:
            objects = rdata.read_rda(path)
        except Exception as exc:  # rdata raises several kinds for a file that is not R data
            raise ValueError(
                f"{path}: not an R data file (a COMPADRE/COMADRE release is an .RData file from "
                f"compadre-db.org); reading it gave {type(exc).__name__}: {exc}"
            ) from None
    found: list[str] = []
    for name, obj in objects.items():
        classes = [str(c) for c in np.atleast_1d(getattr(obj, "class", []))]
        if "CompadreDB" not in classes:
            kind = ", ".join(classes) or type(obj).__name__
            if isinstance(obj, dict) and {"metadata", "mat", "matrixClass", "version"} <= set(obj):
                kind = "a legacy COMPADRE list (before Rcompadre 1.0; convert it with Rcompadre::as_cdb)"
            found.append(f"{name!r} ({kind})")
            continue
        table = getattr(obj, "data", None)
        if table is None or "mat" not in getattr(table, "columns", ()):
            raise ValueError(
                f"{path}: the CompadreDB {name!r} has no data slot with a 'mat' column"
            )
        table = table.rename(columns=str)
        info = {str(k): _first_string(v) for k, v in (getattr(obj, "version", None) or {}).items()}
        return CompadreRelease(
            path=path,
            database=_database_of(str(name), table),
            version=info.get("Version", ""),
            date_created=info.get("DateCreated", "") or "undated",
            table=table,
        )
    raise ValueError(
        f"{path}: holds no CompadreDB object (a COMPADRE/COMADRE release does); found "
        f"{', '.join(found) or 'no objects'}"
    )


def _database_of(object_name: str, table: Any) -> str:
    """``comadre`` or ``compadre``: from the object's name (releases call it so), else the kingdom."""
    lower = object_name.lower()
    if "comadre" in lower:
        return "comadre"
    if "compadre" in lower:
        return "compadre"
    kingdoms = {str(k) for k in table.get("Kingdom", [])}
    return "comadre" if kingdoms == {"Animalia"} else "compadre"


def release_paths(
    release: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
) -> list[Path]:
    """The release files to search: ``release`` (one path or several) and then those in
    ``$PVA_COMPADRE`` (separated by ``os.pathsep``)."""
    given: list[str | os.PathLike[str]]
    if release is None:
        given = []
    elif isinstance(release, (str, os.PathLike)):
        given = [release]
    else:
        given = list(release)
    env = os.environ.get(COMPADRE_ENV, "")
    given += [p for p in env.split(os.pathsep) if p.strip()]
    return [Path(p).expanduser() for p in given]


def load_compadre(
    record_id: str | int,
    *,
    release: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
) -> MatrixData:
    """Load one COMPADRE/COMADRE matrix model by its id.

    Parameters
    ----------
    record_id
        ``<database>_<DateCreated>_row<N>`` (for example ``"compadre_Nov_22_2017_row6382"``), or
        the ``MatrixID`` of a record of a release that has one (``"249843"`` or ``249843``).
    release
        A release file (or several) to look in, before those named by ``$PVA_COMPADRE``. An id whose
        database and date are those of a named release is that release's row N; otherwise ids of the
        shipped sample (the 2017 releases) are read from the sample.

    Returns
    -------
    MatrixData
        ``A``, ``U``, ``F``, ``C`` (matA..matC; NA entries are NaN), stage names from the authors'
        class labels (``MatrixClassAuthor``), and the record's other fields (taxonomy, source,
        ``id``, ``database``, ``db_version``, ``db_date``) as metadata.

    Raises
    ------
    ValueError
        If the id is malformed or names no record (the message says where it looked).
    FileNotFoundError
        If a named release file does not exist.

    References
    ----------
    Salguero-Gómez et al. (2015) J. Ecol. 103:202-218; Salguero-Gómez et al. (2016) J. Anim. Ecol.
    85:371-384. CC BY-SA 4.0; cite the database version and the original study.
    """
    text = str(record_id).strip() if isinstance(record_id, (str, int)) else None
    if (
        isinstance(record_id, bool)
        or text is None
        or not (_ROW_ID.match(text) or _MATRIX_ID.match(text))
    ):
        raise ValueError(
            "record_id must look like 'compadre_Nov_22_2017_row4910' (or comadre_...), or be the "
            f"MatrixID of a record in a named release; got {record_id!r}"
        )
    releases = []
    for path in release_paths(release):
        try:
            releases.append(read_compadre_release(path))
        except FileNotFoundError as exc:
            env = os.environ.get(COMPADRE_ENV)
            raise FileNotFoundError(
                f"{exc}{f' (${COMPADRE_ENV} is {env!r})' if env else ''}"
            ) from None
    for rel in releases:
        row = rel.row_of(text)
        if row is not None:
            return rel.record(row)
    match = _ROW_ID.match(text)
    if match is not None and match.group(2) == _SAMPLES[match.group(1)][1]:
        return _sample_record(text, match.group(1))
    named = "; ".join(rel.describe() for rel in releases) or "none"
    what = (
        f"MatrixID {text}"
        if match is None
        else f"the {match.group(1).upper()} release of {match.group(2)}"
    )
    raise ValueError(
        f"{text!r} names {what}, which no named release file holds (named: {named}). Name the "
        f"release file with --compadre FILE, compadre_file in the study, or ${COMPADRE_ENV}; the "
        "shipped sample holds ids compadre_Nov_22_2017_row... and comadre_Nov_28_2017_row..."
    )


def load_matrix(
    ref: str,
    *,
    release: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
) -> MatrixData:
    """A matrix named by a COMPADRE/COMADRE id (see :func:`load_compadre`) or a shipped popbio data
    set (``"whale"``; ``"hudsonia:A85"`` for one matrix of a set with several).

    Raises
    ------
    ValueError
        If ``ref`` is neither, naming what is accepted.
    """
    text = str(ref).strip()
    if _ROW_ID.match(text) or (_MATRIX_ID.match(text) and release_paths(release)):
        return load_compadre(text, release=release)
    matrix_sets = _popbio_matrix_sets()
    name, _, key = text.partition(":")
    if name in matrix_sets:
        matrices = load_popbio(name)
        if not key and len(matrices) == 1:
            return next(iter(matrices.values()))
        if key in matrices:
            return matrices[key]
        raise ValueError(
            f"popbio data set {name!r} has the matrices {', '.join(matrices)}: name one, as in "
            f"'{name}:{next(iter(matrices))}'"
        )
    raise ValueError(
        f"{text!r} is neither a file, nor a COMPADRE/COMADRE id (such as "
        "compadre_Nov_22_2017_row4910, or a MatrixID of a release named with --compadre), nor a "
        f"popbio data set shipped with pva ({', '.join(matrix_sets)})"
    )


def _popbio_matrix_sets() -> tuple[str, ...]:
    """Names of the popbio data sets that hold projection matrices (teasel, whale, ...)."""
    return tuple(
        name
        for name in popbio_names()
        if (_DATA / "popbio" / f"{name}.json").is_file()
        and {"matrix", "matrices"} & set(popbio_document(name))
    )
