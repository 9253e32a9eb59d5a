"""Conform a frame to its declared schema and write it as Parquet and CSV."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.limits import masked


class ColumnSpec(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def unit(self) -> str | None: ...


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


def conform(frame: pd.DataFrame, columns: Sequence[ColumnSpec], source: str = "frame",
            drop_extra: bool = False) -> pd.DataFrame:
    """Return ``frame`` with exactly the declared columns, in order, cast to the declared types.

    The declared columns are the catalog schema's: a transform's output is conformed with
    ``drop_extra``, so its working columns are left out and it names its published columns
    nowhere else. Raises SchemaMismatch naming ``source``, the row (1-based) and the column of
    the first value that does not fit, and the value's shape (never the value).
    """
    names = [c.name for c in columns]
    missing = [n for n in names if n not in frame.columns]
    extra = [] if drop_extra else [n for n in frame.columns if n not in names]
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
                        f"{source}: row {row + 1}, column '{c.name}': {masked(col.iloc[row])} is not a whole number"
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
                f"{source}: row {row + 1}, column '{c.name}': {masked(col.iloc[row])} is not a {c.type}"
            )
        out[c.name] = converted
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def to_arrow(frame: pd.DataFrame | pa.Table, columns: Sequence[ColumnSpec],
             table_meta: dict[str, Any] | None = None) -> pa.Table:
    """``frame`` with the declared types; a table keeps the pandas metadata of the file it was read from."""
    schema = arrow_schema(columns)
    if table_meta:
        schema = schema.with_metadata({"satudata": json.dumps(table_meta, ensure_ascii=False)})
    if isinstance(frame, pa.Table):
        # The pandas metadata (dtypes read_parquet restores) is what from_pandas would write again
        # for the frame read from that file; without it, only pandas can say what it would be.
        pandas_meta = (frame.schema.metadata or {}).get(b"pandas")
        if pandas_meta is not None:
            table = frame.select(schema.names).cast(schema)
            return table.replace_schema_metadata({**(schema.metadata or {}), b"pandas": pandas_meta})
        frame = to_frame(frame)
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


def write_parquet(frame: pd.DataFrame | pa.Table, columns: Sequence[ColumnSpec], path: Path,
                  table_meta: dict[str, Any] | None = None) -> Path:
    """Write ``frame`` (pandas or Arrow) as Parquet with the declared types and column descriptions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    pq.write_table(to_arrow(frame, columns, table_meta), tmp, compression="zstd")
    tmp.replace(path)
    return path


def has_schema(path: Path, columns: Sequence[ColumnSpec]) -> bool:
    """True when the Parquet file at ``path`` holds exactly the declared columns, types and descriptions."""
    same: bool = pq.read_schema(path).remove_metadata().equals(arrow_schema(columns), check_metadata=True)
    return same


def read_table(path: Path, columns: Sequence[ColumnSpec]) -> pa.Table:
    """A Parquet file as Arrow with the declared columns and types (and its pandas metadata)."""
    schema = arrow_schema(columns)
    table = pq.read_table(path, columns=schema.names)
    pandas_meta = (table.schema.metadata or {}).get(b"pandas")
    return table.cast(schema).replace_schema_metadata({b"pandas": pandas_meta} if pandas_meta else None)


def sort_rows(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """``table`` sorted by ``keys`` (nulls last, stable); rows already in order are not copied."""
    import pyarrow.compute as pc

    if table.num_rows > 1 and all(table.column(k).null_count == 0 for k in keys):
        # Row i is in order with row i+1 when it is smaller on a key and equal on the keys before it.
        in_order = None
        for key in reversed(keys):
            column = table.column(key)
            if pa.types.is_floating(column.type) and pc.any(pc.is_nan(column)).as_py():
                break  # NaN orders apart from comparisons: let sort_by decide
            before, after = column.slice(0, table.num_rows - 1), column.slice(1)
            less, equal = pc.less(before, after), pc.equal(before, after)
            in_order = pc.or_(less, equal) if in_order is None else pc.or_(less, pc.and_(equal, in_order))
        else:
            if pc.all(in_order).as_py():
                return table
    return table.sort_by([(k, "ascending") for k in keys])


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow as pandas the way read_parquet gives it (nullable integers and strings)."""
    return table.to_pandas(types_mapper=_nullable_types)


def read_parquet(path: Path) -> pd.DataFrame:
    return to_frame(pq.read_table(path))


def _nullable_types(arrow_type: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
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


def write_csv(frame: pd.DataFrame | pa.Table, path: Path) -> Path:
    """Write the public CSV: UTF-8, header row, '\\n' line ends, formulas neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    table = _csv_table(frame)
    if table is None:
        out = frame if isinstance(frame, pd.DataFrame) else to_frame(frame)
        neutralise_formulas(out).to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    else:
        with tmp.open("wb") as out:
            out.write((",".join(_csv_quote(str(n)) for n in table.column_names) + "\n").encode("utf-8"))
            for batch in table.to_batches(max_chunksize=_CSV_BATCH_ROWS):
                out.write(_csv_lines(batch))
    tmp.replace(path)
    return path


# The Arrow writer below reproduces pandas.DataFrame.to_csv byte for byte (Python's csv module,
# QUOTE_MINIMAL, lineterminator "\n") for the column types the schema declares, at a tenth of its
# time on 1M rows. Anything else (one column, other types) goes through pandas itself.
_CSV_BATCH_ROWS = 65_536
_CSV_NEEDS_QUOTES = '[",\n]'  # Python's csv quotes the delimiter, the quote char and the line terminator
# The characters of _FORMULA_PREFIXES as one RE2 character class ("-" escaped).
_FORMULA_START = "^[" + "".join("\\-" if c == "-" else c for c in _FORMULA_PREFIXES) + "]"


def _csv_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in '",\n') else text


def _csv_table(frame: pd.DataFrame | pa.Table) -> pa.Table | None:
    """``frame`` as Arrow if the Arrow writer can write it exactly as pandas would, else None."""
    if isinstance(frame, pd.DataFrame):
        if len(frame.columns) < 2 or not all(isinstance(n, str) for n in frame.columns):
            return None
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
    else:
        table = frame
    supported = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer, pa.types.is_float64,
                 pa.types.is_date32, pa.types.is_boolean, pa.types.is_null)
    if table.num_columns < 2 or not all(any(ok(f.type) for ok in supported) for f in table.schema):
        return None
    return table


def _csv_column(values: pa.Array) -> pa.Array:
    """One column's CSV fields as text, nulls left null (written empty)."""
    import pyarrow.compute as pc

    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        values = values.cast(pa.string())  # pandas' strings are large_string; a batch stays far below 2 GB
        risky = pc.match_substring_regex(values, _FORMULA_START)
        values = pc.if_else(risky, pc.binary_join_element_wise("'", values, ""), values)
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
        return pc.if_else(pc.match_substring_regex(values, _CSV_NEEDS_QUOTES), quoted, values)
    if pa.types.is_float64(kind):
        # pandas writes floats with numpy's astype(str) (shortest repr: 19.5, 100.0, 1e+16).
        text = values.to_numpy(zero_copy_only=False).astype(str)
        return pa.array(text, pa.string(), mask=values.is_null().to_numpy(zero_copy_only=False))
    if pa.types.is_boolean(kind):
        return pc.if_else(values, "True", "False")
    if pa.types.is_null(kind):
        return pa.nulls(len(values), pa.string())
    return pc.cast(values, pa.string())  # integers; dates as ISO 8601, as str(date)


def _csv_lines(batch: pa.RecordBatch) -> memoryview:
    """The CSV lines of ``batch``, each ended by '\\n', as UTF-8 bytes."""
    import numpy as np
    import pyarrow.compute as pc

    fields = [_csv_column(column) for column in batch.columns]
    lines = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise(lines, "", "\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]]
