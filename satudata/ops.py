"""Operational settings of Airflow deployments that Airflow reads by dotted path (no Airflow import here)."""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    """The name a worker records on the task instances it runs (``[core] hostname_callable``).

    ``SATUDATA_WORKER_NAME`` tells apart several workers on one host; otherwise the FQDN.
    """
    return os.environ.get("SATUDATA_WORKER_NAME") or socket.getfqdn()
