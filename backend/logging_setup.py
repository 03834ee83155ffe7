"""Process-wide logging: one format, the level from `T2B_LOG_LEVEL`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# HTTP clients log every request at INFO; a crawl makes thousands. Alembic announces its
# plugins and dialect on every start. Both are shown at DEBUG only.
_CHATTY = ("httpx", "httpx2", "httpcore", "alembic")


def configure_logging(level: str = "INFO") -> None:
    """Sets the root logger's level and format once; later calls only change the level."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format=_FORMAT)
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel("DEBUG" if level == "DEBUG" else "WARNING")


def log_through(console: Console) -> None:
    """Sends every log record through `console` (rich), replacing the root handlers.

    A live progress bar on the same console then stays below the log lines instead of being
    torn by them. Only the long-running terminal commands (`task2box up`) call this.
    """
    from rich.logging import RichHandler

    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = RichHandler(console=console, show_path=False, rich_tracebacks=False, markup=False)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.addHandler(handler)
