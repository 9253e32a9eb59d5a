"""SKM answers -> IKM per service unit per semester (PermenPAN-RB 14/2017).

NRR per element = sum of answers / respondents who answered it (blanks are not zeros);
IKM = sum of NRR x 1/9 (1..4); konversi = IKM x 25 (25..100). Nothing is rounded until every
figure is computed, because rounding NRR first shifts the index.
"""

from __future__ import annotations

import pandas as pd

from transforms.tables import source_columns

# (output key, element name as the survey app writes it), in PermenPAN-RB 14/2017 order.
UNSUR: list[tuple[str, str]] = [
    ("nrr_u1_persyaratan", "Persyaratan"),
    ("nrr_u2_sistem_mekanisme_prosedur", "Sistem, Mekanisme, dan Prosedur"),
    ("nrr_u3_waktu_penyelesaian", "Waktu Penyelesaian"),
    ("nrr_u4_biaya_tarif", "Biaya/Tarif"),
    ("nrr_u5_produk_spesifikasi_jenis_pelayanan", "Produk Spesifikasi Jenis Pelayanan"),
    ("nrr_u6_kompetensi_pelaksana", "Kompetensi Pelaksana"),
    ("nrr_u7_perilaku_pelaksana", "Perilaku Pelaksana"),
    ("nrr_u8_penanganan_pengaduan", "Penanganan Pengaduan, Saran dan Masukan"),
    ("nrr_u9_sarana_prasarana", "Sarana dan Prasarana"),
]
# (lowest konversi, mutu, kinerja), checked from the top.
MUTU: list[tuple[float, str, str]] = [
    (88.31, "A", "Sangat Baik"),
    (76.61, "B", "Baik"),
    (65.00, "C", "Kurang Baik"),
    (25.00, "D", "Tidak Baik"),
]
RAW_COLUMNS = ["Tanggal Survei", "Kode Unit", "Unit Layanan", *[name for _, name in UNSUR]]


# Krejcie & Morgan (1970) table, population -> minimum sample, as PermenPAN-RB 14/2017 prints it.
KREJCIE_MORGAN: list[tuple[int, int]] = [
    (10, 10), (15, 14), (20, 19), (25, 24), (30, 28), (35, 32), (40, 36), (45, 40), (50, 44), (55, 48),
    (60, 52), (65, 56), (70, 59), (75, 63), (80, 66), (85, 70), (90, 73), (95, 76), (100, 80), (110, 86),
    (120, 92), (130, 97), (140, 103), (150, 108), (160, 113), (170, 118), (180, 123), (190, 127),
    (200, 132), (210, 136), (220, 140), (230, 144), (240, 148), (250, 152), (260, 155), (270, 159),
    (280, 162), (290, 165), (300, 169), (320, 175), (340, 181), (360, 186), (380, 191), (400, 196),
    (420, 201), (440, 205), (460, 210), (480, 214), (500, 217), (550, 226), (600, 234), (650, 242),
    (700, 248), (750, 254), (800, 260), (850, 265), (900, 269), (950, 274), (1000, 278), (1100, 285),
    (1200, 291), (1300, 297), (1400, 302), (1500, 306), (1600, 310), (1700, 313), (1800, 317),
    (1900, 320), (2000, 322), (2200, 327), (2400, 331), (2600, 335), (2800, 338), (3000, 341),
    (3500, 346), (4000, 351), (4500, 354), (5000, 357), (6000, 361), (7000, 364), (8000, 367),
    (9000, 368), (10000, 370), (15000, 375), (20000, 377), (30000, 379), (40000, 380), (50000, 381),
    (75000, 382), (100000, 384),
]


def krejcie_morgan(population: int) -> int:
    """Minimum SKM sample for ``population``: the table row at or above it (384 beyond 100,000)."""
    if population < 1:
        raise ValueError(f"population must be positive, got {population}")
    for rows, sample in KREJCIE_MORGAN:
        if population <= rows:
            return min(sample, population)
    return KREJCIE_MORGAN[-1][1]


def mutu_pelayanan(konversi: float) -> tuple[str, str]:
    """Grade and performance label of an IKM konversi, judged on the value rounded to 2 decimals."""
    value = round(konversi, 2)
    for lowest, mutu, kinerja in MUTU:
        if value >= lowest:
            return mutu, kinerja
    raise ValueError(f"IKM konversi {konversi} is below 25: answers outside 1..4?")


def ikm_per_unit(raw: pd.DataFrame, populations: dict[str, tuple[str, int]] | None = None) -> pd.DataFrame:
    """IKM, NRR per element, grade and sample adequacy per service unit and semester."""
    from transforms.reference import SKM_UNIT_LAYANAN

    populations = SKM_UNIT_LAYANAN if populations is None else populations
    frame = source_columns(raw, RAW_COLUMNS)
    surveyed = pd.to_datetime(frame["Tanggal Survei"])
    frame["tahun"] = surveyed.dt.year
    frame["semester"] = (surveyed.dt.month > 6).astype("int64") + 1
    for key, name in UNSUR:
        frame[key] = pd.to_numeric(frame[name]).astype("float64")
    keys = ["tahun", "semester", "Kode Unit"]
    grouped = frame.groupby(keys, sort=True)
    out = grouped.agg(unit_layanan=("Unit Layanan", "first"), jumlah_responden=("Kode Unit", "size"))
    # mean() skips blanks: an unanswered element is not counted as a respondent of that element.
    nrr = grouped[[key for key, _ in UNSUR]].mean()
    out = out.join(nrr).reset_index().rename(columns={"Kode Unit": "kode_unit_layanan"})
    out["ikm"] = out[[key for key, _ in UNSUR]].sum(axis=1) / len(UNSUR)
    out["ikm_konversi"] = out["ikm"] * 25
    graded = out["ikm_konversi"].map(mutu_pelayanan)
    out["mutu_pelayanan"] = graded.map(lambda g: g[0])
    out["kinerja_unit_pelayanan"] = graded.map(lambda g: g[1])
    out["populasi_penerima_layanan"] = out["kode_unit_layanan"].map(
        lambda k: populations[k][1] if k in populations else None
    )
    out["sampel_minimum"] = out["populasi_penerima_layanan"].map(
        lambda n: krejcie_morgan(int(n)) if pd.notna(n) else None
    )
    out["sampel_memadai"] = out["jumlah_responden"] >= out["sampel_minimum"]
    # Round the published figures only now, after the grade was judged.
    for key, _ in UNSUR:
        out[key] = out[key].round(3)
    out["ikm"] = out["ikm"].round(3)
    out["ikm_konversi"] = out["ikm_konversi"].round(2)
    return out
