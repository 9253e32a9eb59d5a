"""Personal-data scan: find NIK, No. KK, NIP, NPWP, mobile numbers and e-mail addresses in a frame.

Independent of the GX suites, it runs over every column about to be published, text and
numeric alike (a NIK stored as int64 or float64 is still a NIK). Findings carry the column, the
kind and the number of cells, never a value, so an error message or a report cannot leak what
it found. Detection is structure-aware to keep precision: a 16-digit number is a NIK only if its
province code, regency, district, birth date (day + 40 for women) and serial are plausible.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from satudata.gate.suite import ValidationFailed

Kind = Literal["nik", "no_kk", "nip", "npwp", "telepon", "email"]
KINDS: tuple[str, ...] = ("nik", "no_kk", "nip", "npwp", "telepon", "email")
# People's names and street addresses: free text, found by a heuristic (a warning unless the catalog
# forbids them in the column, see satudata.catalog.PersonalDataForbidden).
FREE_TEXT_KINDS: tuple[str, ...] = ("nama", "alamat")

# Kemendagri province codes (domain-facts): 11-19, 21, 31-36, 51-53, 61-65, 71-76, 81-82, 91-96.
PROVINCE_CODES = frozenset(
    [*range(11, 20), 21, *range(31, 37), *range(51, 54), *range(61, 66), *range(71, 77), 81, 82, *range(91, 97)]
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # Feb 29: two-digit years hide leap years

_SIXTEEN = re.compile(r"(?<![\d.,])\d{16}(?![\d]|[.,]\d)")
_NIP = re.compile(r"(?<![\d.,])(\d{8})[ ]?(\d{6})[ ]?(\d)[ ]?(\d{3})(?![\d]|[.,]\d)")
_NPWP_PUNCTUATED = re.compile(r"(?<![\d.])\d{2}\.\d{3}\.\d{3}\.\d[-.]\d{3}\.\d{3}(?![\d])")
_FIFTEEN = re.compile(r"(?<![\d.,])0?\d{15}(?![\d]|[.,]\d)")
_MOBILE = re.compile(r"(?<![\d\w])(?:\+62|62|0)[ .-]?8[1-35-9](?:[ .-]?\d){7,10}(?![\d])")
# An e-mail address is read from its @: one local-part character before it, a domain after it.
# Searching for the whole address instead rescans the rest of the cell from every position (a
# long run of local-part characters with no domain takes quadratic time).
_EMAIL_LOCAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,}")
_EMAIL_DOMAIN_MAX = 255
# Cheap pre-filter: only cells with a long digit run (separators allowed) or an @ go through the
# detailed checks. Fullwidth and other Unicode digits and at-signs count (NFKC makes them ASCII).
_CANDIDATE = re.compile(r"(?:\d[ .\-()\u00a0\u00ad\u200b-\u200f\u2060\ufeff]{0,5}){9,}\d|[@\uff20\ufe6b]")
_CANDIDATE_RE2 = r"(?:\p{Nd}[ .\-()\x{a0}\x{ad}\x{200b}-\x{200f}\x{2060}\x{feff}]{0,5}){9,}\p{Nd}|[@\x{ff20}\x{fe6b}]"
# Characters that change nothing a reader sees: soft hyphen, zero-width spaces and joiners, BOM.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"))
# Digits in groups, as people write identifiers: "6472 0152 0385 0012", "(0812) 3456-7890", "+62 812.3456.7890".
# A slash separates the parts of document numbers (503/1234/DPMPTSP/2024), not an identifier's digits.
_DIGIT_GROUPS = re.compile(r"\d+(?:[ .\-()\u00a0]{1,4}\d+)*")
# A calendar date (day, month, year 1900-2099) is never part of an identifier; digits written on
# after it (11.01.0101.01000001, 11.01.2001.01000001) make it groups of one, not a date.
_DATE = re.compile(r"(?<![\d.\-/])(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|1[0-2])\1(?:19|20)\d{2}(?![\d]|[.\-/]\d)")
# An amount or a decimal, not an identifier: 1.234.567 / 12,5 / 0.25 (a leading 0 is never an amount).
_NUMBER = re.compile(r"^[1-9]\d{0,2}(?:([.,\u00a0 ])\d{3})(?:\1\d{3})*(?:[.,]\d+)?$|^\d+[.,]\d{1,3}$|^\d{1,3}[.,]\d+$")
_PHONE_DIGITS = re.compile(r"(?:62|0)8[1-35-9]\d{7,10}")
# The longest identifier (NIP) has 18 digits: longer joins are never tried.
_MAX_ID_DIGITS = 18
_KK_HINT = re.compile(r"(^|_)(kk|no_kk|kartu_keluarga|keluarga)(_|$)")
# Identifiers split over adjacent columns (6472 | 0152 | 0385 | 0012): a part is a text cell of digit
# groups only. Numbers are never parts (a count or an amount; an identifier typed as a number has
# lost its leading zeros anyway), nor are columns named as a period or a postal code, nor
# Kemendagri region codes. (Three postal codes side by side make 15 digits, which pass the NPWP
# check one time in ten: in a table of one row, that would block it.)
_NOT_A_PART = re.compile(
    r"(^|_)(tahun|bulan|triwulan|semester|minggu|tanggal|tgl|periode|year|month|quarter|week|date"
    r"|kode_?pos|postal|postcode|zip)(_|$)"
)
_PART_RE2 = r"^[+(]{0,2}\p{Nd}[\p{Nd} .\-()\x{a0}\x{ad}\x{200b}-\x{200f}\x{2060}\x{feff}]*$"
_REGION_CODE_RE2 = r"^\d{2}(?:\.\d{2}){1,2}(?:\.\d{4})?$"  # Kemendagri 64 / 64.72 / 64.72.01 / 64.72.01.1001
_MAX_PARTS = 4

# A street address: a street, alley or housing marker followed by a word, or RT/RW numbers.
_ADDRESS = re.compile(
    r"(?:^|[\s,(])(?:jl|jln|jalan|gg|gang|lorong|komp|kompleks|perum|perumahan)\b\.?\s*[a-z0-9]"
    r"|\brt\.?\s*:?\s*\d{1,3}\s*/\s*rw\.?\s*:?\s*\d{1,3}\b|\brt\.?\s*\d{1,3}\b.{0,4}\brw\.?\s*\d{1,3}\b",
    re.IGNORECASE,
)
# A person's name: an honorific before it, or an academic degree after a comma.
_HONORIFIC = re.compile(r"^(?:bpk|bapak|ibu|sdr|sdri|saudara|saudari|tn|ny|nn|h|hj|dr|drg|ir|prof)\.?\s+[A-Z]",
                        re.IGNORECASE)
_DEGREE = re.compile(r",\s*(?:s|m|a|d)\.?\s?(?:kom|h|e|pd|sos|t|kep|ked|ag|ak|ip|si|m|md|p|hum|kes|farm|ars)\.?\s*$",
                     re.IGNORECASE)
# Two to four capitalised words (Title Case or capitals), letters only: how names are written.
_CAPITALISED = re.compile(
    r"^[A-Z][a-z'\u2019-]+(?: [A-Z][a-z'\u2019-]+){1,3}$|^[A-Z'\u2019-]{2,}(?: [A-Z'\u2019-]{2,}){1,3}$"
)
# Words of places, institutions and services: a value holding one is not a person's name.
_NOT_NAME_WORDS = frozenset("""
kota kab kabupaten kecamatan kelurahan desa kampung provinsi kaltim kalimantan timur barat utara selatan tengah ulu
ilir hulu hilir tanjung muara loa sungai teluk pulau gunung bukit batu tanah long sepaku
puskesmas pustu posyandu klinik rumah sakit rs rsud rsia apotek laboratorium
sd smp sma smk mi mts ma tk paud slb negeri swasta sekolah madrasah universitas politeknik institut akademi
dinas badan kantor bagian bidang seksi unit upt uptd layanan pelayanan mal pelabuhan bandara terminal stasiun
pasar masjid gereja pura vihara balai gedung lapangan taman jembatan jalan gang
izin surat persetujuan sertifikat tanda daftar usaha bangunan lingkungan umum khusus lainnya lain jumlah total
pt cv ud koperasi yayasan bank persero tbk perum perusda bumd
baik cukup kurang sangat tidak ya selesai proses ditolak diterima baru lama aktif
""".split())


def _region_words() -> frozenset[str]:
    from transforms.reference import REGIONS

    words: set[str] = set()
    for region in REGIONS:
        for text in (region.name, *region.aliases):
            words.update(text.lower().split())
    return frozenset(words)



class PersonalDataFound(ValidationFailed):
    """Personal data was found in a column about to be published: nothing is published."""


@dataclass(frozen=True)
class Allowance:
    """A column whose look-alike values of one kind are known not to be personal data."""

    column: str
    kind: str
    reason: str


@dataclass
class Finding:
    column: str
    kind: str
    cells: int
    allowed: bool = False
    reason: str = ""


@dataclass
class PrivacyScan:
    """The scan of one frame: what was found where, and whether it blocks publication."""

    rows: int
    columns_scanned: list[str]
    findings: list[Finding] = field(default_factory=list)
    # Columns that look like people's names or addresses where the catalog does not forbid them:
    # reported, never blocking (a heuristic; see free_text_kinds).
    warnings: list[Finding] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if not f.allowed]

    @property
    def success(self) -> bool:
        return not self.blocking

    def summary(self) -> str:
        """One line per blocking finding: column, kind and count, never the values."""
        return "; ".join(f"column '{f.column}': {f.cells} cell(s) with {f.kind}" for f in self.blocking)

    def to_dict(self) -> dict[str, Any]:
        """The scan as plain data for the JSON report."""
        return {"success": self.success, **asdict(self)}


def _valid_date(day: int, month: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]


def nik_kind(digits: str, column: str = "") -> str | None:
    """'nik' or 'no_kk' when 16 digits have the NIK/KK structure, else None.

    Both are PP KK CC DDMMYY SSSS. Only a NIK can have a day of 41-71 (women); a day of 1-31
    fits both, so the column name decides (``no_kk``, ``kartu_keluarga``) and NIK is the default.
    """
    if len(digits) != 16 or not digits.isdigit():
        return None
    if int(digits[:2]) not in PROVINCE_CODES or digits[2:4] == "00" or digits[4:6] == "00":
        return None
    day, month = int(digits[6:8]), int(digits[8:10])
    if digits[12:16] == "0000":
        return None
    if _valid_date(day - 40, month):
        return "nik"
    if _valid_date(day, month):
        return "no_kk" if _KK_HINT.search(column.lower()) else "nik"
    return None


def is_nip(digits: str) -> bool:
    """True when 18 digits have the NIP structure: birth date, appointment month, sex, serial."""
    if len(digits) != 18 or not digits.isdigit():
        return False
    born_year, born_month, born_day = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    hired_year, hired_month = int(digits[8:12]), int(digits[12:14])
    return (
        1930 <= born_year <= 2015
        and _valid_date(born_day, born_month)
        and 1950 <= hired_year <= 2040
        and 1 <= hired_month <= 12
        and hired_year >= born_year + 15
        and digits[14] in "12"
        and digits[15:] != "000"
    )


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_npwp_digits(digits: str) -> bool:
    """True for a bare 15-digit NPWP (or 0 + 15 digits) whose first nine digits pass the Luhn check."""
    if len(digits) == 16 and digits.startswith("0"):
        digits = digits[1:]
    return len(digits) == 15 and digits.isdigit() and _luhn_ok(digits[:9])


def normalise(text: str) -> str:
    """The cell as a reader sees it: NFKC (fullwidth digits and at-signs become ASCII), invisible characters gone."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE)


def _identifier_kinds(digits: str, column: str) -> set[str]:
    """The kinds one joined run of digits is: NIK/No. KK, NIP, NPWP or a mobile number."""
    kinds: set[str] = set()
    if len(digits) == 16:
        kind = nik_kind(digits, column)
        if kind:
            kinds.add(kind)
        elif is_npwp_digits(digits):
            kinds.add("npwp")
    elif len(digits) == 18 and is_nip(digits):
        kinds.add("nip")
    elif len(digits) == 15 and is_npwp_digits(digits):
        kinds.add("npwp")
    if digits[0] in "06" and _PHONE_DIGITS.fullmatch(digits):
        kinds.add("telepon")
    return kinds


def grouped_identifiers(text: str, column: str = "") -> set[str]:
    """Identifiers written in groups or glued to words: each run of digit groups, joined window by window.

    ``6472 0152 0385 0012``, ``(0812) 3456-7890``, ``WA081234567890``. Amounts and decimals
    (``1.234.567``, ``12,5``) are numbers, not identifiers. Joins stop at 18 digits, so a long
    cell costs time in proportion to its length.
    """
    found: set[str] = set()
    # A long run repeats its windows: each joined value is checked once (the memory of them is
    # bounded, so a long run of distinct digits costs no more than before).
    checked: set[str] = set()
    for match in _DIGIT_GROUPS.finditer(_DATE.sub(" ; ", text)):
        run = match.group()
        if len(run) < 10 or _NUMBER.match(run):
            continue
        groups = re.findall(r"\d+", run)
        for start in range(len(groups)):
            joined = ""
            for end in range(start, len(groups)):  # by index: slicing the rest each time is quadratic
                joined += groups[end]
                if len(joined) > _MAX_ID_DIGITS:
                    break
                if len(joined) >= 10 and joined not in checked:
                    if len(checked) >= 4096:
                        checked.clear()
                    checked.add(joined)
                    found |= _identifier_kinds(joined, column)
    return found


def has_email(text: str) -> bool:
    """True when ``text`` holds an e-mail address; each @ is checked once, a bounded window after it."""
    at = text.find("@")
    while at != -1:
        if at > 0 and text[at - 1] in _EMAIL_LOCAL and _EMAIL_DOMAIN.match(text, at + 1, at + 1 + _EMAIL_DOMAIN_MAX):
            return True
        at = text.find("@", at + 1)
    return False


def kinds_in_text(text: str, column: str = "") -> set[str]:
    """The kinds of personal data present in one text cell, however its identifiers are written."""
    found: set[str] = set()
    if not _CANDIDATE.search(text):
        return found
    text = normalise(text)
    found |= grouped_identifiers(text, column)
    if has_email(text):
        found.add("email")
    for m in _SIXTEEN.finditer(text):
        kind = nik_kind(m.group(), column)
        if kind:
            found.add(kind)
        elif is_npwp_digits(m.group()):
            found.add("npwp")
    for m in _NIP.finditer(text):
        if is_nip("".join(m.groups())):
            found.add("nip")
    if _NPWP_PUNCTUATED.search(text):
        found.add("npwp")
    for m in _FIFTEEN.finditer(text):
        if len(m.group()) == 15 and is_npwp_digits(m.group()):
            found.add("npwp")
    if _MOBILE.search(text):
        found.add("telepon")
    return found


def _integral_digits(values: pd.Series) -> tuple[pd.Series, int]:
    """Whole numbers >= 1e8 of a numeric column as digit strings, and the digit count of its median.

    Floats count only when integral. Python ints keep every digit of an int64; float64 above
    2**53 loses the last one or two, which the structure checks (province, date) do not need.
    """
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    typical = len(str(int(abs(numbers.median())))) if len(numbers) else 0
    numbers = numbers[(numbers >= 1e8) & (numbers < 1e19)]
    if pd.api.types.is_float_dtype(numbers):
        numbers = numbers[numbers == numbers.round()]
    if len(numbers) and (numbers < 2**63).all():
        import pyarrow as pa

        # int64 holds these whole numbers exactly; Arrow writes their digits without a Python call each.
        text = pa.array(numbers.to_numpy(dtype="int64")).cast(pa.string())
        return pd.Series(pd.array(text, dtype="string[pyarrow]"), index=numbers.index), typical
    return numbers.map(lambda v: str(int(v))), typical


def _luhn9_ok(numbers: np.ndarray) -> np.ndarray:
    """_luhn_ok of each number written with nine digits (leading zeros add nothing), vectorised."""
    total = np.zeros(len(numbers), dtype=np.int64)
    rest = numbers.astype(np.int64)
    for position in range(9):
        digit = rest % 10
        rest = rest // 10
        if position % 2 == 1:
            digit = np.where(digit > 4, digit * 2 - 9, digit * 2)
        total += digit
    ok: np.ndarray = total % 10 == 0
    return ok


def _npwp_numbers(digits: pd.Series, lost_zero: bool) -> np.ndarray:
    """is_npwp_digits of 15-digit strings, or of 14-digit ones with their leading 0 put back, vectorised."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if digits.empty:
        return np.zeros(0, dtype=bool)
    text = pa.array(digits.astype("string[pyarrow]").array)
    # The check reads the first nine digits: with the 0 put back, those are the first eight.
    first = pc.utf8_slice_codeunits(text, 0, 8 if lost_zero else 9)
    return _luhn9_ok(pc.cast(first, pa.int64()).to_numpy())


def _scan_numeric(column: str, values: pd.Series) -> dict[str, int]:
    digits, typical = _integral_digits(values)
    counts: dict[str, int] = {}
    if digits.empty:
        return counts

    def add(kind: str, mask: pd.Series) -> None:
        hits = int(mask.astype("boolean").fillna(False).sum())  # an empty selection maps to str dtype
        if hits:
            counts[kind] = counts.get(kind, 0) + hits

    length = digits.str.len()
    nik = digits[length == 16].map(lambda d: nik_kind(d, column))
    for kind in ("nik", "no_kk"):
        add(kind, nik == kind)
    add("nip", digits[length == 18].map(is_nip))
    fifteen = digits[(length == 15).astype("boolean").fillna(False).to_numpy(dtype=bool)]
    add("npwp", pd.Series(_npwp_numbers(fifteen, lost_zero=False), dtype=bool))
    # Phone numbers stored as numbers (62 8xx..., or 8xx... once the leading 0 is lost) and old
    # NPWPs without their leading 0 have the size of rupiah amounts, which are common. They count
    # when most of the column looks like them (a phone column), or when they stand out by four or
    # more digits from the column's median (a phone number planted among counts).
    outlier = length >= typical + 4
    fourteen = (length == 14).astype("boolean").fillna(False).to_numpy(dtype=bool)
    npwp = fourteen.copy()  # only the 14-digit values can be an NPWP without its 0
    npwp[fourteen] = _npwp_numbers(digits[fourteen], lost_zero=True)
    for kind, mask in (
        ("telepon", digits.str.match(r"^(?:62)?8[1-35-9]\d{7,10}$")),
        ("npwp", pd.Series(npwp, index=digits.index)),
    ):
        mask = mask.astype("boolean").fillna(False)
        if mask.sum() >= max(1, 0.5 * len(digits)):
            add(kind, mask)
        else:
            add(kind, mask & outlier)
    return counts


def _candidate_counts(values: pd.Series) -> Iterable[tuple[str, int]]:
    """Each distinct cell of a text column that passes the cheap pre-filter, with how often it occurs."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        # RE2 over the Arrow buffer, not Python's re cell by cell; same pattern, \p{Nd} being re's \d.
        cells = pa.array(values.array).drop_null()
        counted = pc.value_counts(cells.filter(pc.match_substring_regex(cells, _CANDIDATE_RE2)))
        return zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True)
    text = values.dropna().astype("string")
    candidates = text[text.str.contains(_CANDIDATE, regex=True).fillna(False)]
    counts: Iterable[tuple[str, int]] = candidates.value_counts().items()
    return counts


def _scan_text(column: str, values: pd.Series) -> dict[str, int]:
    counts: dict[str, int] = {}
    # Codes and names repeat: each distinct value is checked once and counted as often as it occurs.
    for cell, occurrences in _candidate_counts(values):
        for kind in kinds_in_text(cell, column):
            counts[kind] = counts.get(kind, 0) + int(occurrences)
    return counts


def _part_digits(values: pd.Series) -> Any:
    """The digits of each cell written as an identifier part (digit groups only), null elsewhere.

    None when the column's first rows hold no part, or only Kemendagri region codes.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    # A table of people holds a part in most rows: the column's first rows say whether it is one.
    first = _arrow_text(values.iloc[:_FIRST_ROWS]).drop_null()
    first_parts = first.filter(pc.fill_null(pc.match_substring_regex(first, _PART_RE2), False))
    if len(first_parts) == 0 or pc.all(pc.match_substring_regex(first_parts, _REGION_CODE_RE2)).as_py():
        return None
    # Values repeat: the checks run on each distinct value, and the digits go back to the rows by index.
    encoded = pc.dictionary_encode(_arrow_text(values))
    distinct, rows = encoded.dictionary, encoded.indices
    is_part = pc.fill_null(pc.match_substring_regex(distinct, _PART_RE2), False)
    digits = pc.replace_substring_regex(pc.utf8_normalize(distinct, "NFKC"), "[^0-9]", "")
    digits = pc.if_else(is_part, digits, pa.scalar(None, digits.type)).cast(pa.large_string())
    return pc.take(digits, rows)


def split_identifiers(frame: pd.DataFrame) -> list[tuple[str, dict[str, int]]]:
    """Identifiers typed over 2-4 adjacent text columns: each window of columns, its kinds and rows.

    A window counts when its joined digits are a valid identifier (the same structure checks as
    one cell) in at least half of the rows where every one of its cells is digit groups: a table
    of people holds one in every row, while codes and numbers side by side make one by chance.
    The window is named by its columns joined with ``+``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    names = [str(n) for n in frame.columns]
    parts: dict[int, Any] = {}
    for i, name in enumerate(frame.columns):
        col = frame[name]
        if _NOT_A_PART.search(str(name).lower()) or pd.api.types.is_numeric_dtype(col) \
                or pd.api.types.is_bool_dtype(col) or pd.api.types.is_datetime64_any_dtype(col) or _is_dates(col):
            continue
        digits = _part_digits(col)
        if digits is not None:
            parts[i] = digits
    found: list[tuple[str, dict[str, int]]] = []
    for start in sorted(parts):
        for width in range(2, _MAX_PARTS + 1):
            window = list(range(start, start + width))
            if any(i not in parts for i in window):
                break
            joined = pc.binary_join_element_wise(*(parts[i] for i in window), pa.scalar("", pa.large_string()))
            filled = len(joined) - joined.null_count
            length = pc.utf8_length(joined)
            fits = pc.fill_null(pc.and_(pc.greater_equal(length, 10), pc.less_equal(length, _MAX_ID_DIGITS)), False)
            counted = pc.value_counts(joined.filter(fits))
            label = "+".join(names[i] for i in window)
            counts: dict[str, int] = {}
            for value, n in zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True):
                for kind in _identifier_kinds(value, label):
                    counts[kind] = counts.get(kind, 0) + int(n)
            counts = {k: n for k, n in counts.items() if n >= 0.5 * filled}
            if counts:
                found.append((label, counts))
    return found


def _name_like(value: str, known: frozenset[str], region_words: frozenset[str]) -> bool:
    """Two to four capitalised words, none of them a place, institution or service, nor a known category."""
    if value in known or not _CAPITALISED.match(value):
        return False
    words = value.lower().replace("'", " ").split()
    return not any(w in _NOT_NAME_WORDS or w in region_words for w in words)


# Free text and identifier parts are judged on a column's first rows: the cost does not grow with the table.
_FIRST_ROWS = 5_000


def _arrow_text(values: pd.Series) -> Any:
    """A text column as Arrow strings, without a copy when it is Arrow-backed already."""
    import pyarrow as pa

    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        text = pa.array(values.array)
    else:
        text = pa.array(values.astype("string[pyarrow]").array)
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def free_text_kinds(values: pd.Series, known: Iterable[str] = ()) -> dict[str, int]:
    """'nama' and 'alamat' with the number of cells, when a text column looks like people's names or addresses.

    A heuristic over the distinct values of the column's first rows: addresses when at least 30%
    carry a street, alley or housing marker or RT/RW numbers; names when at least 20% carry an
    honorific or a degree, or when at least half are two to four capitalised words that name no
    place, institution or service and no category the catalog declares (``known``), in a column
    of at least five distinct values that are mostly distinct (people, not categories, differ row
    by row). The count is of every cell holding one of the values judged so.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = _arrow_text(values).drop_null()
    first = cells.slice(0, _FIRST_ROWS)
    raw = [v for v in pc.unique(first).to_pylist() if v and v.strip()]
    if not raw:
        return {}
    text = {v: normalise(v).strip() for v in raw}
    known_set, region_words = frozenset(known), _region_words()
    address = [v for v in raw if _ADDRESS.search(text[v])]
    titled = [v for v in raw if _HONORIFIC.match(text[v]) or _DEGREE.search(text[v])]
    named = [v for v in raw if _name_like(text[v], known_set, region_words)]
    found: dict[str, list[str]] = {}
    if len(address) >= 0.3 * len(raw):
        found["alamat"] = address
    many_people = len(raw) >= 5 and len(raw) >= 0.5 * len(first)
    if titled and len(titled) >= 0.2 * len(raw):
        found["nama"] = titled + named
    elif many_people and len(named) >= 0.5 * len(raw):
        found["nama"] = named
    return {kind: int(pc.sum(pc.is_in(cells, pa.array(hits).cast(cells.type))).as_py() or 0)
            for kind, hits in found.items()}


def _is_dates(values: pd.Series) -> bool:
    """True for a column of date objects (how a declared date reads from Parquet): never personal data."""
    dates: bool = values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "date"
    return dates


def scan_frame(
    frame: pd.DataFrame,
    allow: Iterable[Any] = (),
    forbid: Iterable[Any] = (),
    known: Mapping[str, Iterable[str]] | None = None,
) -> PrivacyScan:
    """Scan every text and numeric column of ``frame``.

    ``allow`` holds (column, kind, reason) allowances; ``forbid`` (column, kinds) the text columns
    where people's names or addresses block (elsewhere they are warnings); ``known`` the values a
    column may hold by the catalog (its categories), which are never names.
    """
    allowed = {(a.column, a.kind): a.reason for a in allow}
    forbidden = {(f.column, kind) for f in forbid for kind in f.kinds}
    known = known or {}
    scan = PrivacyScan(rows=len(frame), columns_scanned=[])

    def add(column: str, counts: dict[str, int]) -> None:
        for kind in KINDS:
            if counts.get(kind):
                reason = allowed.get((column, kind), "")
                scan.findings.append(Finding(column, kind, counts[kind], bool(reason), reason))

    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
            continue
        scan.columns_scanned.append(str(name))
        if _is_dates(col):
            continue
        if pd.api.types.is_numeric_dtype(col):
            add(str(name), _scan_numeric(str(name), col))
            continue
        add(str(name), _scan_text(str(name), col))
        for kind, cells in free_text_kinds(col, known.get(str(name), ())).items():
            target = scan.findings if (str(name), kind) in forbidden else scan.warnings
            target.append(Finding(str(name), kind, cells))
    for label, counts in split_identifiers(frame):
        add(label, counts)
    return scan


def redact(value: Any) -> Any:
    """``value`` unless it holds personal data; then a marker naming only the kinds."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        kinds = set(_scan_numeric("", pd.Series([value])))
    elif isinstance(value, str):
        kinds = kinds_in_text(value)
    elif isinstance(value, list | tuple):
        return [redact(v) for v in value]
    else:
        kinds = kinds_in_text(str(value))
    return f"[disamarkan: {', '.join(sorted(kinds))}]" if kinds else value
