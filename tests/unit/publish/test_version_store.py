"""The version store on a local folder and on fsspec's in-memory filesystem (a URL, as object storage is)."""

from __future__ import annotations

import json
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satudata.publish.versions import BlobCorrupt, VersionNotFound, VersionStore


@pytest.fixture(params=["local", "memory"])
def store(request, tmp_path):
    if request.param == "local":
        return VersionStore(str(tmp_path / "versions"))
    return VersionStore(f"memory://satudata-test-{secrets.token_hex(6)}/versions")


def record(store: VersionStore, files: dict[str, bytes], folder, run_id: str = "run", versi: str | None = None):
    paths = []
    for kind, data in files.items():
        path = folder / f"{kind}.bin"
        path.write_bytes(data)
        paths.append((kind, path))
    digest = versi or "sha256:" + secrets.token_hex(32)
    return store.record("ds", paths, satudata_versi=digest, run_id=run_id, periods=["2026-09"],
                        period_rows={"2026-09": 3}, rows=3, quality="passed")


def test_a_version_is_listed_with_its_manifest_and_restores_its_files(store, tmp_path):
    v1 = record(store, {"csv": b"a,b\n1,2\n", "parquet": b"PAR1"}, tmp_path, "run-1")
    v2 = record(store, {"csv": b"a,b\n1,3\n", "parquet": b"PAR1"}, tmp_path, "run-2")
    listed = store.versions("ds")
    assert [v.id for v in listed] == [v1.id, v2.id] and [v.seq for v in listed] == [1, 2]
    assert listed[0] == v1 and listed[1].run_id == "run-2"
    assert store.restore("ds", v1.file("csv"), tmp_path / "out" / "x.csv").read_bytes() == b"a,b\n1,2\n"
    # The unchanged Parquet is stored once.
    assert len(store.blobs("ds")) == 3
    assert store.find("ds", "1") == v1
    assert store.find("ds", v2.id) == v2
    assert store.find("ds", v2.satudata_versi[:20]) == v2
    with pytest.raises(VersionNotFound, match=r"'9'.*versions: 0001-"):
        store.find("ds", "9")


def test_a_manifest_being_written_is_not_listed(store, tmp_path):
    record(store, {"csv": b"x"}, tmp_path)
    # What an interrupted write leaves: a temporary manifest (and blobs) but no manifest of its name.
    store.fs.pipe_file(store._path("ds", "manifests", ".0002-abc.json.1234.tmp"), b"{")
    assert [v.seq for v in store.versions("ds")] == [1]


def test_a_corrupted_blob_is_refused(store, tmp_path):
    v1 = record(store, {"csv": b"good"}, tmp_path)
    store.fs.pipe_file(store._path("ds", "blobs", v1.file("csv").sha256), b"evil")
    with pytest.raises(BlobCorrupt, match="does not match its hash"):
        store.restore("ds", v1.file("csv"), tmp_path / "back.csv")
    assert not (tmp_path / "back.csv").exists()


def test_manifests_are_json_people_can_read(store, tmp_path):
    v1 = record(store, {"csv": b"x"}, tmp_path)
    text = store.fs.cat_file(store._path("ds", "manifests", f"{v1.id}.json"))
    data = json.loads(text)
    assert data["satudata_versi"] == v1.satudata_versi and data["files"][0]["kind"] == "csv"


def test_retention_keeps_the_newest_and_the_published_and_drops_unused_blobs(store, tmp_path):
    made = [record(store, {"csv": f"v{i}".encode(), "parquet": b"same"}, tmp_path) for i in range(5)]
    removed = store.prune("ds", keep=2, published=[made[0].satudata_versi])
    assert removed == [made[1].id, made[2].id]
    assert [v.seq for v in store.versions("ds")] == [1, 4, 5]
    assert store.blobs("ds") == {f.sha256 for v in store.versions("ds") for f in v.files}
    assert store.prune("ds", keep=0) == []


@settings(max_examples=40, deadline=None)
@given(contents=st.lists(st.lists(st.binary(max_size=8), min_size=1, max_size=3), min_size=1, max_size=8),
       keep=st.integers(min_value=0, max_value=5), published=st.sets(st.integers(min_value=0, max_value=7)))
def test_content_addressing_and_retention_properties(tmp_path_factory, contents, keep, published):
    store = VersionStore(f"memory://satudata-prop-{secrets.token_hex(6)}/v")
    folder = tmp_path_factory.mktemp("p")
    made = [record(store, {f"k{j}": data for j, data in enumerate(files)}, folder, versi=f"sha256:{i:064d}")
            for i, files in enumerate(contents)]
    # One blob per distinct content, whatever the number of versions holding it.
    assert len(store.blobs("ds")) == len({d for files in contents for d in files})
    protected = {made[i].satudata_versi for i in published if i < len(made)}
    store.prune("ds", keep, protected)
    left = store.versions("ds")
    expected = {v.seq for v in made} if keep == 0 else (
        {v.seq for v in made[-keep:]} | {v.seq for v in made if v.satudata_versi in protected})
    assert {v.seq for v in left} == expected
    # Every kept version still restores byte for byte; no blob is kept that no version names.
    for version in left:
        for f in version.files:
            assert store.read_blob("ds", f.sha256) == contents[version.seq - 1][int(f.kind[1:])]
    assert store.blobs("ds") == {f.sha256 for v in left for f in v.files}
