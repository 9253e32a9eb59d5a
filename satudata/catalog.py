"""The dataset catalog: one YAML file per dataset, loaded into typed, strict models.

Datasets are data; behaviour (readers, transforms) is Python chosen by name from a closed
registry, so a typo in a catalog file is an error with the file and key, never a silent no-op.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from satudata import settings
from satudata.periods import Schedule

ColumnType = Literal["string", "int64", "float64", "date", "bool"]


class CatalogError(ValueError):
    """A catalog file is missing, unreadable or does not match the catalog schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SqlSource(_Strict):
    """Rows read with one parameterised query bounded by the run's data interval."""

    kind: Literal["sql"]
    system: str = Field(description="Name of the agency system, recorded as provenance.")
    conn_id: str = Field(description="Airflow connection of the source database.")
    query: str = Field(description="SQL with :start and :end bind parameters (end exclusive).")

    @field_validator("query")
    @classmethod
    def _bounded_by_interval(cls, query: str) -> str:
        if ":start" not in query or ":end" not in query:
            raise ValueError("the query must use the :start and :end bind parameters")
        return query


class Column(_Strict):
    name: str
    type: ColumnType
    description: str
    unit: str | None = None


class TableSchema(_Strict):
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


class Organization(_Strict):
    name: str
    title: str
    description: str = ""


class CkanMetadata(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_-]{2,100}$")
    title: str
    notes: str
    organization: Organization
    license_id: str = "cc-by"
    tags: list[str] = []
    maintainer: str
    maintainer_email: str | None = None
    extras: dict[str, str] = {}


PersonalDataKind = Literal["nik", "no_kk", "nip", "npwp", "telepon", "email"]


class PersonalDataAllowance(_Strict):
    """A column whose look-alikes of one personal-data kind are known not to be personal data."""

    column: str
    kind: PersonalDataKind
    reason: str = Field(min_length=10, description="Why these values are not personal data.")


class SmallCellSuppression(_Strict):
    """Counts from 1 to k are emptied before publication (see satudata.suppression)."""

    k: int = Field(ge=1, le=20)
    columns: list[str] = Field(min_length=1, description="Count columns checked against 1..k.")
    also_blank: list[str] = Field(default=[], description="Columns emptied in the same rows.")


class DatasetEntry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    schedule: Schedule
    source: SqlSource
    transform: str = Field(description="Name of a function in transforms.REGISTRY.")
    period_columns: dict[str, str] = Field(
        description="How a row names its period, e.g. {year: tahun, month: bulan}."
    )
    table: TableSchema = Field(alias="schema")
    ckan: CkanMetadata
    owner: str = "satudata"
    personal_data_allow: list[PersonalDataAllowance] = []
    suppression: SmallCellSuppression | None = None

    @model_validator(mode="before")
    @classmethod
    def _suppression_in_metadata(cls, data: object) -> object:
        # The public must know that an empty count means 1..k: the catalog says it in the extras.
        if isinstance(data, dict) and isinstance(data.get("suppression"), dict) and isinstance(data.get("ckan"), dict):
            from satudata.suppression import suppression_note

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
        named = [a.column for a in self.personal_data_allow]
        if self.suppression:
            named += self.suppression.columns + self.suppression.also_blank
            counts = [c.name for c in self.table.columns if c.name in self.suppression.columns and c.type != "int64"]
            if counts:
                raise ValueError(f"suppression columns must be int64 counts: {counts}")
        unknown = sorted(set(named) - names)
        if unknown:
            raise ValueError(f"personal_data_allow/suppression name unknown columns: {unknown}")
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


def _location(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def load_entry(path: Path) -> DatasetEntry:
    """Load one catalog file; errors name the file and the offending key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read catalog file: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: a catalog file must be a mapping of keys")
    try:
        entry = DatasetEntry.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = _location(err["loc"])
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
