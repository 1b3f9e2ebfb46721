"""``ttx report``: write the after-action report of a journal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from simulator.cli.usage import UsageError, output_path


def cmd_report(args: argparse.Namespace) -> int:
    """Write the after-action report of a journal (format from --format or the file extension)."""
    from simulator.analysis.report import build_report, render

    fmt = args.format or _format_of(args.output)
    if fmt is None:
        raise UsageError("cannot tell the format from the file name; use .html or .md, or --format")
    try:
        aar = build_report(args.journal, args.scenario)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    text = render(aar, fmt)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"report written to {args.output}", file=sys.stderr)
    return 0


def _format_of(output: str | None) -> str | None:
    if output in (None, "-"):
        return "md"
    suffix = Path(str(output)).suffix.lower()
    return {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}.get(suffix)


def register(sub: Any) -> None:
    """Add ``ttx report`` to the command line."""
    p = sub.add_parser("report", help="write the after-action report (AAR/IP) of a journal")
    p.add_argument("journal", metavar="JOURNAL", help="a JSONL journal (solo, team or bot run)")
    p.add_argument("-o", "--output", metavar="PATH", type=output_path,
                   help="aar.html or aar.md (default: Markdown on stdout)")
    p.add_argument("--format", choices=["html", "md"], help="override the format the extension implies")
    p.add_argument("--scenario", help="scenario file to use instead of the one the journal names")
    p.set_defaults(handler=cmd_report)

