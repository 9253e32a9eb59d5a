"""Which chart a dataset gets, and the words that name it: title, axis label, resource description.

The catalog's ``ckan.chart`` wins; without one, ``default_chart`` derives it from the schema.
The drawing (``satudata.publish.chart``) and the resource's description
(``satudata.publish.resources.publish_files``) both read the choice through ``chart_for``, so
the picture and its description never disagree. Words are Indonesian: the readers are
policymakers of the province.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from satudata.catalog import Chart, Column, DatasetEntry
from satudata.periods import Period, PeriodKeyError, coarse_text, period_text

REGION_COLUMN = "nama_kabupaten_kota"
MAX_LINES = 10  # lines drawn; beyond that the smallest groups become one line, OTHERS
OTHERS = "Lainnya"

BULAN_SINGKAT = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]

# A measure that is a level rather than a count (rate, percentage, mean, median, index): its rows
# are averaged, never added up.
_MEAN_PREFIXES = ("rata_rata", "median", "persentase", "persentil", "rasio", "indeks", "ikm", "nrr", "skor", "nilai")
_MEAN_UNITS = {"persen", "%", "indeks", "skor", "rasio"}
_ACRONYMS = {"ikm": "IKM", "nrr": "NRR", "mpp": "MPP", "skm": "SKM", "ktp": "KTP", "kk": "KK", "opd": "OPD"}
_PERIOD_WORDS = {"date": "hari", "day": "hari", "week": "minggu", "month": "bulan", "quarter": "triwulan",
                 "semester": "semester", "year": "tahun"}


def _candidates(entry: DatasetEntry) -> list[Column]:
    """Numeric columns with a unit that are neither a period nor a code."""
    periods = set(entry.period_columns.values())
    return [c for c in entry.table.columns if c.type in ("int64", "float64") and c.unit
            and c.name not in periods and not c.name.startswith("kode_")]


def aggregate_of(column: Column) -> Literal["sum", "mean"]:
    """``mean`` for a level (rate, percentage, mean, median, index), ``sum`` for a count."""
    if column.name.startswith("jumlah_"):
        return "sum"
    if column.name.startswith(_MEAN_PREFIXES) or (column.unit or "").lower() in _MEAN_UNITS:
        return "mean"
    return "mean" if column.type == "float64" else "sum"


def default_chart(entry: DatasetEntry) -> Chart | None:
    """The chart of a dataset whose catalog names none; None when the schema has no measure.

    The measure is the first candidate (numeric, with a unit, not a period or a code) in the
    dataset's own unit (``extras.satuan``), else the first count (``jumlah_*``), else the first
    candidate. One line per regency when the schema names regencies, else one total line.
    """
    candidates = _candidates(entry)
    if not candidates:
        return None
    satuan = entry.ckan.extras.get("satuan", "").strip().lower()
    measure = next((c for c in candidates if satuan and (c.unit or "").lower() == satuan),
                   next((c for c in candidates if c.name.startswith("jumlah_")), candidates[0]))
    types = {c.name: c.type for c in entry.table.columns}
    by = REGION_COLUMN if types.get(REGION_COLUMN) == "string" else None
    return Chart(measure=measure.name, aggregate=aggregate_of(measure), by=by)


def chart_for(entry: DatasetEntry) -> Chart | None:
    """The dataset's chart: the catalog's ``ckan.chart``, else the default from the schema."""
    return entry.ckan.chart if entry.ckan.chart is not None else default_chart(entry)


def readable(name: str) -> str:
    """A column name in words: ``jumlah_izin_terbit`` -> ``Jumlah izin terbit``, ``ikm_konversi`` -> ``IKM konversi``.
    """
    text = name.replace("rata_rata", "rata-rata")
    words = [_ACRONYMS.get(w, w) for w in text.split("_") if w]
    joined = " ".join(words)
    return joined[:1].upper() + joined[1:]


def _lower_first(text: str) -> str:
    """Lower the first letter unless the first word is an acronym (``IKM konversi`` stays)."""
    first = text.split(" ", 1)[0]
    return text if first in _ACRONYMS.values() else text[:1].lower() + text[1:]


def _column(entry: DatasetEntry, name: str) -> Column:
    return next(c for c in entry.table.columns if c.name == name)


def measure_label(entry: DatasetEntry, chart: Chart, scale_word: str = "") -> str:
    """The axis label: readable name and unit, ``Jumlah izin terbit (ribu izin)``."""
    unit = _column(entry, chart.measure).unit
    units = " ".join(w for w in (scale_word, unit or "") if w)
    return f"{readable(chart.measure)} ({units})" if units else readable(chart.measure)


def period_word(entry: DatasetEntry) -> str:
    """The period a point stands for: hari, bulan, semester or tahun."""
    for role in ("date", "day", "week", "month", "quarter", "semester", "year"):
        if role in entry.period_columns:
            return _PERIOD_WORDS[role]
    return "periode"


def group_label(entry: DatasetEntry, column: str) -> str:
    """What the lines are: ``nama_kabupaten_kota`` -> ``kabupaten/kota``."""
    name = column.removeprefix("nama_")
    return "kabupaten/kota" if name == "kabupaten_kota" else _lower_first(readable(name))


def grouping(entry: DatasetEntry, chart: Chart) -> str:
    """How the rows of a period are shown, with its separator: `` menurut kabupaten/kota`` or ``, total …``."""
    if chart.by is not None:
        return f" menurut {group_label(entry, chart.by)}"
    if chart.aggregate == "sum":
        return f", total {entry.ckan.extras.get('cakupan') or 'seluruh data'}"
    level = entry.ckan.extras.get("level_penyajian", "").strip()
    return f", rata-rata seluruh {level.lower() if level and level.lower() != 'provinsi' else 'data'}"


def tick_text(key: str) -> str:
    """A period key on the x axis, short: ``Okt 2026``, ``Smt 2 2026``, ``5 Okt``."""
    try:
        period = Period.from_key(key)
    except PeriodKeyError:
        return key
    if period.schedule == "daily":
        return f"{period.start.day} {BULAN_SINGKAT[period.month - 1]}"
    if period.schedule == "semiannual":
        return f"Smt {period.semester} {period.year}"
    if period.schedule == "quarterly":
        return f"Tw {period.values()['quarter']} {period.year}"
    return coarse_text(period) or f"{BULAN_SINGKAT[period.month - 1]} {period.year}"


def period_span(first: str, last: str) -> str:
    """The periods covered: ``Januari 2026 – Oktober 2026``, or one period's name."""
    return period_text(first) if first == last else f"{period_text(first)} – {period_text(last)}"


def chart_title(entry: DatasetEntry, chart: Chart, first: str, last: str) -> str:
    """The catalog's title, or measure, period and grouping in words; then the periods covered."""
    head = chart.title or f"{readable(chart.measure)} per {period_word(entry)}{grouping(entry, chart)}"
    return f"{head}, {period_span(first, last)}"


def chart_description(entry: DatasetEntry, chart: Chart, first: str | None = None, last: str | None = None) -> str:
    """The chart resource's description: measure, unit, period, grouping and the periods covered."""
    text = f"Grafik {_lower_first(measure_label(entry, chart))} per {period_word(entry)}{grouping(entry, chart)}"
    if first and last:
        text += f", {period_span(first, last)}"
    return text + "."


def period_keys(frame: pd.DataFrame, entry: DatasetEntry) -> pd.Series:
    """Each row's period key (``2026-10``, ``2026-S2``, ``2026-10-05``, or the year) from its period columns."""
    cols = entry.period_columns
    if "date" in cols:
        return pd.to_datetime(frame[cols["date"]]).dt.strftime("%Y-%m-%d")
    year = frame[cols["year"]].astype("int64").astype(str)
    if "month" in cols:
        key = year + "-" + frame[cols["month"]].astype("int64").astype(str).str.zfill(2)
        return key + "-" + frame[cols["day"]].astype("int64").astype(str).str.zfill(2) if "day" in cols else key
    for role, mark, width in (("semester", "-S", 1), ("quarter", "-Q", 1), ("week", "-W", 2)):
        if role in cols:
            return year + mark + frame[cols[role]].astype("int64").astype(str).str.zfill(width)
    return year
