"""Command line: ``python -m satudata demo | env``."""

from __future__ import annotations

import argparse
import shlex
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m satudata", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run every catalog DAG once for its latest complete period")
    sub.add_parser("env", help="print export lines for running the DAGs with a local Airflow")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from satudata.demo import main as demo

        return demo()
    if args.command == "env":
        from satudata import settings

        for key, value in settings.airflow_environment().items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
