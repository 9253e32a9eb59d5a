"""The dataset catalog: one YAML file per dataset, loaded into typed, strict models.

Datasets are data; behaviour (readers, transforms) is Python chosen by name from a closed
registry, so a typo in a catalog file is an error with the file and key, never a silent no-op.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from satudata import settings
from satudata.periods import Schedule
from satudata.sources import Source, Strict

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
    organization: Organization
    license_id: str | None = Field(None, description="CKAN licence id; SATUDATA_CKAN_LICENSE_ID when absent.")
    tags: list[str] = []
    maintainer: str
    maintainer_email: str | None = None
    extras: dict[str, str] = {}
    conforms_to: list[str] = Field([], description="Standards or methods the data follows (DCAT conformsTo).")
    spatial_uri: str | None = Field(None, description="URI of the area covered (DCAT spatial).")
    chart: Chart | None = None


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


class FinalPeriods(Strict):
    """Which periods' figures are final (``tetap``); the others are provisional (``sementara``).

    Shown per period in the revision log (Catatan Revisi). A final period may still be revised
    (a correction): the log then shows a revision of a ``tetap`` period.
    """

    after: int | None = Field(None, ge=0, description=(
        "A period is final once this many later periods have ended too (0: as soon as it ends)."))
    periods: list[str] = Field([], description="Period keys declared final, e.g. 2025-12.")


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
    final_periods: FinalPeriods | None = None

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


def load_entry(path: Path) -> DatasetEntry:
    """Load one catalog file; errors name the file and the offending key."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read catalog file: {exc}") from exc
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
    """Every dataset of the catalog, in file-name order."""
    directory = directory or settings.catalog_dir()
    return [load_entry(p) for p in sorted(directory.glob("*.yaml"))]


def get_entry(dataset_id: str, directory: Path | None = None) -> DatasetEntry:
    directory = directory or settings.catalog_dir()
    path = directory / f"{dataset_id}.yaml"
    if not path.exists():
        raise CatalogError(f"{path}: no catalog file for dataset {dataset_id!r}")
    return load_entry(path)
