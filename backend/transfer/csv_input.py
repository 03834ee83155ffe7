"""Measured transfer scores from CSV: every row validated, every error with its line number.

Two inputs, both untrusted (an admin's upload, a file from anywhere):

- scores: header `source,target,score` (any order, any case); one measured source→target
  transfer per row; the score is a finite number >= 0, higher meaning a better transfer;
- descriptions (optional): header `id,description`, optionally `name`; the text that gives a
  task without class labels its features.

Parsing collects every problem (reporting the first `MAX_REPORTED_ERRORS`) and raises one
`TransferInputError`, so an import takes the whole file or nothing. Sizes are bounded before
anything is parsed. Line numbers are the file's physical lines, 1-based, header included; a
quoted field spanning lines is reported at the line where its record starts.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from backend.errors import InvalidInputError
from backend.records import MAX_DESCRIPTION_CHARS, MAX_ID_CHARS
from backend.schemas import DATASET_ID_PATTERN

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_ROWS = 200_000
# Every task gets a box and a feature vector; the map's params list the measured ones.
MAX_TASKS = 5_000
MAX_REPORTED_ERRORS = 20
MAX_NAME_CHARS = MAX_ID_CHARS
SCORE_COLUMNS = ("source", "target", "score")
DESCRIPTION_COLUMNS = ("id", "description")
DESCRIPTION_OPTIONAL = ("name",)

_ID = re.compile(DATASET_ID_PATTERN)


@dataclass(frozen=True)
class LineError:
    """One problem of the input; `line` 0 means the file as a whole."""

    line: int
    message: str

    def __str__(self) -> str:
        return self.message if self.line == 0 else f"line {self.line}: {self.message}"


class TransferInputError(InvalidInputError):
    """The input is malformed; nothing was imported. `errors` holds the reported problems."""

    code = "invalid_transfer_csv"

    def __init__(self, name: str, errors: Sequence[LineError], more: int = 0) -> None:
        self.name = name
        self.errors = tuple(errors)
        self.more = more
        listed = "; ".join(str(e) for e in self.errors)
        tail = f"; and {more} more" if more else ""
        count = len(self.errors) + more
        super().__init__(
            f"{name}: {count} error{'s' if count != 1 else ''}, nothing imported: {listed}{tail}"
        )


@dataclass(frozen=True)
class ScoreRow:
    """A measured transfer and the line it came from."""

    line: int
    source: str
    target: str
    score: float


@dataclass(frozen=True)
class TaskText:
    """A task's description (and display name) for its features."""

    line: int
    id: str
    description: str
    name: str | None = None


class _Errors:
    """Collects errors, keeping the first `MAX_REPORTED_ERRORS` and counting the rest."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.kept: list[LineError] = []
        self.more = 0

    def add(self, line: int, message: str) -> None:
        if len(self.kept) < MAX_REPORTED_ERRORS:
            self.kept.append(LineError(line, message))
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if self.kept:
            raise TransferInputError(self.name, self.kept, self.more)


def _decode(data: bytes | str, name: str) -> str:
    raw = data.encode("utf-8", errors="surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_FILE_BYTES:
        raise TransferInputError(
            name,
            [LineError(0, f"the file is {len(raw)} bytes, over the limit of {MAX_FILE_BYTES}")],
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise TransferInputError(name, [LineError(line, "not valid UTF-8 text")]) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise TransferInputError(name, [LineError(line, "holds a NUL character")])
    return text


def _records(text: str, errors: _Errors) -> Iterator[tuple[int, list[str]]]:
    """`(start line, fields)` of each non-blank record; malformed CSV ends the file."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = 0
    try:
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if any(field.strip() for field in row):
                yield start, row
    except csv.Error as e:
        errors.add(previous + 1, f"malformed CSV ({e}); the rest of the file was not read")


def _header(
    line: int, row: list[str], required: Sequence[str], optional: Sequence[str], name: str
) -> dict[str, int]:
    columns = [c.strip().lower() for c in row]
    known = (*required, *optional)
    problems = []
    unknown = [c for c in columns if c not in known]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
    twice = sorted({c for c in columns if columns.count(c) > 1 and c in known})
    if twice:
        problems.append(f"column(s) {', '.join(repr(c) for c in twice)} appear more than once")
    missing = [c for c in required if c not in columns]
    if missing:
        problems.append(f"missing column(s) {', '.join(repr(c) for c in missing)}")
    if problems:
        expected = ",".join(required) + "".join(f"[,{c}]" for c in optional)
        message = f"{'; '.join(problems)} (the header must be {expected})"
        raise TransferInputError(name, [LineError(line, message)])
    return {c: i for i, c in enumerate(columns)}


def check_task_id(value: str) -> str | None:
    """Why `value` is not a usable task id (`name` or `owner/name`), or None if it is."""
    if not value:
        return "is empty"
    if len(value) > MAX_ID_CHARS or not _ID.fullmatch(value):
        return (
            f"{value[:80]!r} is not a valid id (letters, digits, '.', '_' and '-', "
            "as 'name' or 'owner/name')"
        )
    if any(part in (".", "..") for part in value.split("/")):
        return f"{value[:80]!r} is not a valid id ('.' and '..' are not names)"
    return None


def _score(text: str) -> tuple[float | None, str | None]:
    if not text:
        return None, "the score is empty"
    try:
        value = float(text)
    except ValueError:
        return None, f"score {text[:40]!r} is not a number"
    if not math.isfinite(value):
        return None, f"score {text[:40]!r} is not finite"
    if value < 0:
        return None, f"score {value} is negative; scores must be >= 0, higher = better transfer"
    return value, None


def _rows(
    text: str,
    name: str,
    errors: _Errors,
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yields `(line, fields by column)` of each well-formed row; problems go to `errors`."""
    records = _records(text, errors)
    first = next(records, None)
    if first is None:
        if not errors.kept:
            errors.add(1, f"the file is empty; the header must be {','.join(required)}")
        errors.raise_if_any()
        return
    columns = _header(first[0], first[1], required, optional, name)
    width = len(first[1])
    count = 0
    for line, row in records:
        count += 1
        if count > MAX_ROWS:
            errors.add(line, f"more than {MAX_ROWS} rows; split the file")
            break
        if len(row) != width:
            errors.add(line, f"expected {width} fields, got {len(row)}")
            continue
        yield line, {c: row[i].strip() for c, i in columns.items()}
    if count == 0:
        errors.add(first[0], "no rows after the header")


def parse_scores(data: bytes | str, *, name: str = "scores.csv") -> list[ScoreRow]:
    """Every row of a `source,target,score` file, validated as a whole.

    Raises:
        TransferInputError: on any problem (bad size or encoding, unknown or missing columns,
            wrong field counts, empty or malformed ids, non-numeric, non-finite or negative
            scores, self pairs, duplicate pairs, too many rows or tasks); nothing is returned.
    """
    text = _decode(data, name)
    out: list[ScoreRow] = []
    seen: dict[tuple[str, str], int] = {}
    tasks: set[str] = set()
    errors = _Errors(name)
    for line, fields in _rows(text, name, errors, SCORE_COLUMNS):
        source, target = fields["source"], fields["target"]
        problems = [
            f"{what} {why}"
            for what, value in (("source", source), ("target", target))
            if (why := check_task_id(value)) is not None
        ]
        score, why = _score(fields["score"])
        if why is not None:
            problems.append(why)
        if source and source == target:
            problems.append(f"{source!r} is both source and target (self pairs are not transfers)")
        first = seen.get((source, target))
        if first is not None:
            problems.append(f"duplicate pair {source!r}→{target!r} (first on line {first})")
        if problems:
            errors.add(line, "; ".join(problems))
            continue
        assert score is not None
        seen[(source, target)] = line
        tasks.update((source, target))
        out.append(ScoreRow(line, source, target, score))
    if len(tasks) > MAX_TASKS:
        errors.add(0, f"the scores name {len(tasks)} tasks, over the limit of {MAX_TASKS}")
    errors.raise_if_any()
    return out


def parse_descriptions(data: bytes | str, *, name: str = "descriptions.csv") -> list[TaskText]:
    """Every row of an `id,description[,name]` file, validated as a whole.

    Raises:
        TransferInputError: on any problem (bad size or encoding, unknown or missing columns,
            wrong field counts, malformed or duplicate ids, empty or over-long texts).
    """
    text = _decode(data, name)
    out: list[TaskText] = []
    seen: dict[str, int] = {}
    errors = _Errors(name)
    for line, fields in _rows(text, name, errors, DESCRIPTION_COLUMNS, DESCRIPTION_OPTIONAL):
        task, description = fields["id"], fields["description"]
        display = fields.get("name") or None
        problems = []
        if (why := check_task_id(task)) is not None:
            problems.append(f"id {why}")
        if not description:
            problems.append("the description is empty")
        elif len(description) > MAX_DESCRIPTION_CHARS:
            problems.append(f"the description is over {MAX_DESCRIPTION_CHARS} characters")
        if display is not None and len(display) > MAX_NAME_CHARS:
            problems.append(f"the name is over {MAX_NAME_CHARS} characters")
        if task in seen:
            problems.append(f"duplicate id {task!r} (first on line {seen[task]})")
        if problems:
            errors.add(line, "; ".join(problems))
            continue
        seen[task] = line
        out.append(TaskText(line, task, description, display))
    errors.raise_if_any()
    return out
