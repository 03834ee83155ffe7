"""The import seams of DESIGN/STYLE, checked by walking each module's AST.

- `models/` is the pure core: stdlib, torch and numpy only.
- `backend/api/` speaks HTTP and calls the repository; it never builds SQL itself.
- `backend/crawler/` does Hub I/O and parsing only: no database, no torch.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STDLIB = set(sys.stdlib_module_names)


def _imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _forbidden(package: str, allowed_roots: set[str] | None, banned: set[str]) -> list[str]:
    problems = []
    for path in _modules(package):
        for name in _imports(path):
            root = name.split(".")[0]
            qualified_ban = any(name == b or name.startswith(b + ".") for b in banned)
            if qualified_ban or (allowed_roots is not None and root not in allowed_roots):
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
    return problems


def test_models_imports_only_stdlib_torch_numpy() -> None:
    allowed = STDLIB | {"torch", "numpy", "models"}
    assert _forbidden("models", allowed, set()) == []


@pytest.mark.parametrize(
    ("package", "banned"),
    [
        ("backend/api", {"sqlalchemy", "backend.db.tables", "backend.db.engine"}),
        ("backend/crawler", {"sqlalchemy", "backend.db", "torch", "models", "fastapi"}),
    ],
)
def test_backend_layers_respect_their_seams(package: str, banned: set[str]) -> None:
    if not (ROOT / package).exists():
        pytest.skip(f"{package} not present yet")
    assert _forbidden(package, None, banned) == []


def test_layering_check_detects_a_forbidden_import(tmp_path: Path) -> None:
    # The checker itself must be able to fail.
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlalchemy\nfrom fastapi import FastAPI\n", encoding="utf-8")
    assert list(_imports(bad)) == ["sqlalchemy", "fastapi"]
