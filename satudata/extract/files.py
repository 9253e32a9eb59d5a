"""File exports (CSV, XLSX): the period's file from the landing folder or over HTTP, archived, then read."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from satudata import settings
from satudata.extract.archive import RawArchive
from satudata.extract.rest import REFUSED, AgencyApiError
from satudata.extract.staging import Extracted, SourceRowsWriter, fail, manifest_of, run_fields
from transforms.readers import SourceParseError, iter_csv_tables, read_xlsx_bytes

if TYPE_CHECKING:
    from satudata.run import RunContext

log = logging.getLogger(__name__)

class LandingRefused(ValueError):
    """A landing path that is a link or leaves the landing folder."""


class ExportFiles(Protocol):
    """Where a file source's exports are read from.

    ``fetch_file(relative path)`` returns the bytes and how errors name the file: the relative
    path (landing folder), the URL (over HTTP) or the path given (the steward's check).
    """

    def fetch_file(self, path: str) -> tuple[str, bytes]: ...


@dataclass(frozen=True)
class LandingFolder:
    """The folder agencies drop their exports into (``SATUDATA_LANDING_DIR``)."""

    root: Path

    def fetch_file(self, path: str) -> tuple[str, bytes]:
        """The bytes of ``path`` under the folder; FileNotFoundError names both, LandingRefused a link.

        A symbolic link, or a path that leaves the folder, is refused rather than followed: an
        export is a file an agency dropped here, never a pointer to another file of the machine.
        """
        landed = self.root / path
        inside = [landed, *(p for p in landed.parents if p != self.root and p.is_relative_to(self.root))]
        if any(p.is_symlink() for p in inside) or not landed.resolve().is_relative_to(self.root.resolve()):
            raise LandingRefused(f"{path} in the landing folder is a symbolic link or leaves the folder: "
                                 "not followed; drop the export file itself")
        if not landed.is_file():
            raise FileNotFoundError(f"no export file {path} in the landing folder {self.root}")
        return path, landed.read_bytes()


@dataclass(frozen=True)
class GivenFile:
    """One local file standing for the period's export, whatever its name (the steward's check)."""

    path: Path

    def fetch_file(self, path: str) -> tuple[str, bytes]:
        """The given file's bytes, for any requested path."""
        return str(self.path), self.path.read_bytes()


def _fetch(run: RunContext, files: ExportFiles, archive: RawArchive, relative: str) -> tuple[Path, bytes, str]:
    """The export archived, its bytes and its name in messages; a missing or refused file is a SourceError."""
    try:
        where, body = files.fetch_file(relative)
    except (FileNotFoundError, LandingRefused) as exc:
        raise fail(run, archive, str(exc), None) from None
    except AgencyApiError as exc:
        if exc.status in REFUSED:
            raise fail(run, archive, str(exc), None) from None
        archive.close(status="failed", error=str(exc))
        raise
    over_http = "://" in where
    facts = {"url": where} if over_http else {"landing_file": where}
    label = relative if over_http else where
    return archive.add(Path(label).name, body, **facts), body, label


def extract_file(run: RunContext, files: ExportFiles) -> Extracted:
    """Archive the period's export file, then read its declared fields into the staging zone."""
    source = run.entry.source
    assert source.kind == "file"
    relative = source.file_for(run.period.key)
    archive = RawArchive(run.owner_only_dir("raw"), manifest_of(run, file=relative, conn_id=source.conn_id))
    path, body, label = _fetch(run, files, archive, relative)
    staged = SourceRowsWriter(run, archive)
    fields = run_fields(run)
    limits = settings.input_limits()
    try:
        if source.format == "csv":
            # Block by block: the parsed rows of the whole export are never in memory at once.
            for table in iter_csv_tables(body, fields, label, source.number_format, limits=limits):
                staged.write(table)
        else:
            staged.write(read_xlsx_bytes(body, fields, label, source.sheet, source.number_format, limits))
    except SourceParseError as exc:
        staged.abandon()
        raise fail(run, archive, str(exc), path, exc) from None
    except BaseException:
        staged.abandon()
        raise
    staged_path = staged.close()
    if source.history:
        log.info("%s: %d of the history file's %d rows are the run's period", run.label, staged.rows,
                 staged.rows_read)
    manifest = archive.close(status="extracted", rows=staged.rows, rows_read=staged.rows_read)
    return Extracted(staged_path, staged.rows, manifest)
