"""The catalog loader: strict, typed, and precise about what is wrong and where."""

from pathlib import Path

import pytest
import yaml

from satudata.catalog import CatalogError, load_catalog, load_entry

REPO = Path(__file__).resolve().parents[3]
PERMITS = REPO / "catalog" / "dpmptsp_izin_terbit_bulanan.yaml"


def _write(tmp_path: Path, data: dict, name: str = "dpmptsp_izin_terbit_bulanan") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def permits() -> dict:
    return yaml.safe_load(PERMITS.read_text(encoding="utf-8"))


def test_bundled_catalog_loads():
    entries = {e.id: e for e in load_catalog()}
    assert {k: e.source.kind for k, e in entries.items()} == {
        "dpmptsp_izin_terbit_bulanan": "sql",
        "dukcapil_dokumen_bulanan": "file",
        "lapor_pengaduan_bulanan": "rest",
        "mpp_kunjungan_harian": "rest",
        "skm_ikm_semester": "file",
        "disdik_sekolah_tahunan": "file",
        "dinkes_imunisasi_triwulanan": "file",
        "dishub_penumpang_bulanan": "file",
    }
    assert {e.schedule for e in entries.values()} == {"daily", "monthly", "quarterly", "semiannual", "annual"}
    assert all(c.description for e in entries.values() for c in e.table.columns)
    entry = entries["dpmptsp_izin_terbit_bulanan"]
    assert entry.table.primary_key == ["tahun", "bulan", "kode_kabupaten_kota", "kode_jenis_izin"]
    assert all(c.description for c in entry.table.columns)
    assert entry.ckan.license_id == "cc-by"


def test_unknown_key_names_file_and_key(tmp_path, permits):
    permits["source"]["conn"] = "typo"
    path = _write(tmp_path, permits)
    with pytest.raises(CatalogError) as err:
        load_entry(path)
    assert str(path) in str(err.value)
    assert "unknown key 'source.conn'" in str(err.value)


def test_missing_nested_key_names_its_path(tmp_path, permits):
    del permits["schema"]["columns"][2]["type"]
    path = _write(tmp_path, permits)
    with pytest.raises(CatalogError, match=r"missing key 'schema\.columns\[2\]\.type'"):
        load_entry(path)


def test_unknown_transform_is_rejected(tmp_path, permits):
    permits["transform"] = "izin_terbit_bulan"
    with pytest.raises(CatalogError, match="unknown transform 'izin_terbit_bulan'"):
        load_entry(_write(tmp_path, permits))


def test_query_must_be_bounded_by_interval(tmp_path, permits):
    permits["source"]["query"] = "SELECT * FROM permohonan_izin"
    with pytest.raises(CatalogError, match=":start and :end"):
        load_entry(_write(tmp_path, permits))


def test_primary_key_must_name_columns(tmp_path, permits):
    permits["schema"]["primary_key"] = ["tahun", "kecamatan"]
    with pytest.raises(CatalogError, match="kecamatan"):
        load_entry(_write(tmp_path, permits))


def test_file_name_must_match_id(tmp_path, permits):
    with pytest.raises(CatalogError, match="file is named 'other'"):
        load_entry(_write(tmp_path, permits, name="other"))


def test_unparseable_yaml_names_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="broken.yaml: cannot read"):
        load_entry(path)


LAPOR = REPO / "catalog" / "lapor_pengaduan_bulanan.yaml"
DUKCAPIL = REPO / "catalog" / "dukcapil_dokumen_bulanan.yaml"


def test_unknown_source_kind_is_rejected(tmp_path, permits):
    permits["source"]["kind"] = "ftp"
    with pytest.raises(CatalogError, match=r"key 'source'.*'sql', 'rest', 'file'"):
        load_entry(_write(tmp_path, permits))


def test_rest_pagination_typo_names_the_key(tmp_path):
    data = yaml.safe_load(LAPOR.read_text(encoding="utf-8"))
    data["source"]["pagination"]["cursor_parm"] = "c"
    with pytest.raises(CatalogError, match=r"unknown key 'source\.pagination\.cursor_parm'"):
        load_entry(_write(tmp_path, data, name="lapor_pengaduan_bulanan"))


def test_rest_pagination_style_must_be_known(tmp_path):
    data = yaml.safe_load(LAPOR.read_text(encoding="utf-8"))
    data["source"]["pagination"] = {"style": "offset"}
    with pytest.raises(CatalogError, match="pagination"):
        load_entry(_write(tmp_path, data, name="lapor_pengaduan_bulanan"))


@pytest.mark.parametrize("path", ["dukcapil/layanan.csv", "../secrets/{period}.csv", "/etc/{period}.csv"])
def test_file_path_is_per_period_and_inside_the_landing_folder(tmp_path, path):
    data = yaml.safe_load(DUKCAPIL.read_text(encoding="utf-8"))
    data["source"]["path"] = path
    with pytest.raises(CatalogError, match=r"key 'source\.path'"):
        load_entry(_write(tmp_path, data, name="dukcapil_dokumen_bulanan"))


def test_file_source_names_the_period_file():
    entry = load_entry(DUKCAPIL)
    assert entry.source.file_for("2026-10") == "dukcapil/layanan_dukcapil_2026-10.csv"
    assert [f.name for f in entry.source.fields if f.name == "NIK"] == []  # NIK is never read


def test_chart_measure_must_be_a_numeric_column(tmp_path, permits):
    permits["ckan"]["chart"]["measure"] = "nama_kabupaten_kota"
    with pytest.raises(CatalogError, match=r"chart\.measure 'nama_kabupaten_kota' is not a numeric column"):
        load_entry(_write(tmp_path, permits))


def test_chart_lines_must_be_a_text_column(tmp_path, permits):
    permits["ckan"]["chart"]["by"] = "tahun"
    with pytest.raises(CatalogError, match=r"chart\.by 'tahun' is not a text column"):
        load_entry(_write(tmp_path, permits))
    permits["ckan"]["chart"]["by"] = "nama_kabupaten_kota"
    assert load_entry(_write(tmp_path, permits)).ckan.chart.by == "nama_kabupaten_kota"


def test_licence_defaults_to_the_deployment_setting(tmp_path, permits, monkeypatch):
    from satudata.publish.metadata import license_id

    del permits["ckan"]["license_id"]
    monkeypatch.setenv("SATUDATA_CKAN_LICENSE_ID", "cc-by-sa")
    assert license_id(load_entry(_write(tmp_path, permits))) == "cc-by-sa"


@pytest.mark.parametrize("schedule, period_columns, key", [
    ("annual", {"year": "tahun"}, "2024"),
    ("quarterly", {"year": "tahun", "quarter": "bulan"}, "2024-Q1"),
    ("weekly", {"year": "tahun", "week": "bulan"}, "2024-W05"),
])
def test_entry_with_a_new_schedule_loads(tmp_path, schedule, period_columns, key):
    from satudata.periods import CRON, Period

    text = PERMITS.read_text(encoding="utf-8")
    text = text.replace("schedule: monthly", f"schedule: {schedule}", 1)
    text = text.replace("period_columns: {year: tahun, month: bulan}", f"period_columns: {period_columns}", 1)
    path = tmp_path / PERMITS.name
    path.write_text(text, encoding="utf-8")
    entry = load_entry(path)
    assert entry.schedule == schedule and entry.period_columns == period_columns
    assert CRON[entry.schedule]
    assert Period.from_key(key, entry.schedule).key == key


def test_unknown_schedule_is_rejected(tmp_path, permits):
    permits["schedule"] = "yearly"
    with pytest.raises(CatalogError, match="schedule"):
        load_entry(_write(tmp_path, permits))


def test_bundled_entries_name_their_producer():
    for entry in load_catalog():
        assert entry.producer is not None and entry.producer.email, entry.id


@pytest.mark.parametrize("address", ["budi", "Budi <budi@dpmptsp.go.id>", "budi@localhost", "a..b@dinkes.go.id",
                                     "a@x.go.id, b@y.go.id", "budi@dinkes", " "])
def test_producer_email_is_checked_strictly(tmp_path, permits, address):
    permits["producer"] = {"name": "DPMPTSP", "email": [address]}
    with pytest.raises(CatalogError, match=r"key 'producer\.email(\[0\])?'.*not a valid e-mail address"):
        load_entry(_write(tmp_path, permits))


def test_producer_needs_a_way_to_be_reached(tmp_path, permits):
    permits["producer"] = {"name": "DPMPTSP Provinsi Kalimantan Timur"}
    with pytest.raises(CatalogError, match=r"key 'producer'.*at least one e-mail address or a webhook_conn_id"):
        load_entry(_write(tmp_path, permits))
    permits["producer"] = {"name": "DPMPTSP Provinsi Kalimantan Timur", "webhook_conn_id": "dpmptsp_notices"}
    assert load_entry(_write(tmp_path, permits)).producer.webhook_conn_id == "dpmptsp_notices"
    permits["producer"] = {"name": "DPMPTSP", "email": ["Izin@dpmptsp.go.id", "izin@dpmptsp.go.id"]}
    with pytest.raises(CatalogError, match="listed twice"):
        load_entry(_write(tmp_path, permits))


def test_walidata_addresses_are_a_checked_setting(monkeypatch):
    from satudata import settings

    monkeypatch.delenv("SATUDATA_WALIDATA_EMAIL", raising=False)
    assert settings.walidata_emails() == []
    monkeypatch.setenv("SATUDATA_WALIDATA_EMAIL", "walidata@diskominfo.kaltimprov.go.id, satudata@kaltimprov.go.id")
    assert settings.walidata_emails() == ["walidata@diskominfo.kaltimprov.go.id", "satudata@kaltimprov.go.id"]
    monkeypatch.setenv("SATUDATA_WALIDATA_EMAIL", "walidata@diskominfo; satudata@kaltimprov.go.id")
    with pytest.raises(ValueError, match="SATUDATA_WALIDATA_EMAIL"):
        settings.walidata_emails()
