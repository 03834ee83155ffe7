"""Query-parameter types shared by the routes: free text that reaches SQL.

Free text from a query string ends up in LIKE patterns and equality tests. A NUL byte there
cut SQLite's pattern short (`q=10%00zzz` searched for "10", and `q=%00` matched every row),
and no other control character is part of any dataset id, name, class name or license. So
they are refused with a 422 that names the parameter, before any database work. The OpenAPI
schema carries the same rule as a `pattern`, so generated clients and contract tests know it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import Path, Query
from pydantic import AfterValidator

from backend.schemas import DATASET_ID_PATTERN, MAX_DATASET_ID_CHARS

# C0 and C1 control characters and DEL: Unicode category Cc.
_CONTROL: Final = "\\x00-\\x1f\\x7f-\\x9f"
NO_CONTROL_PATTERN: Final = f"^[^{_CONTROL}]*$"
_CONTROL_RE: Final = re.compile(f"[{_CONTROL}]")


def refuse_control_characters(value: str | None) -> str | None:
    """`value` unchanged when it holds no control character.

    Raises:
        ValueError: naming the first one's position and code point (pydantic makes it a
            422 `invalid_request` that names the parameter).
    """
    if value is None:
        return None
    found = _CONTROL_RE.search(value)
    if found is not None:
        raise ValueError(
            f"must not hold control characters; found U+{ord(found.group()):04X} "
            f"at position {found.start()}"
        )
    return value


def text_query(*, max_length: int, min_length: int | None = None, description: str = "") -> Any:
    """A `Query` for free text: bounded, with the no-control-character rule in the schema.

    Pair it with `NoControl`, which enforces the rule with a clear message (the schema's
    `pattern` alone would answer "should match pattern '^[^...]*$'").
    """
    return Query(
        min_length=min_length,
        max_length=max_length,
        description=description or None,
        json_schema_extra={"pattern": NO_CONTROL_PATTERN},
    )


NoControl: Final = AfterValidator(refuse_control_characters)


# A dataset id in a URL path (`{dataset_id:path}`, so it may hold its slash). The routes
# check it with `backend.api.ids.checked_dataset_id`, whose message is clearer than a
# pattern mismatch; the schema states the same rule, so generated ids are valid ones.
DatasetIdPath = Annotated[
    str,
    Path(
        description="A Hub dataset id, `name` or `owner/name`.",
        json_schema_extra={"pattern": DATASET_ID_PATTERN, "maxLength": MAX_DATASET_ID_CHARS},
    ),
]
