from __future__ import annotations

import pytest

from benchmarks.hierarchy.wordnet import (
    WordNetFormatError,
    parse_data_noun,
    parse_index_noun,
    synset_names,
)

# Hand-written in the wndb(5WN) format: a licence header (two leading spaces), then synsets.
# `crane` has two senses; the machine is sense 2. `Ford` is an instance (`@i`) of a carmaker.
DATA_NOUN = (
    "  1 This software and database is being provided to you, the LICENSEE  \r\n"
    "  2   \r\n"
    "00001740 03 n 01 entity 0 002 ~ 00002000 n 0000 ~ 00003000 n 0000 | that which is  \r\n"
    "00002000 06 n 02 device 0 gadget 0 003 @ 00001740 n 0000 ~ 00004000 n 0000"
    " + 01234567 v 0101 | an instrumentality  \r\n"
    "00003000 05 n 01 crane 0 001 @ 00001740 n 0000 | a large bird  \r\n"
    "00004000 06 n 01 Crane 0 002 @ 00002000 n 0000 @ 00003000 n 0000 | lifts things  \r\n"
    "00005000 18 n 01 Ford 0 001 @i 00002000 n 0000 | a carmaker  \r\n"
)
INDEX_NOUN = (
    "  1 licence header  \n"
    "crane n 2 1 @ 2 0 00003000 00004000  \n"
    "device n 1 1 @ 1 0 00002000  \n"
    "entity n 1 1 ~ 1 0 00001740  \n"
    "ford n 1 1 @i 1 0 00005000  \n"
    "gadget n 1 1 @ 1 0 00002000  \n"
)


def test_parse_data_noun_reads_lemmas_and_hypernyms() -> None:
    synsets = parse_data_noun(DATA_NOUN)
    assert list(synsets) == ["00001740", "00002000", "00003000", "00004000", "00005000"]
    assert synsets["00002000"].lemmas == ("device", "gadget")
    assert synsets["00002000"].hypernyms == ("00001740",)  # `~` and the verb `+` are ignored
    assert synsets["00004000"].hypernyms == ("00002000", "00003000")  # a DAG node
    assert synsets["00005000"].hypernyms == ("00002000",)  # instance hypernym counts
    assert synsets["00001740"].hypernyms == ()
    assert synsets["00004000"].wnid == "n00004000"


def test_parse_index_noun_keeps_sense_order() -> None:
    senses = parse_index_noun(INDEX_NOUN)
    assert senses["crane"] == ("00003000", "00004000")
    assert senses["ford"] == ("00005000",)


def test_synset_names_follow_nltk_convention() -> None:
    names = synset_names(parse_data_noun(DATA_NOUN), parse_index_noun(INDEX_NOUN))
    assert names["00003000"] == "crane.n.01"
    assert names["00004000"] == "crane.n.02"  # lower-cased first lemma, second sense
    assert names["00002000"] == "device.n.01"
    assert names["00005000"] == "ford.n.01"


def test_synset_missing_from_index_falls_back_to_wnid() -> None:
    names = synset_names(parse_data_noun(DATA_NOUN), {})
    assert names["00002000"] == "n00002000"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("00009000 06 n 02 lonely 0 000 | two words promised, one given", "expected 2 words"),
        ("00009000 06 n 01 lonely 0 002 @ 00001740 n 0000 | one pointer short", "pointers"),
        ("0000900x 06 n 01 odd 0 000 | bad offset", "offset"),
        ("00009000 06 v 01 run 0 000 | a verb line", "not a noun"),
    ],
)
def test_malformed_data_line_names_its_line_number(line: str, message: str) -> None:
    with pytest.raises(WordNetFormatError, match=rf"line 3: .*{message}"):
        parse_data_noun("  1 header\n00001740 03 n 01 entity 0 000 | x\n" + line + "\n")


def test_malformed_index_line_is_reported() -> None:
    with pytest.raises(WordNetFormatError, match=r"index\.noun line 1: expected 2 synset offsets"):
        parse_index_noun("crane n 2 1 @ 2 0 00003000\n")
