"""Transforms run chunk by chunk give exactly the whole-frame table, on the sample agency data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline_clients import source_client

from devstack.samples import agencies as sample_agencies
from satudata.catalog import get_entry
from satudata.run import RunContext
from transforms import REGISTRY, STREAMING, get_streaming, get_transform
from transforms.aggregate import GroupedStats
from transforms.readers import read_records
from transforms.tables import conform

CHUNK_SIZES = [1, 7, 250, 4_999, 1_000_000]


def _chunks(raw: pd.DataFrame, size: int):
    for start in range(0, len(raw), size):
        yield raw.iloc[start:start + size]


@pytest.fixture(scope="module")
def permits(sample_sqlite) -> pd.DataFrame:
    """Every issued permit of the sample licensing database, as the catalog query returns them."""
    import sqlalchemy as sa

    from satudata.extract.sql import read_sql_chunks

    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    engine = sa.create_engine(f"sqlite:///{sample_sqlite}")
    try:
        chunks = list(read_sql_chunks(engine, entry.source.query,
                                      {"start": date(2024, 1, 1), "end": date(2027, 1, 1)}, 10_000))
    finally:
        engine.dispose()
    return pd.concat(chunks, ignore_index=True)


def _records(dataset: str, start: date, end: date) -> pd.DataFrame:
    entry = get_entry(dataset)
    if dataset == "mpp_kunjungan_harian":
        records = sample_agencies.mpp_visits_between(start, end)
    else:
        records = sample_agencies.lapor_complaints_between(start, end)
    return read_records(records, entry.source.fields, "sample")


SAMPLES = {
    "dpmptsp_izin_terbit_bulanan": None,  # from the SQLite fixture
    "mpp_kunjungan_harian": (date(2026, 10, 1), date(2026, 10, 8)),
    "lapor_pengaduan_bulanan": (date(2026, 1, 1), date(2026, 11, 1)),
}


def _raw(dataset: str, permits: pd.DataFrame) -> pd.DataFrame:
    span = SAMPLES[dataset]
    return permits if span is None else _records(dataset, *span)


@pytest.mark.parametrize("size", CHUNK_SIZES)
@pytest.mark.parametrize("dataset", list(SAMPLES))
def test_streamed_table_equals_the_whole_frame_table(dataset, size, permits):
    entry = get_entry(dataset)
    raw = _raw(dataset, permits)
    raw = raw.iloc[:size * 60]  # at most 60 chunks (each costs a groupby): a prefix keeps the test short
    whole = get_transform(entry.transform)(raw)
    streamed = get_streaming(entry.transform).run(_chunks(raw, size))
    # Equal before conform too: same statistics to the last bit, same order (on the published columns;
    # the working columns of the two forms differ and are dropped by conform).
    names = entry.table.column_names
    pd.testing.assert_frame_equal(streamed[names].reset_index(drop=True), whole[names].reset_index(drop=True),
                                  check_dtype=False, check_exact=True)
    columns = entry.table.columns
    pd.testing.assert_frame_equal(conform(streamed, columns, drop_extra=True), conform(whole, columns, drop_extra=True),
                                  check_exact=True)


@pytest.mark.parametrize("dataset", list(SAMPLES))
def test_parquet_batches_split_groups_and_still_agree(dataset, permits, tmp_path):
    """Raw rows staged as Parquet in small row groups and read back in batches, as the transform step does."""
    entry = get_entry(dataset)
    raw = _raw(dataset, permits)
    # Shuffled, so that every group is spread over many batches.
    raw = raw.sample(frac=1.0, random_state=7).reset_index(drop=True)
    path = tmp_path / "raw.parquet"
    pq.write_table(pa.Table.from_pandas(raw, preserve_index=False), path, row_group_size=333)
    batches = (b.to_pandas() for b in pq.ParquetFile(path).iter_batches(batch_size=1000))
    streamed = get_streaming(entry.transform).run(batches)
    whole = get_transform(entry.transform)(pq.read_table(path).to_pandas())
    columns = entry.table.columns
    pd.testing.assert_frame_equal(conform(streamed, columns, drop_extra=True), conform(whole, columns, drop_extra=True),
                                  check_exact=True)


def test_every_streaming_transform_is_registered():
    assert set(STREAMING) <= set(REGISTRY)
    assert get_streaming("ikm_per_unit") is None and get_streaming("dokumen_dukcapil_bulanan") is None
    assert get_streaming("izin_terbit_bulanan").run(iter([])) is None


@pytest.mark.parametrize("seed", range(20))
def test_histogram_statistics_match_pandas_bit_for_bit(seed):
    """Random whole values with blanks, chunked at random: size, mean, median and p90 as pandas gives them."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    frame = pd.DataFrame({"k": rng.integers(0, 6, n), "j": rng.choice(["a", "b"], n),
                          "v": rng.integers(-5, 90, n).astype("float64")})
    frame.loc[rng.random(n) < 0.2, "v"] = np.nan
    expected = frame.groupby(["k", "j"], sort=True).agg(
        size=("v", "size"), mean=("v", "mean"), median=("v", "median"),
        p90=("v", lambda s: s.quantile(0.9)), p25=("v", lambda s: s.quantile(0.25))).reset_index()
    stats = GroupedStats(["k", "j"], "v")
    size = int(rng.integers(1, 60))
    summary = None
    for chunk in _chunks(frame, size):
        part = stats.partial(chunk)
        summary = part if summary is None else stats.merge(summary, part)
    got = stats.finish(summary, mean="mean", median="median", quantiles={"p90": 0.9, "p25": 0.25})
    for column in ["size", "mean", "median", "p90", "p25"]:
        assert np.array_equal(got[column].to_numpy("float64"), expected[column].to_numpy("float64"),
                              equal_nan=True), column


@pytest.mark.parametrize("batch_rows", [50, 65_536])
def test_transform_step_reads_staged_rows_in_batches(batch_rows, sample_sqlite, data_dir, monkeypatch):
    """The real extract and transform steps on the SQL source: batched output equals the whole-frame transform."""
    from satudata import steps
    from satudata.periods import Period
    from tests.conftest import sqlite_conn

    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    monkeypatch.setattr(steps, "TRANSFORM_BATCH_ROWS", batch_rows)
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    period = Period("monthly", date(2026, 10, 1), date(2026, 11, 1))
    raw = steps.extract(RunContext(entry, period, "t"), source_client(entry))
    source = pq.ParquetFile(raw)
    assert source.metadata.num_rows > batch_rows or batch_rows > 1000  # 50: many batches, groups split
    staged = pq.read_table(steps.transform(RunContext(entry, period, "t"), raw)).to_pandas()
    whole = conform(get_transform(entry.transform)(source.read().to_pandas()), entry.table.columns, drop_extra=True)
    pd.testing.assert_frame_equal(conform(staged, entry.table.columns), whole, check_exact=True)


def test_file_export_is_staged_block_by_block_with_declared_types(data_dir, monkeypatch):
    """A CSV export read in small blocks lands as typed Parquet row groups; the raw file stays as it came."""
    import transforms.readers
    from satudata.extract import files
    from satudata.extract.files import LandingFolder
    from satudata.periods import Period

    month = date(2026, 10, 1)
    sample_agencies.write_exports(data_dir / "landing", [month], [])
    blocks = transforms.readers.iter_csv_tables
    monkeypatch.setattr(files, "iter_csv_tables", lambda *a, **k: blocks(*a, **k, block_bytes=8192))
    entry = get_entry("dukcapil_dokumen_bulanan")
    extracted = files.extract_file(RunContext(entry, Period("monthly", month, date(2026, 11, 1)), "t"),
                                   LandingFolder(data_dir / "landing"))
    staged = pq.ParquetFile(extracted.path)
    assert staged.metadata.num_row_groups > 1
    assert extracted.rows == staged.metadata.num_rows == len(sample_agencies.dukcapil_rows(month))
    assert staged.schema_arrow.field("Tanggal Terbit").type == pa.date32()
    assert staged.schema_arrow.field("Lama Proses (jam)").type == pa.float64()
    assert not list(extracted.path.parent.glob("*.tmp"))
