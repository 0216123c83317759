"""How list commands print: a Rich table on a terminal; in a pipe, tab-separated full
values under a header line; `--json` anywhere."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON array of objects.")]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value).replace("\t", " ").replace("\n", " ")


def print_rows(columns: Sequence[str], rows: Sequence[dict[str, Any]], *, as_json: bool) -> None:
    """Print `rows` (dicts keyed by `columns`) for a person or for a script."""
    if as_json:
        sys.stdout.write(json.dumps(list(rows), ensure_ascii=False, default=str, indent=1) + "\n")
        return
    if not sys.stdout.isatty():
        lines = ["\t".join(columns)]
        lines += ["\t".join(_cell(row.get(c)) for c in columns) for row in rows]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(Text(_cell(row.get(c))) for c in columns))
    Console().print(table)  # made now, so that it measures the terminal now
