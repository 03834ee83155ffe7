"""Routes of the fake Hub: `route(...)` returns (status, payload, headers) for one request."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from tests.fakehub_catalog import FakeDataset

if TYPE_CHECKING:
    from tests.fakehub import FakeHub

Answer = tuple[int, Any, dict[str, str]]
_NOT_FOUND_VIEWER = (
    "The dataset does not exist, or is not accessible without authentication (private or gated)."
    " Please check the spelling of the dataset name or retry with authentication."
)
_SORT_KEYS = {"downloads", "likes", "lastModified", "createdAt", "trendingScore"}
_FULL_INFO = (
    "author",
    "cardData",
    "downloads",
    "likes",
    "tags",
    "gated",
    "disabled",
    "lastModified",
    "createdAt",
    "sha",
    "siblings",
    "private",
)


def route(
    hub: FakeHub, method: str, path: str, query: dict[str, list[str]], body: bytes, base: str
) -> Answer:
    if path == "/api/agent-harnesses":
        return 200, {"standardEnvVars": ["AI_AGENT", "AGENT"], "harnesses": {}}, {}
    if path == "/api/datasets":
        return _listing(hub, query, base)
    if path.startswith("/api/datasets/"):
        return _dataset_api(hub, method, unquote(path[len("/api/datasets/") :]), query, body)
    if path.startswith("/datasets/") and "/resolve/" in path:
        return _resolve(hub, unquote(path[len("/datasets/") :]))
    if path == "/viewer/info":
        return _viewer_info(hub, query)
    from tests.fakehub_rows import route_rows

    rows = route_rows(hub, path, query, base)
    if rows is not None:
        return rows
    return 404, {"error": f"fake hub: no route for {method} {path}"}, {}


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message}


def _item(d: FakeDataset, expand: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "author": d.id.split("/")[0] if "/" in d.id else None,
        "cardData": d.card_data,
        "downloads": d.downloads,
        "likes": d.likes,
        "tags": d.tags,
        "gated": d.gated,
        "disabled": d.disabled,
        "lastModified": d.last_modified,
        "createdAt": "2023-01-01T00:00:00.000Z",
        "sha": d.sha,
        "siblings": d.siblings(),
        "private": False,
    }
    keys = expand or ["author", "downloads", "likes", "tags", "gated", "disabled", "lastModified"]
    keys = [*keys, "private"] if not expand else keys
    return {"_id": d.sha[:24], "id": d.id, **{k: fields[k] for k in keys if k in fields}}


def _listing(hub: FakeHub, query: dict[str, list[str]], base: str) -> Answer:
    from tests.fakehub import next_link, offset_of

    items = list(hub.datasets.values())
    items = [d for d in items if all(f in d.tags for f in query.get("filter", []))]
    for term in query.get("search", []):
        items = [d for d in items if term.lower() in d.id.lower()]
    for author in query.get("author", []):
        items = [d for d in items if d.id.startswith(author + "/")]
    sort = (query.get("sort") or [""])[0]
    if sort in _SORT_KEYS:
        field = {"lastModified": "last_modified", "createdAt": "id", "trendingScore": "likes"}
        attr = field.get(sort, sort)
        items.sort(key=lambda d: getattr(d, attr), reverse=True)
    limit = int((query.get("limit") or ["0"])[0]) or None
    page = min(limit or hub.page_size, hub.page_size, 1000)
    offset = offset_of((query.get("cursor") or [""])[0])
    expand = query.get("expand", []) + query.get("expand[]", [])
    chunk = items[offset : offset + page]
    headers = {}
    if offset + page < len(items):
        headers["Link"] = next_link(base, query, offset + page)
    return 200, [_item(d, expand) for d in chunk], headers


def _find(hub: FakeHub, rest: str) -> tuple[FakeDataset, str] | None:
    # Ids hold a slash, so match the longest known id that prefixes the path.
    for dataset_id in sorted(hub.datasets, key=len, reverse=True):
        if rest == dataset_id or rest.startswith(dataset_id + "/"):
            return hub.datasets[dataset_id], rest[len(dataset_id) :]
    return None


def _revision_ok(d: FakeDataset, rev: str) -> bool:
    return rev in ("main", d.sha)


def _dataset_api(
    hub: FakeHub, method: str, rest: str, query: dict[str, list[str]], body: bytes
) -> Answer:
    found = _find(hub, rest)
    if found is None:
        return _error(404, "RepoNotFound", "Repository not found")
    d, sub = found
    parts = sub.strip("/").split("/", 2) if sub else []
    if not parts or parts[0] == "revision":
        if len(parts) > 1 and not _revision_ok(d, parts[1]):
            return _error(404, "RevisionNotFound", "Invalid rev id")
        return 200, _item(d, list(_FULL_INFO)), {}
    if parts[0] == "tree" and len(parts) >= 2:
        if not _revision_ok(d, parts[1]):
            return _error(404, "RevisionNotFound", "Invalid rev id")
        prefix = parts[2] if len(parts) > 2 else ""
        recursive = (query.get("recursive") or ["false"])[0].lower() == "true"
        return 200, _tree(d, prefix, recursive), {}
    if parts[0] == "paths-info" and method == "POST" and len(parts) >= 2:
        wanted = parse_qs(body.decode()).get("paths", [])
        entries = _entries(d)
        return 200, [entries[p] for p in wanted if p in entries], {}
    return _error(404, "EntryNotFound", f"no such API path {sub}")


def _entries(d: FakeDataset) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for name, data in d.repo_files().items():
        oid = hashlib.sha1(data).hexdigest()
        entries[name] = {"type": "file", "oid": oid, "size": len(data), "path": name}
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folder = "/".join(parts[:i])
            entries.setdefault(
                folder, {"type": "directory", "oid": "0" * 40, "size": 0, "path": folder}
            )
    return entries


def _tree(d: FakeDataset, prefix: str, recursive: bool) -> list[dict[str, Any]]:
    start = prefix.rstrip("/") + "/" if prefix else ""
    out = []
    for path, entry in sorted(_entries(d).items()):
        if not path.startswith(start) or path == prefix:
            continue
        if recursive or "/" not in path[len(start) :]:
            out.append(entry)
    return out


def _resolve(hub: FakeHub, rest: str) -> Answer:
    found = _find(hub, rest)
    if found is None:
        return _error(404, "RepoNotFound", "Repository not found")
    d, sub = found
    _, _, tail = sub.partition("/resolve/")
    rev, _, filename = tail.partition("/")
    if not _revision_ok(d, rev):
        return _error(404, "RevisionNotFound", "Invalid rev id")
    if d.gated:
        return _error(401, "GatedRepo", "Access to this dataset is restricted.")
    files = d.repo_files()
    if filename not in files:
        return _error(404, "EntryNotFound", "Entry not found")
    data = files[filename]
    from tests.fakehub import etag_of

    headers = {
        "X-Repo-Commit": d.sha,
        "ETag": etag_of(data),
        "Content-Type": "application/octet-stream",
    }
    return 200, data, headers


def _viewer_info(hub: FakeHub, query: dict[str, list[str]]) -> Answer:
    dataset_id = (query.get("dataset") or [""])[0]
    d = hub.datasets.get(dataset_id)
    if d is None or d.viewer_info is None:
        return 404, {"error": _NOT_FOUND_VIEWER}, {"X-Error-Code": "DatasetNotFoundError"}
    return 200, d.viewer_info, {"X-Revision": d.sha}
