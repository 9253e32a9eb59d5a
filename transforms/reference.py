"""Reference data: the regions of East Kalimantan (Kemendagri and BPS codes, names) and the SKM units.

``REGIONS`` is the one declaration of the province and its ten regencies and cities; the
mappings other code reads (``KABUPATEN_KOTA``, ``KODE_PROVINSI``, ``NAMA_PROVINSI``) are derived
from it. Names are matched the way agencies write them (case, spacing, punctuation, ``Kab.``,
``Kabupaten``, ``Kota``, the abbreviations in common use); a name that is not exactly one
region's is an error, never a guess. Codes are looked up in a declared code system: BPS
numbers four regencies differently from Kemendagri, so a bare ``6402`` means Kutai Barat to
BPS and nothing to Kemendagri (whose 64.02 is Kutai Kartanegara).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from transforms.limits import masked
from transforms.readers import SourceParseError

if TYPE_CHECKING:
    import pandas as pd

RegionKind = Literal["provinsi", "kabupaten", "kota"]
CodeSystem = Literal["kemendagri", "bps"]
MatchKind = Literal["name", "kemendagri", "bps"]


@dataclass(frozen=True)
class Region:
    """One region: its codes in both systems, its official name, and other names agencies use for it."""

    kemendagri: str  # "64" (province) or "64.72": PP.KK
    bps: str  # "64" or "6472"
    name: str  # official name, as published: "Kota Samarinda"
    kind: RegionKind
    aliases: tuple[str, ...] = ()  # names in common use besides the official one, without "Kabupaten"/"Kota"

    @property
    def base_name(self) -> str:
        """The name without its kind: ``Samarinda`` for ``Kota Samarinda``."""
        prefix = {"kabupaten": "Kabupaten ", "kota": "Kota ", "provinsi": ""}[self.kind]
        return self.name.removeprefix(prefix)


PROVINSI = Region("64", "64", "Kalimantan Timur", "provinsi", ("Kaltim",))

REGIONS: tuple[Region, ...] = (
    PROVINSI,
    Region("64.01", "6401", "Kabupaten Paser", "kabupaten"),
    Region("64.02", "6403", "Kabupaten Kutai Kartanegara", "kabupaten", ("Kukar",)),
    Region("64.03", "6405", "Kabupaten Berau", "kabupaten"),
    Region("64.07", "6402", "Kabupaten Kutai Barat", "kabupaten", ("Kubar",)),
    Region("64.08", "6404", "Kabupaten Kutai Timur", "kabupaten", ("Kutim",)),
    Region("64.09", "6409", "Kabupaten Penajam Paser Utara", "kabupaten", ("PPU",)),
    Region("64.11", "6411", "Kabupaten Mahakam Ulu", "kabupaten", ("Mahulu",)),
    Region("64.71", "6471", "Kota Balikpapan", "kota"),
    Region("64.72", "6472", "Kota Samarinda", "kota"),
    Region("64.74", "6474", "Kota Bontang", "kota"),
)

KODE_PROVINSI = PROVINSI.kemendagri
NAMA_PROVINSI = PROVINSI.name

# Kemendagri code -> official name of the regencies and cities. Every published code column
# states that its code system is Kemendagri.
KABUPATEN_KOTA: dict[str, str] = {r.kemendagri: r.name for r in REGIONS if r.kind != "provinsi"}

# Service units that run the SKM survey, with the number of people each serves per semester
# (the population of the Krejcie-Morgan sample size).
SKM_UNIT_LAYANAN: dict[str, tuple[str, int]] = {
    "DPMPTSP": ("Dinas Penanaman Modal dan PTSP Provinsi Kalimantan Timur", 12_500),
    "SAMSAT-SMD": ("UPTD PPRD Samarinda (SAMSAT)", 150_000),
    "RSUD-AWS": ("RSUD Abdul Wahab Sjahranie", 48_000),
    "DISNAKERTRANS": ("Dinas Tenaga Kerja dan Transmigrasi", 1_200),
    "BKD": ("Badan Kepegawaian Daerah", 900),
    "DISHUB-UPT": ("UPT Pengujian Kendaraan Bermotor Dinas Perhubungan", 600),
}


class RegionError(ValueError):
    """A region name or code that is not exactly one region of the reference."""

    def __init__(self, message: str, value: object, candidates: tuple[Region, ...] = ()) -> None:
        super().__init__(message)
        self.value, self.candidates = value, candidates


class RegionNotFound(RegionError):
    """No region has this name or code."""


class AmbiguousRegion(RegionError):
    """The name fits more than one region."""


class RegionValueError(SourceParseError):
    """A row of a source whose region value is unknown or ambiguous: names file, row, column and value."""

    def __init__(self, file: str, row: int, column: str, reason: RegionError) -> None:
        super().__init__(file, str(reason), row=row, column=column)
        self.value, self.reason = reason.value, reason


# Words that say which kind of region a name is, as agencies abbreviate them.
_KIND_WORDS: dict[str, RegionKind] = {
    "kabupaten": "kabupaten", "kab": "kabupaten", "kota": "kota", "kot": "kota",
    "provinsi": "provinsi", "prov": "provinsi",
}


def _words(text: str) -> tuple[str, ...]:
    """Case, punctuation and spacing left out: ``Kab.  KUTAI-Barat`` -> ``(kab, kutai, barat)``."""
    return tuple(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).casefold()).split())


def _name_index() -> dict[tuple[str, ...], Region]:
    index: dict[tuple[str, ...], Region] = {}
    for region in REGIONS:
        for name in (region.base_name, *region.aliases):
            key = _words(name)
            if key in index:
                raise AssertionError(f"the name {name!r} is declared for two regions")
            index[key] = region
    return index


_BY_NAME = _name_index()
_BY_CODE: dict[CodeSystem, dict[str, Region]] = {
    "kemendagri": {r.kemendagri: r for r in REGIONS},
    "bps": {r.bps: r for r in REGIONS},
}
_LABEL: dict[CodeSystem, str] = {"kemendagri": "Kemendagri", "bps": "BPS"}
_CODE_FORMS: dict[CodeSystem, tuple[re.Pattern[str], str]] = {
    "kemendagri": (re.compile(r"^(\d{2})(?:\.?(\d{2}))?$"), "'64' or '64.72' (or 6472)"),
    "bps": (re.compile(r"^(\d{2})(\d{2})?$"), "'64' or '6472', without a dot"),
}


def _quoted(value: object) -> str:
    """The cell for a message, by its shape: region names are not personal data, but a shifted
    column might be; the reference names and codes a message suggests are shown in full."""
    return masked(str(value))


def _listed(regions: tuple[Region, ...]) -> str:
    return ", ".join(r.name for r in sorted(regions, key=lambda r: r.name))


def region_by_name(text: str) -> Region:
    """The region ``text`` names, however the agency wrote it; RegionNotFound or AmbiguousRegion otherwise.

    A leading ``Kabupaten``/``Kab.``/``Kota``/``Kot.``/``Provinsi`` must agree with the region's
    kind. Only an exact name or a declared abbreviation resolves: ``Paser`` is Kabupaten Paser,
    ``Kutai`` is ambiguous, ``Kartanegara`` is not found (with Kutai Kartanegara suggested).
    """
    if not isinstance(text, str):
        raise RegionNotFound(f"{_quoted(text)} is not a region name", text)
    words = _words(text)
    kind = _KIND_WORDS.get(words[0]) if words else None
    name = words[1:] if kind else words
    found = _BY_NAME.get(name)
    if found is not None and (kind is None or found.kind == kind):
        return found
    # The name of a region of another kind (``Kota Paser``) is suggested, not taken.
    candidates = (found,) if found is not None else tuple(r for r in REGIONS if _partly_named(r, name))
    if len(candidates) > 1:
        raise AmbiguousRegion(f"{_quoted(text)} may name any of {_listed(candidates)}; write the full name",
                              text, candidates)
    hint = f"; did you mean {candidates[0].name}?" if candidates else ""
    raise RegionNotFound(f"no region of {NAMA_PROVINSI} is named {_quoted(text)}{hint}", text, candidates)


def _partly_named(region: Region, words: tuple[str, ...]) -> bool:
    """Whether every word of ``words`` is a word of one of the region's names."""
    if not words:
        return False
    return any(set(words) <= set(_words(name)) for name in (region.base_name, *region.aliases))


def region_by_code(code: str | int, system: CodeSystem = "kemendagri") -> Region:
    """The region with ``code`` in the code ``system``: ``64.72``/``6472`` (Kemendagri) or ``6472`` (BPS).

    A code is never read in the other system: BPS ``6402`` is Kutai Barat, Kemendagri ``64.02``
    Kutai Kartanegara.
    """
    if system not in _CODE_FORMS:
        raise ValueError(f"unknown code system {system!r}; known: {sorted(_CODE_FORMS)}")
    if isinstance(code, bool) or not isinstance(code, str | int):
        raise RegionNotFound(f"{_quoted(code)} is not a {_LABEL[system]} region code", code)
    pattern, form = _CODE_FORMS[system]
    match = pattern.match(str(code).strip())
    if match is None:
        raise RegionNotFound(f"{_quoted(code)} is not a {_LABEL[system]} region code (expected {form})", code)
    province, regency = match.groups()
    key = province if regency is None else (f"{province}.{regency}" if system == "kemendagri" else province + regency)
    found = _BY_CODE[system].get(key)
    if found is not None:
        return found
    other: CodeSystem = "bps" if system == "kemendagri" else "kemendagri"
    other_key = key.replace(".", "") if other == "bps" else f"{key[:2]}.{key[2:]}"
    elsewhere = _BY_CODE[other].get(other_key)
    hint = (f" (as a {_LABEL[other]} code, {other_key} is {elsewhere.name}: which code system does the "
            "column use?)" if elsewhere else "")
    raise RegionNotFound(f"no region of {NAMA_PROVINSI} has {_LABEL[system]} code {_quoted(code)}{hint}", code)


def resolve_region(value: Any, match: MatchKind) -> Region:
    """The region a source value names: a name, a Kemendagri code or a BPS code, as ``match`` says."""
    if match == "name":
        return region_by_name(value)
    if match not in _CODE_FORMS:
        raise ValueError(f"unknown region match {match!r}; known: name, kemendagri, bps")
    if not isinstance(value, str | bool) and hasattr(value, "__index__"):
        value = int(value)  # numpy integers from an int64 column
    return region_by_code(value, match)


def add_region(frame: pd.DataFrame, source_column: str, match: MatchKind = "name",
               code_column: str = "kode_kabupaten_kota", name_column: str = "nama_kabupaten_kota",
               file: str = "input", first_row: int = 1) -> pd.DataFrame:
    """A new frame with the Kemendagri code and official name of the region ``source_column`` gives.

    Each distinct value is resolved once. An empty value gets an empty code and name (whether it
    may be empty is the source field's ``required``). The first row whose value is unknown or
    ambiguous raises RegionValueError naming ``file``, the row (``first_row`` is how the file
    numbers the frame's first row) and the column. ``frame`` is not changed.
    """
    import numpy as np

    values = frame[source_column]
    resolved: dict[Any, Region] = {}
    failed: dict[Any, RegionError] = {}
    for value in values.dropna().unique():
        try:
            resolved[value] = resolve_region(value, match)
        except RegionError as exc:
            failed[value] = exc
    if failed:
        position = int(np.flatnonzero(values.isin(list(failed)).to_numpy())[0])
        reason = failed[values.iloc[position]]
        raise RegionValueError(file, first_row + position, source_column, reason) from reason
    codes = values.map({v: r.kemendagri for v, r in resolved.items()}).astype("object")
    names = values.map({v: r.name for v, r in resolved.items()}).astype("object")
    return frame.assign(**{code_column: codes.where(codes.notna(), None),
                           name_column: names.where(names.notna(), None)})


def with_region_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the province code and name, and the regency name of ``kode_kabupaten_kota``.

    An unknown regency code gets no name, so the quality gate sees it instead of it being dropped.
    """
    frame["kode_provinsi"] = KODE_PROVINSI
    frame["nama_provinsi"] = NAMA_PROVINSI
    frame["nama_kabupaten_kota"] = frame["kode_kabupaten_kota"].map(KABUPATEN_KOTA)
    return frame
