"""Time the personal-data scan on a published-table-sized frame: ``python bench/privacy_scan.py [rows]``."""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from satudata.gate.privacy import scan_frame


def frame(rows: int) -> pd.DataFrame:
    """Clean text, codes, dates, counts and amounts, with a few planted NIKs and phone numbers."""
    rng = np.random.default_rng(64)
    names = np.array(["Persetujuan Bangunan Gedung", "Surat Izin Praktik Apoteker", "Izin Trayek Angkutan"])
    text = pd.Series(names[rng.integers(0, 3, rows)], dtype="string")
    text.iloc[:: max(1, rows // 10)] = "PBG a.n. 6472015203850012 hp 081234567890"
    return pd.DataFrame(
        {
            "jenis_izin": text,
            "nomor_izin": pd.Series([f"DPMPTSP/PBG/2026/{i:06d}" for i in range(rows)], dtype="string"),
            "tanggal": pd.Series(pd.date_range("2024-01-01", periods=rows, freq="min").strftime("%Y-%m-%d"),
                                 dtype="string"),
            "kode_wilayah": pd.Series(["64.72.01.1001"] * rows, dtype="string"),
            "jumlah": pd.array(rng.integers(0, 500, rows), dtype="Int64"),
            "anggaran_rupiah": rng.integers(10**9, 10**14, rows),
            "rata_rata": rng.random(rows) * 100,
        }
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    data = frame(rows)
    start = time.perf_counter()
    scan = scan_frame(data)
    seconds = time.perf_counter() - start
    print(f"{rows:,} rows x {data.shape[1]} columns: {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")
    for f in scan.findings:
        print(f"  {f.column}: {f.cells} cell(s) with {f.kind}")


if __name__ == "__main__":
    main()
