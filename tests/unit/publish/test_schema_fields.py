"""The dataset's keys on a portal with the Satu Data schema and on one without, and resource checksums."""

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from satudata.catalog import CkanMetadata, get_entry
from satudata.publish.ckan import as_fields, dataset_fields, extras_of, resource_digest
from satudata.publish.metadata import SCHEMA_FIELDS, dataset_extras

REPO = Path(__file__).resolve().parents[3]
SCHEMA = yaml.safe_load((REPO / "deploy" / "ckan" / "satudata_schema.yaml").read_text(encoding="utf-8"))
FIELDS = frozenset(f["field_name"] for f in SCHEMA["dataset_fields"])
DATASET = "dpmptsp_izin_terbit_bulanan"
HEX = "ab" * 32


def entry_with_standard():
    entry = get_entry(DATASET)
    return entry.model_copy(update={"ckan": entry.ckan.model_copy(
        update={"conforms_to": ["https://example.go.id/standar/kode-wilayah"]})})


def test_the_schema_holds_every_key_the_pipeline_writes_as_a_field():
    assert set(SCHEMA_FIELDS) <= FIELDS
    assert {"contact", "temporal_coverage", "spatial_coverage", "conforms_to", "frequency"} <= FIELDS
    for name in get_entry(DATASET).ckan.extras:
        assert name in FIELDS, name


def test_satu_data_fields_have_indonesian_labels_and_the_internal_ones_are_hidden():
    by_name = {f["field_name"]: f for f in SCHEMA["dataset_fields"]}
    assert by_name["frekuensi_penerbitan"]["label"]["id"] == "Frekuensi penerbitan"
    assert by_name["level_penyajian"]["label"]["id"] == "Level penyajian"
    assert {c["value"] for c in by_name["frekuensi_penerbitan"]["choices"]} == {
        "Harian", "Mingguan", "Bulanan", "Triwulanan", "Semesteran", "Tahunan"}
    assert all(by_name[k].get("required") for k in ("produsen_data", "walidata", "frekuensi_penerbitan",
                                                     "level_penyajian"))
    assert by_name["satudata_last_run_id"]["display_snippet"] is None


def test_without_the_schema_every_key_is_a_free_extra_as_before():
    extras = dataset_extras(entry_with_standard(), "2026-08", "2026-10")
    fields = as_fields(extras, None)
    assert set(fields) == {"extras"}
    assert {e["key"]: e["value"] for e in fields["extras"]} == extras


def test_with_the_schema_keys_become_fields_and_read_back_the_same():
    entry = entry_with_standard()
    extras = {**dataset_extras(entry, "2026-08", "2026-10"), "satudata_versi": "sha256:" + HEX,
              "a_key_the_schema_lacks": "x"}
    fields = dataset_fields(entry, "org-id", extras, FIELDS)
    assert fields["extras"] == [{"key": "a_key_the_schema_lacks", "value": "x"}]
    assert fields["temporal_coverage"] == [{"start": "2026-08-01", "end": "2026-10-31"}]
    assert fields["conforms_to"] == ["https://example.go.id/standar/kode-wilayah"]
    assert fields["frekuensi_penerbitan"] == "Bulanan" and fields["satudata_versi"] == "sha256:" + HEX
    assert fields["contact"] == [{"name": entry.ckan.extras["walidata"], "email": entry.ckan.maintainer_email}]
    assert extras_of(fields) == extras
    # Keys not written any more are cleared (a patch keeps a schema field it leaves out).
    assert fields["satudata_rollback_ke"] == "" and fields["satudata_status_terbit"] == ""
    assert fields["spatial_coverage"] == [{"text": "Provinsi Kalimantan Timur"}]
    assert as_fields({}, FIELDS)["conforms_to"] == []


def test_the_english_title_and_notes_are_schema_fields_or_extras_and_cleared_when_dropped():
    entry = get_entry(DATASET)
    assert entry.ckan.title_en and entry.ckan.notes_en
    extras = dataset_extras(entry, "2026-08", "2026-10")
    with_schema = dataset_fields(entry, "org-id", extras, FIELDS)
    assert with_schema["title_en"] == entry.ckan.title_en and with_schema["notes_en"] == entry.ckan.notes_en.strip()
    # The Indonesian title and notes stay CKAN's own: the portal's API and search show them.
    assert with_schema["title"] == entry.ckan.title and with_schema["notes"] == entry.ckan.notes.strip()
    plain = {e["key"]: e["value"] for e in dataset_fields(entry, "org-id", extras)["extras"]}
    assert (plain["title_en"], plain["notes_en"]) == (entry.ckan.title_en, entry.ckan.notes_en.strip())
    untranslated = entry.model_copy(update={"ckan": entry.ckan.model_copy(update={"title_en": None,
                                                                                    "notes_en": None})})
    dropped = dataset_fields(untranslated, "org-id", dataset_extras(untranslated, "2026-08", "2026-10"), FIELDS)
    assert dropped["title_en"] == "" and dropped["notes_en"] == ""
    by_name = {f["field_name"]: f for f in SCHEMA["dataset_fields"]}
    assert by_name["title_en"]["label"] == {"id": "Judul (bahasa Inggris)", "en": "Title (English)"}
    assert by_name["notes_en"]["form_snippet"] == "markdown.html"
    assert not by_name["title_en"].get("required") and not by_name["notes_en"].get("required")


def test_an_empty_english_title_is_refused():
    raw = get_entry(DATASET).ckan.model_dump()
    with pytest.raises(ValidationError, match="title_en"):
        CkanMetadata.model_validate({**raw, "title_en": ""})


def test_extras_of_reads_a_portal_without_the_schema():
    package = {"extras": [{"key": "periode_data", "value": "2026-08 s.d. 2026-10"},
                          {"key": "conforms_to", "value": json.dumps(["https://example.go.id/s"])}]}
    assert extras_of(package) == {"periode_data": "2026-08 s.d. 2026-10",
                                  "conforms_to": json.dumps(["https://example.go.id/s"])}


@pytest.mark.parametrize("stored, digest", [
    (HEX, "sha256:" + HEX),            # DCAT-AP checksum: hex digits, algorithm beside them
    ("sha256:" + HEX, "sha256:" + HEX),  # as published before: not uploaded again
    ("", ""), (None, ""),
])
def test_resource_digest_compares_both_forms(stored, digest):
    assert resource_digest({"hash": stored}) == digest


def test_a_standard_must_be_named_by_its_iri():
    ckan = get_entry(DATASET).ckan.model_dump(exclude={"chart"})
    with pytest.raises(ValidationError, match="IRI"):
        CkanMetadata(**{**ckan, "conforms_to": ["Kode wilayah administrasi pemerintahan Kemendagri"]})
    assert CkanMetadata(**{**ckan, "conforms_to": ["https://example.go.id/s"]}).conforms_to == [
        "https://example.go.id/s"]
