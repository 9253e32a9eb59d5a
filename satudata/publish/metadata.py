"""A dataset's published metadata, derived from its catalog entry and the periods it holds.

Satu Data fields come from the catalog's ``ckan.extras``; the DCAT-friendly keys are the
extras that ckanext-dcat's ``euro_dcat_ap`` profiles read (temporal_start/_end, frequency,
spatial_text/_uri, conforms_to), so a portal that adds ckanext-dcat serves them as DCAT. On a
portal with the Satu Data schema (``deploy/ckan/satudata_schema.yaml``) ``publish.ckan.as_fields``
writes them as its fields (``SCHEMA_FIELDS``; temporal_coverage, spatial_coverage and
conforms_to as the DCAT-AP schema's structured fields) and ``extras_of`` reads both forms back.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from satudata import __version__, settings
from satudata.catalog import DatasetEntry
from satudata.periods import Period

# EU Publications Office frequency vocabulary, which DCAT-AP expects for dct:accrualPeriodicity.
FREQUENCY_URI = {
    "daily": "http://publications.europa.eu/resource/authority/frequency/DAILY",
    "monthly": "http://publications.europa.eu/resource/authority/frequency/MONTHLY",
    "semiannual": "http://publications.europa.eu/resource/authority/frequency/ANNUAL_2",
    "annual": "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
    "quarterly": "http://publications.europa.eu/resource/authority/frequency/QUARTERLY",
    "weekly": "http://publications.europa.eu/resource/authority/frequency/WEEKLY",
}

# The string keys a portal with the Satu Data schema (deploy/ckan/satudata_schema.yaml) holds as
# dataset fields rather than free extras: the catalog's Satu Data fields and the pipeline's own.
SCHEMA_FIELDS = (
    "produsen_data", "walidata", "frekuensi_penerbitan", "level_penyajian", "periode_data", "cakupan", "satuan",
    "kode_referensi_wilayah", "rujukan", "penyamaran_sel_kecil", "frequency", "title_en", "notes_en",
    "satudata_versi", "satudata_status_terbit", "satudata_periode_diharapkan", "satudata_periode_berikutnya",
    "satudata_last_run_id", "satudata_last_run_status", "satudata_quality_status", "satudata_last_validated",
    "satudata_rollback_ke", "satudata_rollback_dari",
)

# Satu Data's publication frequency (the ``frekuensi_penerbitan`` field) of each schedule.
FREKUENSI_PENERBITAN = {
    "daily": "Harian",
    "weekly": "Mingguan",
    "monthly": "Bulanan",
    "quarterly": "Triwulanan",
    "semiannual": "Semesteran",
    "annual": "Tahunan",
}

# Frictionless Table Schema names of the catalog's column types.
FRICTIONLESS_TYPES = {"string": "string", "int64": "integer", "float64": "number", "date": "date", "bool": "boolean"}


def period_bounds(key: str) -> tuple[date, date]:
    """First and last day (inclusive) of a period key: 2026-10-05, 2026-W41, 2026-10, 2026-Q4, 2026-S2 or 2026."""
    period = Period.from_key(key)
    return period.start, period.last_day


def license_id(entry: DatasetEntry) -> str:
    """The dataset's licence: the catalog's, or the deployment's default."""
    return entry.ckan.license_id or settings.default_license_id()


def dataset_extras(entry: DatasetEntry, first_period: str, last_period: str) -> dict[str, str]:
    """Satu Data and DCAT extras of the dataset holding periods ``first_period``..``last_period``."""
    meta = entry.ckan
    extras = dict(meta.extras)
    # The catalog's own value stays; a dataset that does not say gets its schedule's.
    extras.setdefault("frekuensi_penerbitan", FREKUENSI_PENERBITAN[entry.schedule])
    extras["periode_data"] = f"{first_period} s.d. {last_period}"
    extras["temporal_start"] = period_bounds(first_period)[0].isoformat()
    extras["temporal_end"] = period_bounds(last_period)[1].isoformat()
    extras["frequency"] = FREQUENCY_URI[entry.schedule]
    # The English title and description, for the portal's English pages (its satudata_i18n plugin).
    if meta.title_en:
        extras["title_en"] = meta.title_en.strip()
    if meta.notes_en:
        extras["notes_en"] = meta.notes_en.strip()
    if "cakupan" in meta.extras:
        extras["spatial_text"] = meta.extras["cakupan"]
    if meta.spatial_uri:
        extras["spatial_uri"] = meta.spatial_uri
    if meta.conforms_to:
        # ckanext-dcat reads list-valued extras as JSON.
        extras["conforms_to"] = json.dumps(meta.conforms_to, ensure_ascii=False)
    return extras


def data_dictionary(entry: DatasetEntry) -> list[dict[str, Any]]:
    """Name, type, description and unit of every published column."""
    return [
        {"name": c.name, "type": c.type, "description": c.description, "unit": c.unit}
        for c in entry.table.columns
    ]


def datapackage(entry: DatasetEntry, csv_path: Path, csv_sha256: str, rows: int,
                first_period: str, last_period: str) -> dict[str, Any]:
    """A Frictionless Data Package describing the published CSV (the data dictionary)."""
    fields = []
    for col in data_dictionary(entry):
        field = {"name": col["name"], "type": FRICTIONLESS_TYPES[col["type"]], "description": col["description"]}
        if col["unit"]:
            # Not a core Table Schema property; Frictionless keeps unknown properties.
            field["unit"] = col["unit"]
        fields.append(field)
    start, end = period_bounds(first_period)[0], period_bounds(last_period)[1]
    return {
        "profile": "tabular-data-package",
        "name": entry.ckan.name,
        "title": entry.ckan.title,
        "description": entry.ckan.notes.strip(),
        "version": __version__,
        "licenses": [{"name": license_id(entry)}],
        "keywords": list(entry.ckan.tags),
        "temporal": {"start": start.isoformat(), "end": end.isoformat()},
        "resources": [
            {
                "name": entry.ckan.name,
                "path": csv_path.name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "hash": f"sha256:{csv_sha256}",
                "bytes": csv_path.stat().st_size,
                "rows": rows,
                "schema": {"fields": fields, "primaryKey": list(entry.table.primary_key)},
            }
        ],
    }


# The column types as the XLSX's Kamus Data sheet names them.
TYPE_LABELS = {"string": "teks", "int64": "bilangan bulat", "float64": "bilangan desimal", "date": "tanggal",
               "bool": "logika (benar/salah)"}


def workbook_sheets(entry: DatasetEntry, rows: int, periods: list[str], csv_sha256: str,
                    data_sheets: list[str]) -> dict[str, list[list[Any]]]:
    """The XLSX's Kamus Data (one row per column) and Metadata sheets, each with its header row.

    The version is the CSV's hash, as the Data Package and the portal's CSV resource record it:
    ``satudata_versi`` names all resources, this file among them, so no file can hold it.
    """
    keys = set(entry.table.primary_key)
    dictionary: list[list[Any]] = [["Nama kolom", "Tipe", "Satuan", "Deskripsi", "Kunci utama"]]
    dictionary += [[c["name"], TYPE_LABELS[c["type"]], c["unit"] or "", c["description"],
                    "ya" if c["name"] in keys else ""] for c in data_dictionary(entry)]
    meta = entry.ckan
    start, end = period_bounds(periods[0])[0], period_bounds(periods[-1])[1]
    about: list[list[Any]] = [
        ["Elemen", "Isi"],
        ["Judul", meta.title],
        ["Deskripsi", " ".join(meta.notes.split())],
        ["Produsen data", meta.extras.get("produsen_data", meta.organization.title)],
        ["Organisasi", meta.organization.title],
        ["Walidata", meta.extras.get("walidata", "")],
        ["Pengelola data", meta.maintainer],
        ["Lisensi", license_id(entry)],
        ["Periode data", f"{periods[0]} s.d. {periods[-1]}"],
        ["Rentang tanggal", f"{start.isoformat()} s.d. {end.isoformat()}"],
        ["Jumlah periode", len(periods)],
        ["Frekuensi penerbitan", meta.extras.get("frekuensi_penerbitan", FREKUENSI_PENERBITAN[entry.schedule])],
        ["Cakupan wilayah", meta.extras.get("cakupan", "")],
        ["Jumlah baris", rows],
        ["Lembar data", ", ".join(data_sheets)],
        ["Versi data", f"sha256:{csv_sha256}"],
        ["Versi pipeline", __version__],
        ["Status mutu", "Lolos pemeriksaan mutu data (validasi dan data pribadi); laporan lengkap: "
                        "laporan-validasi.html di portal"],
        ["Kamus data lengkap", "datapackage.json di portal; lembar Kamus Data berkas ini"],
    ]
    return {"Kamus Data": dictionary, "Metadata": [r for r in about if r[1] != ""]}
