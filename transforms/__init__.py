"""Pure DataFrame transforms, readers and writers: no Airflow, no CKAN.

REGISTRY is the closed set of transforms a catalog entry may name. Modules are imported
lazily so that parsing DAGs never imports pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

REGISTRY: dict[str, tuple[str, str]] = {
    "izin_terbit_bulanan": ("transforms.izin", "izin_terbit_bulanan"),
    "kunjungan_mpp_harian": ("transforms.mpp", "kunjungan_mpp_harian"),
    "pengaduan_lapor_bulanan": ("transforms.lapor", "pengaduan_lapor_bulanan"),
    "dokumen_dukcapil_bulanan": ("transforms.dukcapil", "dokumen_dukcapil_bulanan"),
    "ikm_per_unit": ("transforms.ikm", "ikm_per_unit"),
    "passthrough": ("transforms.passthrough", "passthrough"),
}


def get_transform(name: str) -> Callable[..., Any]:
    """The transform function registered under ``name``."""
    module, function = REGISTRY[name]
    return getattr(import_module(module), function)
