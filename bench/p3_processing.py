"""P3: the pipeline's processing of a 1M-row CSV vs pyarrow reading that CSV and writing Parquet alone.

What it measures. The five catalog datasets aggregate, so their published tables are small;
1M rows reach the gate and the writers when a dataset publishes row-level records (or when a
dataset's full history grows that large: write_outputs rebuilds it from all periods every run).
So the script declares a row-level bench dataset in a temporary catalog: permit applications,
one row each, 11 columns (text codes and names, a unique application number, two dates, whole
numbers incl. rupiah amounts, a float with missing values), a GX suite of the kinds the catalog's
suites use (ordered columns, row count, types, not-null, value sets, ranges, a regex, key
uniqueness) and the pass-through transform. It lands a CSV of N rows in the landing folder and
runs the real steps on it, each timed:

  extract         steps.extract: archive the CSV, read and type the declared fields, stage Parquet
  transform       steps.transform: read the staged rows, transform, conform to the schema, write Parquet
  validate        steps.validate, the gate: GX suite + small-cell suppression (none declared for
                  row-level records) + personal-data scan over every column + JSON/HTML report
  write_outputs   steps.write_outputs: curated period, full-history Parquet and CSV (formulas
                  neutralised), datapackage.json, chart, copy of the report

Baseline (same run, same file): pyarrow.csv.read_csv + pyarrow.parquet.write_table (zstd, as
the project writes), median of three. Imports (GX ~3.5 s, matplotlib) are made before timing and
printed apart: an Airflow task pays them once per process whatever the row count. One period only
(no previous period, so the volume bounds are open). Goal of issue 7: total <= 3x the baseline.

    .venv/bin/python bench/p3_processing.py [--rows 1000000] [--keep] [--profile STAGE]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DATASET = "bench_permohonan_izin"
PERIOD_KEY = "2026-10"
GOAL = 3.0

KABUPATEN_KOTA = ["64.01", "64.02", "64.03", "64.07", "64.08", "64.09", "64.11", "64.71", "64.72", "64.74"]
JENIS_IZIN = {
    "PBG": "Persetujuan Bangunan Gedung",
    "SIPA": "Surat Izin Praktik Apoteker",
    "IT": "Izin Trayek Angkutan",
    "SIUJK": "Sertifikat Badan Usaha Jasa Konstruksi",
    "IUMK": "Izin Usaha Mikro dan Kecil",
    "SLF": "Sertifikat Laik Fungsi",
    "SIP-DR": "Surat Izin Praktik Dokter",
    "TDUP": "Tanda Daftar Usaha Pariwisata",
}
STATUS = ["TERBIT", "DITOLAK", "DIPROSES"]

# (name, source/schema type, description, unit, required)
COLUMNS = [
    ("nomor_permohonan", "string", "Nomor permohonan izin", None, True),
    ("tahun", "int64", "Tahun pengajuan", None, True),
    ("bulan", "int64", "Bulan pengajuan (1-12)", None, True),
    ("tanggal_pengajuan", "date", "Tanggal pengajuan", None, True),
    ("tanggal_keputusan", "date", "Tanggal izin terbit atau ditolak", None, False),
    ("kode_kabupaten_kota", "string", "Kode kabupaten/kota (Kemendagri, format PP.KK)", None, True),
    ("kode_jenis_izin", "string", "Kode jenis izin pada sistem perizinan", None, True),
    ("jenis_izin", "string", "Nama jenis izin", None, True),
    ("status", "string", "Status permohonan", None, True),
    ("retribusi_rupiah", "int64", "Retribusi yang dibayar", "rupiah", True),
    ("luas_bangunan_m2", "float64", "Luas bangunan (PBG dan SLF)", "m2", False),
]


def catalog_entry() -> dict:
    """The bench dataset as a catalog file would declare it (row-level, file source, pass-through)."""
    return {
        "id": DATASET,
        "schedule": "monthly",
        "source": {
            "kind": "file", "system": "SIMPERIZINAN (bench)", "format": "csv", "number_format": "plain",
            "path": "bench/permohonan_{period}.csv",
            "fields": [{"name": n, "type": t, "required": r} for n, t, _, _, r in COLUMNS],
        },
        "transform": "passthrough",
        "period_columns": {"year": "tahun", "month": "bulan"},
        "schema": {
            "primary_key": ["nomor_permohonan"],
            "columns": [{"name": n, "type": t, "description": d, **({"unit": u} if u else {})}
                        for n, t, d, u, _ in COLUMNS],
        },
        "ckan": {
            "name": "bench-permohonan-izin", "title": "Permohonan izin (bench)",
            "notes": "Satu baris per permohonan izin; data sintetis untuk benchmark P3.",
            "organization": {"name": "bench", "title": "Bench"},
            "maintainer": "bench",
            "chart": {"measure": "retribusi_rupiah", "aggregate": "sum"},
        },
    }


def suite() -> dict:
    """A suite of the kinds the catalog's suites use, one or more per column."""
    gx_types = {"string": "str", "int64": "int64", "float64": "float64"}
    expectations = [
        {"type": "expect_table_columns_to_match_ordered_list", "kwargs": {"column_list": [c[0] for c in COLUMNS]}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "nomor_permohonan"}},
        {"type": "expect_column_values_to_match_regex",
         "kwargs": {"column": "nomor_permohonan", "regex": r"^PRM/\d{4}/\d{2}/\d{7}$"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "kode_kabupaten_kota",
                                                                  "value_set": KABUPATEN_KOTA}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "kode_jenis_izin",
                                                                  "value_set": list(JENIS_IZIN)}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "jenis_izin",
                                                                  "value_set": list(JENIS_IZIN.values())}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "status", "value_set": STATUS}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "tahun", "min_value": 2020,
                                                                   "max_value": 2030}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "bulan", "min_value": 1,
                                                                   "max_value": 12}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "retribusi_rupiah", "min_value": 0,
                                                                   "max_value": 10_000_000_000}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "luas_bangunan_m2", "min_value": 0,
                                                                   "max_value": 1_000_000}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "tanggal_pengajuan", "min_value": {"$PARAMETER": "period_start"},
                    "max_value": {"$PARAMETER": "period_end"}}},
        {"type": "expect_column_pair_values_a_to_be_greater_than_b",
         "kwargs": {"column_A": "tanggal_keputusan", "column_B": "tanggal_pengajuan", "or_equal": True,
                    "ignore_row_if": "either_value_is_missing"}},
    ]
    for name, kind, _, _, required in COLUMNS:
        if kind in gx_types:  # dates are checked by range, as the catalog's suites do
            expectations.append({"type": "expect_column_values_to_be_of_type",
                                 "kwargs": {"column": name, "type_": gx_types[kind]}})
        if required:
            expectations.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": name}})
    for e in expectations:
        e["meta"] = {"severity": "critical", "notes": e["type"]}
    return {"name": DATASET, "meta": {"dataset_id": DATASET}, "expectations": expectations}


def source_table(rows: int) -> pa.Table:
    """N deterministic, clean application rows (no personal data, so the gate lets them through)."""
    rng = np.random.default_rng(7)
    codes = np.array(list(JENIS_IZIN))
    names = np.array(list(JENIS_IZIN.values()))
    which = rng.integers(0, len(codes), rows)
    day = rng.integers(0, 31, rows)
    submitted = np.datetime64("2026-10-01") + day.astype("timedelta64[D]")
    status = np.array(STATUS)[rng.choice(3, rows, p=[0.8, 0.05, 0.15])]
    decided = submitted + rng.integers(0, 40, rows).astype("timedelta64[D]")
    area = np.round(rng.gamma(2.0, 120.0, rows), 2)
    return pa.table({
        "nomor_permohonan": [f"PRM/2026/10/{i:07d}" for i in range(1, rows + 1)],
        "tahun": np.full(rows, 2026),
        "bulan": np.full(rows, 10),
        "tanggal_pengajuan": pa.array(submitted, pa.date32()),
        "tanggal_keputusan": pa.array(decided, pa.date32(), mask=status == "DIPROSES"),
        "kode_kabupaten_kota": np.array(KABUPATEN_KOTA)[rng.integers(0, len(KABUPATEN_KOTA), rows)],
        "kode_jenis_izin": codes[which],
        "jenis_izin": names[which],
        "status": status,
        "retribusi_rupiah": rng.integers(0, 400, rows) * 250_000,
        "luas_bangunan_m2": pa.array(area, mask=~np.isin(codes[which], ["PBG", "SLF"])),
    })


def baseline_seconds(csv_path: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of pyarrow alone: read the CSV, write it as Parquet."""
    start, cpu = time.perf_counter(), time.process_time()
    table = pacsv.read_csv(csv_path)
    pq.write_table(table, out, compression="zstd")
    return time.perf_counter() - start, time.process_time() - cpu


def prepare(root: Path, rows: int) -> Path:
    """Catalog, suite and landed CSV under ``root``; the settings point there. Returns the CSV."""
    for sub in ("catalog", "expectations", "data", "landing/bench"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "catalog" / f"{DATASET}.yaml").write_text(yaml.safe_dump(catalog_entry(), allow_unicode=True))
    (root / "expectations" / f"{DATASET}.json").write_text(json.dumps(suite(), indent=2))
    os.environ.update({
        "SATUDATA_CATALOG_DIR": str(root / "catalog"),
        "SATUDATA_EXPECTATIONS_DIR": str(root / "expectations"),
        "SATUDATA_DATA_DIR": str(root / "data"),
        "SATUDATA_LANDING_DIR": str(root / "landing"),
        "GX_ANALYTICS_ENABLED": "False",
    })
    csv_path = root / "landing" / "bench" / f"permohonan_{PERIOD_KEY}.csv"
    pacsv.write_csv(source_table(rows), csv_path, pacsv.WriteOptions(quoting_style="needed"))
    return csv_path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print it")
    parser.add_argument("--profile", choices=["extract", "transform", "validate", "write_outputs"],
                        help="print the cProfile top functions of one stage")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="p3-"))
    try:
        csv_path = prepare(root, args.rows)
        size = csv_path.stat().st_size
        start = time.perf_counter()
        import great_expectations  # noqa: F401
        import matplotlib.pyplot  # noqa: F401

        from satudata import settings, steps
        from satudata.catalog import get_entry
        from satudata.extract.files import LandingFolder
        from satudata.periods import Period
        from satudata.run import RunContext

        imports = time.perf_counter() - start
        entry = get_entry(DATASET)
        period = Period("monthly", date(2026, 10, 1), date(2026, 11, 1))
        run_id = "bench__p3"

        runs = [baseline_seconds(csv_path, root / "baseline.parquet") for _ in range(3)]
        baselines = [wall for wall, _ in runs]
        baseline = statistics.median(baselines)
        baseline_cpu = statistics.median(cpu for _, cpu in runs)

        stages = {
            "extract": lambda: steps.extract(RunContext(entry, period, run_id), LandingFolder(settings.landing_dir())),
            "transform": lambda raw: steps.transform(RunContext(entry, period, "t"), raw),
            "validate": lambda staged: steps.validate(RunContext(entry, period, run_id), staged),
            "write_outputs": lambda gate: steps.write_outputs(RunContext(entry, period, run_id), gate),
        }
        times: dict[str, float] = {}
        cpu_times: dict[str, float] = {}
        result = None
        for name, stage in stages.items():
            profiler = cProfile.Profile() if args.profile == name else None
            t0, c0 = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            result = stage() if result is None else stage(result)
            if profiler:
                profiler.disable()
            times[name] = time.perf_counter() - t0
            cpu_times[name] = time.process_time() - c0
            if profiler:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        outputs = result
        total, total_cpu = sum(times.values()), sum(cpu_times.values())

        print(f"P3 processing: {args.rows:,} rows x {len(COLUMNS)} columns, CSV {size / 1e6:.1f} MB "
              f"({len(suite()['expectations'])} expectations)")
        print(f"  imports before timing (GX, matplotlib, satudata): {imports:.2f} s, not counted")
        print(f"  {'stage':<14} {'wall':>8}   {'CPU':>8}   (CPU: all threads of this process)")
        for name, seconds in times.items():
            print(f"  {name:<14} {seconds:8.2f} s {cpu_times[name]:8.2f} s")
        print(f"  {'total':<14} {total:8.2f} s {total_cpu:8.2f} s   {args.rows / total:,.0f} rows/s")
        print(f"  baseline: pyarrow read_csv + write_table (zstd): {baseline:.2f} s wall, {baseline_cpu:.2f} s CPU "
              f"(median of {', '.join(f'{b:.2f}' for b in baselines)})")
        ratio = total / baseline
        print(f"  ratio: {ratio:.1f}x the baseline   (goal <= {GOAL:g}x: {'met' if ratio <= GOAL else 'NOT met'}); "
              f"CPU {total_cpu / baseline_cpu:.1f}x")
        after_extract = total - times["extract"]
        print(f"  without extract (transform + validate + write_outputs): {after_extract:.2f} s "
              f"= {after_extract / baseline:.1f}x the baseline")
        published = pq.read_metadata(outputs["parquet"]).num_rows
        print(f"  published: {published:,} rows in {Path(outputs['parquet']).name}, "
              f"{Path(outputs['csv']).stat().st_size / 1e6:.1f} MB CSV")
    finally:
        if args.keep:
            print(f"  kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
