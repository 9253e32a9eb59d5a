"""The dataset catalog: one YAML file per dataset, loaded into typed, strict models.

Datasets are data; behaviour (readers, transforms) is Python chosen by name from a closed
registry, so a typo in a catalog file is an error with the file and key, never a silent no-op.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from satudata import settings
from satudata.periods import Schedule
from satudata.sources import Source, Strict
from transforms.writing import write_text

log = logging.getLogger(__name__)

ColumnType = Literal["string", "int64", "float64", "date", "bool"]


# libyaml's safe loader parses ~9x faster than the pure-Python one: the DAG factory reads
# every catalog file at each parse.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(ValueError):
    """A catalog file is missing, unreadable or does not match the catalog schema."""


class Column(Strict):
    name: str
    type: ColumnType
    description: str
    unit: str | None = None


class TableSchema(Strict):
    columns: list[Column]
    primary_key: list[str]

    @model_validator(mode="after")
    def _keys_are_columns(self) -> TableSchema:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("column names must be unique")
        missing = [k for k in self.primary_key if k not in names]
        if missing:
            raise ValueError(f"primary_key names unknown columns: {missing}")
        return self

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


class Organization(Strict):
    name: str
    title: str
    description: str = ""


class Chart(Strict):
    """The chart published with the dataset: one measure per period, one line per group or one total.

    A dataset whose catalog names none gets ``satudata.publish.chart_choice.default_chart``.
    """

    measure: str = Field(description="A numeric column of the schema.")
    aggregate: Literal["sum", "mean"] = Field(
        "sum", description="How the rows of one period combine: sum for counts, mean for rates."
    )
    title: str | None = None
    by: str | None = Field(
        None, description="A text column: one line per value (the largest 9, the rest as Lainnya); none: one line."
    )


class CkanMetadata(Strict):
    name: str = Field(pattern=r"^[a-z0-9_-]{2,100}$")
    title: str
    notes: str
    title_en: str | None = Field(None, min_length=1,
                                 description="English title, shown on the portal's English pages (/en/).")
    notes_en: str | None = Field(None, min_length=1,
                                 description="English description, shown on the portal's English pages.")
    organization: Organization
    license_id: str | None = Field(None, description="CKAN licence id; SATUDATA_CKAN_LICENSE_ID when absent.")
    tags: list[str] = []
    maintainer: str
    maintainer_email: str | None = None
    extras: dict[str, str] = {}
    conforms_to: list[str] = Field([], description="IRIs of the standards the data follows (DCAT conformsTo); "
                                   "a standard without an IRI is named in the extra `rujukan`.")
    spatial_uri: str | None = Field(None, description="URI of the area covered (DCAT spatial).")
    chart: Chart | None = None

    @field_validator("conforms_to")
    @classmethod
    def _standards_are_iris(cls, value: list[str]) -> list[str]:
        for i, iri in enumerate(value):
            if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", iri):
                raise ValueError(f"item {i + 1} is not an http(s) IRI: DCAT-AP wants a standard's IRI here; "
                                 "name a standard that has none in the extra `rujukan`")
        return value


PersonalDataKind = Literal["nik", "no_kk", "nip", "npwp", "telepon", "email"]


class PersonalDataAllowance(Strict):
    """A column whose look-alikes of one personal-data kind are known not to be personal data."""

    column: str
    kind: PersonalDataKind
    reason: str = Field(min_length=10, description="Why these values are not personal data.")


class PersonalDataForbidden(Strict):
    """A text column that must never hold people's names or street addresses.

    The scan flags text columns whose values look like names (honorifics, degrees, two to four
    capitalised words that name no place or institution) or addresses (``Jl.``, ``Gg.``, RT/RW).
    That is a heuristic, so elsewhere it is a warning in the report; in a column named here it
    blocks publication like a NIK does.
    """

    column: str
    kinds: list[Literal["nama", "alamat"]] = Field(
        default=["nama", "alamat"], min_length=1, description="nama (people's names), alamat (street addresses)."
    )


class SmallCellSuppression(Strict):
    """Counts from 1 to k are emptied before publication (see satudata.gate.suppression)."""

    k: int = Field(ge=1, le=20)
    columns: list[str] = Field(min_length=1, description="Count columns checked against 1..k.")
    also_blank: list[str] = Field(default=[], description="Columns emptied in the same rows.")


class RegionColumns(Strict):
    """A source field naming the region of each row: the step adds its Kemendagri code and official name.

    Names are matched as agencies write them (``Kab. Kutai Kartanegara``, ``KUKAR``, ``Samarinda``);
    codes in the declared system (BPS numbers four regencies differently). See transforms.reference.
    """

    source: str = Field(description="The declared source field holding the region, e.g. Kabupaten/Kota.")
    match: Literal["name", "kemendagri", "bps"] = Field(
        description="What the field holds: a name, a Kemendagri code (64.72) or a BPS code (6472).")
    code_column: str = Field("kode_kabupaten_kota", description="Schema column for the Kemendagri code.")
    name_column: str = Field("nama_kabupaten_kota", description="Schema column for the official name.")


class Delivery(Strict):
    """When the agency must have delivered a period: its deadline, counted from the period's last day.

    Without this section the schedule's default applies (``satudata.delivery.DEFAULT_DAYS_AFTER_PERIOD``:
    monthly 10 days). The delivery monitor marks a dataset *terlambat* once a deadline has passed
    without the period published.
    """

    days_after_period: int = Field(
        strict=True, ge=0, le=366,
        description="Days after the period's last day by which the period must be published.")


class FinalPeriods(Strict):
    """Which periods' figures are final (``tetap``); the others are provisional (``sementara``).

    Shown per period in the revision log (Catatan Revisi). A final period may still be revised
    (a correction): the log then shows a revision of a ``tetap`` period.
    """

    after: int | None = Field(None, ge=0, description=(
        "A period is final once this many later periods have ended too (0: as soon as it ends)."))
    periods: list[str] = Field([], description="Period keys declared final, e.g. 2025-12.")
def valid_email(address: str) -> str:
    """``address`` if it is one well-formed e-mail address (no display name, no list), else ValueError."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"{address!r} is not a valid e-mail address: {exc}") from None


class Producer(Strict):
    """The agency that produces the dataset (Produsen Data): who must fix its export when a run fails.

    Told in Indonesian when a run of the dataset is blocked by the gate, quarantined, or cannot
    read its source (``satudata.notices``), by e-mail, by its own webhook, or both; the walidata
    is not this contact (``SATUDATA_WALIDATA_EMAIL``) and gets the weekly digest instead.
    """

    name: str = Field(min_length=3, description="The agency as people call it, e.g. DPMPTSP Provinsi Kalimantan Timur.")
    email: list[str] = Field(default=[], description="Addresses of the people who fix the agency's export.")
    webhook_conn_id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]{1,250}$",
        description="Airflow connection (host = URL) that receives the same notice as JSON.")

    @field_validator("email")
    @classmethod
    def _addresses(cls, addresses: list[str]) -> list[str]:
        normalized = [valid_email(a) for a in addresses]
        if len({a.lower() for a in normalized}) != len(normalized):
            raise ValueError("an address is listed twice")
        return normalized

    @model_validator(mode="after")
    def _reachable(self) -> Producer:
        if not self.email and not self.webhook_conn_id:
            raise ValueError("name at least one e-mail address or a webhook_conn_id")
        return self


class DatasetEntry(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    schedule: Schedule
    source: Source
    transform: str = Field(description="Name of a function in transforms.REGISTRY.")
    period_columns: dict[str, str] = Field(
        description="How a row names its period, e.g. {year: tahun, month: bulan}."
    )
    table: TableSchema = Field(alias="schema")
    ckan: CkanMetadata
    owner: str = "satudata"
    personal_data_allow: list[PersonalDataAllowance] = []
    personal_data_forbid: list[PersonalDataForbidden] = []
    suppression: SmallCellSuppression | None = None
    region: RegionColumns | None = None
    delivery: Delivery | None = None
    final_periods: FinalPeriods | None = None
    producer: Producer | None = None

    @model_validator(mode="before")
    @classmethod
    def _suppression_in_metadata(cls, data: object) -> object:
        # The public must know that an empty count means 1..k: the catalog says it in the extras.
        if isinstance(data, dict) and isinstance(data.get("suppression"), dict) and isinstance(data.get("ckan"), dict):
            from satudata.gate.suppression import suppression_note

            try:
                rule = SmallCellSuppression.model_validate(data["suppression"])
            except ValidationError:
                return data  # reported with its key when the field itself is validated
            ckan = dict(data["ckan"])
            ckan["extras"] = {**(ckan.get("extras") or {}), "penyamaran_sel_kecil": suppression_note(rule)}
            data = {**data, "ckan": ckan}
        return data

    @model_validator(mode="after")
    def _gate_columns_exist(self) -> DatasetEntry:
        names = set(self.table.column_names)
        named = [a.column for a in self.personal_data_allow] + [f.column for f in self.personal_data_forbid]
        if self.suppression:
            named += self.suppression.columns + self.suppression.also_blank
            counts = [c.name for c in self.table.columns if c.name in self.suppression.columns and c.type != "int64"]
            if counts:
                raise ValueError(f"suppression columns must be int64 counts: {counts}")
        unknown = sorted(set(named) - names)
        if unknown:
            raise ValueError(f"personal_data_allow/personal_data_forbid/suppression name unknown columns: {unknown}")
        return self

    @model_validator(mode="after")
    def _final_periods_are_periods(self) -> DatasetEntry:
        from satudata.periods import Period

        for key in self.final_periods.periods if self.final_periods else []:
            Period.from_key(key, self.schedule)  # PeriodKeyError (a ValueError) names the key and the form
        return self

    @model_validator(mode="after")
    def _chart_measure_is_numeric(self) -> DatasetEntry:
        chart = self.ckan.chart
        if chart is not None:
            types = {c.name: c.type for c in self.table.columns}
            if types.get(chart.measure) not in ("int64", "float64"):
                raise ValueError(f"ckan.chart.measure {chart.measure!r} is not a numeric column of the schema")
            if chart.by is not None and types.get(chart.by) != "string":
                raise ValueError(f"ckan.chart.by {chart.by!r} is not a text column of the schema")
        return self

    @model_validator(mode="after")
    def _region_columns_exist(self) -> DatasetEntry:
        region = self.region
        if region is None:
            return self
        fields = {f.name: f.type for f in self.source.fields}
        allowed = ("string", "int64") if region.match == "bps" else ("string",)
        if fields.get(region.source) not in allowed:
            raise ValueError(f"region.source {region.source!r} is not a declared source field of type "
                             f"{' or '.join(allowed)}")
        types = {c.name: c.type for c in self.table.columns}
        for key, column in (("code_column", region.code_column), ("name_column", region.name_column)):
            if types.get(column) != "string":
                raise ValueError(f"region.{key} {column!r} is not a string column of the schema")
            if column in fields and column != region.source:
                raise ValueError(f"region.{key} {column!r} would overwrite the source field of that name")
        if region.code_column == region.name_column:
            raise ValueError("region.code_column and region.name_column must differ")
        return self

    @field_validator("transform")
    @classmethod
    def _known_transform(cls, name: str) -> str:
        from transforms import REGISTRY

        if name not in REGISTRY:
            raise ValueError(f"unknown transform {name!r}; known: {sorted(REGISTRY)}")
        return name

    def suite_path(self) -> Path:
        return settings.expectations_dir() / f"{self.id}.json"


def _location(loc: tuple[int | str, ...], raw: object) -> str:
    """The YAML path of an error; tags pydantic inserts for a union (``source.rest``) are left out."""
    out, node = "", raw
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if isinstance(node, dict) and part not in node and i < len(loc) - 1:
            continue  # a union tag, not a key of the file
        out += f".{part}" if out else str(part)
        node = node.get(part) if isinstance(node, dict) else None
    return out or "<top level>"


def _read_yaml(path: Path, data: bytes | None = None) -> Any:
    try:
        text = (path.read_bytes() if data is None else data).decode("utf-8")
        return yaml.load(text, Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read catalog file: {exc}") from exc


def load_entry(path: Path) -> DatasetEntry:
    """Load one catalog file; errors name the file and the offending key."""
    return _validated(path, _read_yaml(path))


def _validated(path: Path, raw: Any) -> DatasetEntry:
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: a catalog file must be a mapping of keys")
    try:
        entry = DatasetEntry.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = _location(err["loc"], raw)
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown key '{key}'")
            elif err["type"] == "missing":
                problems.append(f"missing key '{key}'")
            else:
                problems.append(f"key '{key}': {err['msg']}")
        raise CatalogError(f"{path}: " + "; ".join(problems)) from None
    if entry.id != path.stem:
        raise CatalogError(f"{path}: key 'id' is {entry.id!r} but the file is named {path.stem!r}")
    return entry


def load_catalog(directory: Path | None = None) -> list[DatasetEntry]:
    """Every dataset of the catalog, in file-name order.

    The DAG file calls this at every parse. Building YAML's Python objects is most of the cost
    of a catalog (about 1.3 ms a file), so the parsed files are kept in a JSON cache keyed by
    each file's SHA-256 (``settings.cache_dir()``): a parse reads and hashes every file, and
    parses again only the files whose bytes changed. Every entry is validated each time.
    """
    directory = directory or settings.catalog_dir()
    paths = sorted(directory.glob("*.yaml"))
    cache = _CatalogCache(directory)
    entries = [_validated(path, cache.raw(path)) for path in paths]
    cache.save()
    return entries


def _json_exact(value: Any) -> bool:
    """True when JSON gives ``value`` back exactly: mappings keyed by text, lists, text, finite numbers."""
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_json_exact(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _json_exact(item) for key, item in value.items())
    return False


class _CatalogCache:
    """Parsed catalog files by the SHA-256 of their bytes, in one JSON file of an owner-only folder.

    JSON, never pickle: the cache can hold nothing but data. A file whose parsed YAML does not
    survive JSON unchanged (a date, a number used as a key) is parsed every time instead. An
    unreadable or unwritable cache only costs the parse it would have saved.
    """

    def __init__(self, directory: Path) -> None:
        name = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
        self.path = settings.cache_dir() / f"catalog-{name}.json"
        try:
            loaded = json.loads(self.path.read_bytes())
            self.known: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            self.known = {}
        self.used: dict[str, Any] = {}

    def raw(self, path: Path) -> Any:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CatalogError(f"{path}: cannot read catalog file: {exc}") from exc
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.known:
            self.used[digest] = self.known[digest]
            return self.known[digest]
        raw = _read_yaml(path, data)
        if _json_exact(raw):
            self.used[digest] = raw
        return raw

    def save(self) -> None:
        if self.used.keys() == self.known.keys():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_text(self.path, json.dumps(self.used), private=True)
        except OSError as exc:
            log.debug("catalog cache %s not written: %s", self.path, exc)


def get_entry(dataset_id: str, directory: Path | None = None) -> DatasetEntry:
    directory = directory or settings.catalog_dir()
    path = directory / f"{dataset_id}.yaml"
    if not path.exists():
        raise CatalogError(f"{path}: no catalog file for dataset {dataset_id!r}")
    return load_entry(path)
