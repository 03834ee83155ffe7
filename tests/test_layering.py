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


@pytest.mark.parametrize(
    ("package", "banned"),
    [
        ("backend/api", {"sqlalchemy", "backend.db.tables", "backend.db.engine"}),
        ("backend/crawler", {"sqlalchemy", "backend.db", "torch", "models", "fastapi"}),
        ("backend", {"benchmarks"}),
        # The relations' trainers share `common` and nothing else of each other.
        ("backend/jobs/train/containment.py", {"backend.jobs.train.transfer"}),
        ("backend/jobs/train/transfer.py", {"backend.jobs.train.containment"}),
    ],
)
def test_backend_layers_respect_their_seams(package: str, banned: set[str]) -> None:
    assert _forbidden(package, None, banned) == []


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
