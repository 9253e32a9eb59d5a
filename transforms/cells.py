"""One cell of an agency export -> a typed value, as the catalog declares its field.

Indonesian numbers (``1.234,5``) and dates (``7 Maret 2024``), month and year cells written the
ways people write them (``Januari 2024``, ``Jan-24``, ``2024-01``, ``03/2024``, ``2024``), a code
list mapped to its labels (``L`` -> ``Laki-laki``), a default for empty cells, and a check that a
period cell lies in the run's period. Every problem is a ValueError; the readers add file, row
and column. No message quotes the cell: it says the kind of problem and the cell's shape
(``transforms.limits.masked``), since a cell may hold anything, personal data included.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from transforms.limits import masked

BULAN = {
    "januari": 1, "februari": 2, "maret": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
    "agustus": 8, "september": 9, "oktober": 10, "november": 11, "desember": 12,
    # Abbreviations used in exports ("7 Agu 2024", "7 Des 2024").
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "agu": 8, "agt": 8, "ags": 8,
    "sep": 9, "okt": 10, "nov": 11, "des": 12,
}
_ID_DATE = re.compile(r"^(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})$")
_DMY = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
_ID_NUMBER = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d+)?$|^-?\d+(,\d+)?$")
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


_PERIOD_FORMATS: dict[str, re.Pattern[str]] = {
    "Januari 2024": re.compile(r"^([A-Za-z]+)\.?\s+(\d{4})$"),
    "Jan-24": re.compile(r"^([A-Za-z]+)\.?[-\s/'](\d{2})$"),
    "2024-01": re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    "03/2024": re.compile(r"^(\d{1,2})[-/.](\d{4})$"),
    "2024": re.compile(r"^(\d{4})$"),
}
# The formats a catalog field may name, by an example of how the cell looks.
PERIOD_FORMATS = tuple(_PERIOD_FORMATS)


def parse_id_number(text: str) -> float:
    """A number written the Indonesian way ("1.234,5", "12", "0,75"); ValueError otherwise."""
    value = text.strip().replace(" ", "")
    if not _ID_NUMBER.match(value):
        raise ValueError(f"{masked(text)} is not a number (expected e.g. 1.234,5)")
    return float(value.replace(".", "").replace(",", "."))


def parse_id_date(text: str) -> date:
    """A date as "7 Maret 2024", "07/03/2024" (day first) or ISO "2024-03-07[T...]"."""
    value = text.strip()
    match = _ID_DATE.match(value)
    if match:
        day, month_name, year = match.groups()
        month = BULAN.get(month_name.lower())
        if month is None:
            raise ValueError(f"{masked(text)} names an unknown month (expected e.g. 7 Maret 2024)")
        return date(int(year), month, int(day))
    match = _DMY.match(value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    try:
        # ISO timestamps keep their local calendar date (agency systems answer in WITA).
        return datetime.fromisoformat(value).date()
    except ValueError:
        raise ValueError(f"{masked(text)} is not a date (expected e.g. 7 Maret 2024 or 2024-03-07)") from None


def _convert(value: Any, kind: str, number_format: str) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
    if kind == "string":
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if kind in ("int64", "float64"):
        return _convert_number(value, kind, number_format)
    if kind == "date":
        return _convert_date(value)
    raise ValueError(f"unsupported field type {kind!r}")


def _convert_number(value: Any, kind: str, number_format: str) -> int | float:
    if isinstance(value, bool):
        raise ValueError("a true/false value is not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif number_format == "indonesian":
        number = parse_id_number(value)
    elif _PLAIN_NUMBER.match(value):
        number = float(value)
    else:
        raise ValueError(f"{masked(value)} is not a number")
    if not math.isfinite(number):
        # float() reads a cell of a thousand digits as infinity.
        raise ValueError(f"{masked(value)} is not a finite number")
    if kind == "int64":
        if not number.is_integer():
            raise ValueError(f"{masked(value)} is not a whole number")
        return int(number)
    return number


def _convert_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_id_date(str(value))


def parse_period_cell(value: Any, fmt: str) -> date:
    """The first day of the month (or year) a cell names in format ``fmt`` (one of PERIOD_FORMATS)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.replace(day=1) if fmt != "2024" else date(value.year, 1, 1)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    match = _PERIOD_FORMATS[fmt].match(text)
    if match is None:
        raise ValueError(f"not a period written as {fmt!r}")
    if fmt == "2024":
        return date(int(match[1]), 1, 1)
    if fmt in ("Januari 2024", "Jan-24"):
        month = BULAN.get(match[1].lower())
        if month is None:
            raise ValueError(f"an unknown month name (a period written as {fmt!r} was expected)")
        year = int(match[2]) + (2000 if fmt == "Jan-24" else 0)
    elif fmt == "2024-01":
        year, month = int(match[1]), int(match[2])
    else:
        month, year = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError(f"a month number outside 1-12 (a period written as {fmt!r} was expected)")
    return date(year, month, 1)


def has_default(field: Any) -> bool:
    """True when the field declares a value for empty or absent cells."""
    return getattr(field, "default", None) is not None


def _coded(value: Any, codes: dict[str, str]) -> str:
    key = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    if key not in codes:
        # The value is not quoted: a cell outside a code list may hold anything.
        raise ValueError(f"a value outside the field's code list ({', '.join(sorted(codes))})")
    return codes[key]


def convert_cell(value: Any, field: Any, number_format: str) -> Any:
    """``value`` as the field declares it: default, code list, period format, type, run's period."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or (
            isinstance(value, str) and value.strip() == ""):
        value = getattr(field, "default", None)
        if value is None:
            return None
    codes = getattr(field, "values", None)
    if codes:
        value = _coded(value, codes)
    fmt = getattr(field, "format", None)
    converted = parse_period_cell(value, fmt) if fmt else _convert(value, field.type, number_format)
    within = getattr(field, "within", None)
    if within is not None and converted is not None and not within[0] <= converted < within[1]:
        raise ValueError(f"a period outside the run's period {within[2]}")
    return converted
