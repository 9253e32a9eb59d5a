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
from transforms.writing import replacing


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

# Text on its way to a spreadsheet (the public CSV, the DataStore that CKAN serves as CSV) is made
# safe in two steps, with patterns that Python's re and Arrow's RE2 read alike, so the pandas and
# the Arrow CSV writers give the same bytes.
# 1. Control characters. A line break inside a cell stays a line break, as LF: Python's csv (3.11)
#    quotes LF but not a lone CR, and a reader splits the row at an unquoted CR. CR, CRLF, VT, FF,
#    NEL and the Unicode line and paragraph separators (which str.splitlines and JavaScript break
#    on) all become LF. Tab stays. Every other C0 and C1 control and DEL is removed: no reader
#    shows them, PostgreSQL refuses NUL, and they can hide a formula's first character.
_LINE_BREAK = "\r\n|[\r\x0b\x0c\x85\u2028\u2029]"
_CONTROL = "[\\x00-\\x08\\x0e-\\x1f\\x7f-\\x84\\x86-\\x9f]"
# 2. Formulas (CSV injection): a cell starting with = + - @ runs as a formula in Excel (LibreOffice
#    runs =). Spreadsheets that trim the cell, or readers that split it at a tab or line break,
#    see what follows the leading blanks, so those are skipped first: every whitespace character
#    (str.isspace) and every invisible format character (Unicode category Cf: zero-width, bidi
#    marks, soft hyphen, BOM, tags), as in Unicode 14 (Python 3.11). The four characters count in
#    every form Unicode compatibility (NFKC) folds to them: fullwidth, small, superscript,
#    subscript. Such a cell gets a leading apostrophe, which spreadsheets read as "text".
_LEADING_BLANKS = ("\u0009-\u000d\u001c-\u0020\u0085\u00a0\u00ad\u0600-\u0605\u061c\u06dd\u070f"
                   "\u0890\u0891\u08e2\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f"
                   "\u3000\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
                   "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_FORMULA_CHARACTERS = ("=\u207c\u208c\u2a75\u2a76\ufe66\uff1d"  # =
                       "+\u207a\u208a\ufb29\ufe62\uff0b"  # +
                       "-\ufe63\uff0d"  # -
                       "@\ufe6b\uff20")  # @
_FORMULA_START = "^[" + _LEADING_BLANKS + "]*[" + _FORMULA_CHARACTERS.replace("-", "\\-") + "]"


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
    the first value that does not fit, and the value's shape (never the value). Text is returned
    with its control characters cleaned (``clean_controls``), so the gate judges the text that every
    published file and the DataStore carry: a NIK split by a NUL, which readers do not show, is a
    whole NIK to the scan.
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
    return clean_controls(pd.DataFrame(out, index=frame.index).reset_index(drop=True))


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
    with replacing(path) as tmp:
        pq.write_table(to_arrow(frame, columns, table_meta), tmp, compression="zstd")
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


def _text_columns(frame: pd.DataFrame) -> list[Any]:
    return [name for name in frame.columns
            if pd.api.types.is_string_dtype(frame[name]) and not pd.api.types.is_numeric_dtype(frame[name])]


def clean_controls(frame: pd.DataFrame) -> pd.DataFrame:
    """Line breaks in text cells as LF and every other control character but tab removed."""
    out = frame.copy()
    for name in _text_columns(out):
        col = out[name]
        text = col.astype("string")
        found = text.str.contains(_LINE_BREAK + "|" + _CONTROL, regex=True).fillna(False)
        if found.any():
            clean = text[found].str.replace(_LINE_BREAK, "\n", regex=True).str.replace(_CONTROL, "", regex=True)
            out[name] = col.mask(found, clean.reindex(col.index))
    return out


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe."""
    out = frame.copy()
    for name in _text_columns(out):
        col = out[name]
        risky = col.astype("string").str.contains(_FORMULA_START, regex=True).fillna(False)
        if risky.any():
            out[name] = col.mask(risky, "'" + col.astype("string"))
    return out


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells as they may reach a spreadsheet: control characters cleaned, formulas neutralised.

    Numeric, date and boolean columns are left as they are (a number such as -5 stays a number).
    """
    return neutralise_formulas(clean_controls(frame))


def write_csv(frame: pd.DataFrame | pa.Table, path: Path) -> Path:
    """Write the public CSV: UTF-8, header row, '\\n' line ends, text made ``spreadsheet_safe``."""
    table = _csv_table(frame)
    with replacing(path) as tmp:
        if table is None:
            out = frame if isinstance(frame, pd.DataFrame) else to_frame(frame)
            spreadsheet_safe(out).to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        else:
            with tmp.open("wb") as out:
                out.write((",".join(_csv_quote(str(n)) for n in table.column_names) + "\n").encode("utf-8"))
                for batch in table.to_batches(max_chunksize=_CSV_BATCH_ROWS):
                    out.write(_csv_lines(batch))
    return path


# The Arrow writer below reproduces pandas.DataFrame.to_csv byte for byte (Python's csv module,
# QUOTE_MINIMAL, lineterminator "\n") for the column types the schema declares, at a tenth of its
# time on 1M rows. Anything else (one column, other types) goes through pandas itself.
_CSV_BATCH_ROWS = 65_536
# Python's csv quotes the delimiter, the quote char and the line terminator; after clean_controls
# no CR is left for it to leave unquoted.
_CSV_NEEDS_QUOTES = '[",\n]'


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
        unclean = pc.match_substring_regex(values, _LINE_BREAK + "|" + _CONTROL)
        if pc.any(unclean).as_py():
            clean = pc.replace_substring_regex(pc.replace_substring_regex(values, _LINE_BREAK, "\n"), _CONTROL, "")
            values = pc.if_else(unclean, clean, values)
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
