"""The import rules and the owners of files, printing and randomness (docs/architecture.md), read
from the source with :mod:`ast`: every ``import`` of every pva module, at module level, under
``if TYPE_CHECKING`` and inside functions, and every call that touches files.

A failure names the module and line, the statement and the rule it breaks. Each checker is also run
on a small source that breaks its rule, so that none of these tests passes by finding nothing.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

import pva

PACKAGE = Path(pva.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
"""Every module of the package by dotted name (``pva``, ``pva.engine``, ``pva.redlist.criteria``)."""


def part(module: str) -> str:
    """The part of pva a module belongs to: ``pva.redlist.criteria`` -> ``redlist``, ``pva`` ->
    ``pva`` (the package's ``__init__``, which gathers the parts)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


PARTS = {part(m) for m in SOURCES} - {"pva"}

SHELL = frozenset({"cli", "io", "plots", "report", "summary"})
"""Files, the command line, tables, figures and the report."""
ENGINE = frozenset({"engine", "genetics", "kernels", "nested", "simulation", "runner"})
"""The engine and what runs it."""
SPECIFICATIONS = frozenset({"model", "scenario", "schedule", "study", "sites", "validation"})
"""Frozen, validated values: what to simulate."""


@dataclasses.dataclass(frozen=True)
class Rule:
    """Modules of the parts ``importers`` never import modules of the parts ``forbidden``."""

    text: str
    importers: frozenset[str]
    forbidden: frozenset[str]


RULES = (
    Rule(
        "the engine (engine, genetics, kernels, nested, simulation) never imports the shell "
        "(cli, io, plots, report, summary) or the runner",
        frozenset({"engine", "genetics", "kernels", "nested", "simulation"}),
        SHELL | {"runner"},
    ),
    Rule(
        "outcomes never import the engine (engine, nested, simulation, runner)",
        frozenset({"outcomes"}),
        ENGINE,
    ),
    Rule(
        "specifications (model, scenario, schedule, study, sites, validation) never import the "
        "engine "
        "(engine, nested, simulation, runner)",
        SPECIFICATIONS,
        ENGINE,
    ),
    Rule(
        "analysis (analysis, countpva) never imports the engine (engine, nested, simulation, runner)",
        frozenset({"analysis", "countpva"}),
        ENGINE,
    ),
    Rule(
        "observed-data assessment and budgeted choice (census, portfolio) never import the engine "
        "(engine, nested, simulation, runner), io or the shell",
        frozenset({"census", "portfolio"}),
        ENGINE | SHELL,
    ),
    Rule(
        "the Red List code never imports the engine (engine, nested, simulation), the runner or io",
        frozenset({"redlist"}),
        ENGINE | {"io"},
    ),
    Rule(
        "summaries, figures and the report read results; they never import the engine "
        "(engine, nested, simulation, runner)",
        frozenset({"summary", "plots", "report"}),
        ENGINE,
    ),
    Rule(
        "summaries, figures and the report read a sweep's results; they never import the sweeps "
        "(sensitivity), which run studies",
        frozenset({"summary", "plots", "report"}),
        frozenset({"sensitivity"}),
    ),
    Rule(
        "the sweeps (sensitivity) reduce each sample as the summary does; they never import "
        "figures or the report",
        frozenset({"sensitivity"}),
        frozenset({"plots", "report"}),
    ),
    Rule(
        "nothing imports the command line (cli) but its entry point (__main__)",
        frozenset(PARTS | {"pva"}) - {"__main__"},
        frozenset({"cli"}),
    ),
    Rule(
        "pva.testing is for tests: no other part imports it",
        frozenset(PARTS | {"pva"}) - {"testing"},
        frozenset({"testing"}),
    ),
)


# ---------------------------------------------------------------------------------------------------
# reading the source


@dataclasses.dataclass(frozen=True)
class Import:
    """One pva module imported by another."""

    importer: str
    target: str
    line: int
    statement: str
    local: bool
    """Inside a function (not at module level or under ``if TYPE_CHECKING``)."""


def _is_module(name: str) -> bool:
    return name in SOURCES


Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@functools.cache
def _nodes(tree: ast.AST) -> tuple[tuple[ast.AST, Function | None], ...]:
    """Every node of ``tree`` with the innermost function around it (None at module level)."""
    out: list[tuple[ast.AST, Function | None]] = []
    stack: list[tuple[ast.AST, Function | None]] = [(tree, None)]
    while stack:
        node, function = stack.pop()
        inner = node if isinstance(node, Function) else function
        for child in ast.iter_child_nodes(node):
            out.append((child, inner))
            stack.append((child, inner))
    return tuple(out)


def _functions_and_nodes(tree: ast.AST) -> Iterator[tuple[ast.AST, bool]]:
    """Every node with whether it is inside a function body."""
    for node, function in _nodes(tree):
        yield node, function is not None


@functools.cache
def _parse(source: str) -> ast.Module:
    return ast.parse(source)


def imports_of(importer: str, source: str) -> list[Import]:
    """The pva modules ``importer`` (whose text is ``source``) imports.

    ``from pva import io`` imports ``pva.io``; ``from pva.redlist import CR`` imports ``pva.redlist``;
    a bare ``import pva`` counts as an import of every ``pva.<module>`` the code then reaches as an
    attribute (``pva.runner.run_study``), so it cannot hide a dependency.
    """
    tree = _parse(source)
    package = importer if importer in SOURCES and SOURCES[importer].name == "__init__.py" else None
    found: list[Import] = []
    bare_pva = False
    for node, local in _functions_and_nodes(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        text = ast.unparse(node)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "pva":
                    bare_pva = True
                elif alias.name.startswith("pva."):
                    found.append(Import(importer, alias.name, node.lineno, text, local))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative (ruff bans them; resolve anyway)
                base = importer.split(".")
                base = base[: len(base) - node.level + (package is not None)]
                module = ".".join([*base, module] if module else base)
            if module != "pva" and not module.startswith("pva."):
                continue
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                target = sub if _is_module(sub) else module
                found.append(Import(importer, target, node.lineno, text, local))
    if bare_pva:
        for node, local in _functions_and_nodes(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "pva"
                and _is_module(f"pva.{node.attr}")
            ):
                found.append(
                    Import(importer, f"pva.{node.attr}", node.lineno, f"pva.{node.attr}", local)
                )
    return found


def rule_violations(imports: list[Import]) -> list[str]:
    """One line per import that breaks a rule: module, line, statement, rule."""
    return [
        f"{imp.importer} (line {imp.line}) imports {imp.target}: `{imp.statement}` "
        f"breaks the rule: {rule.text}"
        for imp in imports
        for rule in RULES
        if part(imp.importer) in rule.importers and part(imp.target) in rule.forbidden
    ]


@functools.cache
def _all_imports() -> list[Import]:
    return [
        imp
        for name, path in SOURCES.items()
        for imp in imports_of(name, path.read_text(encoding="utf-8"))
    ]


# ---------------------------------------------------------------------------------------------------
# files, printing, randomness

FILE_OWNERS = {"pva.io"}
"""Modules that write files."""
READERS = {"pva.io", "pva.datasets"}
"""Modules that read files: io, and datasets for the data shipped in the package."""
PRINTERS = {"pva.cli", "pva.__main__"}
"""Modules that print or write to the terminal: the command line, and its entry point (which
reports a Ctrl-C that lands before the command line has loaded)."""
RANDOMNESS_OWNERS = {"pva.streams"}
"""Modules that make generators and seed sequences."""

WRITING_METHODS = {
    "to_netcdf",
    "to_zarr",
    "to_csv",
    "write_text",
    "write_bytes",
    "savefig",
    "tofile",
    "mkdir",
    "touch",
    "unlink",
    "rmdir",
}
WRITING_FUNCTIONS = {
    ("np", "save"),
    ("np", "savez"),
    ("np", "savez_compressed"),
    ("np", "savetxt"),
    ("numpy", "save"),
    ("numpy", "savez"),
    ("numpy", "savez_compressed"),
    ("numpy", "savetxt"),
    ("os", "replace"),
    ("os", "rename"),
    ("os", "remove"),
    ("os", "unlink"),
    ("os", "mkdir"),
    ("os", "makedirs"),
    ("pickle", "dump"),
    ("joblib", "dump"),
}
WRITING_MODULES = {"shutil", "tempfile"}
READING_METHODS = {"read_text", "read_bytes"}
READING_FUNCTIONS = {
    ("xr", "open_dataset"),
    ("xr", "open_dataarray"),
    ("xr", "load_dataset"),
    ("np", "load"),
    ("np", "loadtxt"),
    ("np", "genfromtxt"),
    ("tomllib", "load"),
    ("json", "load"),
    ("pickle", "load"),
    ("joblib", "load"),
}


def _dotted(func: ast.expr) -> tuple[str, str] | None:
    """``np.save`` -> ("np", "save"); None for anything else."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    return None


def _open_mode(call: ast.Call) -> str | None:
    """The mode of ``open(path, mode)`` or ``path.open(mode)``; ``"r"`` when not given; None when
    it is not a string constant (so the call is taken as writing)."""
    method = isinstance(call.func, ast.Attribute)
    args = call.args[0 if method else 1 :]
    mode: ast.expr | None = args[0] if args else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if mode is None:
        return "r"
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return mode.value
    return None


def _opens_memory(call: ast.Call) -> bool:
    """Whether ``call`` opens an in-memory buffer made on the spot (``Image.open(BytesIO(b))``)."""
    first = call.args[0] if call.args else None
    return isinstance(first, ast.Call) and _called_name(first) in ("BytesIO", "StringIO")


def _called_name(call: ast.Call) -> str:
    """``f`` of ``f(...)`` or ``m.f(...)``."""
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _memory_buffers(function: ast.AST) -> set[str]:
    """Names bound to ``BytesIO()`` or ``StringIO()`` in a function: rendering into them (a
    figure into PNG bytes) is not file output."""
    names = set()
    for node in ast.walk(function):
        value, targets = None, []
        if isinstance(node, ast.Assign):
            value, targets = node.value, node.targets
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            value, targets = node.context_expr, [node.optional_vars]
        if isinstance(value, ast.Call):
            func = value.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in {"BytesIO", "StringIO"}:
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def side_effects(module: str, source: str) -> list[str]:
    """One line per call that writes or reads a file, prints or makes randomness outside the
    module that owns it."""
    tree = _parse(source)
    calls = [(n, f) for n, f in _nodes(tree) if isinstance(n, ast.Call)]
    out = []

    def report(node: ast.Call, what: str, owners: set[str]) -> None:
        if module not in owners:
            call = ast.get_source_segment(source, node) or ""
            out.append(
                f"{module} (line {node.lineno}) {what}: `{call.splitlines()[0]}`; only "
                f"{', '.join(sorted(owners))} may"
            )

    for node, function in calls:
        func, dotted = node.func, _dotted(node.func)
        if dotted is not None and dotted[0] == "io" and module != "pva.io":
            continue  # pva.io's own functions (io.write_bytes, io.open_results): through the owner
        name = func.id if isinstance(func, ast.Name) else None
        method = func.attr if isinstance(func, ast.Attribute) else None
        if (name == "open" or method == "open") and _opens_memory(node):
            continue  # Image.open(BytesIO(data)): an in-memory buffer, no file
        if name == "open" or method == "open":
            mode = _open_mode(node)
            if mode is None or set(mode) & set("wax+"):
                report(node, "opens a file for writing", FILE_OWNERS)
            else:
                report(node, "opens a file", READERS)
        elif method == "savefig":
            target = node.args[0] if node.args else None
            in_memory = (
                isinstance(target, ast.Name)
                and function is not None
                and target.id in _memory_buffers(function)
            )
            if not in_memory:
                report(node, "saves a figure to a file", FILE_OWNERS)
        elif method in WRITING_METHODS or dotted in WRITING_FUNCTIONS:
            report(node, "writes a file", FILE_OWNERS)
        elif dotted is not None and dotted[0] in WRITING_MODULES:
            report(node, "changes files", FILE_OWNERS)
        elif method in READING_METHODS or dotted in READING_FUNCTIONS:
            report(node, "reads a file", READERS)
        elif name == "print" or (
            method == "write"
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Attribute)
            and _dotted(func.value) in {("sys", "stdout"), ("sys", "stderr")}
        ):
            report(node, "prints", PRINTERS)
        elif _is_random_source(func):
            report(node, "makes randomness", RANDOMNESS_OWNERS)
    return out


def _is_random_source(func: ast.expr) -> bool:
    """``np.random.<anything>(...)`` (default_rng, SeedSequence, the legacy functions) or the
    standard library's ``random``."""
    if not isinstance(func, ast.Attribute):
        return False
    value = func.value
    if isinstance(value, ast.Attribute) and value.attr == "random":
        return isinstance(value.value, ast.Name) and value.value.id in {"np", "numpy"}
    return isinstance(value, ast.Name) and value.id == "random"


# ---------------------------------------------------------------------------------------------------
# the tests


def test_every_module_is_read() -> None:
    assert {"pva", "pva.engine", "pva.cli", "pva.redlist.criteria", "pva.summary.tables"} <= set(
        SOURCES
    )
    assert len(_all_imports()) > 100


def test_import_rules() -> None:
    violations = rule_violations(_all_imports())
    assert not violations, "import rules broken (docs/architecture.md):\n" + "\n".join(violations)


def test_files_printing_and_randomness_have_one_owner_each() -> None:
    found = [
        line
        for name, path in SOURCES.items()
        for line in side_effects(name, path.read_text(encoding="utf-8"))
    ]
    assert not found, "owners bypassed (docs/architecture.md):\n" + "\n".join(found)


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("document", ["docs/architecture.md", "README.md"])
def test_the_maps_name_every_part(document: str) -> None:
    """The map (docs/architecture.md) and the README's layout name every module of pva, so that
    neither goes stale when a module is added."""
    text = (REPO / document).read_text(encoding="utf-8")
    missing = sorted(p for p in PARTS if f"`{p}`" not in text and f"`{p}/`" not in text)
    assert not missing, f"{document} does not name {missing}"


OPTIONAL_DEPENDENCIES = {"dask", "distributed", "SALib"}
"""Extras of pyproject.toml: imported where needed, so that pva runs without them."""


def test_cli_imports_at_the_top() -> None:
    """The command line's dependencies can be read from its header: function-local imports only
    for optional dependencies."""
    tree = _parse(SOURCES["pva.cli"].read_text(encoding="utf-8"))
    local = []
    for node, inside in _functions_and_nodes(tree):
        if inside and isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            roots = {(n or "").split(".")[0] for n in names}
            if not roots <= OPTIONAL_DEPENDENCIES:
                local.append(f"pva.cli (line {node.lineno}): {ast.unparse(node)}")
    assert not local, "function-local imports in pva.cli (move them to the top):\n" + "\n".join(
        local
    )


# --- the checkers find what they look for -------------------------------------------------------


@pytest.mark.parametrize(
    ("importer", "source", "broken"),
    [
        ("pva.engine", "from pva import report\n", "never imports the shell"),
        ("pva.engine", "def f():\n    from pva.runner import run_study\n", "or the runner"),
        ("pva.outcomes", "import pva\n\nx = pva.engine.project\n", "outcomes never import"),
        ("pva.model", "from pva.simulation import simulate\n", "specifications"),
        ("pva.analysis", "if True:\n    import pva.nested\n", "analysis (analysis, countpva)"),
        ("pva.redlist.index", "from pva import io\n", "the Red List code"),
        ("pva.redlist.criteria", "from .. import runner\n", "the Red List code"),
        ("pva.summary.tables", "from pva.runner import run_study\n", "read results"),
        ("pva.report", "from pva import cli\n", "nothing imports the command line"),
        ("pva.study", "from pva.testing import assert_mc_close\n", "pva.testing is for tests"),
    ],
)
def test_a_broken_import_rule_is_named(importer: str, source: str, broken: str) -> None:
    (line,) = rule_violations(imports_of(importer, source))
    assert line.startswith(f"{importer} (line ")
    assert broken in line
    assert "`" in line  # the statement


def test_allowed_imports_pass() -> None:
    source = "import pva\nfrom pva import results, validation\nfrom pva.model import Species\n"
    assert rule_violations(imports_of("pva.engine", source)) == []
    assert rule_violations(imports_of("pva.outcomes", "import pva\nv = pva.__version__\n")) == []


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("def f(p):\n    open(p, 'w')\n", "opens a file for writing"),
        ("def f(p, m):\n    p.open(mode=m)\n", "opens a file for writing"),
        ("def f(p):\n    Image.open(p, BytesIO())\n", "opens a file for writing"),
        ("def f(p):\n    Image.open(p)\n", "opens a file"),
        ("def f(p):\n    return open(p).read()\n", "opens a file"),
        ("def f(ds, p):\n    ds.to_netcdf(p)\n", "writes a file"),
        ("def f(a, p):\n    np.savez(p, a=a)\n", "writes a file"),
        ("def f(p):\n    p.write_text('x')\n", "writes a file"),
        ("def f(p):\n    p.write_bytes(b'x')\n", "writes a file"),
        ("def f(fig, p):\n    fig.savefig(p)\n", "saves a figure to a file"),
        ("def f(a, b):\n    shutil.copy(a, b)\n", "changes files"),
        ("def f(p):\n    return p.read_text()\n", "reads a file"),
        ("def f(p):\n    return xr.open_dataset(p)\n", "reads a file"),
        ("def f(x):\n    print(x)\n", "prints"),
        ("def f(x):\n    sys.stderr.write(x)\n", "prints"),
        ("def f():\n    return np.random.default_rng(1)\n", "makes randomness"),
        ("def f():\n    return np.random.SeedSequence()\n", "makes randomness"),
        ("def f():\n    return random.random()\n", "makes randomness"),
    ],
)
def test_a_bypassed_owner_is_named(source: str, what: str) -> None:
    (line,) = side_effects("pva.plots", source)
    assert line.startswith("pva.plots (line 2) " + what), line


def test_rendering_a_figure_into_memory_is_not_file_output() -> None:
    source = (
        "from io import BytesIO\n\n"
        "def f(fig):\n"
        "    buffer = BytesIO()\n"
        "    fig.savefig(buffer, format='png')\n"
        "    return buffer.getvalue()\n"
    )
    assert side_effects("pva.plots", source) == []
    assert side_effects("pva.io", "def f(ds, p):\n    ds.to_netcdf(p)\n") == []
