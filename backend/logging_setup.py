"""Process-wide logging: one format, the level from `T2B_LOG_LEVEL`."""

from __future__ import annotations

import logging

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# HTTP clients log every request at INFO; a crawl makes thousands. Shown at DEBUG only.
_CHATTY = ("httpx", "httpx2", "httpcore")


def configure_logging(level: str = "INFO") -> None:
    """Sets the root logger's level and format once; later calls only change the level."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format=_FORMAT)
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel("DEBUG" if level == "DEBUG" else "WARNING")
