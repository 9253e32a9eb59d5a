"""The raw zone and quarantine: inputs stored byte for byte (or rows as extracted) before anything reads them."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.writing import PRIVATE_DIR, PRIVATE_FILE, private_dir, replacing, write_text

log = logging.getLogger(__name__)


def _private_opener(path: str, flags: int) -> int:
    """``open``'s opener for a file only its owner may read (0o600 whatever the umask)."""
    fd = os.open(path, flags, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)
    return fd


def sha256_of(path: Path) -> str:
    """The file's sha256 as hex, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_chunks(chunks: Iterable[pd.DataFrame], raw_dir: Path, manifest: dict[str, Any]) -> tuple[Path, int]:
    """Store the extracted rows as a new raw Parquet file with a manifest; never overwrites.

    Returns the path of the raw file and its row count. The manifest (same name, ``.json``) records source,
    interval, row count and the file's sha256.
    """
    private_dir(raw_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = raw_dir / f"extract-{stamp}.parquet"
    writer = None
    rows = 0
    schema = None
    with replacing(path, private=True) as tmp:
        try:
            for chunk in chunks:
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                if writer is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(tmp, schema, compression="zstd")
                writer.write_table(table.cast(schema))
                rows += len(chunk)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            # No rows and hence no schema from the database: an empty file still records the run.
            pq.write_table(pa.table({}), tmp)
    manifest = {**manifest, "rows": rows, "file": path.name, "sha256": sha256_of(path),
                "extracted_at": stamp}
    write_text(path.with_suffix(".json"), json.dumps(manifest, indent=2, default=str), private=True)
    log.info("archived %d raw rows from %s to %s (sha256 %s)", rows, manifest.get("source"), path,
             manifest["sha256"][:12])
    return path, rows


class RawArchive:
    """One extraction's payloads, stored byte for byte in a new directory of the raw zone.

    Files are created exclusively (never overwritten); ``close`` writes the manifest with each
    file's sha256 next to the directory.
    """

    def __init__(self, raw_dir: Path, manifest: dict[str, Any]) -> None:
        private_dir(raw_dir)
        self.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.directory = raw_dir / f"extract-{self.stamp}"
        self.directory.mkdir(mode=PRIVATE_DIR)  # never an existing one
        os.chmod(self.directory, PRIVATE_DIR)  # whatever the umask
        self.manifest = {**manifest, "extracted_at": self.stamp, "files": []}

    @property
    def manifest_path(self) -> Path:
        """Where ``close`` writes the manifest (``extract-<utc>.json``)."""
        return self.directory.with_suffix(".json")

    def add(self, name: str, body: bytes, **facts: Any) -> Path:
        """Store ``body`` unchanged as ``name`` and record its sha256."""
        path = self.directory / name
        with open(path, "xb", opener=_private_opener) as fh:
            fh.write(body)
        self.manifest["files"].append(
            {"name": name, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(), **facts}
        )
        return path

    def close(self, **facts: Any) -> Path:
        """Write the manifest (``extract-<utc>.json``) and return its path."""
        self.manifest.update(facts)
        path = self.manifest_path
        with open(path, "x", encoding="utf-8", opener=_private_opener) as fh:
            fh.write(json.dumps(self.manifest, indent=2, default=str))
        log.info("archived %d raw file(s) from %s in %s", len(self.manifest["files"]),
                 self.manifest.get("source"), self.directory)
        return path


def quarantine(quarantine_dir: Path, report: dict[str, Any], offending: Path | None = None) -> Path:
    """Copy the input that failed to parse into quarantine with an error report next to it.

    The raw archive keeps its own copy; the quarantine copy is what a data steward inspects,
    fixes with the agency and deletes. Returns the path of the report.
    """
    import shutil

    private_dir(quarantine_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    report = {**report, "quarantined_at": stamp}
    if offending is not None:
        copy = quarantine_dir / f"{stamp}-{offending.name}"
        with replacing(copy, private=True) as tmp:
            shutil.copyfile(offending, tmp)
            shutil.copystat(offending, tmp)  # the agency's file time; the mode stays the owner's
            os.chmod(tmp, PRIVATE_FILE)
        report["quarantined_file"] = str(copy)
        report["sha256"] = sha256_of(copy)
    path = quarantine_dir / f"{stamp}-{offending.name if offending else 'request'}.error.json"
    write_text(path, json.dumps(report, indent=2, default=str, ensure_ascii=False), private=True)
    log.error("quarantined %s: %s", offending or "request", report.get("error"))
    return path
