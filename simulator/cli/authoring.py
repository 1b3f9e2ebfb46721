"""Authoring commands: ``ttx new`` (a commented starter drill) and ``ttx msel export|import`` (CSV MSELs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from simulator.cli.usage import UsageError, output_path, unwritable


def register(subparsers: Any) -> None:
    """Add ``new`` and ``msel`` to the ``ttx`` command line."""
    p = subparsers.add_parser("new", help="write a commented starter scenario that validates and runs")
    p.add_argument("name", metavar="NAME",
                   help="scenario id (e.g. my-drill, written to my-drill.yaml) or a path ending in .yaml")
    p.add_argument("-o", "--output", metavar="PATH", type=output_path,
                   help="where to write it (default: NAME.yaml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=cmd_new)

    msel = subparsers.add_parser("msel", help="export or import the inject list (MSEL) as CSV")
    sub = msel.add_subparsers(dest="msel_command", metavar="export|import",
                              parser_class=subparsers._parser_class)
    msel.set_defaults(handler=cmd_msel)
    e = sub.add_parser("export", help="write a scenario's injects as an HSEEP-style CSV")
    e.add_argument("scenario", metavar="SCENARIO", help="scenario file or built-in id")
    e.add_argument("-o", "--output", metavar="PATH", type=output_path,
                   help="CSV file to write (default: stdout)")
    e.set_defaults(handler=cmd_msel_export)
    i = sub.add_parser("import", help="merge an edited MSEL CSV back into a scenario")
    i.add_argument("csv", metavar="CSV", help="the edited sheet")
    i.add_argument("--into", required=True, metavar="SCENARIO", help="scenario file or built-in id")
    i.add_argument("-o", "--output", metavar="PATH", type=output_path,
                   help="YAML file to write (default: stdout)")
    i.set_defaults(handler=cmd_msel_import)


def cmd_msel(args: argparse.Namespace) -> int:
    """``ttx msel`` alone: say which subcommands there are."""
    raise UsageError("give export or import: ttx msel export SCENARIO -o msel.csv, "
                     "ttx msel import msel.csv --into SCENARIO -o edited.yaml")


def cmd_new(args: argparse.Namespace) -> int:
    """Write the starter scenario, and the schema its first line points editors at beside it."""
    from simulator.format.starter import guide_path, scenario_id_of, starter_scenario

    named_file = args.name.endswith((".yaml", ".yml"))
    scenario_id = scenario_id_of(Path(args.name).stem if named_file else args.name)
    path = Path(args.output or (args.name if named_file else f"{scenario_id}.yaml"))
    if path.exists() and not args.force:
        raise UsageError(f"{path} exists; choose another name or add --force")
    problem = unwritable(path)
    if problem is not None:
        raise UsageError(problem)
    path.write_text(starter_scenario(scenario_id, str(path)), encoding="utf-8")
    print(f"wrote {path}{_schema_beside(path)}: check it with `ttx validate --lint {path}`, "
          f"play it with `ttx run {path}`")
    print(f"authoring guide, with parameter ranges and their sources: {guide_path()}")
    return 0


def _schema_beside(path: Path) -> str:
    """Write (or refresh) the editor schema next to ``path``; what to add to the 'wrote' line."""
    from simulator.format.schema import SCHEMA_ID, schema_text
    from simulator.format.starter import SCHEMA_FILE

    schema, text = path.parent / SCHEMA_FILE, schema_text()
    if not schema.exists():
        schema.write_text(text, encoding="utf-8")
        return f" and {schema} (for editor completion)"
    current = schema.read_text(encoding="utf-8", errors="replace")
    if current == text:
        return ""
    if SCHEMA_ID not in current:
        return f" ({schema} is not ttx's schema, so it was left alone: `ttx schema > {schema}` replaces it)"
    schema.write_text(text, encoding="utf-8")
    return f" and refreshed {schema} to this ttx's schema"


def cmd_msel_export(args: argparse.Namespace) -> int:
    """Write a scenario's MSEL as CSV."""
    from simulator.format.loader import load_scenario
    from simulator.format.msel import export_csv

    loaded = load_scenario(args.scenario)
    text = export_csv(loaded.scenario)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {len(loaded.scenario.injects)} injects to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_msel_import(args: argparse.Namespace) -> int:
    """Merge an edited CSV into a scenario; the result must validate before it is written."""
    from simulator.format.loader import check_scenario, load_scenario
    from simulator.format.msel import merge
    from simulator.format.yamlsafe import FileProblems, read_document

    loaded = load_scenario(args.into)
    try:
        sheet = Path(args.csv).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{args.csv}: no such file (ttx msel export SCENARIO -o {args.csv} "
                         "writes one to edit)") from None
    except (IsADirectoryError, UnicodeDecodeError):
        raise UsageError(f"{args.csv}: not a CSV text file (save the sheet as CSV UTF-8)") from None
    merged = merge(sheet, args.csv, loaded.scenario, Path(loaded.path).read_text(encoding="utf-8"))
    document = read_document(merged, args.output or "<stdout>")
    _, problems = check_scenario(document)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise FileProblems(errors)
    for warning in problems:
        print(warning, file=sys.stderr)
    if args.output:
        Path(args.output).write_text(merged, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(merged)
    return 0

