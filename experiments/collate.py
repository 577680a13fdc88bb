"""``python -m experiments.collate <sweep_dir> [--export csv,dta] [--labels en|zh]``: ``python -m sim.runs.collate``
(the collation lives in sim), then, with ``--export``, the runs table and the weekly panel as CSV and/or Stata
files with variable and value labels in English or Chinese, and a codebook, for R, Stata or SPSS users
(experiments/export.py)."""

import argparse
import sys

from experiments.export import FORMATS, LABEL_LANGS, export_runs, parse_formats
from sim.runs.collate import main as collate_main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.collate", add_help=False)
    ap.add_argument("--export", metavar="FORMATS",
                    help=f"also write the runs table and the weekly panel as {', '.join(FORMATS)} (comma-separated, "
                         "e.g. csv,dta), with a codebook (codebook.md, codebook.csv)")
    ap.add_argument("--labels", choices=LABEL_LANGS, default="en",
                    help="language of the Stata variable and value labels (default: en; the codebook has both)")
    args, rest = ap.parse_known_args(argv)
    if "-h" in rest or "--help" in rest:
        ap.print_help()
        print("\nand every option of python -m sim.runs.collate:\n")
        return collate_main(["--help"])
    try:
        formats = parse_formats(args.export) if args.export is not None else ()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if formats and "--verify" in rest:
        print("error: --export writes the table a collation makes; --verify only checks (give one of them)",
              file=sys.stderr)
        return 2
    status = collate_main(rest)
    if status or not formats:
        return status
    sweep_dir = next(a for a in rest if not a.startswith("-"))
    for path in export_runs(sweep_dir, formats, args.labels):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
