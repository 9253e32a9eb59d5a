"""The Satu Data portal (ckanext-scheming + ckanext-dcat): a published dataset's DCAT, per dataset
and for the catalogue, checked against the DCAT-AP 3.0.1 SHACL shapes and their range shapes;
its page shows the Satu Data fields under Indonesian labels."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, datetime

import pytest
import requests
import yaml
from rdflib import RDF, RDFS, Graph, Namespace
from rdflib.namespace import SH

from devstack.airflow_cluster import free_port
from satudata.catalog import get_entry
from satudata.publish.ckan import SPDX_SHA256, extras_of
from tests.browser import CHROMIUM, Browser
from tests.conftest import REPO, sqlite_conn

pytestmark = pytest.mark.integration

DATASET = "dpmptsp_izin_terbit_bulanan"
STANDARD = "https://example.go.id/standar/kode-wilayah-administrasi"
SHAPES = REPO / "tests" / "data" / "dcat-ap-3.0.1"
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
DCT = Namespace("http://purl.org/dc/terms/")
# What remains, each traced to ckanext-dcat 2.4's euro_dcat_ap_3 profile (README, "DCAT"):
# beside the schema's contact point (vcard:Kind) it adds one from CKAN's maintainer fields typed
# vcard:Organization, never stating vcard:Kind, which only the vCard ontology's subclass
# statement links it to;
CONTACT_TYPE = {(str(DCAT.contactPoint), str(SH.ClassConstraintComponent))}
# and it describes the catalogue with the site's locale code as a literal language (not an EU
# language IRI), no publisher, and a homepage not typed foaf:Document.
CATALOG_RECORD = {(str(DCT.language), str(SH.NodeKindConstraintComponent)),
                  (str(DCT.language), str(SH.ClassConstraintComponent)),
                  (str(DCT.publisher), str(SH.MinCountConstraintComponent)),
                  (str(FOAF.homepage), str(SH.ClassConstraintComponent))}


@pytest.fixture(scope="module")
def published(tmp_path_factory, sample_sqlite, ckan_portal, airflow_db):
    """The licensing dataset published to the test portal, its catalog entry naming a standard by IRI."""
    status = requests.get(f"{ckan_portal['url']}/api/3/action/status_show", timeout=30).json()["result"]
    if "scheming_datasets" not in status["extensions"]:
        pytest.skip("the test portal runs without the Satu Data schema (ckanstack up --plain)")
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("dcat")
    catalog = root / "catalog"
    shutil.copytree(REPO / "catalog", catalog)
    path = catalog / f"{DATASET}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["ckan"]["conforms_to"] = [STANDARD]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    mp.setenv("SATUDATA_CATALOG_DIR", str(catalog))
    mp.setenv("SATUDATA_DATA_DIR", str(root / "data"))
    mp.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    mp.setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps(
        {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}))
    from airflow.dag_processing.dagbag import DagBag
    from ckanapi import NotFound, RemoteCKAN

    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    name = get_entry(DATASET).ckan.name
    try:
        client.action.dataset_purge(id=name)
    except NotFound:
        pass
    run = DagBag(dag_folder=str(REPO / "dags")).dags[DATASET].test(logical_date=datetime(2026, 11, 5, tzinfo=UTC))
    assert str(run.state) == "success"
    yield {"portal": ckan_portal, "client": client, "name": name}
    mp.undo()


def shapes() -> Graph:
    graph = Graph()
    for name in ("shapes.ttl", "range.ttl"):
        graph.parse(SHAPES / name, format="turtle")
    return graph


def violations(data: Graph, ontology: Graph | None = None) -> Counter:
    from pyshacl import validate

    _, report, _ = validate(data, shacl_graph=shapes(), ont_graph=ontology, inference="none", advanced=True)
    found: Counter = Counter()
    for result in report.subjects(SH.resultSeverity, SH.Violation):
        found[(str(report.value(result, SH.resultPath)), str(report.value(result, SH.sourceConstraintComponent)))] += 1
    return found


def fetched(portal: dict, path: str, fmt: str) -> Graph:
    answer = requests.get(f"{portal['url']}{path}", timeout=60)
    assert answer.status_code == 200, (path, answer.status_code)
    return Graph().parse(data=answer.text, format=fmt)


def vcard_ontology() -> Graph:
    """The one statement of the vCard ontology the contact point needs."""
    graph = Graph()
    graph.add((VCARD.Organization, RDFS.subClassOf, VCARD.Kind))
    return graph


def test_the_dataset_holds_schema_fields_not_free_extras(published):
    package = published["client"].action.package_show(id=published["name"])
    assert package["frekuensi_penerbitan"] == "Bulanan" and package["walidata"]
    assert package["satudata_versi"].startswith("sha256:")
    assert package["conforms_to"] == [STANDARD]
    assert package["temporal_coverage"] == [{"start": "2026-10-01", "end": "2026-10-31"}]
    assert package["spatial_coverage"] == [{"text": "Provinsi Kalimantan Timur"}]
    assert package.get("extras", []) == []  # every key the pipeline writes is a schema field
    assert extras_of(package)["satudata_last_run_status"] == "published"
    csv = next(r for r in package["resources"] if r["name"].endswith(".csv"))
    assert len(csv["hash"]) == 64 and csv["hash_algorithm"] == SPDX_SHA256
    assert csv["format"] == "http://publications.europa.eu/resource/authority/file-type/CSV"
    assert csv["mimetype"] == "https://www.iana.org/assignments/media-types/text/csv"


def test_files_keep_their_previews_under_eu_file_type_formats(published):
    client = published["client"]
    views = {r["name"]: {v["view_type"] for v in client.action.resource_view_list(id=r["id"])}
             for r in client.action.package_show(id=published["name"])["resources"]}
    assert views[f"{published['name']}.csv"] == {"datatables_view"}
    assert views["grafik-jumlah_izin_terbit.png"] == {"image_view"}
    assert views["datapackage.json"] == {"text_view"}


@pytest.mark.parametrize("path, fmt", [("/dataset/{name}.ttl", "turtle"), ("/dataset/{name}.jsonld", "json-ld")])
def test_the_dataset_s_dcat_meets_the_dcat_ap_3_shapes(published, path, fmt):
    graph = fetched(published["portal"], path.format(name=published["name"]), fmt)
    assert (None, RDF.type, DCAT.Dataset) in graph
    assert violations(graph) == Counter(dict.fromkeys(CONTACT_TYPE, 1))
    assert violations(graph, vcard_ontology()) == Counter()


# The catalogue endpoint, searched for the dataset: other tests leave bare datasets on the portal.
@pytest.mark.parametrize("path, fmt", [("/catalog.ttl?q=name:{name}", "turtle"),
                                       ("/catalog.jsonld?q=name:{name}", "json-ld")])
def test_the_catalogue_s_dcat_meets_the_shapes_but_for_ckanext_dcat_s_catalogue_record(published, path, fmt):
    graph = fetched(published["portal"], path.format(name=published["name"]), fmt)
    assert (None, RDF.type, DCAT.Catalog) in graph and (None, RDF.type, DCAT.Dataset) in graph
    assert set(violations(graph)) == CONTACT_TYPE | CATALOG_RECORD
    assert set(violations(graph, vcard_ontology())) == CATALOG_RECORD


def test_the_contact_left_is_the_one_ckanext_dcat_makes_from_the_maintainer(published):
    graph = fetched(published["portal"], f"/dataset/{published['name']}.ttl", "turtle")
    contacts = set(graph.objects(None, DCAT.contactPoint))
    kinds = {c for c in contacts if (c, RDF.type, VCARD.Kind) in graph}
    organizations = contacts - kinds
    entry = get_entry(DATASET)
    assert {str(graph.value(c, VCARD.fn)) for c in kinds} == {entry.ckan.extras["walidata"]}
    assert {str(graph.value(c, VCARD.fn)) for c in organizations} == {entry.ckan.maintainer}
    assert all((c, RDF.type, VCARD.Organization) in graph for c in organizations)


def test_the_checksum_names_its_algorithm(published):
    graph = fetched(published["portal"], f"/dataset/{published['name']}.ttl", "turtle")
    spdx = Namespace("http://spdx.org/rdf/terms#")
    algorithms = set(graph.objects(None, spdx.algorithm))
    assert algorithms == {spdx.checksumAlgorithm_sha256}
    assert all(len(str(v)) == 64 for v in graph.objects(None, spdx.checksumValue))


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)")
def test_the_dataset_page_shows_satu_data_fields_in_indonesian(published, tmp_path):
    browser = Browser(tmp_path / "profile", free_port())
    url = f"{published['portal']['url']}/dataset/{published['name']}"
    try:
        browser.goto(url)
        browser.wait("document.body && document.body.innerText.includes('Frekuensi penerbitan')")
        text = browser.js("document.body.innerText")
        browser.screenshot(tmp_path / "dataset-id.png")
        for label in ("Produsen data", "Walidata", "Frekuensi penerbitan", "Level penyajian", "Periode data",
                      "Versi data"):
            assert label in text, label
        assert "Kabupaten/Kota" in text and "Bulanan" in text
        # Pipeline internals are hidden; raw keys are not shown.
        assert "satudata_last_run_id" not in text and "frekuensi_penerbitan" not in text
        assert browser.js("document.documentElement.lang") == "id"
        browser.goto(url.replace("/dataset/", "/en/dataset/"))
        browser.wait("document.body && document.body.innerText.includes('Publication frequency')")
    finally:
        browser.close()


def test_the_english_pages_show_the_english_title_and_notes(published):
    entry = get_entry(DATASET)
    assert entry.ckan.title_en and entry.ckan.notes_en
    url = f"{published['portal']['url']}/dataset/{published['name']}"
    english = requests.get(url.replace("/dataset/", "/en/dataset/"), timeout=60)
    indonesian = requests.get(url, timeout=60)
    assert english.status_code == indonesian.status_code == 200
    notes_en, notes_id = " ".join(entry.ckan.notes_en.split()), " ".join(entry.ckan.notes.split())
    english_text, indonesian_text = " ".join(english.text.split()), " ".join(indonesian.text.split())
    assert entry.ckan.title_en in english_text and notes_en[:80] in english_text
    assert entry.ckan.title not in english_text and notes_id[:80] not in english_text
    assert entry.ckan.title in indonesian_text and notes_id[:80] in indonesian_text
    assert entry.ckan.title_en not in indonesian_text and notes_en[:80] not in indonesian_text
    # The API keeps the Indonesian title and notes, which the pipeline compares with its catalog
    # on every run: an English title there would make each re-run patch the dataset again.
    package = published["client"].action.package_show(id=published["name"])
    assert (package["title"], package["notes"]) == (entry.ckan.title, entry.ckan.notes.strip())
    assert (package["title_en"], package["notes_en"]) == (entry.ckan.title_en, entry.ckan.notes_en.strip())
