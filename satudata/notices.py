"""Notices to whom must act, in Indonesian: the producing agency after a run it must fix, the walidata weekly.

A notice is built from what the pipeline wrote for itself (the gate's report, the quarantine's
error report) and names datasets, periods, checks, columns and counts only: never a cell value,
so it may go to any mailbox. Which parts of a report it reads is listed in ``problem_from_report``
and ``problem_from_quarantine``; everything else there (examples, observed values, suite
arguments) stays behind. Sending is Airflow glue (``plugins/notices_mail.py``); here are the
words, the message and the record that keeps one failed try from being told twice.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Literal

from satudata import settings
from satudata.catalog import DatasetEntry
from satudata.delivery import LATE
from satudata.status import DatasetState, agency_of

ProblemKind = Literal["blocked", "quarantined", "failed"]

SUBJECT_PREFIX = "[Satu Data]"

# What happened, as the producer reads it.
WHAT_HAPPENED = {
    "blocked": "diblokir oleh gerbang mutu",
    "quarantined": "dikarantina: masukan tidak dapat dibaca",
    "failed": "gagal: sistem sumber tidak dapat dibaca",
}

# Personal-data kinds as the quality report names them.
PERSONAL_DATA_LABELS = {
    "nik": "NIK", "no_kk": "No. KK", "nip": "NIP", "npwp": "NPWP",
    "telepon": "nomor telepon seluler", "email": "alamat e-mail",
    "nama": "nama orang", "alamat": "alamat jalan",
}


@dataclass(frozen=True)
class FailedCheck:
    """A critical check the period failed: the suite's description, its type, the column, how many rows."""

    description: str
    expectation: str
    column: str | None
    rows: int | None


@dataclass(frozen=True)
class PersonalDataFound:
    """Personal data where it may not be published: the column, the kind, how many cells."""

    column: str
    kind: str
    cells: int


@dataclass(frozen=True)
class InputProblem:
    """Where the input could not be read as the catalog declares it: file, row, column, and why.

    ``reason`` is the reader's error, which by the project's rule names no cell value.
    """

    file: str | None
    row: int | None
    column: str | None
    reason: str


@dataclass(frozen=True)
class RunProblem:
    """Why a run needs the producer: the gate blocked it, its input was quarantined, or its source failed."""

    kind: ProblemKind
    task: str
    checks: tuple[FailedCheck, ...] = ()
    personal_data: tuple[PersonalDataFound, ...] = ()
    input_problem: InputProblem | None = None
    rows_checked: int | None = None
    error_type: str | None = None


def problem_from_report(path: Path, task: str = "validate") -> RunProblem:
    """A blocked run's problem, from the gate's ``validation.json``: failed critical checks and
    blocking personal-data findings, by column, kind and count (no example, observed value or argument)."""
    report = json.loads(Path(path).read_text(encoding="utf-8"))
    checks = tuple(
        FailedCheck(str(e.get("note") or e["type"]), str(e["type"]), e.get("column"),
                    int(e["unexpected_count"]) if e.get("unexpected_count") is not None else None)
        for e in report.get("expectations", [])
        if not e.get("success") and e.get("severity") == "critical"
    )
    personal = tuple(
        PersonalDataFound(str(f["column"]), str(f["kind"]), int(f["cells"]))
        for f in (report.get("privacy") or {}).get("findings", []) if not f.get("allowed")
    )
    return RunProblem("blocked", task, checks=checks, personal_data=personal, rows_checked=int(report.get("rows", 0)))


def problem_from_quarantine(path: Path, task: str = "extract") -> RunProblem:
    """A quarantined input's problem, from its ``*.error.json``: file name, row, column and the reader's error."""
    report = json.loads(Path(path).read_text(encoding="utf-8"))
    file = report.get("file")
    return RunProblem("quarantined", task, input_problem=InputProblem(
        Path(str(file)).name if file else None, report.get("row"), report.get("column"), str(report.get("error", ""))))


# Tasks whose plain failure (not a block, not a quarantine) is the producer's to look at: the
# source system could not be read. A failure writing or publishing is the walidata's.
PRODUCER_TASKS = frozenset({"extract"})


def problem_of(exception: BaseException | None, task: str) -> RunProblem | None:
    """The producer's problem behind a task's failure, or None when there is nothing for them to fix.

    Read from the exception and its causes, as the steps raise them: a ``ValidationFailed`` names
    the gate's report (``report_path``), a ``SourceError`` the quarantine report
    (``quarantine_report``); attributes rather than types, so the callback imports no pandas.
    """
    seen = exception
    while seen is not None:
        report = getattr(seen, "report_path", None)
        if report and Path(report).is_file():
            return problem_from_report(Path(report), task)
        quarantined = getattr(seen, "quarantine_report", None)
        if quarantined and Path(quarantined).is_file():
            return problem_from_quarantine(Path(quarantined), task)
        seen = seen.__cause__ or seen.__context__
    if task in PRODUCER_TASKS:
        root = exception
        while root is not None and (root.__cause__ or root.__context__) is not None:
            root = root.__cause__ or root.__context__
        return RunProblem("failed", task, error_type=type(root).__name__ if root is not None else None)
    return None


@dataclass(frozen=True)
class Notice:
    """One message: subject, plain text, simple HTML, and the key that names it (its Message-ID)."""

    subject: str
    text: str
    html: str
    key: str
    facts: dict[str, Any] = field(default_factory=dict)
    reply_to: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The notice as a webhook receives it."""
        return {"subject": self.subject, "text": self.text, **self.facts, "key": self.key}


def notice_key(*parts: object) -> str:
    """A short stable name for one notice: the same parts (DAG, run, task, try) give the same key."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:24]


def _period_words(key: str) -> str:
    from satudata.periods import period_text

    words = period_text(key)
    return key if words == key else f"{words} ({key})"


def _check_line(check: FailedCheck) -> str:
    where = f", kolom {check.column}" if check.column else ""
    rows = f": {check.rows} baris tidak sesuai" if check.rows else ""
    return f"{check.description} [{check.expectation}{where}]{rows}"


def _personal_line(found: PersonalDataFound) -> str:
    return (f"kolom {found.column}: {found.cells} sel berisi {PERSONAL_DATA_LABELS.get(found.kind, found.kind)} "
            "(nilainya tidak ditampilkan)")


def _input_line(problem: InputProblem) -> str:
    where = [f"berkas {problem.file}" if problem.file else "",
             f"baris {problem.row}" if problem.row is not None else "",
             f"kolom {problem.column}" if problem.column else ""]
    place = ", ".join(w for w in where if w)
    return f"{place}: {problem.reason}" if place else problem.reason


def _fix_steps(entry: DatasetEntry, problem: RunProblem, period_key: str) -> list[str]:
    source = entry.source
    if source.kind == "file":
        resend = (f"Kirim ulang berkas ekspor periode {period_key} ({source.file_for(period_key)}) ke folder "
                  "landing, dengan nama yang sama.")
        fix_at = "Perbaiki berkas ekspor (atau data di sistem asalnya) pada bagian yang disebut di atas."
    else:
        resend = (f"Beri tahu walidata setelah data di {source.system} diperbaiki, agar periode {period_key} "
                  "dijalankan ulang.")
        fix_at = f"Perbaiki data di sistem sumber ({source.system}) pada bagian yang disebut di atas."
    if problem.kind == "failed":
        return [f"Pastikan sistem sumber ({source.system}) dapat diakses oleh pipeline Satu Data "
                "(alamat, akun, jaringan) dan melayani permintaan untuk periode ini.",
                f"Beri tahu walidata bila gangguan sudah diatasi, agar periode {period_key} dijalankan ulang."]
    steps = [fix_at]
    if problem.personal_data:
        steps.append("Hapus data pribadi (NIK, No. KK, nomor telepon, alamat e-mail, nama, alamat) dari kolom yang "
                     "disebut: data yang dipublikasikan hanya boleh berisi data agregat (UU 27/2022).")
    steps.append(resend)
    steps.append("Bila menurut Anda pemeriksaan ini keliru, balas e-mail ini atau hubungi walidata.")
    return steps


def producer_notice(entry: DatasetEntry, period_key: str, problem: RunProblem, key: str,
                    dataset_url: str | None = None) -> Notice:
    """What the producing agency must fix after a run of ``entry`` for ``period_key`` (Indonesian, no data values)."""
    title, period = entry.ckan.title, _period_words(period_key)
    happened = WHAT_HAPPENED[problem.kind]
    lead = {
        "blocked": f"Data periode {period} tidak dipublikasikan: pemeriksaan mutu menemukan masalah "
                   f"pada {problem.rows_checked} baris yang diperiksa. Data yang sudah terbit tidak berubah.",
        "quarantined": f"Masukan periode {period} tidak dapat dibaca sesuai katalog dan disimpan di karantina; "
                       "tidak ada yang dipublikasikan. Data yang sudah terbit tidak berubah.",
        "failed": f"Data periode {period} tidak dapat diambil dari sistem sumber ({entry.source.system}) "
                  "setelah beberapa kali percobaan; tidak ada yang dipublikasikan.",
    }[problem.kind]
    findings: list[str] = [_check_line(c) for c in problem.checks]
    findings += [_personal_line(p) for p in problem.personal_data]
    if problem.input_problem is not None:
        findings.append(_input_line(problem.input_problem))
    if problem.kind == "failed" and problem.error_type:
        findings.append(f"jenis galat: {problem.error_type} (rincian teknis ada pada walidata)")
    steps = _fix_steps(entry, problem, period_key)
    producer = agency_of(entry)
    lines = [
        f"Yth. {producer},",
        "",
        f"Dataset: {title}",
        f"ID dataset: {entry.id}",
        f"Periode: {period}",
        f"Status: {happened}",
        "",
        lead,
        "",
        "Yang ditemukan:" if findings else "",
        *[f"- {f}" for f in findings],
        "",
        "Yang perlu dilakukan:",
        *[f"{i}. {s}" for i, s in enumerate(steps, 1)],
    ]
    if dataset_url:
        lines += ["", f"Halaman dataset: {dataset_url}"]
    lines += ["", "Pesan ini dikirim otomatis oleh pipeline Satu Data; isi data tidak pernah dicantumkan.",
              f"Walidata: {entry.ckan.maintainer}" + (f" <{entry.ckan.maintainer_email}>"
                                                       if entry.ckan.maintainer_email else "")]
    text = _paragraphs(lines)
    e = html.escape
    body = (
        f"<p>Yth. {e(producer)},</p>"
        f"<table><tr><th align=left>Dataset</th><td>{e(title)}</td></tr>"
        f"<tr><th align=left>ID dataset</th><td><code>{e(entry.id)}</code></td></tr>"
        f"<tr><th align=left>Periode</th><td>{e(period)}</td></tr>"
        f"<tr><th align=left>Status</th><td><b>{e(happened)}</b></td></tr></table>"
        f"<p>{e(lead)}</p>"
        + (f"<p>Yang ditemukan:</p><ul>{''.join(f'<li>{e(f)}</li>' for f in findings)}</ul>" if findings else "")
        + f"<p>Yang perlu dilakukan:</p><ol>{''.join(f'<li>{e(s)}</li>' for s in steps)}</ol>"
        + (f'<p>Halaman dataset: <a href="{e(dataset_url)}">{e(dataset_url)}</a></p>' if dataset_url else "")
        + "<p><small>Pesan ini dikirim otomatis oleh pipeline Satu Data; isi data tidak pernah dicantumkan."
        + "</small></p>"
    )
    subject = f"{SUBJECT_PREFIX} {happened.split(':')[0].capitalize()}: {title} ({period_key})"
    facts = {"dataset_id": entry.id, "period": period_key, "status": problem.kind, "task": problem.task,
             "checks": [asdict(c) for c in problem.checks],
             "personal_data": [asdict(p) for p in problem.personal_data],
             "input_problem": asdict(problem.input_problem) if problem.input_problem else None,
             "dataset_url": dataset_url}
    return Notice(subject, text, _html_page(subject, body), key, facts, reply_to=entry.ckan.maintainer_email)


def _paragraphs(lines: list[str]) -> str:
    """The lines as text, no two blank lines in a row."""
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip() + "\n"


def _html_page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="id"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"</head><body>{body}</body></html>\n")


# The digest's words for the outcome extras (satudata.publish.release.run_outcome).
RUN_STATUS = {"published": "terbit", "blocked": "diblokir gerbang mutu", "failed": "gagal"}
QUALITY_STATUS = {"passed": "lulus", "failed": "tidak lulus"}


def _state_cells(state: DatasetState) -> list[str]:
    if not state.on_portal:
        run = "belum ada di portal"
    else:
        run = RUN_STATUS.get(state.last_run_status or "", state.last_run_status or "belum ada catatan")
    delivery = state.delivery_status or "-"
    if state.delivery_status and state.expected_period:
        delivery += f" (diharapkan {state.expected_period})"
    return [state.title, state.dataset_id, run,
            QUALITY_STATUS.get(state.quality_status or "", state.quality_status or "-"),
            state.last_period or "-", delivery, (state.last_validated or "-")[:10]]


DIGEST_COLUMNS = ["Dataset", "ID", "Run terakhir", "Mutu", "Periode terbit terakhir", "Penyerahan", "Diperiksa"]


def walidata_digest(states: Sequence[DatasetState], as_of: date) -> Notice:
    """The walidata's weekly overview: every dataset's state on the portal, grouped by producing agency."""
    by_agency: dict[str, list[DatasetState]] = {}
    for state in sorted(states, key=lambda s: (s.agency, s.dataset_id)):
        by_agency.setdefault(state.agency, []).append(state)
    needing = [s for s in states if not s.on_portal or s.last_run_status in ("blocked", "failed")
               or s.delivery_status == LATE]
    subject = (f"{SUBJECT_PREFIX} Ringkasan mingguan {as_of.isoformat()}: {len(states)} dataset, "
               f"{len(needing)} perlu tindakan")
    lines = [f"Ringkasan mingguan Satu Data per {as_of.isoformat()}: {len(states)} dataset dari "
             f"{len(by_agency)} produsen data; {len(needing)} perlu tindakan (diblokir, gagal, terlambat, atau "
             "belum ada di portal).", ""]
    sections = []
    for agency, rows in by_agency.items():
        lines.append(f"== {agency} ==")
        for state in rows:
            title, ident, run, quality, period, delivery, checked = _state_cells(state)
            contact = "  (kontak produsen belum dicatat di katalog)" if not state.producer_contact else ""
            lines.append(f"- {title} [{ident}]: run terakhir {run}; mutu {quality}; periode terbit terakhir "
                         f"{period}; penyerahan {delivery}; diperiksa {checked}{contact}")
        lines.append("")
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _state_cells(s)) + "</tr>" for s in rows)
        header = "".join(f"<th align=left>{c}</th>" for c in DIGEST_COLUMNS)
        sections.append(f"<h3>{html.escape(agency)}</h3><table border=1 cellpadding=4 cellspacing=0>"
                        f"<tr>{header}</tr>{cells}</table>")
    lines.append("Pesan ini dikirim otomatis oleh pipeline Satu Data dari metadata portal.")
    body = f"<p>{html.escape(lines[0])}</p>{''.join(sections)}"
    facts = {"as_of": as_of.isoformat(), "datasets": [asdict(s) for s in states]}
    return Notice(subject, "\n".join(lines) + "\n", _html_page(subject, body), notice_key("digest", as_of), facts)


def mail_message(notice: Notice, sender: str, recipients: Iterable[str]) -> EmailMessage:
    """The notice as one e-mail: plain text with an HTML alternative, a Message-ID made from its key.

    The same notice always has the same Message-ID, so a mail system that sees it twice can tell.
    """
    message = EmailMessage()
    message["Subject"] = notice.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2] or "satudata"
    message["Message-ID"] = f"<satudata.{notice.key}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    if notice.reply_to:
        message["Reply-To"] = notice.reply_to  # a producer's answer goes to the walidata, not the robot
    message.set_content(notice.text)
    message.add_alternative(notice.html, subtype="html")
    return message


def sent_record(dataset_id: str, key: str) -> Path:
    """Where the record of the notice ``key`` about ``dataset_id`` is kept (data dir, zone ``notices``)."""
    return settings.zone_dir("notices", dataset_id) / f"{key}.json"


def claim(path: Path) -> bool:
    """Claim the sending of one notice: True once, False when it was claimed (sent, or being sent) already.

    Exclusive creation, so two runs of the same callback cannot both send. A notice whose sending
    failed is released (``release``) and may be sent again.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"status": "sending"}))
    return True


def mark_sent(path: Path, **facts: Any) -> None:
    """Record that the claimed notice went out (to whom, when, how); owner-only, as the claim."""
    from transforms.writing import write_text

    write_text(path, json.dumps({"status": "sent", **facts}, default=str, indent=2), private=True)


def release(path: Path) -> None:
    """Give up a claim whose sending failed, so the notice may be sent again."""
    path.unlink(missing_ok=True)
