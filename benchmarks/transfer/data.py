"""Transfer benchmark inputs: the Taskonomy affinities (default) or any `source,target,score` CSV.

Taskonomy (`../shared/data/taskonomy/`, see its README): the `ahp_affinity_16k` kind, the
first-order AHP affinities that match the paper's Fig. 7. Kept: the 26 real source tasks and
their 22 targets. Dropped: the pseudo-sources `self` (the target's own network, not a
transfer), `random` and `pixels` (controls), and the diagonal (a task's own frozen encoder;
boxes give P(t ⊆ t) = 1 whatever was measured). That leaves 550 measured pairs; missing ones
(a source-only task as target) are simply not supervised or evaluated.

Targets are `tanh(50·a)` of the per-target-normalized affinities (`models.transfer`): raw
AHP values are one eigenvector per target, comparable only within a target.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.transfer.csv_input import TaskText, parse_descriptions, parse_scores
from models.transfer import transfer_targets

TASKONOMY_KIND = "ahp_affinity_16k"
PSEUDO_SOURCES = frozenset({"self", "random", "pixels"})
_MAX_TASKS_TXT_BYTES = 1_000_000


class TransferDataError(ValueError):
    """The benchmark input is missing or malformed; the message says which file and why."""


@dataclass(frozen=True, eq=False)
class TransferData:
    """Measured transfers between named tasks.

    Attributes:
        tasks: task names; row k of the features belongs to `tasks[k]`.
        texts: the text embedded for each task (its description, or its name).
        source, target: `(P,)` int64 task rows of each measured pair (no self pairs).
        score: `(P,)` raw measured scores.
        y: `(P,)` training/evaluation targets `tanh(50·a)` of the per-target-normalized score.
        name: where the data came from, for the report.
    """

    tasks: tuple[str, ...]
    texts: tuple[str, ...]
    source: np.ndarray
    target: np.ndarray
    score: np.ndarray
    y: np.ndarray
    name: str

    @property
    def size(self) -> int:
        return len(self.tasks)

    def __len__(self) -> int:
        return int(self.source.shape[0])


def build(
    triples: Sequence[tuple[str, str, float]], texts: dict[str, str], name: str
) -> TransferData:
    """Indexes `(source, target, score)` triples; tasks are ordered by name.

    Raises:
        TransferDataError: with fewer than 4 tasks or a self pair.
    """
    tasks = tuple(sorted({t for s, g, _ in triples for t in (s, g)}))
    if len(tasks) < 4:
        raise TransferDataError(f"{name}: need at least 4 tasks, got {len(tasks)}")
    row = {t: k for k, t in enumerate(tasks)}
    source = np.array([row[s] for s, _, _ in triples], dtype=np.int64)
    target = np.array([row[g] for _, g, _ in triples], dtype=np.int64)
    if np.any(source == target):
        raise TransferDataError(f"{name}: self pairs are not transfers")
    score = np.array([v for _, _, v in triples], dtype=np.float64)
    return TransferData(
        tasks=tasks,
        texts=tuple(texts.get(t, t.replace("_", " ")) for t in tasks),
        source=source,
        target=target,
        score=score,
        y=transfer_targets(target, score),
        name=name,
    )


def read_tasks_txt(path: Path) -> dict[str, str]:
    """`{code_name: "Label: description"}` from Taskonomy's `tasks.txt` (`a | b | c | d` lines).

    Raises:
        TransferDataError: on a line that is not four `|`-separated fields.
    """
    if path.stat().st_size > _MAX_TASKS_TXT_BYTES:
        raise TransferDataError(f"{path}: over {_MAX_TASKS_TXT_BYTES} bytes")
    out: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 4 or not parts[0]:
            raise TransferDataError(f"{path.name} line {number}: expected 4 '|'-separated fields")
        code, label, _role, description = parts
        out[code] = f"{label}: {description}" if label else description
    return out


def load_taskonomy(affinity: Path, tasks_txt: Path, kind: str = TASKONOMY_KIND) -> TransferData:
    """The Taskonomy first-order affinities of `kind`, pseudo-sources and diagonal dropped.

    Args:
        affinity: `affinity.csv` (columns `source,target,value,kind`).
        tasks_txt: `tasks.txt` (task descriptions).
        kind: which measurement (`ahp_affinity_16k`, `winrate_vs_task_16k`, ...).

    Raises:
        TransferDataError: if a file is missing or malformed, or holds no row of `kind`.
    """
    for path in (affinity, tasks_txt):
        if not path.is_file():
            raise TransferDataError(f"{path} is missing")
    triples: list[tuple[str, str, float]] = []
    with affinity.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not {"source", "target", "value", "kind"} <= set(reader.fieldnames or ()):
            raise TransferDataError(f"{affinity}: expected columns source,target,value,kind")
        for r in reader:
            if r["kind"] != kind or r["source"] in PSEUDO_SOURCES or r["source"] == r["target"]:
                continue
            try:
                value = float(r["value"])
            except ValueError as e:
                raise TransferDataError(
                    f"{affinity.name} line {reader.line_num}: bad value {r['value']!r}"
                ) from e
            if not np.isfinite(value) or value < 0:
                raise TransferDataError(
                    f"{affinity.name} line {reader.line_num}: value {value} is not a score >= 0"
                )
            triples.append((r["source"], r["target"], value))
    if not triples:
        raise TransferDataError(f"{affinity}: no rows of kind {kind!r}")
    return build(triples, read_tasks_txt(tasks_txt), f"taskonomy {kind}")


def is_taskonomy_csv(path: Path) -> bool:
    """Whether `path` has Taskonomy's `affinity.csv` header (with a `kind` column)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader([f.readline()]), [])
    return {"source", "target", "value", "kind"} <= {c.strip().lower() for c in header}


def load_csv(scores: Path, descriptions: Path | None = None) -> TransferData:
    """Any `source,target,score` file (and an optional `id,description[,name]` file), validated
    exactly as `task2box import-transfer` validates them.

    Raises:
        TransferInputError: on malformed input (line-numbered).
    """
    rows = parse_scores(scores.read_bytes(), name=scores.name)
    texts: dict[str, str] = {}
    if descriptions is not None:
        texts = {t.id: task_text(t) for t in parse_descriptions(descriptions.read_bytes())}
    return build([(r.source, r.target, r.score) for r in rows], texts, scores.name)


def task_text(task: TaskText) -> str:
    """`"Name: description"`, or the description alone."""
    return f"{task.name}: {task.description}" if task.name else task.description
