"""The import seams of CONTRIBUTING.md, checked by walking each module's AST.

- `models/` is the pure core: stdlib, torch and numpy only.
- `backend/api/` speaks HTTP and calls the repository; it never builds SQL itself.
- `backend/crawler/` does Hub I/O and parsing only: no database, no torch.
- `backend/` never imports `benchmarks/`: the benchmarks reach the CLI as an entry point
  plugin, so the app never depends on its own measurements.
- The containment and transfer trainers never import each other; what they share is in
  `backend/jobs/train/common.py`.
- No import cycle among the modules of `backend/`, `models/` and `benchmarks/`. Imports
  inside functions count (they only defer a cycle to run time); imports under
  `if TYPE_CHECKING:` do not, since they never run. The seams above count both.
- `backend/` is stacked in ordered layers (`LAYERS`); a module imports only from its own
  layer or the layers below it, type-only imports included. Top to bottom:
    1. cli: `cli/`, `settings_doc.py` (the entry points)
    2. api: `api/`, `deps.py`, `main.py`, `web.py` (the HTTP app and its wiring)
    3. jobs: `jobs/`, `doctor.py` (compose the domain packages)
    4. serving: `serving/` (the in-memory placement served to the API)
    5. domain: `db/`, `crawler/`, `representations/`, `transfer/`, `catalog/`
    6. shared: `config.py`, `errors.py`, `records.py`, `schemas.py`, `vocab.py`,
       `logging_setup.py`, `__init__.py` (vocabulary every layer may use)
    7. models: `models/` (the pure core, outside `backend/`)
  Every top-level module and package of `backend/` must have a layer, so a new one fails
  here until it is placed.

A package these rules name must exist: a rename fails here rather than turning its check
off without a word.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STDLIB = set(sys.stdlib_module_names)
# Every module of these takes part in the cycle check.
CYCLE_FREE = ("backend", "models", "benchmarks")

# Top to bottom. Within a layer imports go either way (the cycle check still applies), so a
# layer groups peers: `transfer/` and `catalog/` read through `db/`, for instance.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # `settings_doc` is `make docs`' entry point; it only reads `config`, but nothing in the
    # app may import a documentation generator.
    ("cli", ("backend/cli", "backend/settings_doc.py")),
    # `main` builds the app from the routers, `deps` wires jobs and serving into them, `web`
    # mounts the page: all three are the HTTP app, not something the routers build on.
    ("api", ("backend/api", "backend/deps.py", "backend/main.py", "backend/web.py")),
    # `doctor` checks the data dir, the database, the Hub and the embedding model: it composes
    # the domain packages as jobs do, and only the CLI calls it.
    ("jobs", ("backend/jobs", "backend/doctor.py")),
    ("serving", ("backend/serving",)),
    (
        "domain",
        (
            "backend/db",
            "backend/crawler",
            "backend/representations",
            "backend/transfer",
            "backend/catalog",
        ),
    ),
    # Imported from everywhere and importing nothing above: settings, errors, plain records,
    # the API's pydantic schemas (jobs and serving return them) and the shared enums.
    (
        "shared",
        (
            "backend/__init__.py",
            "backend/config.py",
            "backend/errors.py",
            "backend/logging_setup.py",
            "backend/records.py",
            "backend/schemas.py",
            "backend/vocab.py",
        ),
    ),
    ("models", ("models",)),
)

# Upward imports that exist on purpose: (importer module, imported module) -> why. Empty:
# when the rule was written the tree had none. An entry here is a debt to name, not a way
# to silence the check; a stale entry fails too.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    """One imported module, as written or resolved (`from a import b` names `a.b` when that
    is a module of the tree, else `a`); `runtime` is False under `if TYPE_CHECKING:`."""

    name: str
    runtime: bool


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str, root: Path) -> bool:
    base = root.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _imports(path: Path, root: Path = ROOT) -> Iterator[Import]:
    """Every import of the module at `path`, at any depth (functions, `try`, `if`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()

    def walk(node: ast.AST, runtime: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from walk(child, False)
            for child in node.orelse:
                yield from walk(child, runtime)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, runtime)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                yield Import(submodule if _is_module(submodule, root) else module, runtime)
        for child in ast.iter_child_nodes(node):
            yield from walk(child, runtime)

    yield from walk(tree, True)


def _modules(package: str, root: Path = ROOT) -> list[Path]:
    """The modules of a package directory, or the one module a `.py` path names."""
    target = root / package
    is_module = package.endswith(".py")
    assert target.is_file() if is_module else target.is_dir(), (
        f"{package} is named in the layering rules but does not exist under {root}: "
        "if it was renamed, rename it in tests/test_layering.py too"
    )
    return [target] if is_module else sorted(target.rglob("*.py"))


def _forbidden(
    package: str, allowed_roots: set[str] | None, banned: set[str], root: Path = ROOT
) -> list[str]:
    problems = []
    for path in _modules(package, root):
        for imported in _imports(path, root):
            name = imported.name
            qualified_ban = any(name == b or name.startswith(b + ".") for b in banned)
            if qualified_ban or (
                allowed_roots is not None and name.split(".")[0] not in allowed_roots
            ):
                problems.append(f"{path.relative_to(root)} imports {name}")
    return problems


def _import_graph(packages: tuple[str, ...], root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the modules of `packages` it imports at run time."""
    paths = {_module_name(p, root): p for package in packages for p in _modules(package, root)}
    return {
        module: {
            i.name
            for i in _imports(path, root)
            if i.runtime and i.name in paths and i.name != module
        }
        for module, path in paths.items()
    }


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def test_models_imports_only_stdlib_torch_numpy() -> None:
    allowed = STDLIB | {"torch", "numpy", "models"}
    assert _forbidden("models", allowed, set()) == []


def test_production_models_never_import_research_code() -> None:
    # `models/research/` is what only the benchmarks run; what the app serves must not lean on it.
    production = sorted(p for p in (ROOT / "models").glob("*.py"))
    assert production, "models/ has no modules"
    found = [
        hit
        for p in production
        for hit in _forbidden(str(p.relative_to(ROOT)), None, {"models.research"})
    ]
    assert found == []


@pytest.mark.parametrize(
    ("package", "banned"),
    [
        ("backend/api", {"sqlalchemy", "backend.db.tables", "backend.db.engine"}),
        ("backend/crawler", {"sqlalchemy", "backend.db", "torch", "models", "fastapi"}),
        ("backend", {"benchmarks", "models.research"}),
        # The relations' trainers share `common` and nothing else of each other.
        ("backend/jobs/train/containment.py", {"backend.jobs.train.transfer"}),
        ("backend/jobs/train/transfer.py", {"backend.jobs.train.containment"}),
    ],
)
def test_backend_layers_respect_their_seams(package: str, banned: set[str]) -> None:
    assert _forbidden(package, None, banned) == []


def _unit_module(unit: str) -> str:
    """`backend/db` → `backend.db`, `backend/config.py` → `backend.config`,
    `backend/__init__.py` → `backend`."""
    parts = list(Path(unit).with_suffix("").parts) if unit.endswith(".py") else unit.split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer_of(name: str, ranks: Mapping[str, int]) -> int | None:
    """The rank of the unit holding module `name` (longest prefix wins, so `backend.db`
    beats `backend`), or None outside the layered tree (stdlib, third party, benchmarks)."""
    best: tuple[int, int] | None = None
    for unit, rank in ranks.items():
        if (name == unit or name.startswith(unit + ".")) and (best is None or len(unit) > best[0]):
            best = (len(unit), rank)
    return None if best is None else best[1]


def _upward_imports(
    layers: tuple[tuple[str, tuple[str, ...]], ...], root: Path = ROOT
) -> list[tuple[str, str]]:
    """(importer, imported) for every import of a module from a layer above its own."""
    ranks = {_unit_module(u): rank for rank, (_, units) in enumerate(layers) for u in units}
    found = []
    for _, units in layers:
        for unit in units:
            for path in _modules(unit, root):
                module = _module_name(path, root)
                own = _layer_of(module, ranks)
                assert own is not None
                for imported in _imports(path, root):
                    rank = _layer_of(imported.name, ranks)
                    if rank is not None and rank < own:
                        found.append((module, imported.name))
    return sorted(set(found))


def _unplaced(
    package: str, layers: tuple[tuple[str, tuple[str, ...]], ...], root: Path = ROOT
) -> list[str]:
    """Top-level modules and packages of `package` that no layer names."""
    placed = {u for _, units in layers for u in units}
    entries = [
        p
        for p in sorted((root / package).iterdir())
        if (p.suffix == ".py" and p.is_file()) or (p / "__init__.py").is_file()
    ]
    return [str(p.relative_to(root)) for p in entries if str(p.relative_to(root)) not in placed]


def test_backend_imports_only_its_own_layer_or_lower() -> None:
    upward = _upward_imports(LAYERS)
    new = [f"{a} imports {b}" for a, b in upward if (a, b) not in ALLOWED_UPWARD]
    assert new == [], "imports from a higher layer (see LAYERS):\n" + "\n".join(new)
    stale = [f"{a} imports {b}" for a, b in ALLOWED_UPWARD if (a, b) not in upward]
    assert stale == [], "ALLOWED_UPWARD entries that no longer occur:\n" + "\n".join(stale)


def test_every_backend_module_has_a_layer() -> None:
    assert _unplaced("backend", LAYERS) == []


def test_layer_check_detects_an_upward_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "top").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "top/__init__.py": "from pkg import low\n",  # downward: fine
        "mid.py": "from pkg.top import x\n",  # upward at import time
        # upward inside a function and under TYPE_CHECKING: both still count
        "low.py": (
            "from typing import TYPE_CHECKING\n"
            "def f():\n    import pkg.mid\n"
            "if TYPE_CHECKING:\n    from pkg import top\n"
            "import json\n"
        ),
        "peer.py": "import pkg.low\n",  # same layer: fine
        "stray.py": "",
    }
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    layers = (
        ("top", ("pkg/top",)),
        ("mid", ("pkg/mid.py",)),
        ("low", ("pkg/low.py", "pkg/peer.py", "pkg/__init__.py")),
    )
    assert _upward_imports(layers, tmp_path) == [
        ("pkg.low", "pkg.mid"),
        ("pkg.low", "pkg.top"),
        ("pkg.mid", "pkg.top"),
    ]
    assert _unplaced("pkg", layers, tmp_path) == ["pkg/stray.py"]


def test_no_import_cycles() -> None:
    cycles = _cycles(_import_graph(CYCLE_FREE))
    assert cycles == [], "import cycles, one line per set of modules that reach each other:\n" + (
        "\n".join(", ".join(c) for c in cycles)
    )


def test_layering_check_detects_a_forbidden_import(tmp_path: Path) -> None:
    # The checker itself must be able to fail, wherever the import hides.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "ok.py").write_text("import json\n", encoding="utf-8")
    (package / "bad.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import sqlalchemy\n"
        "from fastapi import FastAPI\n"
        "def later():\n"
        "    from pkg import ok\n"
        "    from . import ok as again\n"
        "if TYPE_CHECKING:\n"
        "    from benchmarks.cli import bench_app\n",
        encoding="utf-8",
    )
    imports = list(_imports(package / "bad.py", tmp_path))
    assert [i.name for i in imports] == [
        "typing", "sqlalchemy", "fastapi", "pkg.ok", "pkg.ok", "benchmarks.cli"
    ]  # fmt: skip
    assert [i.runtime for i in imports] == [True] * 5 + [False]
    banned = {"sqlalchemy", "pkg.ok", "benchmarks"}
    assert _forbidden("pkg", None, banned, tmp_path) == [
        "pkg/bad.py imports sqlalchemy",
        "pkg/bad.py imports pkg.ok",
        "pkg/bad.py imports pkg.ok",
        "pkg/bad.py imports benchmarks.cli",  # type-only imports count for the seams
    ]
    assert _forbidden("pkg", STDLIB | {"pkg"}, set(), tmp_path) == [
        "pkg/bad.py imports sqlalchemy",
        "pkg/bad.py imports fastapi",
        "pkg/bad.py imports benchmarks.cli",
    ]


def test_cycle_check_counts_function_imports_but_not_type_checking_ones(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    files = {
        "__init__.py": "",
        # a → b at import time, b → a inside a function: a cycle all the same.
        "a.py": "from pkg import b\n",
        "b.py": "def f():\n    import pkg.a\n",
        # c ↔ d only through a type-only import: no cycle.
        "c.py": "import pkg.d\n",
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.c import X\n",
    }
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    graph = _import_graph(("pkg",), tmp_path)
    assert graph["pkg.b"] == {"pkg.a"} and graph["pkg.d"] == set()
    assert _cycles(graph) == [["pkg.a", "pkg.b"]]


def test_a_missing_package_fails_instead_of_skipping(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="does not exist"):
        _forbidden("backend/renamed", None, {"sqlalchemy"}, tmp_path)
    with pytest.raises(AssertionError, match="does not exist"):
        _forbidden("backend/jobs/train/renamed.py", None, {"sqlalchemy"}, tmp_path)
    with pytest.raises(AssertionError, match="does not exist"):
        _import_graph(("models",), tmp_path)
