"""The catalog loader: strict, typed, and precise about what is wrong and where."""

from pathlib import Path

import pytest
import yaml

from satudata.catalog import CatalogError, load_catalog, load_entry

REPO = Path(__file__).resolve().parent.parent
PERMITS = REPO / "catalog" / "dpmptsp_izin_terbit_bulanan.yaml"


def _write(tmp_path: Path, data: dict, name: str = "dpmptsp_izin_terbit_bulanan") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def permits() -> dict:
    return yaml.safe_load(PERMITS.read_text(encoding="utf-8"))


def test_bundled_catalog_loads():
    entries = load_catalog()
    assert [e.id for e in entries] == ["dpmptsp_izin_terbit_bulanan"]
    entry = entries[0]
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


def test_chart_measure_must_be_a_numeric_column(tmp_path, permits):
    permits["ckan"]["chart"]["measure"] = "nama_kabupaten_kota"
    with pytest.raises(CatalogError, match=r"chart\.measure 'nama_kabupaten_kota' is not a numeric column"):
        load_entry(_write(tmp_path, permits))


def test_licence_defaults_to_the_deployment_setting(tmp_path, permits, monkeypatch):
    from satudata.metadata import license_id

    del permits["ckan"]["license_id"]
    monkeypatch.setenv("SATUDATA_CKAN_LICENSE_ID", "cc-by-sa")
    assert license_id(load_entry(_write(tmp_path, permits))) == "cc-by-sa"
