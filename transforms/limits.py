"""How much input a reader accepts, and how a cell is shown in a message without its value.

Readers take an ``InputLimits`` (the pipeline builds it from ``satudata.settings.input_limits``)
so that a small hostile file cannot make a worker build billions of cells, inflate a zip bomb
or hold a field of gigabytes. The defaults here are the documented ones.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InputLimits:
    """The most an input may hold; each limit is named by its setting when it is exceeded."""

    max_rows: int = 20_000_000
    max_columns: int = 500
    # Excel's own limit for one cell: no spreadsheet export holds a longer one.
    max_cell_chars: int = 32_767
    # Rows x columns a sheet may declare or fill (1,048,576 x 16,384 would be ~10^10 cells).
    xlsx_max_cells: int = 50_000_000
    xlsx_max_uncompressed_mb: float = 1024.0
    # A member of the XLSX zip larger than 1 MiB must not inflate more than this many times.
    xlsx_max_compression_ratio: float = 200.0


# The environment setting of each limit, for the messages that name it.
SETTING = {
    "max_rows": "SATUDATA_INPUT_MAX_ROWS",
    "max_columns": "SATUDATA_INPUT_MAX_COLUMNS",
    "max_cell_chars": "SATUDATA_INPUT_MAX_CELL_CHARS",
    "xlsx_max_cells": "SATUDATA_INPUT_XLSX_MAX_CELLS",
    "xlsx_max_uncompressed_mb": "SATUDATA_INPUT_XLSX_MAX_UNCOMPRESSED_MB",
    "xlsx_max_compression_ratio": "SATUDATA_INPUT_XLSX_MAX_COMPRESSION_RATIO",
}


def over_limit(what: str, limits: InputLimits, name: str) -> str:
    """The words of an error for an input beyond one limit: what it is, the limit, its setting."""
    value = getattr(limits, name)
    shown = f"{value:,}" if isinstance(value, int) else f"{value:,g}"
    return f"{what} (input limit {name} = {shown}, setting {SETTING[name]})"


# Quoted text in another library's error ("could not convert string to float: '...'").
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


def error_text(exception: BaseException) -> str:
    """An exception's text for a message, without the cell values it may quote.

    The project's own errors (satudata, transforms) name file, row, column and the kind of
    problem, never a value, and are kept whole, also when a task re-raises one's text as its
    own (``AirflowFailException(str(exc)) from exc``); another library's error may quote the
    value it choked on, so only its first line is kept, with quoted text masked.
    """
    text = str(exception)
    cause: BaseException | None = exception
    while cause is not None:
        if type(cause).__module__.split(".")[0] in ("satudata", "transforms") and str(cause) in text:
            return text
        cause = cause.__cause__
    first = text.splitlines()[0] if text else ""
    return _QUOTED.sub("'…'", first)


def _classes(text: str) -> str:
    kinds = []
    for label, test in (("digits", str.isdigit), ("letters", str.isalpha), ("spaces", str.isspace)):
        if any(test(c) for c in text):
            kinds.append(label)
    if any(not (c.isalnum() or c.isspace()) for c in text):
        kinds.append("symbols")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        kinds.append("control characters")
    return ", ".join(kinds) or "nothing"


def masked(value: Any) -> str:
    """A cell's shape, never its value: ``text of 12 characters (digits, symbols)``."""
    if value is None:
        return "an empty cell"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, int | float):
        return "a number"
    if not isinstance(value, str):
        return f"a {type(value).__name__} value"
    length = len(value)
    if length == 0:
        return "an empty cell"
    # Classes are read from the start only: a message costs no more for a long cell.
    return f"text of {length:,} character{'s' if length != 1 else ''} ({_classes(value[:10_000])})"
