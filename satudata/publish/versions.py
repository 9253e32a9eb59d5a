"""The version store: every published version of a dataset kept whole, so any one can be put back.

One interface over fsspec: a local folder by default, object storage (``s3://...``) in
production, any fsspec URL (``memory://`` in tests). Per dataset::

    <store>/<dataset>/blobs/<sha256>                 a file's bytes, stored once however many versions hold it
    <store>/<dataset>/manifests/<seq>-<digest>.json  one version: its files' hashes, run, periods, rows, quality

A version's blobs are written first, its manifest last and whole (a temporary name, then one
rename; one PUT on object storage), so a half-written version is never listed. Manifests are
never changed. ``prune`` keeps the newest ``keep`` versions and any version the portal shows
now, then removes the blobs no kept manifest names.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1


class VersionNotFound(LookupError):
    """No version of the dataset matches what was asked for."""


class BlobCorrupt(RuntimeError):
    """A stored file's bytes no longer match the hash it is stored under."""


@dataclass(frozen=True)
class StoredFile:
    """One file of a version: its role (``csv``, ``curated``, ...), its name, hash and size."""

    kind: str
    name: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Version:
    """One immutable version as its manifest records it."""

    dataset: str
    seq: int
    satudata_versi: str
    created: str
    run_id: str
    periods: list[str]
    period_rows: dict[str, int]
    rows: int
    quality: str
    files: list[StoredFile]
    rollback_of: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """``<seq>-<first 12 hex digits of satudata_versi>``: ordered, and names the portal's version."""
        return f"{self.seq:04d}-{self.satudata_versi.removeprefix('sha256:')[:12]}"

    def file(self, kind: str) -> StoredFile | None:
        return next((f for f in self.files if f.kind == kind), None)

    def of_kind(self, kind: str) -> list[StoredFile]:
        return [f for f in self.files if f.kind == kind]

    def to_json(self) -> dict[str, Any]:
        return {"format": MANIFEST_FORMAT, "id": self.id, "dataset": self.dataset, "seq": self.seq,
                "satudata_versi": self.satudata_versi, "created": self.created, "run_id": self.run_id,
                "periods": self.periods, "period_rows": self.period_rows, "rows": self.rows,
                "quality": self.quality, "rollback_of": self.rollback_of, "extra": self.extra,
                "files": [vars(f) for f in self.files]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Version:
        return cls(dataset=data["dataset"], seq=int(data["seq"]), satudata_versi=data["satudata_versi"],
                   created=data["created"], run_id=data["run_id"], periods=list(data["periods"]),
                   period_rows={k: int(v) for k, v in data["period_rows"].items()}, rows=int(data["rows"]),
                   quality=data["quality"], files=[StoredFile(**f) for f in data["files"]],
                   rollback_of=data.get("rollback_of"), extra=dict(data.get("extra") or {}))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class VersionStore:
    """A dataset's versions under one fsspec URL or local path."""

    def __init__(self, url: str) -> None:
        from fsspec.core import url_to_fs

        self.url = url
        self.fs, root = url_to_fs(url)
        self.root = root.rstrip("/")

    def _path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def _put_whole(self, path: str, data: bytes | Path) -> None:
        """Write ``data`` (bytes, or a local file's contents, copied in blocks) under a temporary name
        beside ``path``, then rename: readers never see part of it."""
        folder, name = path.rsplit("/", 1)
        self.fs.makedirs(folder, exist_ok=True)
        tmp = f"{folder}/.{name}.{secrets.token_hex(8)}.tmp"
        if isinstance(data, Path):
            self.fs.put_file(str(data), tmp)
        else:
            self.fs.pipe_file(tmp, data)
        try:
            self.fs.mv(tmp, path)
        except BaseException:
            if self.fs.exists(tmp):
                self.fs.rm_file(tmp)
            raise

    # Blobs -------------------------------------------------------------------------------------

    def put_file(self, dataset: str, kind: str, path: Path) -> StoredFile:
        """Store a file's bytes under their sha256 (once: an unchanged file is not stored again).

        Hashed and copied in blocks: a full history of millions of rows is never held in memory.
        """
        from satudata.extract.archive import sha256_of

        digest = sha256_of(path)
        blob = self._path(dataset, "blobs", digest)
        if not self.fs.exists(blob):
            self._put_whole(blob, path)
        return StoredFile(kind, path.name, digest, path.stat().st_size)

    def read_blob(self, dataset: str, digest: str) -> bytes:
        """A stored file's bytes, checked against their hash."""
        data: bytes = self.fs.cat_file(self._path(dataset, "blobs", digest))
        if sha256_bytes(data) != digest:
            raise BlobCorrupt(f"{self.url}: blob {digest[:12]} of {dataset} does not match its hash")
        return data

    def restore(self, dataset: str, stored: StoredFile, to: Path) -> Path:
        """Write a stored file to ``to`` (a temporary file beside it, then one atomic replace)."""
        from transforms.writing import replacing

        data = self.read_blob(dataset, stored.sha256)
        with replacing(to) as tmp:
            tmp.write_bytes(data)
        return to

    def blobs(self, dataset: str) -> set[str]:
        folder = self._path(dataset, "blobs")
        if not self.fs.exists(folder):
            return set()
        return {p.rsplit("/", 1)[-1] for p in self.fs.ls(folder, detail=False)
                if not p.rsplit("/", 1)[-1].startswith(".")}

    # Manifests ---------------------------------------------------------------------------------

    def versions(self, dataset: str) -> list[Version]:
        """Every complete version of ``dataset``, oldest first."""
        folder = self._path(dataset, "manifests")
        if not self.fs.exists(folder):
            return []
        names = sorted(p.rsplit("/", 1)[-1] for p in self.fs.ls(folder, detail=False))
        found = []
        for name in names:
            if name.startswith(".") or not name.endswith(".json"):
                continue  # a manifest being written
            found.append(Version.from_json(json.loads(self.fs.cat_file(f"{folder}/{name}"))))
        return sorted(found, key=lambda v: v.seq)

    def latest(self, dataset: str) -> Version | None:
        versions = self.versions(dataset)
        return versions[-1] if versions else None

    def find(self, dataset: str, wanted: str) -> Version:
        """The version named by its sequence number (``3``), its id (``0003-1a2b...``) or a prefix of
        its ``satudata_versi`` (``sha256:1a2b...`` or the hex digits); VersionNotFound otherwise."""
        versions = self.versions(dataset)
        text = wanted.strip()
        if text.isdigit():
            hits = [v for v in versions if v.seq == int(text)]
        else:
            digits = text.removeprefix("sha256:").lower()
            hits = [v for v in versions if v.id == text or (len(digits) >= 6 and
                    v.satudata_versi.removeprefix("sha256:").startswith(digits))]
            # A satudata_versi shared by several versions (a rollback repeats one): the newest.
            hits = hits[-1:] if len({v.satudata_versi for v in hits}) == 1 else hits
        if len(hits) != 1:
            known = ", ".join(v.id for v in versions) or "none"
            raise VersionNotFound(f"{dataset}: {'no' if not hits else 'more than one'} version matches "
                                  f"{text!r} (versions: {known})")
        return hits[0]

    def record(self, dataset: str, files: Iterable[tuple[str, Path]], *, satudata_versi: str, run_id: str,
               periods: list[str], period_rows: dict[str, int], rows: int, quality: str,
               rollback_of: str | None = None, extra: dict[str, Any] | None = None,
               created: datetime | None = None) -> Version:
        """Store ``files`` (kind, path) and then, last, the manifest of a new version; returns it."""
        stored = [self.put_file(dataset, kind, path) for kind, path in files]
        latest = self.latest(dataset)
        version = Version(dataset=dataset, seq=(latest.seq + 1) if latest else 1, satudata_versi=satudata_versi,
                          created=(created or datetime.now(UTC)).isoformat(timespec="seconds"), run_id=run_id,
                          periods=list(periods), period_rows=dict(period_rows), rows=rows, quality=quality,
                          files=stored, rollback_of=rollback_of, extra=dict(extra or {}))
        manifest = self._path(dataset, "manifests", f"{version.id}.json")
        self._put_whole(manifest, (json.dumps(version.to_json(), indent=2, ensure_ascii=False) + "\n").encode())
        log.info("%s: version %s recorded in %s (%d files)", dataset, version.id, self.url, len(stored))
        return version

    def prune(self, dataset: str, keep: int, published: Iterable[str] = ()) -> list[str]:
        """Remove versions beyond the newest ``keep`` (0: keep all), except those whose ``satudata_versi``
        is in ``published``; then the blobs no remaining version names. Returns the removed ids."""
        versions = self.versions(dataset)
        if keep <= 0 or len(versions) <= keep:
            return []
        protected = set(published)
        newest = {v.seq for v in versions[-keep:]}
        removed = [v for v in versions if v.seq not in newest and v.satudata_versi not in protected]
        for version in removed:
            self.fs.rm_file(self._path(dataset, "manifests", f"{version.id}.json"))
        gone = {v.seq for v in removed}
        kept = {f.sha256 for v in versions if v.seq not in gone for f in v.files}
        for digest in self.blobs(dataset) - kept:
            self.fs.rm_file(self._path(dataset, "blobs", digest))
        if removed:
            log.info("%s: %d old version(s) removed from %s (keeping %d): %s", dataset, len(removed), self.url,
                     keep, ", ".join(v.id for v in removed))
        return [v.id for v in removed]


def version_store(data_root: Path | None = None) -> VersionStore:
    """The deployment's store: ``SATUDATA_VERSION_STORE`` (a path or fsspec URL), default ``<data dir>/versions``;
    with ``data_root`` (a run working in a folder of its own), ``<data_root>/versions``."""
    from satudata import settings

    return VersionStore(str(data_root / "versions") if data_root is not None else settings.version_store_url())
