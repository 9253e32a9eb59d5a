#!/usr/bin/env python3
"""A small Solr-protocol search service for the local CKAN dev portal.

LOCAL STAND-IN ONLY.  Apache Solr cannot be installed on the development
machines, and CKAN 2.12 cannot run without a search server.  This module
answers the part of the Solr HTTP API that CKAN (through pysolr) uses, well
enough for all publishing calls, the DataStore calls and the HTML pages to
work.  Production uses real Solr (the ckan/ckan-solr image).

Standard library only.  Run:

    python3 solr_standin.py --port 8983 --data-dir DIR --schema .../ckan/config/solr/schema.xml

Endpoints (``<core>`` is any name, e.g. ``/solr/ckan``):
    GET/POST <core>/select (and /query)   q fq fl rows start sort facet.* wt=json
                                          defType (lucene|dismax|edismax) qf mm q.op df
    POST     <core>/update[/json|/xml]    JSON/XML add, delete by id/query, commit
    GET      <core>/get?id=..&ids=..      real-time get
    GET      <core>/schema?wt=schema.xml  the schema file given with --schema
    GET      <core>/admin/file?file=schema.xml
    GET      <core>/admin/ping
    GET      /solr/admin/cores, /solr/admin/info/system

The schema file drives field types (string / text / numeric / date / bool),
stored / multiValued flags, dynamic fields and copyFields.  The index is kept in
memory and persisted per core to ``DIR/<core>.json`` (written atomically on
commit, and at the latest ~1 s after a change, and on SIGTERM).

Every request is logged (path, parameters, status, time) so gaps can be seen;
requests to endpoints it does not know are logged with ``UNHANDLED``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import logging
import math
import os
import re
import signal
import sys
import threading
import time
import unicodedata
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("solr_standin")

SOLR_VERSION = "9.4.0-devstack-standin"


class SolrError(Exception):
    """An error reported to the client the way Solr does (JSON, HTTP code)."""

    def __init__(self, msg: str, code: int = 400):
        super().__init__(msg)
        self.msg = msg
        self.code = code


# --------------------------------------------------------------------------
# Text analysis
# --------------------------------------------------------------------------

class PorterStemmer:
    """The classic Porter (1980) stemmer, enough to make "floods" find "flood"."""

    @staticmethod
    def _cons(w: str, i: int) -> bool:
        c = w[i]
        if c in "aeiou":
            return False
        if c == "y":
            return i == 0 or not PorterStemmer._cons(w, i - 1)
        return True

    def _m(self, s: str) -> int:
        n, i, ln = 0, 0, len(s)
        while i < ln and self._cons(s, i):
            i += 1
        while i < ln:
            while i < ln and not self._cons(s, i):
                i += 1
            if i >= ln:
                break
            while i < ln and self._cons(s, i):
                i += 1
            n += 1
        return n

    def _vowel_in(self, s: str) -> bool:
        return any(not self._cons(s, i) for i in range(len(s)))

    def _doublec(self, s: str) -> bool:
        return len(s) >= 2 and s[-1] == s[-2] and self._cons(s, len(s) - 1)

    def _cvc(self, s: str) -> bool:
        if len(s) < 3:
            return False
        n = len(s)
        return (self._cons(s, n - 3) and not self._cons(s, n - 2)
                and self._cons(s, n - 1) and s[-1] not in "wxy")

    def _rule_list(self, w: str, rules: list[tuple[str, str]], min_m: int) -> str:
        for suf, rep in rules:
            if w.endswith(suf):
                stem = w[: -len(suf)]
                if self._m(stem) > min_m:
                    return stem + rep
                return w
        return w

    _STEP2 = [("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"),
              ("izer", "ize"), ("bli", "ble"), ("alli", "al"), ("entli", "ent"),
              ("eli", "e"), ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"),
              ("ator", "ate"), ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"),
              ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
              ("logi", "log")]
    _STEP3 = [("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"),
              ("ical", "ic"), ("ful", ""), ("ness", "")]
    _STEP4 = ["ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism",
              "ate", "iti", "ous", "ive", "ize", "ion", "al", "er", "ic", "ou"]

    def stem(self, w: str) -> str:
        return _stem_cached(w)

    def _stem(self, w: str) -> str:
        if len(w) <= 2 or not w.isalpha() or not w.isascii():
            return w
        # step 1a
        if w.endswith("sses"):
            w = w[:-2]
        elif w.endswith("ies"):
            w = w[:-2]
        elif w.endswith("ss"):
            pass
        elif w.endswith("s"):
            w = w[:-1]
        # step 1b
        if w.endswith("eed"):
            if self._m(w[:-3]) > 0:
                w = w[:-1]
        else:
            for suf in ("ed", "ing"):
                if w.endswith(suf) and self._vowel_in(w[: -len(suf)]):
                    w = w[: -len(suf)]
                    if w.endswith(("at", "bl", "iz")):
                        w += "e"
                    elif self._doublec(w) and w[-1] not in "lsz":
                        w = w[:-1]
                    elif self._m(w) == 1 and self._cvc(w):
                        w += "e"
                    break
        # step 1c
        if w.endswith("y") and self._vowel_in(w[:-1]):
            w = w[:-1] + "i"
        w = self._rule_list(w, self._STEP2, 0)
        w = self._rule_list(w, self._STEP3, 0)
        # step 4
        for suf in sorted(self._STEP4, key=len, reverse=True):
            if w.endswith(suf):
                stem = w[: -len(suf)]
                if self._m(stem) > 1 and (suf != "ion" or stem.endswith(("s", "t"))):
                    w = stem
                break
        # step 5
        if w.endswith("e"):
            stem = w[:-1]
            m = self._m(stem)
            if m > 1 or (m == 1 and not self._cvc(stem)):
                w = stem
        if self._m(w) > 1 and self._doublec(w) and w.endswith("l"):
            w = w[:-1]
        return w


_STEMMER = PorterStemmer()


@functools.lru_cache(maxsize=50000)
def _stem_cached(w: str) -> str:
    return _STEMMER._stem(w)


def ascii_fold(s: str) -> str:
    if s.isascii():
        return s
    return "".join(c for c in unicodedata.normalize("NFKD", s)
                   if not unicodedata.combining(c))


def _char_class(c: str) -> str:
    if c.isdigit():
        return "d"
    if c.isalpha():
        return "u" if c.isupper() else "l"
    return "o"


def word_delimiter(token: str, split_case: bool) -> list[str]:
    """Approximates Solr's WordDelimiterGraphFilter (word + number parts)."""
    parts: list[str] = []
    cur = ""
    prev = ""
    for i, c in enumerate(token):
        k = _char_class(c)
        if k == "o":
            if cur:
                parts.append(cur)
            cur, prev = "", ""
            continue
        brk = False
        if cur:
            if (prev == "d") != (k == "d"):
                brk = True
            elif split_case and prev == "l" and k == "u":
                brk = True
            elif (split_case and prev == "u" and k == "u" and i + 1 < len(token)
                  and _char_class(token[i + 1]) == "l"):
                brk = True
        if brk:
            parts.append(cur)
            cur = ""
        cur += c
        prev = k
    if cur:
        parts.append(cur)
    return parts


class Analyzer:
    """Analysis chain of a TextField type, derived from the schema's XML."""

    def __init__(self, kind: str = "standard", split_case: bool = False,
                 stem: bool = False, fold: bool = False, catenate: bool = False,
                 ngram: tuple[int, int] = (2, 10)):
        self.kind = kind  # "standard" (whitespace + word delimiter) or "ngram"
        self.split_case = split_case
        self.stem = stem
        self.fold = fold
        self.catenate = catenate
        self.ngram = ngram

    def _norm(self, part: str) -> str:
        p = part.lower()
        if self.stem:
            p = _STEMMER.stem(p)
        if self.fold:
            p = ascii_fold(p)
        return p

    def index_tokens(self, value: str) -> tuple[list[str], set[str], set[str]]:
        """(positions, terms, unstemmed lower-case terms) of one field value."""
        if self.kind == "ngram":
            low = value.lower()
            return [low], set(), {low}
        positions: list[str] = []
        terms: set[str] = set()
        raw: set[str] = set()
        for ws in value.split():
            parts = word_delimiter(ws, self.split_case)
            for p in parts:
                n = self._norm(p)
                positions.append(n)
                terms.add(n)
                raw.add(ascii_fold(p.lower()))
            if self.catenate and len(parts) > 1:
                cat = "".join(parts)
                terms.add(self._norm(cat))
                raw.add(ascii_fold(cat.lower()))
        return positions, terms, raw

    def query_tokens(self, text: str) -> list[str]:
        if self.kind == "ngram":
            return [t.lower() for t in text.split()]
        out: list[str] = []
        for ws in text.split():
            out.extend(self._norm(p) for p in word_delimiter(ws, self.split_case))
        return out


# --------------------------------------------------------------------------
# Values: dates and numbers
# --------------------------------------------------------------------------

_DATE_RE = re.compile(
    r"^(-?\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def parse_date(s: str) -> dt.datetime:
    m = _DATE_RE.match(s.strip())
    if not m:
        raise ValueError(s)
    y, mo, d, h, mi, sec, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    value = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0),
                        micro, tzinfo=dt.UTC)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        off = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        value -= sign * off
    return value


def format_date(d: dt.datetime) -> str:
    ms = d.microsecond // 1000
    base = d.strftime("%Y-%m-%dT%H:%M:%S")
    if ms:
        return "{}.{}Z".format(base, f"{ms:03d}".rstrip("0"))
    return base + "Z"


_UNITS = {
    "YEAR": "years", "YEARS": "years", "MONTH": "months", "MONTHS": "months",
    "DAY": "days", "DAYS": "days", "DATE": "days", "HOUR": "hours", "HOURS": "hours",
    "MINUTE": "minutes", "MINUTES": "minutes", "SECOND": "seconds", "SECONDS": "seconds",
    "MILLI": "millis", "MILLIS": "millis", "MILLISECOND": "millis", "MILLISECONDS": "millis",
}


def _add_months(d: dt.datetime, n: int) -> dt.datetime:
    y, m = divmod(d.month - 1 + n, 12)
    year = d.year + y
    month = m + 1
    import calendar
    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day)


def _round_date(d: dt.datetime, unit: str) -> dt.datetime:
    unit = _UNITS.get(unit)
    if unit == "years":
        return d.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "months":
        return d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "days":
        return d.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "hours":
        return d.replace(minute=0, second=0, microsecond=0)
    if unit == "minutes":
        return d.replace(second=0, microsecond=0)
    if unit == "seconds":
        return d.replace(microsecond=0)
    return d


def parse_date_math(s: str) -> dt.datetime:
    """ISO date or NOW, followed by date math such as -1DAY, +2MONTHS, /DAY."""
    s = s.strip()
    m = re.match(r"^(NOW|[^/+]*?Z|\d{4}-\d{2}-\d{2}(?:T[\d:.]+)?)?((?:[+\-/]\d*[A-Z]+)*)$", s)
    if not m:
        raise ValueError(s)
    base, ops = m.groups()
    if not base or base == "NOW":
        d = dt.datetime.now(dt.UTC)
    else:
        d = parse_date(base)
    for op, num, unit in re.findall(r"([+\-/])(\d*)([A-Z]+)", ops or ""):
        if unit not in _UNITS:
            raise ValueError(s)
        if op == "/":
            d = _round_date(d, unit)
            continue
        n = int(num or 1) * (1 if op == "+" else -1)
        u = _UNITS[unit]
        if u == "years":
            d = _add_months(d, 12 * n)
        elif u == "months":
            d = _add_months(d, n)
        elif u == "millis":
            d += dt.timedelta(milliseconds=n)
        else:
            d += dt.timedelta(**{u: n})
    return d


def date_key(d: dt.datetime) -> float:
    return (d - _EPOCH).total_seconds()


# --------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------

class FieldType:
    def __init__(self, name: str, kind: str, multi: bool = False,
                 analyzer: Analyzer | None = None, query_analyzer: Analyzer | None = None):
        self.name = name
        self.kind = kind  # string text int float date bool binary
        self.multi = multi
        self.analyzer = analyzer
        self.query_analyzer = query_analyzer or analyzer


class FieldDef:
    def __init__(self, name: str, ftype: FieldType, stored: bool = True,
                 indexed: bool = True, multi: bool = False, required: bool = False,
                 default: str | None = None):
        self.name = name
        self.type = ftype
        self.stored = stored
        self.indexed = indexed
        self.multi = multi
        self.required = required
        self.default = default

    def for_name(self, name: str) -> FieldDef:
        return FieldDef(name, self.type, self.stored, self.indexed, self.multi,
                        self.required, self.default)


def _bool_attr(el: ET.Element, name: str, default: bool) -> bool:
    v = el.get(name)
    if v is None:
        return default
    return v.strip().lower() == "true"


def _glob_match(pattern: str, name: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*"):
        return name.endswith(pattern[1:])
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return pattern == name


class Schema:
    def __init__(self, path: str | None):
        self.path = path
        self.raw = b""
        self.name = "standin"
        self.version = "1.6"
        self.types: dict[str, FieldType] = {}
        self.fields: dict[str, FieldDef] = {}
        self.dynamic: list[tuple[str, FieldDef]] = []
        self.copy: list[tuple[str, str]] = []
        self.unique_key = "id"
        self._cache: dict[str, FieldDef | None] = {}
        if path:
            with open(path, "rb") as fh:
                self.raw = fh.read()
            self._parse(ET.fromstring(self.raw))
        else:
            self._default()

    def _default(self) -> None:
        s = FieldType("string", "string")
        t = FieldType("text", "text", analyzer=Analyzer(split_case=True, stem=True, fold=True,
                                                        catenate=True),
                      query_analyzer=Analyzer(split_case=True, stem=True, fold=True))
        self.types = {"string": s, "text": t}
        self.fields = {"id": FieldDef("id", s, required=True),
                       "text": FieldDef("text", t, stored=False, multi=True)}
        self.dynamic = [("*", FieldDef("*", s))]

    @staticmethod
    def _analyzer(el: ET.Element, which: str) -> Analyzer | None:
        chosen = None
        for an in el.findall("analyzer"):
            t = an.get("type")
            if t == which or (t is None and chosen is None):
                chosen = an
        if chosen is None:
            return None
        tok = chosen.find("tokenizer")
        tok_cls = tok.get("class", "") if tok is not None else ""
        if "NGram" in tok_cls:
            return Analyzer("ngram", ngram=(int(tok.get("minGramSize", "1")),
                                            int(tok.get("maxGramSize", "2"))))
        a = Analyzer("standard")
        for f in chosen.findall("filter"):
            cls = f.get("class", "")
            if "WordDelimiter" in cls:
                a.split_case = f.get("splitOnCaseChange", "1") == "1"
                a.catenate = f.get("catenateWords", "0") == "1"
            elif "Snowball" in cls or "PorterStem" in cls or "KStem" in cls:
                a.stem = True
            elif "ASCIIFolding" in cls:
                a.fold = True
        return a

    def _parse(self, root: ET.Element) -> None:
        self.name = root.get("name", "standin")
        self.version = root.get("version", "1.6")
        for el in root.iter():
            if el.tag.lower() != "fieldtype":
                continue
            cls = el.get("class", "")
            multi = _bool_attr(el, "multiValued", False)
            if cls.endswith("TextField"):
                ft = FieldType(el.get("name"), "text", multi,
                               self._analyzer(el, "index") or Analyzer(),
                               self._analyzer(el, "query"))
            elif "Bool" in cls:
                ft = FieldType(el.get("name"), "bool", multi)
            elif "Date" in cls:
                ft = FieldType(el.get("name"), "date", multi)
            elif any(x in cls for x in ("IntPoint", "LongPoint", "TrieInt", "TrieLong",
                                        "IntField", "LongField")):
                ft = FieldType(el.get("name"), "int", multi)
            elif any(x in cls for x in ("Float", "Double")):
                ft = FieldType(el.get("name"), "float", multi)
            elif "Binary" in cls:
                ft = FieldType(el.get("name"), "binary", multi)
            else:
                ft = FieldType(el.get("name"), "string", multi)
            self.types[ft.name] = ft

        def mk(el: ET.Element) -> FieldDef:
            ft = self.types.get(el.get("type", ""), None) or FieldType("string", "string")
            return FieldDef(el.get("name"), ft,
                            stored=_bool_attr(el, "stored", True),
                            indexed=_bool_attr(el, "indexed", True),
                            multi=_bool_attr(el, "multiValued", ft.multi),
                            required=_bool_attr(el, "required", False),
                            default=el.get("default"))

        for el in root.iter("field"):
            if el.get("name"):
                self.fields[el.get("name")] = mk(el)
        for el in root.iter("dynamicField"):
            self.dynamic.append((el.get("name"), mk(el)))
        self.dynamic.sort(key=lambda x: len(x[0]), reverse=True)
        for el in root.iter("copyField"):
            self.copy.append((el.get("source"), el.get("dest")))
        uk = root.find("uniqueKey")
        if uk is not None and uk.text:
            self.unique_key = uk.text.strip()

    def field(self, name: str) -> FieldDef | None:
        if name in self._cache:
            return self._cache[name]
        fd = self.fields.get(name)
        if fd is None:
            for pat, dyn in self.dynamic:
                if _glob_match(pat, name):
                    fd = dyn.for_name(name)
                    break
        self._cache[name] = fd
        return fd

    def copy_dests(self, name: str) -> list[str]:
        return [d for s, d in self.copy if d != name and _glob_match(s, name)]


# --------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------

def coerce(fd: FieldDef, value: Any, doc_id: str) -> Any:
    kind = fd.type.kind
    try:
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if value != int(value):
                    raise ValueError
                return int(value)
            return int(str(value).strip())
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == "date":
            if isinstance(value, (dt.datetime, dt.date)):
                value = value.isoformat()
            s = str(value).strip()
            if s.startswith("NOW"):
                return format_date(parse_date_math(s))
            return format_date(parse_date(s))
        if kind == "bool":
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in ("true", "t", "1", "on", "yes")
    except (ValueError, TypeError, OverflowError) as err:
        what = {"int": "Invalid Number", "float": "Invalid Number",
                "date": "Invalid Date String"}.get(kind, "Invalid value")
        raise SolrError(f"ERROR: [doc={doc_id}] Error adding field '{fd.name}'='{value}' "
                        f"msg={what}:'{value}'") from err
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value if isinstance(value, str) else str(value)


class Doc:
    """One indexed document: the coerced source fields plus lazily analysed terms."""

    __slots__ = ("src", "values", "_tok", "seq")

    def __init__(self, src: dict[str, Any], schema: Schema, seq: int):
        self.src = src
        self.seq = seq
        values: dict[str, list[Any]] = {}
        for name, v in src.items():
            vals = v if isinstance(v, list) else [v]
            values.setdefault(name, []).extend(vals)
            for dest in schema.copy_dests(name):
                values.setdefault(dest, []).extend(vals)
        self.values = values
        self._tok: dict[str, Any] = {}

    def tokens(self, field: str, analyzer: Analyzer) -> tuple[list[list[str]], set[str], set[str]]:
        t = self._tok.get(field)
        if t is None:
            positions: list[list[str]] = []
            terms: set[str] = set()
            raw: set[str] = set()
            for v in self.values.get(field, ()):
                p, te, r = analyzer.index_tokens(str(v))
                positions.append(p)
                terms |= te
                raw |= r
            t = (positions, terms, raw)
            self._tok[field] = t
        return t


# --------------------------------------------------------------------------
# Query language (Lucene subset, dismax, edismax)
# --------------------------------------------------------------------------

MUST, SHOULD, MUST_NOT = "+", "", "-"


class Node:
    boost = 1.0

    def score(self, doc: Doc, ix: Core) -> float | None:
        raise NotImplementedError


class MatchAll(Node):
    def score(self, doc, ix):
        return self.boost

    def __repr__(self):
        return "*:*"


class MatchNone(Node):
    def score(self, doc, ix):
        return None

    def __repr__(self):
        return "<none>"


class BoolQ(Node):
    def __init__(self, clauses: list[tuple[str, Node]], min_should: int = 0):
        self.clauses = clauses
        self.min_should = min_should

    def score(self, doc, ix):
        total = 0.0
        should_hit = 0
        has_must = has_should = False
        for occur, node in self.clauses:
            s = node.score(doc, ix)
            if occur == MUST:
                has_must = True
                if s is None:
                    return None
                total += s
            elif occur == MUST_NOT:
                if s is not None:
                    return None
            else:
                has_should = True
                if s is not None:
                    should_hit += 1
                    total += s
        if not has_must and not has_should:
            return 0.0  # purely negative: everything but the excluded
        need = self.min_should if self.min_should else (0 if has_must else 1)
        if should_hit < need:
            return None
        return total * self.boost

    def __repr__(self):
        return "({}){}".format(" ".join(o + repr(n) for o, n in self.clauses),
                           f"~{self.min_should}" if self.min_should else "")


class FieldQ(Node):
    """term / phrase / wildcard / range / exists on one field."""

    def __init__(self, field: str, kind: str, text: str = "", lo: str | None = None,
                 hi: str | None = None, lo_inc: bool = True, hi_inc: bool = True,
                 pattern: re.Pattern | None = None):
        self.field = field
        self.kind = kind
        self.text = text
        self.lo, self.hi, self.lo_inc, self.hi_inc = lo, hi, lo_inc, hi_inc
        self.pattern = pattern
        self._prepared: Any = None

    def __repr__(self):
        if self.kind == "range":
            return "{}:{}{} TO {}{}".format(self.field, "[" if self.lo_inc else "{", self.lo,
                                         self.hi, "]" if self.hi_inc else "}")
        return f"{self.field}:{self.kind}({self.text})"

    def _prepare(self, ix: Core) -> Any:
        fd = ix.schema.field(self.field)
        if fd is None:
            raise SolrError(f"undefined field {self.field}")
        kind = fd.type.kind
        prep: dict[str, Any] = {"fd": fd, "kind": kind}
        if self.kind == "range":
            prep["lo"] = None if self.lo in (None, "*") else self._typed(fd, self.lo)
            prep["hi"] = None if self.hi in (None, "*") else self._typed(fd, self.hi)
        elif self.kind in ("term", "phrase"):
            if kind == "text":
                prep["tokens"] = fd.type.query_analyzer.query_tokens(self.text)
            else:
                prep["value"] = self._typed(fd, self.text)
        elif self.kind == "wild" and kind == "text":
            pat = ascii_fold(self.text.lower())
            prep["re"] = _wild_to_re(pat)
        elif self.kind == "wild":
            prep["re"] = _wild_to_re(self.text)
        return prep

    @staticmethod
    def _typed(fd: FieldDef, text: str) -> Any:
        kind = fd.type.kind
        try:
            if kind == "int" or kind == "float":
                return float(text)
            if kind == "date":
                return date_key(parse_date_math(text))
            if kind == "bool":
                return text.strip().lower() in ("true", "t", "1", "on", "yes")
        except ValueError:
            if kind == "date":
                raise SolrError(f"Invalid Date String:'{text}'") from None
            raise SolrError(f"Invalid Number: {text}") from None
        return text

    @staticmethod
    def _doc_typed(kind: str, v: Any) -> Any:
        if kind in ("int", "float"):
            return float(v)
        if kind == "date":
            return date_key(parse_date(v))
        return v

    def score(self, doc, ix):
        prep = self._prepared
        if prep is None:
            prep = self._prepared = self._prepare(ix)
        vals = doc.values.get(self.field)
        if not vals:
            return None
        kind = prep["kind"]
        if self.kind == "exists":
            return self.boost
        if kind == "text":
            an = prep["fd"].type.analyzer
            positions, terms, raw = doc.tokens(self.field, an)
            if self.kind == "wild":
                rx = prep["re"]
                if an.kind == "ngram":
                    hit = any(rx.search(r) for r in raw)
                else:
                    hit = any(rx.fullmatch(t) for t in terms | raw)
                return self.boost if hit else None
            if self.kind == "range":
                lo, hi = prep["lo"], prep["hi"]
                for t in terms:
                    if _in_range(t, lo, hi, self.lo_inc, self.hi_inc):
                        return self.boost
                return None
            toks = prep["tokens"]
            if not toks:
                return None
            if an.kind == "ngram":
                lo_, hi_ = an.ngram
                ok = all(lo_ <= len(t) <= hi_ and any(t in r for r in raw) for t in toks)
                return self.boost if ok else None
            if len(toks) == 1:
                t = toks[0]
                if t not in terms:
                    return None
                tf = sum(p.count(t) for p in positions)
                return self.boost * (1.0 + 0.1 * min(tf, 10))
            n = len(toks)
            for p in positions:
                for i in range(len(p) - n + 1):
                    if p[i:i + n] == toks:
                        return self.boost * 1.5
            return None
        # non-text fields
        if self.kind == "wild":
            rx = prep["re"]
            return self.boost if any(rx.fullmatch(_str_value(v)) for v in vals) else None
        if self.kind == "range":
            lo, hi = prep["lo"], prep["hi"]
            for v in vals:
                try:
                    tv = self._doc_typed(kind, v)
                except (ValueError, TypeError):
                    continue
                if _in_range(tv, lo, hi, self.lo_inc, self.hi_inc):
                    return self.boost
            return None
        target = prep["value"]
        for v in vals:
            if kind in ("int", "float", "date"):
                try:
                    if self._doc_typed(kind, v) == target:
                        return self.boost
                except (ValueError, TypeError):
                    continue
            elif kind == "bool":
                if bool(v) == target:
                    return self.boost
            elif _str_value(v) == target:
                return self.boost
        return None


def _str_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else str(v)


def _in_range(v: Any, lo: Any, hi: Any, lo_inc: bool, hi_inc: bool) -> bool:
    try:
        if lo is not None and (v < lo or (v == lo and not lo_inc)):
            return False
        if hi is not None and (v > hi or (v == hi and not hi_inc)):
            return False
    except TypeError:
        return False
    return True


def _wild_to_re(pat: str) -> re.Pattern:
    out = []
    for c in pat:
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        else:
            out.append(re.escape(c))
    return re.compile("".join(out), re.S)


class DisMaxQ(Node):
    """A bare term searched across the qf fields: max score + tie * the others."""

    def __init__(self, subs: list[Node], tie: float):
        self.subs = subs
        self.tie = tie

    def score(self, doc, ix):
        scores = [s for s in (n.score(doc, ix) for n in self.subs) if s is not None]
        if not scores:
            return None
        best = max(scores)
        return (best + self.tie * (sum(scores) - best)) * self.boost

    def __repr__(self):
        return "dismax({})".format(" | ".join(map(repr, self.subs)))


_TERM_STOP = set(' \t\r\n()[]{}"^~')


class QueryParser:
    """Lucene classic query syntax subset with Lucene's clause-combining rules.

    mode: "lucene" (fields allowed, bare terms go to ``df``),
          "edismax" (fields allowed, bare terms go to all ``qf`` fields),
          "dismax" (no field syntax; only quotes, +/- and AND/OR/NOT are special).
    """

    def __init__(self, text: str, mode: str = "lucene", df: str | None = None,
                 qf: list[tuple[str, float]] | None = None, op: str = "OR",
                 tie: float = 0.0, schema: Schema | None = None):
        self.s = text
        self.i = 0
        self.mode = mode
        self.df = df
        self.qf = qf or []
        self.op = op.upper()
        self.tie = tie
        self.schema = schema
        self.explicit_ops = False

    # -- helpers
    def _peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def _skip_ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def _word_ahead(self, word: str) -> bool:
        s, i = self.s, self.i
        if s.startswith(word, i):
            j = i + len(word)
            return j >= len(s) or s[j].isspace() or s[j] in "()"
        return False

    def parse(self) -> Node:
        node = self._parse_seq(None, None)
        self._skip_ws()
        if self.i < len(self.s):
            raise SolrError(f"org.apache.solr.search.SyntaxError: Cannot parse '{self.s}': "
                            f"Encountered \"{self._peek()}\" at column {self.i}")
        return node

    def _parse_seq(self, closer: str | None, field: str | None) -> Node:
        clauses: list[list[Any]] = []  # [occur, node]
        while True:
            self._skip_ws()
            c = self._peek()
            if not c:
                if closer:
                    raise SolrError(f"org.apache.solr.search.SyntaxError: Cannot parse '{self.s}': "
                                    f"Encountered \"<EOF>\", expected \"{closer}\"")
                break
            if closer and c == closer:
                self.i += 1
                break
            conj = None
            if self._word_ahead("AND") or self.s.startswith("&&", self.i):
                conj = "AND"
                self.i += 3 if self._word_ahead("AND") else 2
            elif self._word_ahead("OR") or self.s.startswith("||", self.i):
                conj = "OR"
                self.i += 2
            if conj:
                self.explicit_ops = True
                self._skip_ws()
            mods = None
            c = self._peek()
            if c == "+":
                mods = "REQ"
                self.i += 1
            elif c == "-" or c == "!":
                mods = "NOT"
                self.i += 1
            elif self._word_ahead("NOT"):
                mods = "NOT"
                self.explicit_ops = True
                self.i += 3
                self._skip_ws()
            node = self._parse_clause(field)
            self._add_clause(clauses, conj, mods, node)
        if len(clauses) == 1 and clauses[0][0] != MUST_NOT:
            return clauses[0][1]
        return BoolQ([(o, n) for o, n in clauses if n is not None])

    def _add_clause(self, clauses: list[list[Any]], conj: str | None, mods: str | None,
                    node: Node | None) -> None:
        # Lucene QueryParserBase.addClause
        if clauses and conj == "AND" and clauses[-1][0] != MUST_NOT:
            clauses[-1][0] = MUST
        if clauses and self.op == "AND" and conj == "OR" and clauses[-1][0] != MUST_NOT:
            clauses[-1][0] = SHOULD
        if node is None:
            return
        if self.op == "OR":
            prohibited = mods == "NOT"
            required = mods == "REQ"
            if conj == "AND" and not prohibited:
                required = True
        else:
            prohibited = mods == "NOT"
            required = not prohibited and conj != "OR"
        occur = MUST_NOT if prohibited else (MUST if required else SHOULD)
        clauses.append([occur, node])

    def _read_term(self, stop: set[str]) -> tuple[str, str, bool]:
        """Returns (text with escapes resolved, wildcard pattern, has_wildcard)."""
        s = self.s
        text, pat = [], []
        wild = False
        while self.i < len(s):
            c = s[self.i]
            if c == "\\" and self.i + 1 < len(s):
                nxt = s[self.i + 1]
                text.append(nxt)
                pat.append("\\" + nxt if nxt in "*?" else nxt)
                self.i += 2
                continue
            if c.isspace() or c in stop:
                break
            if c in "*?" and self.mode != "dismax":
                wild = True
            text.append(c)
            pat.append(c)
            self.i += 1
        return "".join(text), "".join(pat), wild

    def _read_boost(self, node: Node | None) -> None:
        while self._peek() in ("^", "~") and self._peek():
            c = self._peek()
            self.i += 1
            m = re.match(r"\d*\.?\d*", self.s[self.i:])
            num = m.group(0) if m else ""
            self.i += len(num)
            if c == "^" and node is not None and num:
                try:
                    node.boost = float(num)
                except ValueError:
                    pass

    def _parse_clause(self, field: str | None) -> Node | None:
        self._skip_ws()
        c = self._peek()
        if not c:
            return None
        if self.mode == "dismax":
            if c == '"':
                node = self._phrase(field)
            else:
                text, _, _ = self._read_term({'"'})
                node = self._bare(text, "term") if text else None
            return node
        if c == "(":
            self.i += 1
            node = self._parse_seq(")", field)
            self._read_boost(node)
            return node
        if c == '"':
            node = self._phrase(field)
            self._read_boost(node)
            return node
        if c == "[" or c == "{":
            node = self._range(field)
            self._read_boost(node)
            return node
        start = self.i
        stop = _TERM_STOP | {":"}
        text, pat, wild = self._read_term(stop)
        if self._peek() == ":" and text:
            fname = text
            self.i += 1
            if fname == "*":
                self._skip_ws()
                val, vpat, vwild = self._read_term(_TERM_STOP)
                if val == "*":
                    node: Node = MatchAll()
                    self._read_boost(node)
                    return node
                raise SolrError(f"org.apache.solr.search.SyntaxError: Cannot parse '{self.s}'")
            c2 = self._peek()
            if c2 == "(":
                self.i += 1
                node = self._parse_seq(")", fname)
            elif c2 == '"':
                node = self._phrase(fname)
            elif c2 == "[" or c2 == "{":
                node = self._range(fname)
            else:
                val, vpat, vwild = self._read_term(_TERM_STOP)
                if not val:
                    raise SolrError(f"org.apache.solr.search.SyntaxError: Cannot parse '{self.s}': "
                                    "Encountered \"<EOF>\"")
                node = self._term(fname, val, vpat, vwild)
            self._read_boost(node)
            return node
        if not text:
            # a lone special character: skip it to avoid looping forever
            if self.i == start:
                self.i += 1
            return None
        if field:
            node = self._term(field, text, pat, wild)
        else:
            node = self._bare(text, "wild" if wild else "term", pat)
        self._read_boost(node)
        return node

    def _phrase(self, field: str | None) -> Node:
        assert self._peek() == '"'
        self.i += 1
        buf = []
        s = self.s
        while self.i < len(s) and s[self.i] != '"':
            if s[self.i] == "\\" and self.i + 1 < len(s):
                buf.append(s[self.i + 1])
                self.i += 2
                continue
            buf.append(s[self.i])
            self.i += 1
        self.i += 1  # closing quote (tolerate a missing one)
        text = "".join(buf)
        if field:
            return FieldQ(field, "phrase", text)
        return self._bare(text, "phrase")

    def _range(self, field: str | None) -> Node:
        lo_inc = self._peek() == "["
        self.i += 1

        def bound() -> str:
            self._skip_ws()
            if self._peek() == '"':
                self.i += 1
                j = self.s.find('"', self.i)
                j = len(self.s) if j < 0 else j
                v = self.s[self.i:j]
                self.i = j + 1
                return v
            v, _, _ = self._read_term({"]", "}"})
            return v

        lo = bound()
        self._skip_ws()
        if not self._word_ahead("TO"):
            raise SolrError(f"org.apache.solr.search.SyntaxError: Cannot parse '{self.s}': "
                            "expected TO in range")
        self.i += 2
        hi = bound()
        self._skip_ws()
        c = self._peek()
        if c not in "]}" or not c:
            raise SolrError(f"org.apache.solr.search.SyntaxError: Cannot parse '{self.s}': "
                            "unterminated range")
        self.i += 1
        fname = field or self.df
        if not fname:
            raise SolrError("no field name specified in query and no default specified "
                            "via 'df' param")
        return FieldQ(fname, "range", lo=lo, hi=hi, lo_inc=lo_inc, hi_inc=c == "]")

    def _term(self, field: str, text: str, pat: str, wild: bool) -> Node:
        if wild:
            if pat == "*":
                return FieldQ(field, "exists")
            return FieldQ(field, "wild", text=pat)
        return FieldQ(field, "term", text)

    def _bare(self, text: str, kind: str, pat: str = "") -> Node:
        """A term without a field: df in lucene mode, all qf fields in (e)dismax."""
        if self.mode in ("dismax", "edismax") and self.qf:
            subs: list[Node] = []
            for fname, boost in self.qf:
                if kind == "wild":
                    n = self._term(fname, text, pat, True)
                else:
                    n = FieldQ(fname, kind, text)
                n.boost = boost
                subs.append(n)
            return DisMaxQ(subs, self.tie)
        fname = self.df
        if not fname:
            raise SolrError("no field name specified in query and no default specified "
                            "via 'df' param")
        if kind == "wild":
            return self._term(fname, text, pat or text, True)
        return FieldQ(fname, kind, text)


def parse_mm(spec: str | None, n: int) -> int:
    """Solr's minimum-should-match spec (e.g. '2<-1 5<80%') for n optional clauses."""
    if spec is None or n == 0:
        return 0
    spec = spec.strip()

    def one(expr: str) -> int:
        expr = expr.strip()
        if expr.endswith("%"):
            pct = int(expr[:-1])
            v = int(math.floor(n * abs(pct) / 100.0))
            return n - v if pct < 0 else v
        v = int(expr)
        return n + v if v < 0 else v

    if "<" in spec:
        result = n
        for cond in spec.split():
            k, expr = cond.split("<", 1)
            if n > int(k):
                result = one(expr)
        return max(0, min(n, result))
    return max(0, min(n, one(spec)))


LOCAL_PARAMS_RE = re.compile(r"^\{!([^}]*)\}")


def parse_query(q: str, params: Params, schema: Schema, main: bool) -> Node:
    q = q.strip()
    def_type = params.get("defType", "lucene") if main else "lucene"
    m = LOCAL_PARAMS_RE.match(q)
    if m:
        q = q[m.end():]
        lp = dict(re.findall(r"(\w+)=('[^']*'|\"[^\"]*\"|\S+)", m.group(1)))
        lp = {k: v.strip("'\"") for k, v in lp.items()}
        words = [w for w in m.group(1).split() if "=" not in w]
        t = lp.get("type") or (words[0] if words else None)
        if t in ("term", "field", "raw") and lp.get("f"):
            return FieldQ(lp["f"], "term" if t != "field" else "phrase", q)
        if t:
            def_type = t
    if q in ("", "*:*", "*"):
        return MatchAll() if q else MatchNone()
    op = params.get("q.op", "OR")
    if def_type in ("dismax", "edismax"):
        qf = []
        for part in (params.get("qf") or "").split():
            name, _, boost = part.partition("^")
            qf.append((name, float(boost) if boost else 1.0))
        if not qf:
            df = params.get("df") or "text"
            qf = [(df, 1.0)]
        tie = float(params.get("tie", "0") or 0)
        parser = QueryParser(q, mode=def_type, qf=qf, op="OR", tie=tie, schema=schema,
                             df=params.get("df"))
        node = parser.parse()
        if isinstance(node, BoolQ):
            n_should = sum(1 for o, _ in node.clauses if o == SHOULD)
            mm = params.get("mm")
            if mm is None:
                mm = "100%" if (def_type == "dismax" or op.upper() == "AND") else "0%"
            if not (def_type == "edismax" and parser.explicit_ops and "OR" in q):
                node.min_should = parse_mm(mm, n_should)
        return node
    parser = QueryParser(q, mode="lucene", df=params.get("df") or "text", op=op,
                         schema=schema)
    return parser.parse()


# --------------------------------------------------------------------------
# Cores
# --------------------------------------------------------------------------

class Params:
    """Multi-valued request parameters."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self.pairs = list(pairs)

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in reversed(self.pairs):
            if k == key:
                return v
        return default

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self.pairs if k == key]

    def as_echo(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.pairs:
            if k in out:
                if not isinstance(out[k], list):
                    out[k] = [out[k]]
                out[k].append(v)
            else:
                out[k] = v
        return out


class Core:
    def __init__(self, name: str, schema: Schema, data_dir: str):
        self.name = name
        self.schema = schema
        self.path = os.path.join(data_dir, f"{name}.json")
        self.lock = threading.RLock()
        self.docs: dict[str, Doc] = {}
        self.seq = 0
        self.version = 0
        self.dirty = False
        self.started = time.time()
        self._load()

    # -- persistence
    def _load(self) -> None:
        self.docs.clear()
        if not os.path.exists(self.path):
            return
        with open(self.path, encoding="utf-8") as fh:
            data = json.load(fh)
        self.version = int(data.get("version", 0))
        for src in data.get("docs", []):
            self.seq += 1
            key = str(src.get(self.schema.unique_key))
            self.docs[key] = Doc(src, self.schema, self.seq)
        log.info("core %s: loaded %d docs from %s", self.name, len(self.docs), self.path)

    def save(self, force: bool = False) -> None:
        with self.lock:
            if not self.dirty and not force:
                return
            data = {"core": self.name, "version": self.version, "saved": format_date(
                dt.datetime.now(dt.UTC)),
                "docs": [d.src for d in self.docs.values()]}
            tmp = f"{self.path}.tmp.{os.getpid()}"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            self.dirty = False

    def rollback(self) -> None:
        with self.lock:
            self._load()
            self.dirty = False

    # -- updates
    def add(self, doc: dict[str, Any], overwrite: bool = True) -> None:
        uk = self.schema.unique_key
        raw_id = doc.get(uk)
        if isinstance(raw_id, dict):
            raw_id = raw_id.get("set")
        doc_id = str(raw_id) if raw_id is not None else "unknown"
        with self.lock:
            existing = self.docs.get(doc_id)
            atomic = any(isinstance(v, dict) and k != uk for k, v in doc.items())
            src: dict[str, Any] = {}
            if atomic and existing is not None:
                src = dict(existing.src)
            for name, value in doc.items():
                if isinstance(value, dict) and name != uk:
                    src = self._atomic(src, name, value, doc_id)
                    continue
                self._set_field(src, name, value, doc_id)
            for name, fd in self.schema.fields.items():
                if name not in src and fd.default is not None:
                    self._set_field(src, name, fd.default, doc_id)
            for name, fd in self.schema.fields.items():
                if fd.required and name not in src:
                    raise SolrError(f"[doc={doc_id}] missing required field: {name}")
            self.version += 1
            if "_version_" in self.schema.fields or self.schema.field("_version_"):
                src["_version_"] = str(self.version) if self.schema.field(
                    "_version_").type.kind == "string" else self.version
            key = str(src[uk])
            if key in self.docs:
                if not overwrite:
                    return
                del self.docs[key]
            self.seq += 1
            self.docs[key] = Doc(src, self.schema, self.seq)
            self.dirty = True

    def _set_field(self, src: dict[str, Any], name: str, value: Any, doc_id: str) -> None:
        fd = self.schema.field(name)
        if fd is None:
            raise SolrError(f"ERROR: [doc={doc_id}] unknown field '{name}'")
        vals = value if isinstance(value, (list, tuple)) else [value]
        vals = [v for v in vals if v is not None]
        if not vals:
            src.pop(name, None)
            return
        if not fd.multi and len(vals) > 1:
            raise SolrError(f"ERROR: [doc={doc_id}] multiple values encountered for non multiValued "
                            f"field {name}: {json.dumps(vals)[:300]}")
        coerced = [coerce(fd, v, doc_id) for v in vals]
        src[name] = coerced if fd.multi else coerced[0]

    def _atomic(self, src: dict[str, Any], name: str, op: dict[str, Any], doc_id: str
                ) -> dict[str, Any]:
        for action, value in op.items():
            cur = src.get(name)
            cur_list = cur if isinstance(cur, list) else ([] if cur is None else [cur])
            if action == "set":
                self._set_field(src, name, value, doc_id)
            elif action in ("add", "add-distinct"):
                new = value if isinstance(value, list) else [value]
                if action == "add-distinct":
                    new = [v for v in new if v not in cur_list]
                self._set_field(src, name, cur_list + new, doc_id)
            elif action == "remove":
                rm = value if isinstance(value, list) else [value]
                self._set_field(src, name, [v for v in cur_list if v not in rm], doc_id)
            elif action == "inc":
                base = cur_list[0] if cur_list else 0
                self._set_field(src, name, float(base) + float(value)
                                if isinstance(value, float) else int(base) + int(value), doc_id)
            else:
                raise SolrError(f"Unknown operation for the an atomic update: {action}")
        return src

    def delete_ids(self, ids: list[str]) -> int:
        with self.lock:
            n = 0
            for i in ids:
                if self.docs.pop(str(i), None) is not None:
                    n += 1
            if n:
                self.dirty = True
            return n

    def delete_query(self, q: str) -> int:
        node = parse_query(q, Params([("q.op", "OR"), ("df", "text")]), self.schema, False)
        with self.lock:
            doomed = [k for k, d in self.docs.items() if node.score(d, self) is not None]
            for k in doomed:
                del self.docs[k]
            if doomed:
                self.dirty = True
            return len(doomed)

    # -- search
    def search(self, params: Params) -> dict[str, Any]:
        t0 = time.time()
        q = params.get("q")
        if q is None:
            q = params.get("q.alt") or ""
            if not q:
                q = "*:*" if params.get("defType") not in ("dismax", "edismax") else ""
        main = parse_query(q, params, self.schema, True) if q.strip() else (
            MatchAll() if params.get("defType") not in ("dismax", "edismax") else MatchNone())
        filters = [parse_query(fq, params, self.schema, False)
                   for fq in params.getlist("fq") if fq.strip()]
        try:
            start = int(params.get("start", 0) or 0)
            rows = int(params.get("rows", 10) if params.get("rows") not in (None, "") else 10)
        except ValueError as e:
            raise SolrError(f"Invalid Number: {e}") from None
        sort_spec = self._parse_sort(params.get("sort"))
        with self.lock:
            hits: list[tuple[float, Doc]] = []
            for d in self.docs.values():
                ok = True
                for f in filters:
                    if f.score(d, self) is None:
                        ok = False
                        break
                if not ok:
                    continue
                s = main.score(d, self)
                if s is None:
                    continue
                hits.append((s, d))
            hits = self._sort(hits, sort_spec)
            fl = self._parse_fl(params.get("fl"))
            page = hits[start:start + rows] if rows > 0 else []
            docs = [self._render(d, s, fl) for s, d in page]
            resp: dict[str, Any] = {
                "responseHeader": {"zkConnected": None, "status": 0,
                                   "QTime": 0, "params": params.as_echo()},
                "response": {"numFound": len(hits), "start": start, "numFoundExact": True,
                             "docs": docs},
            }
            if fl[1]:
                resp["response"]["maxScore"] = max((s for s, _ in hits), default=0.0)
            if str(params.get("facet", "false")).lower() in ("true", "on", "1"):
                resp["facet_counts"] = self._facets(params, [d for _, d in hits])
        resp["responseHeader"]["QTime"] = int((time.time() - t0) * 1000)
        return resp

    def get(self, ids: list[str], params: Params) -> dict[str, Any]:
        fl = self._parse_fl(params.get("fl"))
        with self.lock:
            docs = [self._render(self.docs[i], 0.0, fl) for i in ids if i in self.docs]
        return {"response": {"numFound": len(docs), "start": 0, "docs": docs}}

    @staticmethod
    def _parse_sort(spec: str | None) -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
        if not spec or not spec.strip():
            return out
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            bits = part.split()
            if len(bits) != 2 or bits[1].lower() not in ("asc", "desc"):
                raise SolrError(f"Can't determine a Sort Order (asc or desc) in sort spec '{spec}', "
                                f"pos={len(part)}")
            out.append((bits[0], bits[1].lower() == "desc"))
        return out

    def _sort_value(self, d: Doc, s: float, field: str) -> Any:
        if field == "score":
            return s
        if field in ("_docid_", "index_order"):
            return d.seq
        vals = d.values.get(field)
        if not vals:
            return None
        fd = self.schema.field(field)
        v = vals[0]
        kind = fd.type.kind if fd else "string"
        try:
            if kind in ("int", "float"):
                return float(v)
            if kind == "date":
                return date_key(parse_date(v))
        except (ValueError, TypeError):
            return None
        if kind == "text":
            return ascii_fold(str(v).lower())
        return _str_value(v)

    def _sort(self, hits: list[tuple[float, Doc]], spec: list[tuple[str, bool]]
              ) -> list[tuple[float, Doc]]:
        if not spec:
            spec = [("score", True)]

        def cmp(a: tuple[float, Doc], b: tuple[float, Doc]) -> int:
            for field, desc in spec:
                va = self._sort_value(a[1], a[0], field)
                vb = self._sort_value(b[1], b[0], field)
                if va == vb:
                    continue
                if va is None:
                    return 1   # missing values last
                if vb is None:
                    return -1
                try:
                    c = -1 if va < vb else 1
                except TypeError:
                    c = -1 if str(va) < str(vb) else 1
                return -c if desc else c
            return -1 if a[1].seq < b[1].seq else (1 if a[1].seq > b[1].seq else 0)

        return sorted(hits, key=functools.cmp_to_key(cmp))

    @staticmethod
    def _parse_fl(fl: str | None) -> tuple[list[str], bool]:
        if not fl or not fl.strip():
            return ["*"], False
        names = [n for n in re.split(r"[\s,]+", fl.strip()) if n]
        want_score = "score" in names
        names = [n for n in names if n != "score"]
        if not names:
            names = ["*"] if not want_score else []
        return names, want_score

    def _render(self, d: Doc, score: float, fl: tuple[list[str], bool]) -> dict[str, Any]:
        names, want_score = fl
        out: dict[str, Any] = {}
        stored = {}
        for k, v in d.src.items():
            fd = self.schema.field(k)
            if fd is None or fd.stored:
                stored[k] = v
        for k in list(d.values):
            if k not in d.src:
                fd = self.schema.field(k)
                if fd is not None and fd.stored:
                    vals = d.values[k]
                    stored[k] = vals if fd.multi else (vals[0] if vals else None)
        for n in names:
            if "*" in n or "?" in n:
                rx = _wild_to_re(n)
                for k, v in stored.items():
                    if rx.fullmatch(k):
                        out[k] = v
            elif n in stored:
                out[n] = stored[n]
        if want_score:
            out["score"] = score
        return out

    def _facets(self, params: Params, docs: list[Doc]) -> dict[str, Any]:
        result: dict[str, Any] = {"facet_queries": {}, "facet_fields": {}, "facet_ranges": {},
                                  "facet_intervals": {}, "facet_heatmaps": {}}
        json_nl = params.get("json.nl", "flat")
        for field in params.getlist("facet.field"):
            key = field
            m = LOCAL_PARAMS_RE.match(field)
            if m:
                field = field[m.end():]
                km = re.search(r"key=(\S+)", m.group(1))
                key = km.group(1) if km else field

            def fp(name: str, default: Any, field: str = field) -> Any:
                return params.get(f"f.{field}.facet.{name}",
                                  params.get(f"facet.{name}", default))

            limit = int(fp("limit", 100))
            mincount = int(fp("mincount", 0) or 0)
            offset = int(fp("offset", 0) or 0)
            prefix = fp("prefix", None)
            sort = fp("sort", "count" if limit > 0 else "index")
            fd = self.schema.field(field)
            counts: dict[str, int] = {}
            for d in docs:
                seen: set[str] = set()
                if fd is not None and fd.type.kind == "text":
                    _, terms, _ = d.tokens(field, fd.type.analyzer)
                    seen = set(terms)
                else:
                    for v in d.values.get(field, ()):
                        seen.add(_str_value(v))
                for v in seen:
                    counts[v] = counts.get(v, 0) + 1
            items = [(v, c) for v, c in counts.items()
                     if c >= mincount and (prefix is None or v.startswith(prefix))]
            if sort in ("count", "true"):
                items.sort(key=lambda x: (-x[1], x[0]))
            else:
                items.sort(key=lambda x: x[0])
            items = items[offset:]
            if limit >= 0:
                items = items[:limit]
            if json_nl == "map":
                result["facet_fields"][key] = dict(items)
            elif json_nl == "arrarr":
                result["facet_fields"][key] = [[v, c] for v, c in items]
            else:
                flat: list[Any] = []
                for v, c in items:
                    flat.extend([v, c])
                result["facet_fields"][key] = flat
        for fq in params.getlist("facet.query"):
            node = parse_query(fq, params, self.schema, False)
            result["facet_queries"][fq] = sum(1 for d in docs if node.score(d, self) is not None)
        return result


# --------------------------------------------------------------------------
# Update messages
# --------------------------------------------------------------------------

def _pairs_hook(pairs: list[tuple[str, Any]]) -> Any:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        return ("__multi__", pairs)
    return dict(pairs)


def _norm_json(v: Any) -> Any:
    if isinstance(v, tuple) and len(v) == 2 and v[0] == "__multi__":
        return [(k, _norm_json(x)) for k, x in v[1]]
    if isinstance(v, dict):
        return {k: _norm_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_norm_json(x) for x in v]
    return v


UPDATE_COMMANDS = {"add", "delete", "commit", "optimize", "rollback", "deleteByQuery"}


def apply_json_update(core: Core, body: bytes, summary: list[str]) -> bool:
    """Returns True when a commit was requested."""
    try:
        data = json.loads(body.decode("utf-8") or "null", object_pairs_hook=_pairs_hook)
    except ValueError as e:
        raise SolrError(f"Cannot parse provided JSON: {e}") from None
    commit = False
    if isinstance(data, tuple):  # an object with repeated command keys
        commands = _norm_json(data)
    elif isinstance(data, list):
        docs = [_norm_json(d) for d in data]
        for d in docs:
            core.add(d)
        shown = ",".join(str(d.get("name") or d.get(core.schema.unique_key)) for d in docs[:5])
        summary.append(f"add {len(docs)} doc(s) [{shown}]")
        return False
    elif isinstance(data, dict):
        if not (set(data) & UPDATE_COMMANDS):
            core.add(_norm_json(data))
            summary.append(f"add 1 doc [{data.get(core.schema.unique_key)}]")
            return False
        commands = list(_norm_json(data).items())
    elif data is None:
        return False
    else:
        raise SolrError("Unsupported JSON update message")
    for cmd, arg in commands:
        if cmd == "add":
            items = arg if isinstance(arg, list) else [arg]
            for it in items:
                doc = it.get("doc", it) if isinstance(it, dict) else it
                if isinstance(doc, list):
                    doc = dict(doc)
                core.add(doc, overwrite=it.get("overwrite", True) is not False
                         if isinstance(it, dict) else True)
            summary.append(f"add {len(items)} doc(s)")
        elif cmd in ("delete", "deleteByQuery"):
            items = arg if isinstance(arg, list) else [arg]
            for it in items:
                if isinstance(it, (str, int)):
                    n = core.delete_ids([str(it)]) if cmd == "delete" else core.delete_query(it)
                    summary.append(f"delete {it} -> {n}")
                elif isinstance(it, dict) and "query" in it:
                    n = core.delete_query(it["query"])
                    summary.append(f"delete query={it['query']} -> {n}")
                elif isinstance(it, dict) and "id" in it:
                    ids = it["id"] if isinstance(it["id"], list) else [it["id"]]
                    n = core.delete_ids([str(x) for x in ids])
                    summary.append(f"delete id={ids} -> {n}")
        elif cmd in ("commit", "optimize"):
            commit = True
            summary.append(cmd)
        elif cmd == "rollback":
            core.rollback()
            summary.append("rollback")
    return commit


def apply_xml_update(core: Core, body: bytes, summary: list[str]) -> bool:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise SolrError(f"Unexpected XML: {e}") from None
    elements = list(root) if root.tag == "update" else [root]
    commit = False
    for el in elements:
        if el.tag == "add":
            overwrite = el.get("overwrite", "true") != "false"
            n = 0
            names = []
            for d in el.findall("doc"):
                doc: dict[str, Any] = {}
                for f in d.findall("field"):
                    name = f.get("name")
                    if f.get("null") == "true":
                        value: Any = None
                    else:
                        value = f.text or ""
                    if f.get("update"):
                        cur = doc.setdefault(name, {})
                        if isinstance(cur, dict):
                            upd = f.get("update")
                            if upd in cur:
                                prev = cur[upd]
                                cur[upd] = (prev if isinstance(prev, list) else [prev]) + [value]
                            else:
                                cur[upd] = value
                        continue
                    if name in doc:
                        prev = doc[name]
                        doc[name] = (prev if isinstance(prev, list) else [prev]) + [value]
                    else:
                        doc[name] = value
                core.add(doc, overwrite=overwrite)
                n += 1
                names.append(str(doc.get("name") or doc.get(core.schema.unique_key)))
            summary.append(f"add {n} doc(s) [{','.join(names[:5])}]")
        elif el.tag == "delete":
            for child in el:
                if child.tag == "id":
                    n = core.delete_ids([(child.text or "").strip()])
                    summary.append(f"delete id={child.text} -> {n}")
                elif child.tag == "query":
                    n = core.delete_query(child.text or "")
                    summary.append(f"delete query={child.text} -> {n}")
        elif el.tag in ("commit", "optimize"):
            commit = True
            summary.append(el.tag)
        elif el.tag == "rollback":
            core.rollback()
            summary.append("rollback")
        else:
            raise SolrError(f"Unexpected XML tag /{el.tag}")
    return commit


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], schema: Schema, data_dir: str):
        super().__init__(addr, Handler)
        self.schema = schema
        self.data_dir = data_dir
        self.cores: dict[str, Core] = {}
        self.cores_lock = threading.Lock()
        for fn in sorted(os.listdir(data_dir)):
            if fn.endswith(".json"):
                self.core(fn[:-5])

    def core(self, name: str) -> Core:
        with self.cores_lock:
            c = self.cores.get(name)
            if c is None:
                c = self.cores[name] = Core(name, self.schema, self.data_dir)
            return c

    def save_all(self) -> None:
        for c in list(self.cores.values()):
            try:
                c.save()
            except OSError:
                log.exception("could not save core %s", c.name)


class Handler(BaseHTTPRequestHandler):
    server: StandinServer
    protocol_version = "HTTP/1.1"
    server_version = "SolrStandin/1.0"

    def log_message(self, fmt: str, *args: Any) -> None:  # silence default stderr logging
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def _send(self, code: int, body: bytes, ctype: str = "application/json;charset=utf-8"
              ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, code: int, obj: Any) -> None:
        self._send(code, json.dumps(obj, ensure_ascii=False).encode("utf-8"))

    def _handle(self, method: str) -> None:
        t0 = time.time()
        parsed = urllib.parse.urlsplit(self.path)
        pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
        body = b""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length)
        ctype = (self.headers.get("Content-Type") or "").lower()
        if method == "POST" and "x-www-form-urlencoded" in ctype:
            pairs += urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            body = b""
        params = Params(pairs)
        path = parsed.path.rstrip("/") or "/"
        status = 200
        note = ""
        try:
            status, note = self._route(method, path, params, body, ctype)
        except SolrError as e:
            status = e.code
            note = f"ERROR {e.msg}"
            self._json(e.code, {"responseHeader": {"status": e.code, "QTime": 0},
                                "error": {"metadata": ["error-class",
                                                       "org.apache.solr.common.SolrException"],
                                          "msg": e.msg, "code": e.code}})
        except Exception as e:  # noqa: BLE001 - report everything as a Solr 500
            status = 500
            note = f"EXCEPTION {e!r}"
            log.exception("error handling %s %s", method, self.path)
            self._json(500, {"responseHeader": {"status": 500, "QTime": 0},
                             "error": {"msg": repr(e), "code": 500}})
        shown = " ".join("{}={}".format(k, v if len(v) < 400 else v[:400] + "...")
                         for k, v in params.pairs)
        log.info("%s %s %s -> %d %.0fms%s", method, path, shown, status,
                 (time.time() - t0) * 1000, (" | " + note) if note else "")

    def _route(self, method: str, path: str, params: Params, body: bytes, ctype: str
               ) -> tuple[int, str]:
        parts = [p for p in path.split("/") if p]
        if parts and parts[0] == "solr":
            parts = parts[1:]
        if not parts:
            self._json(200, {"responseHeader": {"status": 0}, "solr": SOLR_VERSION})
            return 200, ""
        if parts[0] == "admin":
            return self._admin(parts[1:], params)
        core = self.server.core(parts[0])
        handler = "/".join(parts[1:])
        if handler in ("select", "query", "") and method in ("GET", "POST", "HEAD"):
            if body and "json" in ctype:
                raise SolrError("JSON Request API is not supported by the stand-in")
            resp = core.search(params)
            self._json(200, resp)
            return 200, f"numFound={resp['response']['numFound']}"
        if handler.startswith("update"):
            summary: list[str] = []
            commit = False
            if body:
                if "json" in ctype or handler.endswith("json") or handler.endswith("docs") or (
                        body.lstrip()[:1] in (b"[", b"{")):
                    commit = apply_json_update(core, body, summary)
                else:
                    commit = apply_xml_update(core, body, summary)
            if str(params.get("commit", "")).lower() == "true" or str(
                    params.get("softCommit", "")).lower() == "true" or params.get(
                    "optimize") == "true":
                commit = True
            stream_q = params.get("stream.body")
            if stream_q:
                commit = apply_xml_update(core, stream_q.encode("utf-8"), summary) or commit
            if commit:
                core.save()
                summary.append("saved")
            self._json(200, {"responseHeader": {"status": 0, "QTime": 0}})
            return 200, "; ".join(summary)
        if handler == "get":
            ids = params.getlist("id")
            for v in params.getlist("ids"):
                ids.extend(x for x in v.split(",") if x)
            resp = core.get(ids, params)
            if len(params.getlist("id")) == 1 and not params.getlist("ids"):
                docs = resp["response"]["docs"]
                self._json(200, {"doc": docs[0] if docs else None})
            else:
                self._json(200, resp)
            return 200, ""
        if handler == "schema" or handler.startswith("schema/"):
            return self._schema(handler, params)
        if handler == "admin/file":
            if params.get("file") in ("schema.xml", "managed-schema", "managed-schema.xml"):
                self._send(200, self.server.schema.raw, "application/xml;charset=utf-8")
                return 200, ""
            raise SolrError("Can not find: {}".format(params.get("file")), 404)
        if handler == "admin/ping":
            self._json(200, {"responseHeader": {"status": 0, "QTime": 0,
                                                "params": params.as_echo()},
                             "status": "OK"})
            return 200, ""
        if handler == "admin/luke":
            with core.lock:
                n = len(core.docs)
            self._json(200, {"index": {"numDocs": n, "maxDoc": n, "version": core.version},
                             "fields": {}})
            return 200, ""
        self._json(404, {"responseHeader": {"status": 404},
                         "error": {"msg": f"Unknown handler: {handler}", "code": 404}})
        return 404, "UNHANDLED"

    def _schema(self, handler: str, params: Params) -> tuple[int, str]:
        schema = self.server.schema
        if params.get("wt") in ("schema.xml", "xml") and handler == "schema":
            self._send(200, schema.raw, "application/xml;charset=utf-8")
            return 200, ""
        sub = handler[len("schema"):].strip("/")
        if sub == "name":
            self._json(200, {"name": schema.name})
        elif sub == "version":
            self._json(200, {"version": float(schema.version)})
        elif sub == "uniquekey":
            self._json(200, {"uniqueKey": schema.unique_key})
        elif sub == "fields":
            self._json(200, {"fields": [{"name": f.name, "type": f.type.name,
                                         "stored": f.stored, "multiValued": f.multi}
                                        for f in schema.fields.values()]})
        else:
            self._json(200, {"schema": {
                "name": schema.name, "version": float(schema.version),
                "uniqueKey": schema.unique_key,
                "fields": [{"name": f.name, "type": f.type.name, "stored": f.stored,
                            "multiValued": f.multi} for f in schema.fields.values()],
                "dynamicFields": [{"name": p, "type": f.type.name}
                                  for p, f in schema.dynamic],
                "copyFields": [{"source": s, "dest": d} for s, d in schema.copy]}})
        return 200, ""

    def _admin(self, parts: list[str], params: Params) -> tuple[int, str]:
        what = "/".join(parts)
        if what == "cores":
            status = {}
            for name, c in self.server.cores.items():
                status[name] = {"name": name, "instanceDir": self.server.data_dir,
                                "dataDir": self.server.data_dir,
                                "startTime": format_date(dt.datetime.fromtimestamp(
                                    c.started, dt.UTC)),
                                "index": {"numDocs": len(c.docs), "version": c.version}}
            self._json(200, {"responseHeader": {"status": 0, "QTime": 0},
                             "initFailures": {}, "status": status})
            return 200, ""
        if what in ("info/system", "info"):
            self._json(200, {"responseHeader": {"status": 0, "QTime": 0}, "mode": "std",
                             "lucene": {"solr-spec-version": SOLR_VERSION,
                                        "solr-impl-version": SOLR_VERSION}})
            return 200, ""
        if what == "ping":
            self._json(200, {"status": "OK"})
            return 200, ""
        self._json(404, {"error": {"msg": "Unknown admin handler", "code": 404}})
        return 404, "UNHANDLED"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8983)
    ap.add_argument("--data-dir", required=True, help="index files go here (<core>.json)")
    ap.add_argument("--schema", help="Solr schema.xml (CKAN's ckan/config/solr/schema.xml)")
    ap.add_argument("--log-file", help="request log (default: stderr)")
    ap.add_argument("--autosave", type=float, default=1.0,
                    help="seconds between saves of uncommitted changes")
    args = ap.parse_args(argv)

    handlers: list[logging.Handler] = [logging.FileHandler(args.log_file) if args.log_file
                                       else logging.StreamHandler(sys.stderr)]
    logging.basicConfig(level=logging.INFO, handlers=handlers,
                        format="%(asctime)s %(levelname)s %(message)s")
    os.makedirs(args.data_dir, exist_ok=True)
    schema = Schema(args.schema)
    server = StandinServer((args.host, args.port), schema, args.data_dir)
    log.info("solr stand-in listening on http://%s:%d/solr (schema %s %s, data %s)",
             args.host, args.port, schema.name, args.schema, args.data_dir)

    stop = threading.Event()

    def saver() -> None:
        while not stop.wait(args.autosave):
            server.save_all()

    threading.Thread(target=saver, daemon=True).start()

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.save_all()
        server.server_close()
        log.info("solr stand-in stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
