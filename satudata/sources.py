"""The catalog's source models: where a dataset's rows come from and how each field is read.

An SQL query bounded by the run's interval, an agency JSON API read page by page, or an export
file (CSV, XLSX) per period or holding a history. Strict like the whole catalog: an unknown key
is an error naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from transforms.cells import PERIOD_FORMATS


class Strict(BaseModel):
    """A catalog model: unknown keys are errors, values never change once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceField(Strict):
    """A field the source must deliver; fields not declared are dropped when the input is read.

    For file and API sources a field may also map what the source writes to what is published:
    its published ``column`` name, a code list (``values``), how a month or year cell is
    written (``format``) and a ``default`` for empty or absent cells.
    """

    name: str = Field(description="Column header (file), record key (API) or column (SQL) as the source spells it.")
    type: Literal["string", "int64", "float64", "date"]
    required: bool = Field(True, description="An empty value is an error when true.")
    column: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$",
                               description="The published column (snake_case); default: the name as it is.")
    values: dict[str, str] | None = Field(
        None, min_length=1, description="Code list: each value the source writes -> the published label.")
    format: Literal[PERIOD_FORMATS] | None = Field(  # type: ignore[valid-type]
        None, description="How a month or year cell is written, by example: 'Januari 2024', 'Jan-24', "
        "'2024-01', '03/2024' or '2024'; the value is the period's first day.")
    default: str | int | float | None = Field(None, description="The value of an empty or absent cell.")

    @model_validator(mode="after")
    def _mapping_fits_the_type(self) -> SourceField:
        if self.format is not None and self.type != "date":
            raise ValueError(f"field {self.name!r}: a format reads months and years, so its type must be date")
        if self.values is not None and self.type != "string":
            raise ValueError(f"field {self.name!r}: a code list maps text, so its type must be string")
        return self

    @property
    def published(self) -> str:
        """The field's column in the staged rows and the published table."""
        return self.column or self.name

    @property
    def maps(self) -> bool:
        """True when the field maps values or names (not for SQL sources, which alias in the query)."""
        return any(v is not None for v in (self.column, self.values, self.format, self.default))


class SqlSource(Strict):
    """Rows read with one parameterised query bounded by the run's data interval."""

    kind: Literal["sql"]
    system: str = Field(description="Name of the agency system, recorded as provenance.")
    conn_id: str = Field(description="Airflow connection of the source database.")
    query: str = Field(description="SQL with :start and :end bind parameters (end exclusive).")
    fields: list[SourceField] = Field(
        min_length=1, description="The columns the query returns that the transform reads, with their types.")

    @field_validator("fields")
    @classmethod
    def _sql_fields_only_declare(cls, fields: list[SourceField]) -> list[SourceField]:
        mapped = [f.name for f in fields if f.maps]
        if mapped:
            raise ValueError(f"SQL fields {mapped} use column/values/format/default: write that in the query")
        return fields

    @field_validator("query")
    @classmethod
    def _bounded_by_interval(cls, query: str) -> str:
        if ":start" not in query or ":end" not in query:
            raise ValueError("the query must use the :start and :end bind parameters")
        return query

    @property
    def origin(self) -> str:
        return f"connection `{self.conn_id}`"


class PagePagination(Strict):
    """Numbered pages: ``?page=1&per_page=100`` until a page comes back short or empty."""

    style: Literal["page"]
    page_param: str = "page"
    size_param: str = "per_page"
    page_size: int = Field(100, ge=1, le=10_000)


class CursorPagination(Strict):
    """Opaque cursors: each answer names the cursor of the next page, none on the last page."""

    style: Literal["cursor"]
    cursor_param: str = "cursor"
    next_cursor_key: str = Field("next_cursor", description="Key of the answer holding the next cursor.")
    size_param: str = "limit"
    page_size: int = Field(100, ge=1, le=10_000)


class IntervalParams(Strict):
    """Query parameters that bound a request to the run's interval (ISO dates, end exclusive)."""

    start: str
    end: str


class RestSource(Strict):
    """Records read from an agency JSON API, page by page, for the run's data interval."""

    kind: Literal["rest"]
    system: str = Field(description="Name of the agency system, recorded as provenance.")
    conn_id: str = Field(description="Airflow connection: host = API base URL; login/password or token.")
    endpoint: str = Field(pattern=r"^/", description="Path under the connection's base URL.")
    interval_params: IntervalParams
    pagination: Annotated[PagePagination | CursorPagination, Field(discriminator="style")]
    records_key: str = Field(description="Key of the answer holding the list of records.")
    fields: list[SourceField] = Field(min_length=1)

    @property
    def origin(self) -> str:
        return f"connection `{self.conn_id}`, `{self.endpoint}`"


class FileSource(Strict):
    """An export file (CSV or XLSX), one per period, dropped in the landing folder or fetched over HTTP."""

    kind: Literal["file"]
    system: str = Field(description="Name of the agency system, recorded as provenance.")
    format: Literal["csv", "xlsx"]
    history: bool = Field(False, description="One file holds many periods; each run takes its period's rows.")
    path: str = Field(
        pattern=r"^[^/]",
        description="Path under the landing folder with {period} for the period key, e.g. dukcapil/{period}.csv "
        "(a history file has one path for every period).",
    )
    conn_id: str | None = Field(
        None,
        description="Fetch the file over HTTP from this connection's base URL + path, not the landing folder.",
    )
    sheet: str | None = Field(None, description="XLSX sheet to read (default: the first).")
    number_format: Literal["indonesian", "plain"] = Field(
        "indonesian", description="indonesian: 1.234,5 (thousands dot, decimal comma); plain: 1234.5."
    )
    fields: list[SourceField] = Field(min_length=1)
    period_field: str | None = Field(
        None, description="The field holding each row's period (a date field, usually with a format): a row "
        "outside the run's period is an error, or with history, is left to the run of its own period.")

    @model_validator(mode="after")
    def _period_field_is_a_date(self) -> FileSource:
        fields = {f.name: f for f in self.fields}
        if self.period_field is not None and (self.period_field not in fields
                                              or fields[self.period_field].type != "date"):
            raise ValueError(f"period_field {self.period_field!r} must name a date field of the source")
        if self.history and self.period_field is None:
            raise ValueError("a history file needs period_field: the field that holds each row's period")
        return self

    @field_validator("path")
    @classmethod
    def _stays_in_landing(cls, path: str, info: ValidationInfo) -> str:
        if ".." in Path(path).parts:
            raise ValueError("the path must stay inside the landing folder")
        if not info.data.get("history") and "{period}" not in path:
            raise ValueError("the path needs {period} (or the source is a history file: history: true)")
        return path

    @property
    def origin(self) -> str:
        if self.conn_id:
            return f"connection `{self.conn_id}`, file `{self.path}`"
        return f"landing file `{self.path}`"

    def file_for(self, period_key: str) -> str:
        return self.path.replace("{period}", period_key)


Source = Annotated[SqlSource | RestSource | FileSource, Field(discriminator="kind")]
