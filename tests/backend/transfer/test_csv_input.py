"""Transfer CSV validation: every error kind, each with its line number."""

from __future__ import annotations

import pytest

from backend.transfer import csv_input
from backend.transfer.csv_input import (
    LineError,
    TransferInputError,
    parse_descriptions,
    parse_scores,
)

HEADER = "source,target,score\n"


def _errors(data: str | bytes, parse=parse_scores) -> list[LineError]:  # type: ignore[no-untyped-def]
    with pytest.raises(TransferInputError) as info:
        parse(data)
    assert "nothing imported" in str(info.value)
    return list(info.value.errors)


def _one(data: str | bytes) -> LineError:
    (error,) = _errors(data)
    return error


def test_a_good_file_parses_in_any_column_order_and_case() -> None:
    rows = parse_scores("\ufeffScore, TARGET ,source\n0.5,b,a\n\n 1e-3 , a , b \n")
    assert [(r.line, r.source, r.target, r.score) for r in rows] == [
        (2, "a", "b", 0.5),
        (4, "b", "a", 0.001),  # the blank line 3 still counts
    ]


def test_owner_name_ids_and_zero_scores_are_fine() -> None:
    (row,) = parse_scores(HEADER + "uoft-cs/cifar10,ylecun/mnist,0\n")
    assert (row.source, row.target, row.score) == ("uoft-cs/cifar10", "ylecun/mnist", 0.0)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("source,target,value\n", "unknown column(s) 'value'; missing column(s) 'score'"),
        ("source,target,score,notes\n", "unknown column(s) 'notes'"),
        ("source,target\n", "missing column(s) 'score'"),
        ("source,target,score,score\n", "'score' appear more than once"),
    ],
)
def test_header_problems_are_reported_on_line_1(header: str, message: str) -> None:
    error = _one(header + "a,b,1\n")
    assert error.line == 1 and message in error.message
    assert "source,target,score" in error.message  # says what the header must be


def test_empty_and_header_only_files() -> None:
    assert _one("").message.startswith("the file is empty")
    error = _one(HEADER)
    assert (error.line, error.message) == (1, "no rows after the header")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a,b,abc", "score 'abc' is not a number"),
        ("a,b,", "the score is empty"),
        ("a,b,nan", "score 'nan' is not finite"),
        ("a,b,-inf", "score '-inf' is not finite"),
        ("a,b,-0.5", "score -0.5 is negative"),
        ("a,a,1", "'a' is both source and target"),
        (",b,1", "source is empty"),
        ("a,,1", "target is empty"),
        ("a b,c,1", "source 'a b' is not a valid id"),
        ("a/b/c,d,1", "source 'a/b/c' is not a valid id"),
        ("x/..,d,1", "not a valid id"),
        ("a,b", "expected 3 fields, got 2"),
        ("a,b,1,2", "expected 3 fields, got 4"),
    ],
)
def test_each_bad_row_is_reported_with_its_line(row: str, message: str) -> None:
    error = _one(HEADER + "ok1,ok2,0.3\n" + row + "\n")
    assert error.line == 3, error
    assert message in error.message


def test_duplicate_pairs_name_the_first_line() -> None:
    error = _one(HEADER + "a,b,1\nb,a,2\na,b,3\n")
    assert error.line == 4 and "duplicate pair 'a'→'b' (first on line 2)" in error.message


def test_all_errors_are_collected_then_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    errors = _errors(HEADER + "a,b,x\nc,c,1\nd,e,1\n\nf,g,-1\n")
    assert [e.line for e in errors] == [2, 3, 6]
    monkeypatch.setattr(csv_input, "MAX_REPORTED_ERRORS", 2)
    with pytest.raises(TransferInputError) as info:
        parse_scores(HEADER + "".join(f"a{i},b{i},x\n" for i in range(5)))
    assert len(info.value.errors) == 2 and info.value.more == 3
    assert "5 errors" in str(info.value) and "and 3 more" in str(info.value)


def test_sizes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_input, "MAX_ROWS", 2)
    error = _one(HEADER + "a,b,1\nb,c,1\nc,d,1\n")
    assert error.line == 4 and "more than 2 rows" in error.message
    monkeypatch.setattr(csv_input, "MAX_ROWS", 100)
    monkeypatch.setattr(csv_input, "MAX_TASKS", 3)
    error = _one(HEADER + "a,b,1\nc,d,1\n")
    assert error.line == 0 and "4 tasks, over the limit of 3" in error.message
    monkeypatch.setattr(csv_input, "MAX_FILE_BYTES", 30)
    error = _one(HEADER + "a,b,1\nc,d,1\n")
    assert error.line == 0 and "over the limit of 30" in error.message


def test_encoding_and_csv_syntax_errors_carry_lines() -> None:
    assert _one(b"source,target,score\na,b,1\n\xff\xfe,b,2\n") == LineError(
        3, "not valid UTF-8 text"
    )
    assert _one(HEADER + "a,b,1\nc,d\x00,1\n").line == 3
    error = _one(HEADER + 'a,b,1\n"c,d,1\n')
    assert error.line == 3 and "malformed CSV" in error.message


def test_a_quoted_multi_line_field_is_reported_where_its_record_starts() -> None:
    error = _one(HEADER + 'a,b,1\n"c\nd",e,1\n')
    assert error.line == 3 and "not a valid id" in error.message


def test_error_messages_never_echo_huge_values() -> None:
    error = _one(HEADER + "a," + "x" * 5000 + ",1\n")
    assert len(error.message) < 300


def test_descriptions_parse_and_validate() -> None:
    texts = parse_descriptions(
        "id,description,name\ndepth,z-buffer depth,Z-Depth\nedges,2D edges,\n"
    )
    assert [(t.line, t.id, t.description, t.name) for t in texts] == [
        (2, "depth", "z-buffer depth", "Z-Depth"),
        (3, "edges", "2D edges", None),
    ]
    errors = _errors(
        "id,description\nok,fine\nbad id,x\nok,again\nempty,\n" + "long," + "x" * 5000 + "\n",
        parse=parse_descriptions,
    )
    assert [(e.line, e.message.split(" (")[0].split(";")[0]) for e in errors] == [
        (3, "id 'bad id' is not a valid id"),
        (4, "duplicate id 'ok'"),
        (5, "the description is empty"),
        (6, "the description is over 4000 characters"),
    ]
    error = _one_descriptions("id,text\na,b\n")
    assert error.line == 1 and "unknown column(s) 'text'" in error.message


def _one_descriptions(data: str) -> LineError:
    (error,) = _errors(data, parse=parse_descriptions)
    return error
