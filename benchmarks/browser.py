"""Headless Chromium from Debian, driven by Playwright: shared by the page benchmark and the
end-to-end test. Playwright never downloads a browser here; it drives `/usr/bin/chromium`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM_PATH = Path("/usr/bin/chromium")
# DESIGN.md §6. WebGL still works with --disable-gpu: Chromium falls back to SwiftShader, a
# CPU rasterizer, so frame times measured here are far slower than on a real GPU.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_available() -> bool:
    """Whether Debian's Chromium is installed (`scripts/ensure-test-tools.sh` installs it)."""
    return CHROMIUM_PATH.is_file()


@contextmanager
def launch_chromium(playwright: Playwright) -> Iterator[Browser]:
    """Start headless Chromium and close it afterwards.

    Args:
        playwright: A started Playwright (`sync_playwright().start()` or its context manager).

    Yields:
        The browser.

    Raises:
        FileNotFoundError: When /usr/bin/chromium is missing.
    """
    if not chromium_available():
        raise FileNotFoundError(
            f"{CHROMIUM_PATH} is missing; install it with scripts/ensure-test-tools.sh"
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM_PATH), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
