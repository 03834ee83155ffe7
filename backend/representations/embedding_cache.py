"""A disk cache of text embeddings keyed by (model version, text).

MiniLM embeds about 400 labels/s on two CPU cores, and the same label text ("cat", "0") recurs
across thousands of Hub datasets, so every embedder looks texts up here before encoding.
It is a small SQLite file of its own (not the app database): it is derived data, safe to delete,
and shared by the app and the benchmarks.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    vec BLOB NOT NULL,
    PRIMARY KEY (model, text)
)
"""
# SQLite caps bound parameters per statement; stay well under the old default of 999.
_CHUNK = 500


class EmbeddingCache:
    """Thread-safe get/put of float32 vectors; `path=None` keeps them in memory only."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False
        )
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_SCHEMA)
            self._conn.commit()

    def get_many(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for whichever of `texts` are present."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(texts))
        with self._lock:
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT text, vec FROM embeddings WHERE model = ? AND text IN ({marks})",
                    [model, *chunk],
                ).fetchall()
                for text, blob in rows:
                    found[text] = np.frombuffer(blob, dtype=np.float32).copy()
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        """Stores vectors; one transaction, so a crash leaves either all or none of them."""
        rows = [(model, t, np.asarray(v, dtype=np.float32).tobytes()) for t, v in items.items()]
        with self._lock:
            self._conn.executemany(
                "INSERT OR REPLACE INTO embeddings (model, text, vec) VALUES (?, ?, ?)", rows
            )
            self._conn.commit()

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
