"""The page's static files as they are sent: read once, compressed once, tagged by content.

Every cold visit downloads the same few files, so compressing them per request (as a generic
middleware does) spends CPU on identical work. Here each file is read, hashed and compressed
the first time it is asked for, and kept until its size or mtime changes (an edit in a
development checkout shows on the next load). The content hashes name the immutable URLs
(`backend/web.py`): a file whose bytes change gets a new URL, so browsers may cache the old
one for a year.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import brotli

# Brotli's best quality costs seconds on the plotly.js bundle, which would stall the first
# cold visit after a start; quality 9 costs a tenth of a second there and loses little.
_BROTLI_BEST_BELOW_BYTES = 256 * 1024
_BROTLI_LARGE_QUALITY = 9
_BROTLI_BEST_QUALITY = 11
_GZIP_LEVEL = 9
# Below this the encodings' headers cost more than they save.
_COMPRESS_MIN_BYTES = 512


def accepted_encodings(header: str | None) -> set[str]:
    """The content codings an `Accept-Encoding` header allows (`q=0` refuses one).

    Args:
        header: The request's header value, or None when absent.

    Returns:
        The lower-case coding names, e.g. `{"br", "gzip"}`.
    """
    accepted: set[str] = set()
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        quality = params.strip().removeprefix("q=").strip() if params else "1"
        try:
            if float(quality) <= 0:
                continue
        except ValueError:
            continue
        if name.strip():
            accepted.add(name.strip().lower())
    return accepted


@dataclass
class Encoded:
    """One body in its identity form, with its brotli and gzip forms made on first use."""

    identity: bytes
    sha256: str
    _forms: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def etag(self) -> str:
        """A strong validator of the identity bytes (the compressed forms add a suffix)."""
        return f'"{self.sha256[:32]}"'

    def pick(self, accept_encoding: str | None) -> tuple[bytes, str | None]:
        """The smallest form the client accepts.

        Args:
            accept_encoding: The request's `Accept-Encoding`.

        Returns:
            The body and its `Content-Encoding` (None for identity).
        """
        if len(self.identity) < _COMPRESS_MIN_BYTES:
            return self.identity, None
        accepted = accepted_encodings(accept_encoding)
        for coding in ("br", "gzip"):
            if coding in accepted:
                return self._form(coding), coding
        return self.identity, None

    def _form(self, coding: str) -> bytes:
        form = self._forms.get(coding)
        if form is None:  # two threads may both compress once; the result is the same
            if coding == "br":
                quality = (
                    _BROTLI_BEST_QUALITY
                    if len(self.identity) < _BROTLI_BEST_BELOW_BYTES
                    else _BROTLI_LARGE_QUALITY
                )
                form = brotli.compress(self.identity, quality=quality)
            else:
                # mtime=0: the same file always compresses to the same bytes.
                form = gzip.compress(self.identity, compresslevel=_GZIP_LEVEL, mtime=0)
            self._forms[coding] = form
        return form

    def warm(self) -> None:
        """Make both compressed forms now (a start-up thread calls it, off the request path)."""
        if len(self.identity) >= _COMPRESS_MIN_BYTES:
            self._form("br")
            self._form("gzip")


def encode(data: bytes) -> Encoded:
    """Wrap bytes that are not a file (the rewritten index page)."""
    return Encoded(data, hashlib.sha256(data).hexdigest())


class AssetCache:
    """Files read, hashed and encoded once, refreshed when their size or mtime changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[tuple[int, int], Encoded]] = {}

    def file(self, path: Path) -> Encoded:
        """The encoded file.

        Raises:
            FileNotFoundError: When `path` is not a file.
        """
        stat = path.stat()
        signature = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._files.get(path)
        if cached is not None and cached[0] == signature:
            return cached[1]
        if not path.is_file():
            raise FileNotFoundError(f"not a file: {path}")
        encoded = encode(path.read_bytes())
        with self._lock:
            self._files[path] = (signature, encoded)
        return encoded

    def tree_digest(self, folders: list[Path]) -> str:
        """A short hash over every file under `folders` (names and contents).

        It names the immutable URL prefix of the page's modules: ES modules import each
        other by relative path, so one prefix for the whole tree keeps those imports valid
        and changes whenever any of them changes.
        """
        digest = hashlib.sha256()
        for folder in folders:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                digest.update(str(path.relative_to(folder.parent)).encode())
                digest.update(b"\0")
                digest.update(self.file(path).sha256.encode())
        return digest.hexdigest()[:16]
