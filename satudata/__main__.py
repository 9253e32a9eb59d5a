"""Command line: ``python -m satudata check <dataset_id> <file> | new <dataset_id> <sample> | versions <dataset_id>
| rollback <dataset_id> --to <version> | env``."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m satudata", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("env", help="print export lines for running the DAGs with a local Airflow")
    check = sub.add_parser(
        "check", help="check a file as the pipeline would, without Airflow or CKAN (exit 0: publishable)"
    )
    check.add_argument("dataset_id")
    check.add_argument("file", type=Path, help="source rows (.csv, or .sqlite for SQL sources)")
    check.add_argument("--period", help="the run's period key: 2026-10, 2026-10-05 or 2026-S2 (default: from the rows)")
    check.add_argument("--previous", type=Path, help="the previous period's published table (.parquet/.csv)")
    check.add_argument("--report-dir", type=Path, help="where to write validation.json and report.html")
    check.add_argument("--transformed", action="store_true", help="the file already holds the published table")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    new = sub.add_parser("new", help="draft catalog/<id>.yaml and expectations/<id>.json from a sample export")
    new.add_argument("dataset_id")
    new.add_argument("sample", type=Path, help="a sample export (.csv or .xlsx) as the agency sends it")
    new.add_argument("--schedule", help="daily, weekly, monthly, quarterly, semiannual or annual (default: guessed)")
    new.add_argument("--force", action="store_true", help="replace an existing catalog file and suite")
    versions = sub.add_parser("versions", help="list the dataset's published versions kept in the version store")
    versions.add_argument("dataset_id")
    back = sub.add_parser("rollback", help="put the portal back to a stored version (resources, DataStore, extras)")
    back.add_argument("dataset_id")
    back.add_argument("--to", required=True, metavar="VERSION",
                      help="the version: its number (3), its id (0003-1a2b3c4d5e6f) or its satudata_versi")
    args = parser.parse_args(argv)

    if args.command == "check":
        from satudata.cli.check import run_check

        return run_check(args.dataset_id, args.file, args.period, args.previous, args.report_dir,
                         args.transformed, progress=not args.no_progress)
    if args.command == "new":
        from satudata.cli.scaffold import run_new

        return run_new(args.dataset_id, args.sample, args.schedule, args.force)
    if args.command == "versions":
        from satudata.cli.versions import run_versions

        return run_versions(args.dataset_id)
    if args.command == "rollback":
        from satudata.cli.versions import run_rollback

        return run_rollback(args.dataset_id, args.to)
    if args.command == "env":
        from satudata import settings

        for key, value in settings.airflow_environment().items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
