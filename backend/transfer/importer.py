"""Importing measured transfer scores: validate both files whole, then store in one commit.

`task2box import-transfer` and `POST /api/transfer-scores` both call `import_transfer_csv`, so
they accept and refuse exactly the same input. Validation happens before the database is
touched, and the repository writes scores and new tasks in one transaction: an import is
all or nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.db import repository
from backend.transfer.csv_input import parse_descriptions, parse_scores


@dataclass(frozen=True)
class ImportReport:
    """What an import did; `unused_descriptions` named tasks absent from the scores."""

    rows: int
    created: tuple[str, ...]
    described: tuple[str, ...]
    replaced_all: bool
    total_scores: int
    unused_descriptions: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def import_transfer_csv(
    session: Session,
    scores: bytes | str,
    descriptions: bytes | str | None = None,
    *,
    replace_all: bool = False,
    scores_name: str = "scores.csv",
    descriptions_name: str = "descriptions.csv",
) -> ImportReport:
    """Validates a `source,target,score` file (and an `id,description[,name]` file), then stores
    the scores and creates the tasks they name, in one commit.

    Args:
        session: the database session.
        scores: the scores file's content.
        descriptions: the descriptions file's content, if any.
        replace_all: delete every stored score first (the file becomes the whole matrix);
            otherwise pairs already stored are replaced and others kept.
        scores_name, descriptions_name: file names for error messages.

    Raises:
        TransferInputError: on any problem in either file (line-numbered); nothing is stored.
    """
    rows = parse_scores(scores, name=scores_name)
    texts = [] if descriptions is None else parse_descriptions(descriptions, name=descriptions_name)
    named = {i for r in rows for i in (r.source, r.target)}
    result = repository.import_transfer(
        session,
        scores=[(r.source, r.target, r.score) for r in rows],
        tasks=[
            repository.TransferTaskIn(t.id, t.description, t.name) for t in texts if t.id in named
        ],
        imported_at=datetime.now(UTC),
        replace_all=replace_all,
    )
    return ImportReport(
        rows=result.scores,
        created=result.created,
        described=result.described,
        replaced_all=result.replaced_all,
        total_scores=result.total_scores,
        unused_descriptions=tuple(t.id for t in texts if t.id not in named),
    )
