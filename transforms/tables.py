"""Conform a frame to its declared schema and write it as Parquet and CSV."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


class ColumnSpec(Protocol):
    name: str
    type: str
    description: str
    unit: str | None


class SchemaMismatch(ValueError):
    """A frame does not have the declared columns or a value does not fit its declared type."""


_ARROW_TYPES = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "date": pa.date32(),
    "bool": pa.bool_(),
}

# Text cells starting with these run as formulas in spreadsheets (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def source_columns(raw: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy of the source columns a transform needs; KeyError names any that are missing."""
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise KeyError(f"source rows lack column(s) {missing}")
    return raw[list(columns)].copy()


def arrow_schema(columns: Sequence[ColumnSpec]) -> pa.Schema:
    """The Arrow schema of the declared columns, with descriptions and units as field metadata."""
    fields = []
    for c in columns:
        meta = {"description": c.description}
        if c.unit:
            meta["unit"] = c.unit
        fields.append(pa.field(c.name, _ARROW_TYPES[c.type], metadata=meta))
    return pa.schema(fields)


def _first_bad(original: pd.Series, converted: pd.Series) -> int:
    bad = converted.isna() & original.notna()
    return int(bad.to_numpy().nonzero()[0][0])


def conform(frame: pd.DataFrame, columns: Sequence[ColumnSpec], source: str = "frame") -> pd.DataFrame:
    """Return ``frame`` with exactly the declared columns, in order, cast to the declared types.

    Raises SchemaMismatch naming ``source``, the row (1-based) and the column of the first
    value that does not fit.
    """
    names = [c.name for c in columns]
    missing = [n for n in names if n not in frame.columns]
    extra = [n for n in frame.columns if n not in names]
    if missing or extra:
        raise SchemaMismatch(f"{source}: columns differ from the schema: missing {missing}, unexpected {extra}")
    out = {}
    for c in columns:
        col = frame[c.name]
        if c.type == "string":
            converted = col.astype("string")
        elif c.type in ("int64", "float64"):
            converted = pd.to_numeric(col, errors="coerce")
            if c.type == "int64":
                whole = converted.dropna()
                if not (whole == whole.round()).all():
                    row = int((converted != converted.round()).to_numpy().nonzero()[0][0])
                    raise SchemaMismatch(
                        f"{source}: row {row + 1}, column '{c.name}': {col.iloc[row]!r} is not a whole number"
                    )
                converted = converted.astype("Int64")
            else:
                converted = converted.astype("float64")
        elif c.type == "date":
            converted = pd.to_datetime(col, errors="coerce").dt.date
            converted = converted.where(pd.notna(converted), None)
        else:
            converted = col.astype("boolean")
        if c.type != "string" and (converted.isna() & col.notna()).any():
            row = _first_bad(col, converted)
            raise SchemaMismatch(
                f"{source}: row {row + 1}, column '{c.name}': {col.iloc[row]!r} is not a {c.type}"
            )
        out[c.name] = converted
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def to_arrow(frame: pd.DataFrame, columns: Sequence[ColumnSpec], table_meta: dict | None = None) -> pa.Table:
    schema = arrow_schema(columns)
    if table_meta:
        schema = schema.with_metadata({"satudata": json.dumps(table_meta, ensure_ascii=False)})
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def write_parquet(frame: pd.DataFrame, columns: Sequence[ColumnSpec], path: Path,
                  table_meta: dict | None = None) -> Path:
    """Write ``frame`` as Parquet with the declared types and column descriptions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    pq.write_table(to_arrow(frame, columns, table_meta), tmp, compression="zstd")
    tmp.replace(path)
    return path


def read_parquet(path: Path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas(types_mapper=_nullable_types)


def _nullable_types(arrow_type: pa.DataType):
    if arrow_type == pa.int64():
        return pd.Int64Dtype()
    if arrow_type == pa.string():
        return pd.StringDtype()
    return None


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_string_dtype(out[name]) and not pd.api.types.is_numeric_dtype(out[name]):
            col = out[name]
            risky = col.notna() & col.astype("string").str.startswith(_FORMULA_PREFIXES).fillna(False)
            if risky.any():
                out[name] = col.mask(risky, "'" + col.astype("string"))
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write the public CSV: UTF-8, header row, '\\n' line ends, formulas neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    neutralise_formulas(frame).to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    tmp.replace(path)
    return path
