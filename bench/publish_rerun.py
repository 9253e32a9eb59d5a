"""Measure what publishing sends to the portal: a first run, then a re-run over unchanged sources.

Counts every HTTP request the CKAN client makes and the bytes of their bodies (uploads and
JSON), and times each publication. Uses the sample licensing database and a throw-away data
zone; publishes the permits dataset under the portal name ``bench-izin-terbit``.

    python3 devstack/ckanstack.py up --instance bench --port 5099     # prints url and api_token
    export AIRFLOW_CONN_CKAN_DEFAULT='{"conn_type": "ckan", "host": "<url>", "password": "<token>"}'
    .venv/bin/python bench/publish_rerun.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "plugins"), str(Path(__file__).resolve().parent.parent)]


def main() -> int:
    if not os.environ.get("AIRFLOW_CONN_CKAN_DEFAULT"):
        print("set AIRFLOW_CONN_CKAN_DEFAULT to the portal to measure (see the docstring)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="satudata-bench-"))
    os.environ["SATUDATA_DATA_DIR"] = str(tmp / "data")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    from devstack.samples.licensing import ensure_licensing_sqlite

    source = ensure_licensing_sqlite(tmp / "dpmptsp_perizinan.sqlite")
    os.environ["AIRFLOW_CONN_DPMPTSP_PERIZINAN"] = json.dumps({"conn_type": "sqlite", "host": str(source)})

    from ckan_hook import CkanHook
    from pipeline_clients import datastore_write_dsn, portal, source_client

    from satudata import steps
    from satudata.catalog import get_entry
    from satudata.periods import Period
    from satudata.run import RunContext

    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    entry = entry.model_copy(update={"ckan": entry.ckan.model_copy(update={"name": "bench-izin-terbit"})})
    client = CkanHook().get_conn()
    try:
        client.call_action("dataset_purge", {"id": entry.ckan.name})
    except Exception:  # not there yet
        pass

    sent = {"requests": 0, "bytes": 0}

    def count(response, *args, **kwargs):
        sent["requests"] += 1
        sent["bytes"] += len(response.request.body or b"")

    import satudata.transport

    plain = satudata.transport.retrying_session

    def counted_session(*args, **kwargs):
        session = plain(*args, **kwargs)
        session.hooks["response"].append(count)
        return session

    # Every client the publish step builds is counted (the CKAN hook builds its session here).
    import ckan_hook

    satudata.transport.retrying_session = counted_session
    ckan_hook.retrying_session = counted_session
    rows = []
    period = Period("monthly", date(2026, 10, 1), date(2026, 11, 1))
    for label in ("first run", "re-run, unchanged source"):
        raw = steps.extract(RunContext(entry, period, f"bench-{label}"), source_client(entry))
        staged = steps.transform(RunContext(entry, period, "t"), raw)
        gate = steps.validate(RunContext(entry, period, f"bench-{label}"), staged)
        outputs = steps.write_outputs(RunContext(entry, period, "t"), gate)
        sent.update(requests=0, bytes=0)
        started = time.perf_counter()
        result = steps.publish(RunContext(entry, period, f"bench-{label}"), outputs, portal(), datastore_write_dsn())
        seconds = time.perf_counter() - started
        rows.append((label, result["bytes_uploaded"], sent["requests"], sent["bytes"], seconds,
                     sum(r["action"] != "unchanged" for r in result["resources"].values())))
    print(f"\n{'publication':28} {'file bytes':>11} {'requests':>9} {'body bytes':>11} {'seconds':>8} "
          f"{'resources changed':>18}")
    for label, uploaded, requests, body, seconds, changed in rows:
        print(f"{label:28} {uploaded:>11} {requests:>9} {body:>11} {seconds:>8.3f} {changed:>18}")
    (_, _, _, _, first, _), (_, uploaded, _, _, again, _) = rows
    share = again / first
    print(f"re-run / first run = {100 * share:.1f}% of the time (goal <= 5%: {'met' if share <= 0.05 else 'NOT met'}); "
          f"{uploaded} bytes uploaded (goal 0: {'met' if uploaded == 0 else 'NOT met'})")
    client.call_action("dataset_purge", {"id": entry.ckan.name})
    return 0


if __name__ == "__main__":
    sys.exit(main())
