"""Static guards on the page: no HTML sinks in its scripts, no inline script in its layout.

Hub text (ids, labels, card text) is untrusted. The page inserts it with `textContent` and
`createElement` only; these checks make a regression fail loudly instead of relying on review.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "frontend" / "js"
INDEX = ROOT / "frontend" / "index.html"

HTML_SINKS = re.compile(
    r"\binnerHTML\b|\bouterHTML\b|\binsertAdjacentHTML\b|\bdocument\.write(ln)?\b"
    r"|\bcreateContextualFragment\b|\bsetHTMLUnsafe\b|\bDOMParser\b|\beval\s*\(|\bnew\s+Function\b"
)


def _js_files() -> list[Path]:
    files = sorted(JS_DIR.glob("*.js"))
    assert files, f"no scripts found under {JS_DIR}"
    return files


def test_scripts_never_use_html_sinks() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _js_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if HTML_SINKS.search(line)
    ]
    assert offenders == []


def test_the_sink_pattern_catches_each_sink() -> None:
    # Guards the guard: each banned call must match, and the safe ones must not.
    for bad in [
        "node.innerHTML = x",
        "el.outerHTML=y",
        "n.insertAdjacentHTML('beforeend', s)",
        "document.write(s)",
        "document.writeln(s)",
        "eval(code)",
        "new Function('x', s)",
    ]:
        assert HTML_SINKS.search(bad), bad
    for good in ["node.textContent = x", "document.createElement('li')", "el.append(text)"]:
        assert not HTML_SINKS.search(good), good


class _LayoutAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value for name, value in attrs}
        handlers = [name for name in names if name.startswith("on")]
        if handlers:
            self.problems.append(f"<{tag}> has inline handlers {handlers}")
        if "style" in names:
            self.problems.append(f"<{tag}> has a style attribute")
        for name in ("href", "src", "action"):
            value = (names.get(name) or "").strip().lower()
            if value.startswith(("javascript:", "http:", "https:", "//")):
                self.problems.append(f"<{tag} {name}={value!r}> leaves the origin or runs code")
        if tag == "script" and not names.get("src"):
            self.problems.append("an inline <script> (the CSP blocks it)")


def test_layout_has_no_inline_script_handlers_or_external_urls() -> None:
    audit = _LayoutAudit()
    audit.feed(INDEX.read_text(encoding="utf-8"))
    assert audit.problems == []


def test_every_script_is_an_es_module_with_jsdoc() -> None:
    for path in _js_files():
        text = path.read_text(encoding="utf-8")
        assert re.search(r"^(import|export) ", text, re.MULTILINE), f"{path.name} is not a module"
        functions = re.findall(r"^(?:export )?(?:async )?function (\w+)", text, re.MULTILINE)
        for name in functions:
            pattern = rf"\*/\n(?:export )?(?:async )?function {name}\b"
            assert re.search(pattern, text), f"{path.name}: function {name} has no JSDoc"
