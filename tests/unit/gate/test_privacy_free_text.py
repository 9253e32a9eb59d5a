"""Columns of people's names or street addresses: a warning by default, blocking where the catalog forbids them.

The scan's heuristic must stay quiet on what the sample datasets publish (region names, permit
types, school levels, puskesmas and service names); every sample dataset's output is scanned.
"""

from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest

from satudata.catalog import CatalogError, DatasetEntry, PersonalDataForbidden, get_entry
from satudata.gate.privacy import free_text_kinds, scan_frame

NAMES = ["Budi Santoso", "Siti Rahmawati", "AHMAD FAUZI", "Dewi Lestari", "Rudi Hartono", "Agus Salim",
         "Nur Aini", "Yohanes Pakpahan"]
TITLED = ["Bpk. Hasan Basri", "Ibu Ani", "Hj. Aminah", "H. Umar Said", "Sri Wahyuni, S.Kom", "Joko, S.Pd"]
ADDRESSES = ["Jl. Merdeka No. 12", "Jl. Ahmad Yani RT 003/RW 005", "Gg. Mawar 3, Kel. Sidodadi", "Jalan Pahlawan 7",
             "Perum Bukit Mas Blok A-4", "Kel. Air Hitam RT. 12 RW. 04"]
NOT_PEOPLE = {
    "regions": ["Kota Samarinda", "Kabupaten Kutai Kartanegara", "Kota Balikpapan", "Kabupaten Paser",
                "Kabupaten Penajam Paser Utara", "Kota Bontang", "Kabupaten Mahakam Ulu"],
    "permits": ["Persetujuan Bangunan Gedung", "Surat Izin Praktik Apoteker", "Izin Trayek Angkutan",
                "Sertifikat Laik Fungsi", "Izin Usaha Perdagangan", "Tanda Daftar Gudang"],
    "schools": ["SD Negeri 001 Samarinda", "SMP Negeri 2 Balikpapan", "SMA Negeri 1 Tenggarong", "SMK Swasta Bina",
                "MI Nurul Huda", "TK Pertiwi"],
    "health": ["Puskesmas Temindung", "Puskesmas Sidomulyo", "RSUD Abdul Wahab Sjahranie", "Pustu Loa Bakung",
               "Klinik Pratama Sehat", "Posyandu Mawar"],
    "ports": ["Pelabuhan Semayang", "Tanjung Redeb", "Loa Kulu", "Muara Badak", "Sungai Kunjang", "Teluk Bayur"],
    "levels": ["SD", "SMP", "SMA", "SMK"] * 5,
}


@pytest.mark.parametrize("values, kind", [(NAMES, "nama"), (TITLED, "nama"), (ADDRESSES, "alamat")])
def test_columns_of_names_or_addresses_are_warned_about(values, kind):
    frame = pd.DataFrame({"isian": pd.Series(values, dtype="string"), "jumlah": range(len(values))})
    scan = scan_frame(frame)
    assert scan.success and scan.findings == []
    assert [(w.column, w.kind, w.cells) for w in scan.warnings] == [("isian", kind, len(values))]
    assert "warnings" in scan.to_dict()


@pytest.mark.parametrize("group", sorted(NOT_PEOPLE))
def test_places_institutions_and_categories_are_not_names(group):
    assert free_text_kinds(pd.Series(NOT_PEOPLE[group], dtype="string")) == {}


def test_declared_categories_are_never_names():
    values = pd.Series(["Sangat Baik", "Cukup Puas", "Agak Lambat", "Kurang Ramah", "Tepat Waktu", "Ramah Sekali"])
    assert "nama" in free_text_kinds(values)
    assert free_text_kinds(values, known=list(values)) == {}


def test_a_forbidden_column_blocks_and_others_still_warn():
    frame = pd.DataFrame({"penerima": pd.Series(NAMES, dtype="string"),
                          "alamat": pd.Series(ADDRESSES + ["Jl. Juanda", "Jl. Pramuka 2"], dtype="string")})
    scan = scan_frame(frame, forbid=[PersonalDataForbidden(column="penerima", kinds=["nama"])])
    assert not scan.success
    assert [(f.column, f.kind, f.cells) for f in scan.blocking] == [("penerima", "nama", len(NAMES))]
    assert [(w.column, w.kind) for w in scan.warnings] == [("alamat", "alamat")]
    assert "Budi" not in scan.summary()


def test_catalog_forbid_names_columns_of_the_schema():
    data = get_entry("dpmptsp_izin_terbit_bulanan").model_dump(by_alias=True)
    entry = DatasetEntry.model_validate({**data, "personal_data_forbid": [{"column": "jenis_izin"}]})
    assert entry.personal_data_forbid[0].kinds == ["nama", "alamat"]
    with pytest.raises((ValueError, CatalogError), match="unknown columns"):
        DatasetEntry.model_validate({**data, "personal_data_forbid": [{"column": "nama_pemohon"}]})
    with pytest.raises(ValueError, match="kinds"):
        DatasetEntry.model_validate({**data, "personal_data_forbid": [{"column": "jenis_izin", "kinds": ["nik"]}]})


def _file_sample(dataset: str):
    from devstack.samples import agencies, tables

    return {
        "dukcapil_dokumen_bulanan": ("d.csv", lambda: agencies.dukcapil_export(date(2026, 10, 1)), "2026-10"),
        "skm_ikm_semester": ("s.xlsx", lambda: agencies.skm_export(2026, 1), "2026-S1"),
        "disdik_sekolah_tahunan": ("sekolah_2025.xlsx", lambda: tables.sekolah_workbook(2025), "2025"),
        "dinkes_imunisasi_triwulanan": ("i.csv", lambda: tables.imunisasi_csv(2026, 2), "2026-Q2"),
        "dishub_penumpang_bulanan": ("p.csv", lambda: tables.penumpang_history_csv(date(2026, 9, 1), date(2026, 9, 1)),
                                     "2026-09"),
    }[dataset]


@pytest.mark.parametrize("dataset", ["dukcapil_dokumen_bulanan", "skm_ikm_semester", "disdik_sekolah_tahunan",
                                     "dinkes_imunisasi_triwulanan", "dishub_penumpang_bulanan"])
def test_sample_file_datasets_publish_no_names_or_addresses(dataset, tmp_path):
    from satudata.cli.check import run_check

    name, body, period = _file_sample(dataset)
    path = tmp_path / name
    path.write_bytes(body())
    code = run_check(dataset, path, period_key=period, report_dir=tmp_path / "r", progress=False,
                     out=io.StringIO(), err=io.StringIO())
    privacy = json.loads(next((tmp_path / "r").rglob("validation.json")).read_text())["privacy"]
    assert code == 0 and privacy["rows"] > 0
    assert privacy["findings"] == [] and privacy["warnings"] == []


@pytest.mark.parametrize("dataset", ["mpp_kunjungan_harian", "lapor_pengaduan_bulanan"])
def test_sample_api_and_database_datasets_publish_no_names_or_addresses(dataset):
    from devstack.samples import agencies
    from satudata.gate import _categories
    from satudata.gate.suite import load_suite_json
    from transforms import get_transform
    from transforms.readers import read_records
    from transforms.tables import conform

    entry = get_entry(dataset)
    records = {"mpp_kunjungan_harian": lambda: agencies.mpp_visits(date(2026, 10, 5)),
               "lapor_pengaduan_bulanan": lambda: agencies.lapor_complaints(date(2026, 10, 1))}[dataset]()
    raw = read_records(records, entry.source.fields, "sample")
    frame = conform(get_transform(entry.transform)(raw), entry.table.columns, drop_extra=True)
    scan = scan_frame(frame, entry.personal_data_allow, entry.personal_data_forbid,
                      _categories(load_suite_json(entry.suite_path())))
    assert len(frame) > 0
    assert [f for f in scan.findings if not f.allowed] == [] and scan.warnings == []


def test_warnings_reach_the_steward_and_the_report_without_values():
    from satudata.cli.check import format_report
    from satudata.gate.report import QualityReport, render_html

    frame = pd.DataFrame({"alamat": pd.Series(ADDRESSES + ["Jl. Juanda", "Jl. Pramuka 2"], dtype="string")})
    scan = scan_frame(frame)
    assert scan.success and [(w.column, w.kind) for w in scan.warnings] == [("alamat", "alamat")]
    report = QualityReport(dataset_id="d", suite="s", rows=len(frame), critical_failures=0, warnings=0,
                           expectations=[], parameters={}, privacy=scan.to_dict(), suppression={"applied": False})
    out = io.StringIO()
    format_report(report, out)
    page = render_html(report)
    assert "alamat: " in out.getvalue() and "look like street addresses  warning" in out.getvalue()
    assert "alamat jalan (dugaan)" in page and "peringatan" in page
    for value in ("Juanda", "Pramuka"):
        assert value not in out.getvalue() and value not in page
