"""`task2box doctor`'s checks: is this installation able to serve, train and crawl?

Each check returns a `Check`: `ok`, `warn` (works, but something is missing or degraded: no
network, no map yet, migrations pending that `up` would apply), `fail` (something essential is
broken: the command exits non-zero) or `skip`. Checks only read: the doctor never creates the
database, migrates it or writes a file.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import make_url

from backend.config import Settings
from backend.db.engine import redacted_url

Status = Literal["ok", "warn", "fail", "skip"]
_MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Check:
    """One line of the report; `details` is what `--json` adds."""

    name: str
    status: Status
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def _error(e: BaseException) -> str:
    text = " ".join(f"{type(e).__name__}: {e}".split())
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def _missing_driver(e: ModuleNotFoundError) -> str:
    hint = " (pip install 'task2box-atlas[postgres]')" if e.name == "psycopg" else ""
    return f"the database driver {e.name!r} is not installed{hint}"


def _sqlite_file(url: str) -> Path | None:
    """The file of a file-backed SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or "mode=memory" in database:
        return None
    return Path(database).expanduser()


def check_database(settings: Settings) -> Check:
    """Reachable, at the code's migration head, and what it holds."""
    from backend.db import migrate, repository
    from backend.db.engine import make_engine, make_session_factory, session_scope

    url = settings.database_url
    details: dict[str, Any] = {"url": redacted_url(url)}
    try:
        path = _sqlite_file(url)
    except Exception as e:
        return Check("database", "fail", f"T2B_DATABASE_URL is not a database URL: {_error(e)}")
    if path is not None and not path.exists():
        details["path"] = str(path)
        return Check(
            "database",
            "warn",
            f"no database yet at {path}; `task2box up` (or `task2box migrate`) creates it",
            details,
        )
    head = migrate.head_revision()
    details["head_revision"] = head
    try:
        engine = make_engine(url)
    except ModuleNotFoundError as e:
        return Check("database", "fail", _missing_driver(e), details)
    try:
        current = migrate.current_revision(engine)
        details["revision"] = current
        if current is not None and current != head and not migrate.is_known_revision(current):
            return Check(
                "database",
                "fail",
                f"at revision {current}, which this code does not know (head is {head}): "
                "it was migrated by a newer version",
                details,
            )
        if current != head:
            return Check(
                "database",
                "warn",
                f"reachable, at revision {current or 'none (empty)'}; head is {head}: "
                "`task2box migrate` (or `up`/`serve`) applies the migrations",
                details,
            )
        with session_scope(make_session_factory(engine)) as session:
            counts = repository.count_datasets(session)
            maps = repository.list_maps(session)
            active = repository.list_active_jobs(session)
    except Exception as e:
        return Check("database", "fail", f"{details['url']}: {_error(e)}", details)
    finally:
        engine.dispose()
    by_status: dict[str, int] = {}
    for record in maps:
        by_status[record.status] = by_status.get(record.status, 0) + 1
    details |= {
        "datasets": {"ok": counts.ok, "skipped": counts.skipped, "failed": counts.failed},
        "maps": by_status,
        "active_jobs": [f"{j.kind} #{j.id} ({j.status})" for j in active],
    }
    skipped = sum(counts.skipped.values())
    summary = (
        f"{details['url']} at revision {current} (head); datasets: {counts.ok} ok, "
        f"{skipped} skipped, {counts.failed} failed; maps: {len(maps)}"
    )
    if active:
        summary += f"; running: {', '.join(details['active_jobs'])}"
    return Check("database", "ok", summary, details)


def check_data_dir(settings: Settings) -> Check:
    """The data directory (embedding cache, SQLite file) exists and is writable, or can be."""
    path = settings.data_dir.expanduser()
    details = {"path": str(path.resolve())}
    if path.exists():
        if not path.is_dir():
            return Check("data dir", "fail", f"{path} exists but is not a directory", details)
        if not os.access(path, os.W_OK | os.X_OK):
            return Check("data dir", "fail", f"{path} is not writable by this user", details)
        return Check("data dir", "ok", f"{path} is writable", details)
    parent = next((p for p in path.resolve().parents if p.exists()), None)
    if parent is None or not os.access(parent, os.W_OK | os.X_OK):
        return Check("data dir", "fail", f"{path} is missing and cannot be created", details)
    return Check("data dir", "ok", f"{path} does not exist yet; it is made on first use", details)


def check_device(settings: Settings) -> Check:
    """The torch device the trainer would pick (`T2B_DEVICE`)."""
    import torch

    from models.device import select_device

    details: dict[str, Any] = {"preference": settings.device, "torch": torch.__version__}
    try:
        device = select_device(settings.device)
    except (RuntimeError, ValueError) as e:
        return Check("device", "fail", str(e), details)
    details["device"] = device.type
    if device.type == "cuda":
        details["name"] = torch.cuda.get_device_name(device)
        details["cuda"] = torch.version.cuda
        summary = f"cuda: {details['name']} (CUDA {torch.version.cuda}, torch {torch.__version__})"
    elif device.type == "mps":
        summary = f"mps: Apple Metal (torch {torch.__version__})"
    else:
        summary = f"cpu (torch {torch.__version__}; no CUDA or MPS device found)"
        if settings.device == "cpu":
            summary = f"cpu, as T2B_DEVICE asks (torch {torch.__version__})"
    return Check("device", "ok", summary, details)


def check_embedding_model(*, load: bool = True) -> Check:
    """The label-text encoder (MiniLM from its wheel): its version, and that it embeds."""
    import numpy as np

    from backend.representations.embedding_cache import EmbeddingCache
    from backend.representations.label_text import EMBEDDING_DIM, LabelTextEmbedder, model_version

    try:
        version = model_version()
    except Exception as e:
        return Check("embedding model", "fail", f"not installed: {_error(e)}")
    details: dict[str, Any] = {"version": version}
    if not load:
        return Check("embedding model", "skip", f"{version} (not loaded: --no-model)", details)
    started = time.monotonic()
    try:
        vectors = LabelTextEmbedder(EmbeddingCache(None)).embed_labels(["cat", "dog"])
    except Exception as e:
        return Check("embedding model", "fail", f"{version} does not load: {_error(e)}", details)
    seconds = time.monotonic() - started
    details["load_seconds"] = round(seconds, 2)
    norms = np.linalg.norm(vectors, axis=1)
    if vectors.shape != (2, EMBEDDING_DIM) or not np.allclose(norms, 1.0, atol=1e-3):
        return Check(
            "embedding model",
            "fail",
            f"{version} returned {vectors.shape} vectors with norms {norms.tolist()}",
            details,
        )
    return Check("embedding model", "ok", f"{version}: loads and embeds ({seconds:.1f} s)", details)


def check_hub(settings: Settings, *, timeout_s: float = 5.0) -> Check:
    """Whether the Hub's dataset listing answers (offline is fine: the catalog is served)."""
    from backend.crawler.probe import probe_hub

    probe = probe_hub(settings.hub_endpoint, timeout_s=timeout_s, token=settings.hf_token)
    details = {
        "endpoint": probe.endpoint,
        "reachable": probe.reachable,
        "token": bool(settings.hf_token),
    }
    if probe.reachable:
        return Check("hub", "ok", f"{probe.endpoint}: {probe.detail}", details)
    return Check(
        "hub",
        "warn",
        f"{probe.endpoint} is not reachable ({probe.detail}); the app works offline, "
        "without crawling",
        details,
    )


def check_maps(settings: Settings) -> Check:
    """The published maps, per relation and dimension."""
    from backend.db import repository
    from backend.db.engine import make_engine, make_session_factory, session_scope

    try:
        path = _sqlite_file(settings.database_url)
    except Exception as e:  # the database check names the bad URL; this one must not crash
        return Check("maps", "fail", f"T2B_DATABASE_URL is not a database URL: {_error(e)}")
    if path is not None and not path.exists():
        return Check("maps", "warn", "no database yet, so no map; `task2box up` trains the first")
    try:
        engine = make_engine(settings.database_url)
    except ModuleNotFoundError as e:
        return Check("maps", "fail", _missing_driver(e))
    try:
        with session_scope(make_session_factory(engine)) as session:
            published = repository.get_published_maps(session)
            ranked = repository.maps_with_neighbors(session, map_ids=[m.id for m in published])
    except Exception as e:
        return Check("maps", "fail", f"cannot read the maps: {_error(e)}")
    finally:
        engine.dispose()
    items = [
        {
            "id": m.id,
            "relation": m.relation,
            "dim": m.dim,
            "boxes": m.num_boxes,
            "neighbour_table": m.id in ranked,
            "published_at": m.published_at.isoformat() if m.published_at else None,
        }
        for m in published
    ]
    details = {"published": items}
    text = "; ".join(f"{m.relation} {m.dim}-D #{m.id} ({m.num_boxes} boxes)" for m in published)
    unranked = [f"#{m.id}" for m in published if m.id not in ranked]
    if unranked:  # trained before neighbour tables existed: correct, only slower to query
        text += (
            f"; {', '.join(unranked)} rank related datasets per request "
            "(trained before neighbour tables): retrain for faster /related"
        )
    if not any(m.relation == "containment" for m in published):
        return Check(
            "maps",
            "warn",
            (text + "; " if text else "")
            + "no containment map is published: `task2box up` or `task2box train` fits one",
            details,
        )
    return Check("maps", "ok", text, details)


def run_checks(
    settings: Settings, *, load_model: bool = True, hub_timeout_s: float = 5.0
) -> list[Check]:
    """Every check, in report order."""
    return [
        check_database(settings),
        check_data_dir(settings),
        check_device(settings),
        check_embedding_model(load=load_model),
        check_hub(settings, timeout_s=hub_timeout_s),
        check_maps(settings),
    ]
