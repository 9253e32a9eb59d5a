"""The parsed-catalog cache: a parse of the DAG file reads YAML only for files whose bytes changed,
and the cache never changes what a catalog file says."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satudata import catalog
from satudata.catalog import CatalogError, _CatalogCache, load_catalog, load_entry
from tests.conftest import REPO


@pytest.fixture
def copy_of_catalog(tmp_path, monkeypatch):
    directory = tmp_path / "catalog"
    shutil.copytree(REPO / "catalog", directory)
    monkeypatch.setenv("SATUDATA_CACHE_DIR", str(tmp_path / "cache"))
    return directory


def test_the_second_load_parses_no_yaml_and_gives_the_same_entries(copy_of_catalog, monkeypatch):
    first = load_catalog(copy_of_catalog)
    assert [e.id for e in first] == sorted(p.stem for p in copy_of_catalog.glob("*.yaml"))
    cache_files = list((copy_of_catalog.parent / "cache").glob("catalog-*.json"))
    assert len(cache_files) == 1 and cache_files[0].stat().st_mode & 0o077 == 0

    def no_yaml(*args, **kwargs):
        raise AssertionError("YAML parsed although no file changed")

    monkeypatch.setattr(catalog, "_read_yaml", no_yaml)
    assert load_catalog(copy_of_catalog) == first


def test_a_changed_file_is_parsed_again_and_only_it(copy_of_catalog, monkeypatch):
    load_catalog(copy_of_catalog)
    path = copy_of_catalog / "dpmptsp_izin_terbit_bulanan.yaml"
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["ckan"]["title"] = "Judul baru"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    parsed = []
    real = catalog._read_yaml
    monkeypatch.setattr(catalog, "_read_yaml", lambda p, d=None: parsed.append(p.name) or real(p, d))
    entries = {e.id: e for e in load_catalog(copy_of_catalog)}
    assert parsed == [path.name]
    assert entries["dpmptsp_izin_terbit_bulanan"].ckan.title == "Judul baru"


def test_a_broken_or_foreign_cache_is_ignored(copy_of_catalog):
    expected = load_catalog(copy_of_catalog)
    (cache_file,) = (copy_of_catalog.parent / "cache").glob("catalog-*.json")
    for content in ("{not json", "[1, 2]", json.dumps({"0" * 64: {"id": "x"}})):
        cache_file.write_text(content, encoding="utf-8")
        assert load_catalog(copy_of_catalog) == expected


def test_an_unwritable_cache_only_costs_the_parse(copy_of_catalog, monkeypatch):
    monkeypatch.setenv("SATUDATA_CACHE_DIR", "/dev/null/cache")
    assert [e.id for e in load_catalog(copy_of_catalog)] == [e.id for e in load_catalog(REPO / "catalog")]


def test_errors_still_name_the_file_and_key(copy_of_catalog):
    load_catalog(copy_of_catalog)
    path = copy_of_catalog / "dpmptsp_izin_terbit_bulanan.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["ckan"]["titel"] = "typo"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"dpmptsp_izin_terbit_bulanan\.yaml: unknown key 'ckan\.titel'"):
        load_catalog(copy_of_catalog)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False),
    st.text(max_size=20), st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
)
keys = st.one_of(st.text(max_size=10), st.integers(-100, 100), st.booleans())
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(st.text(min_size=1, max_size=10), documents, max_size=5))
def test_what_the_cache_gives_back_is_what_the_yaml_says(tmp_path, monkeypatch, document):
    # Dates, numbers and booleans as keys do not survive JSON: such files are parsed every time.
    monkeypatch.setenv("SATUDATA_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "entry.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    expected = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = _CatalogCache(tmp_path)
    assert first.raw(path) == expected
    first.save()
    again = _CatalogCache(tmp_path)
    assert again.raw(path) == expected
    assert type(again.raw(path)) is type(expected)


def test_load_entry_of_one_file_is_unchanged():
    entry = load_entry(REPO / "catalog" / "dpmptsp_izin_terbit_bulanan.yaml")
    assert entry.id == "dpmptsp_izin_terbit_bulanan"
