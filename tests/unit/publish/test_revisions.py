"""The revision log: two tables compared by primary key, and the log rows and files of a version."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satudata.catalog import FinalPeriods, get_entry
from satudata.publish.revisions import diff_rows, log_html, period_status, read_log, write_revision_log
from satudata.publish.versions import VersionStore

KEY = ["kode", "bulan"]


def frame(rows: dict[tuple[str, int], float | None]) -> pd.DataFrame:
    return pd.DataFrame({"kode": pd.array([k[0] for k in rows], dtype="string"),
                         "bulan": pd.array([k[1] for k in rows], dtype="Int64"),
                         "jumlah": pd.array(list(rows.values()), dtype="Float64")})


def test_added_removed_and_revised_rows_are_told_apart():
    old = frame({("64.71", 9): 10.0, ("64.72", 9): 5.0, ("64.74", 9): None})
    new = frame({("64.72", 9): 6.0, ("64.74", 9): None, ("64.01", 9): 1.0})
    d = diff_rows(old, new, KEY)
    assert d.added == [("64.01", 9)]
    assert d.removed == [("64.71", 9)]
    assert d.revised == [("64.72", 9)]  # missing equals missing: 64.74 is not revised
    assert d.revised_columns == ["jumlah"]


def test_nothing_before_means_every_row_added_and_nothing_after_every_row_removed():
    new = frame({("64.72", 9): 6.0})
    assert diff_rows(None, new, KEY).added == [("64.72", 9)]
    assert diff_rows(new, None, KEY).removed == [("64.72", 9)]


cells = st.one_of(st.none(), st.integers(min_value=-3, max_value=3).map(float))
tables = st.dictionaries(st.tuples(st.sampled_from(["64.01", "64.02", "64.71"]), st.integers(1, 4)), cells,
                         max_size=10)


@settings(max_examples=150, deadline=None)
@given(a=tables, b=tables)
def test_the_diff_applied_to_the_old_keys_gives_the_new_ones_and_finds_every_revision(a, b):
    d = diff_rows(frame(a), frame(b), KEY)
    assert (set(a) - set(d.removed)) | set(d.added) == set(b)
    assert not set(d.added) & set(a) and set(d.removed) <= set(a)
    revised = {k for k in set(a) & set(b) if a[k] != b[k]}
    assert set(d.revised) == revised
    assert d.revised_columns == (["jumlah"] if revised else [])


def test_period_status_follows_the_catalog():
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    at = datetime(2026, 12, 5, tzinfo=UTC)
    assert period_status(entry, "2026-09", at) == ""
    ruled = entry.model_copy(update={"final_periods": FinalPeriods(after=2, periods=["2026-10"])})
    # Latest complete month at 5 December is November; two later months have ended for September.
    assert [period_status(ruled, p, at) for p in ("2026-08", "2026-09", "2026-10", "2026-11")] == \
        ["tetap", "tetap", "tetap", "sementara"]


def test_a_final_period_key_must_be_one_of_the_schedule():
    from pydantic import ValidationError

    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    data = entry.model_dump(by_alias=True)
    with pytest.raises(ValidationError, match="2026-Q4"):
        type(entry).model_validate({**data, "final_periods": {"periods": ["2026-Q4"]}})


def test_the_log_grows_by_version_and_an_unchanged_version_keeps_it(tmp_path):
    from satudata.extract.archive import sha256_of

    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    entry = entry.model_copy(update={"table": entry.table.model_copy(update={"primary_key": KEY})})
    store = VersionStore(f"memory://satudata-log-{secrets.token_hex(6)}")
    out = tmp_path / "out"
    out.mkdir()

    def publish(periods: dict[str, pd.DataFrame], seq_time: datetime) -> dict[str, str]:
        curated = {}
        for key, f in periods.items():
            path = tmp_path / f"{key}.parquet"
            f.to_parquet(path)
            curated[key] = path
        data = tmp_path / "data.csv"
        data.write_text(str({k: f.to_csv() for k, f in periods.items()}))
        paths = write_revision_log(entry, store, curated, ["kode", "bulan", "jumlah"], sha256_of(data), out,
                                   at=seq_time)
        store.record(entry.id, [("csv", data), *(("curated", p) for p in curated.values()),
                                *((k, tmp_path.joinpath(p)) for k, p in paths.items())],
                     satudata_versi="sha256:" + secrets.token_hex(32), run_id="r", periods=list(periods),
                     period_rows={}, rows=0, quality="passed", extra={"columns": ["kode", "bulan", "jumlah"]})
        return paths

    sep = frame({("64.71", 9): 10.0, ("64.72", 9): 5.0})
    first = publish({"2026-09": sep}, datetime(2026, 10, 3, tzinfo=UTC))
    rows = read_log(open(first["revision_csv"], "rb").read())
    assert [(r["versi"], r["periode"], r["baris_ditambah"]) for r in rows] == [("1", "2026-09", "2")]
    oct_ = frame({("64.71", 10): 11.0})
    publish({"2026-09": sep, "2026-10": oct_}, datetime(2026, 11, 3, tzinfo=UTC))
    corrected = frame({("64.71", 9): 12.0, ("64.72", 9): 5.0})
    third = publish({"2026-09": corrected, "2026-10": oct_}, datetime(2026, 11, 4, tzinfo=UTC))
    before = open(third["revision_csv"], "rb").read()
    rows = read_log(before)
    assert [(r["versi"], r["periode"]) for r in rows] == [("3", "2026-09"), ("2", "2026-10"), ("1", "2026-09")]
    assert rows[0]["baris_direvisi"] == "1" and rows[0]["kolom_direvisi"] == "jumlah"
    assert rows[0]["kunci_direvisi"] == "kode=64.71, bulan=9"
    assert "kode=64.71, bulan=9" in open(third["revision_html"], encoding="utf-8").read()
    # The same data again: the log is kept byte for byte.
    again = publish({"2026-09": corrected, "2026-10": oct_}, datetime(2026, 11, 5, tzinfo=UTC))
    assert open(again["revision_csv"], "rb").read() == before


def test_the_html_is_self_contained_and_escapes_values():
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    page = log_html(entry, [{"versi": "1", "kunci_direvisi": "<script>x</script>"}])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http" not in page.split("<body>")[0] and 'lang="id"' in page
