"""Pure DataFrame transforms, readers and writers: no Airflow, no CKAN.

REGISTRY is the closed set of transforms a catalog entry may name. Modules are imported
lazily so that parsing DAGs never imports pandas. STREAMING names, for the transforms that
can run chunk by chunk, their partial (one chunk) and combine (all chunks) functions; the
others (Dukcapil's mean of fractional hours, whose last bit depends on row order, and IKM from
a small XLSX survey) run on the whole frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
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

STREAMING: dict[str, tuple[str, str, str]] = {
    "izin_terbit_bulanan": ("transforms.izin", "izin_partial", "izin_combine"),
    "kunjungan_mpp_harian": ("transforms.mpp", "mpp_partial", "mpp_combine"),
    "pengaduan_lapor_bulanan": ("transforms.lapor", "lapor_partial", "lapor_combine"),
}


@dataclass(frozen=True)
class StreamingTransform:
    """A transform run chunk by chunk: ``partial`` per chunk, ``merge`` of two partials, ``combine`` at the end."""

    partial: Callable[[Any], Any]
    merge: Callable[[Any, Any], Any]
    combine: Callable[[Any], Any]

    def run(self, chunks: Iterable[Any]) -> Any | None:
        """The transform of all ``chunks`` together, or None if there were none."""
        summary = None
        for chunk in chunks:
            part = self.partial(chunk)
            # Merging as we go keeps one partial in memory, bounded by groups x distinct values.
            summary = part if summary is None else self.merge(summary, part)
        return None if summary is None else self.combine(summary)


def get_streaming(name: str) -> StreamingTransform | None:
    """The chunked form of the transform ``name``, or None if it runs on the whole frame only."""
    if name not in STREAMING:
        return None
    module_name, partial, combine = STREAMING[name]
    module = import_module(module_name)
    return StreamingTransform(getattr(module, partial), module.STATS.merge, getattr(module, combine))


def get_transform(name: str) -> Callable[..., Any]:
    """The transform function registered under ``name``."""
    module, function = REGISTRY[name]
    transform: Callable[..., Any] = getattr(import_module(module), function)
    return transform
