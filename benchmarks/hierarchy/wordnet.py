"""Pure parsers for the Princeton WordNet 3.0 noun database files (`data.noun`, `index.noun`).

The format is documented in WordNet's `wndb(5WN)` manual page. We only need, per noun synset,
its lemmas and its hypernym pointers: `@` (hypernym) and `@i` (instance hypernym), both of
which mean "is a kind/instance of". Synset names follow the NLTK convention
(`instrumentality.n.03`), whose sense number comes from the order of synsets in `index.noun`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_HYPERNYM_POINTERS = frozenset({"@", "@i"})


@dataclass(frozen=True)
class Synset:
    """One noun synset.

    Attributes:
        offset: the 8-digit byte offset that identifies it in `data.noun` (`"03575240"`).
        lemmas: its words, in file order, underscores kept (`("instrumentality", ...)`).
        hypernyms: offsets of its hypernyms and instance hypernyms.
    """

    offset: str
    lemmas: tuple[str, ...]
    hypernyms: tuple[str, ...]

    @property
    def wnid(self) -> str:
        """The ImageNet-style id, `n` + offset (`"n03575240"`)."""
        return f"n{self.offset}"


class WordNetFormatError(ValueError):
    """A WordNet database line could not be parsed; the message names the line."""


def _data_lines(text: str) -> Iterator[tuple[int, str]]:
    # The licence header lines start with two spaces; every data line starts with a digit.
    for number, line in enumerate(text.splitlines(), start=1):
        if line and not line.startswith(" "):
            yield number, line


def _parse_data_line(line: str) -> Synset:
    fields = line.split(" | ", 1)[0].split()
    # offset lex_filenum ss_type w_cnt(hex) [word lex_id]*w_cnt p_cnt [sym offset pos st]*p_cnt
    offset, _lex_filenum, ss_type, w_cnt_hex = fields[:4]
    if len(offset) != 8 or not offset.isdigit():
        raise ValueError(f"bad synset offset {offset!r}")
    if ss_type != "n":
        raise ValueError(f"not a noun synset (ss_type {ss_type!r})")
    w_cnt = int(w_cnt_hex, 16)
    words = fields[4 : 4 + 2 * w_cnt]
    if w_cnt < 1 or len(words) != 2 * w_cnt:
        raise ValueError(f"expected {w_cnt} words, found {len(words) // 2}")
    lemmas = tuple(words[0::2])
    p_index = 4 + 2 * w_cnt
    p_cnt = int(fields[p_index])
    pointers = fields[p_index + 1 : p_index + 1 + 4 * p_cnt]
    if len(pointers) != 4 * p_cnt:
        raise ValueError(f"expected {p_cnt} pointers, found {len(pointers) // 4}")
    hypernyms = tuple(
        pointers[k + 1]
        for k in range(0, len(pointers), 4)
        if pointers[k] in _HYPERNYM_POINTERS and pointers[k + 2] == "n"
    )
    return Synset(offset=offset, lemmas=lemmas, hypernyms=hypernyms)


def parse_data_noun(text: str) -> dict[str, Synset]:
    """Parses the text of `data.noun` into synsets keyed by offset.

    Args:
        text: the whole file, LF line endings (CRLF is tolerated too).

    Returns:
        `{offset: Synset}` in file order.

    Raises:
        WordNetFormatError: on a malformed data line, naming its line number.
    """
    synsets: dict[str, Synset] = {}
    for number, line in _data_lines(text):
        try:
            synset = _parse_data_line(line)
        except (ValueError, IndexError) as e:
            raise WordNetFormatError(f"data.noun line {number}: {e}: {line[:80]!r}") from e
        synsets[synset.offset] = synset
    return synsets


def parse_index_noun(text: str) -> dict[str, tuple[str, ...]]:
    """Parses `index.noun`: each lemma's synset offsets in sense-number order.

    Args:
        text: the whole file.

    Returns:
        `{lemma: (offset_of_sense_1, offset_of_sense_2, ...)}`; lemmas are lower case.

    Raises:
        WordNetFormatError: on a malformed line, naming its line number.
    """
    senses: dict[str, tuple[str, ...]] = {}
    for number, line in _data_lines(text):
        fields = line.split()
        try:
            # lemma pos synset_cnt p_cnt [ptr_symbol]*p_cnt sense_cnt tagsense_cnt [offset]*
            lemma, _pos, synset_cnt, p_cnt = fields[0], fields[1], int(fields[2]), int(fields[3])
            offsets = tuple(fields[4 + p_cnt + 2 :])
            if len(offsets) != synset_cnt:
                raise ValueError(f"expected {synset_cnt} synset offsets, found {len(offsets)}")
        except (ValueError, IndexError) as e:
            raise WordNetFormatError(f"index.noun line {number}: {e}: {line[:80]!r}") from e
        senses[lemma.lower()] = offsets
    return senses


def synset_names(
    synsets: Mapping[str, Synset], senses: Mapping[str, tuple[str, ...]]
) -> dict[str, str]:
    """NLTK-style names (`lemma.n.NN`) for each synset offset.

    The name uses the synset's first lemma, lower-cased, and that lemma's sense number for this
    synset. A synset missing from the index (never the case in WordNet 3.0) falls back to its
    wnid so that every synset still has a unique name.
    """
    names: dict[str, str] = {}
    for offset, synset in synsets.items():
        lemma = synset.lemmas[0].lower()
        order = senses.get(lemma, ())
        names[offset] = (
            f"{lemma}.n.{order.index(offset) + 1:02d}" if offset in order else synset.wnid
        )
    return names
