"""How fast the agency-source readers go: CSV and XLSX exports, and paging through a JSON API.

Run: .venv/bin/python bench/bench_sources.py   (prints one line per measurement)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]

from devstack.samples import agencies as sample_agencies  # noqa: E402
from satudata.catalog import get_entry  # noqa: E402
from transforms.readers import read_csv_bytes, read_xlsx_bytes  # noqa: E402


def timed(fn, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    # A year of Disdukcapil rows in one Windows-1252 `;` file (~6k rows), repeated to ~100k rows.
    rows = [r for m in range(1, 13) for r in sample_agencies.dukcapil_rows(date(2025, m, 1))]
    rows = (rows * (100_000 // len(rows) + 1))[:100_000]
    body = (";".join(sample_agencies.DUKCAPIL_HEADER) + "\r\n"
            + "\r\n".join(";".join(r) for r in rows) + "\r\n").encode("cp1252")
    fields = get_entry("dukcapil_dokumen_bulanan").source.fields
    seconds = timed(lambda: read_csv_bytes(body, fields, "bench.csv"))
    print(f"csv  {len(rows):>7} rows  {len(body) / 1e6:5.1f} MB  {seconds:6.2f} s  {len(rows) / seconds:>9,.0f} rows/s")

    respondents = sample_agencies.skm_respondents(2026, 1) * 10
    book = sample_agencies.skm_workbook(respondents, 2026, 1)
    fields = get_entry("skm_ikm_semester").source.fields
    seconds = timed(lambda: read_xlsx_bytes(book, fields, "bench.xlsx", "Data Responden"))
    print(f"xlsx {len(respondents):>7} rows  {len(book) / 1e6:5.1f} MB  {seconds:6.2f} s  "
          f"{len(respondents) / seconds:>9,.0f} rows/s")

    from agency_api_hook import AgencyApiHook

    from devstack.samples.agency_api import AgencyApiServer
    from satudata.extract.rest import iter_pages
    from satudata.sources import PagePagination

    server = AgencyApiServer().start_in_thread()
    os.environ.update(sample_agencies.api_connections(server.url))
    params = {"tanggal_mulai": "2026-10-01", "tanggal_selesai": "2026-11-01"}
    pagination = PagePagination(style="page", page_size=200)
    pages: list = []
    api = AgencyApiHook("mpp_antrean").get_conn()
    seconds = timed(lambda: pages.__setitem__(slice(None), list(
        iter_pages(api, "/mpp/api/v1/kunjungan", params, pagination, "data"))), repeat=1)
    records = sum(len(json.loads(p.body)["data"]) for p in pages)
    print(f"api  {records:>7} records in {len(pages)} pages  {seconds:6.2f} s  {records / seconds:>9,.0f} records/s "
          "(the sample server regenerates the month on every page)")
    server.shutdown()


if __name__ == "__main__":
    main()
