"""Print or save rows in the formats every LIMA command offers: table, csv, json, markdown, latex, parquet.

Usage from any command:

    from lima.queries.output import FORMATS, emit
    emit(columns, rows, fmt="table", output=None, title="top-locks")

A file is written whole or not at all (a temporary file renamed into place).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import os
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["FORMATS", "OutputError", "emit", "render_text", "write_atomic"]

FORMATS = ("table", "csv", "json", "markdown", "latex", "parquet")


class OutputError(Exception):
    """Output cannot be produced as asked (one line for the user)."""


def _plain(v: object) -> object:
    """A JSON-friendly value."""
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime | dt.date | dt.time | dt.timedelta):
        return str(v)
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, bytes):
        return v.hex()
    return v


def _cell(v: object, exact: bool = False) -> str:
    """Text of one value: exact (csv) keeps every digit; otherwise floats are shortened for reading."""
    if v is None:
        return ""
    if isinstance(v, float) and not exact:
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.1f}" if abs(v) >= 100 else f"{v:.4g}"
    if isinstance(v, list | tuple):
        return ", ".join(_cell(x, exact) for x in v)
    return str(v)


def _latex_escape(s: str) -> str:
    table = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
             "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(table.get(c, c) for c in s)


def render_text(columns: Sequence[str], rows: Sequence[Sequence[object]], fmt: str,
                title: str | None = None) -> str:
    """The rows as text in csv, json, markdown or latex."""
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(v, exact=True) for v in r])
        return buf.getvalue()
    if fmt == "json":
        return json.dumps([{c: _plain(v) for c, v in zip(columns, r, strict=True)} for r in rows],
                          indent=1) + "\n"
    if fmt == "markdown":
        esc = [[_cell(v).replace("|", r"\|") for v in r] for r in rows]
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in esc]
        return "\n".join(lines) + "\n"
    if fmt == "latex":
        numeric = [all(isinstance(r[i], int | float | decimal.Decimal) or r[i] is None for r in rows)
                   and rows for i in range(len(columns))]
        spec = "".join("r" if n else "l" for n in numeric)
        lines = [r"\begin{tabular}{" + spec + "}", r"\toprule",
                 " & ".join(_latex_escape(c) for c in columns) + r" \\", r"\midrule"]
        lines += [" & ".join(_latex_escape(_cell(v)) for v in r) + r" \\" for r in rows]
        lines += [r"\bottomrule", r"\end{tabular}"]
        if title:
            lines.insert(0, f"% {title}")
        return "\n".join(lines) + "\n"
    raise OutputError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def write_atomic(output: str | os.PathLike[str], data: bytes) -> None:
    """Write DATA to OUTPUT as open(OUTPUT, 'wb') would, but whole or not at all; OutputError (one line)
    when it cannot be written.

    A regular file (or a new one) is written to a temporary file beside it, then renamed over it; through a
    symlink that is the link's target, so the link stays. The result has the mode the file had, or for a
    new file 0666 less the umask (mkstemp's 0600 would hide it from the group). A FIFO, a terminal or a
    path under /dev or /proc (/dev/stdout) cannot be renamed over: it is written directly.
    """
    text = os.fspath(output)
    try:
        st = os.stat(text)   # follows symlinks, /dev/stdout's too
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(f"{text}: cannot write: {e.strerror}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{text}: is a folder; --output wants a file name")
    if text.endswith(os.sep):
        raise OutputError(f"{text}: names a folder (ends in {os.sep}); --output wants a file name")
    # /dev/stdout, /dev/fd/N, /proc/self/fd/N name a descriptor: even when it is open on a regular file,
    # that open file is what the user means, not a new file renamed over its path
    device = os.path.abspath(text).startswith(("/dev/", "/proc/"))
    try:
        if st is not None and (device or not stat.S_ISREG(st.st_mode)):
            with open(text, "wb") as f:
                f.write(data)
            return
        real = Path(os.path.realpath(text))   # a dangling symlink gives its target, created as open() does
        if not real.parent.is_dir():
            shown = real.parent if os.path.islink(text) else Path(text).parent   # the folder the user named
            raise OutputError(f"{text}: folder {shown} does not exist")
        mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", dir=real.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, mode)
            os.replace(tmp, real)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise OutputError(f"{text}: cannot write: {e.strerror or e}") from None


def _umask() -> int:
    """The process umask (reading it means setting it: set it back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _table(columns: Sequence[str], rows: Sequence[Sequence[object]], title: str | None, file,
           wrap: Sequence[str] = ()) -> None:
    """A rich table; columns empty in every row are left out, cells never wrap (long ones end in ...) but
    those of the WRAP columns, which fold onto several lines."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    keep = [i for i in range(len(columns)) if not rows or any(r[i] not in (None, "", []) for r in rows)]
    t = Table(title=escape(title) if title else None, show_lines=False, header_style="bold",
              caption=f"{len(rows)} rows")
    total = natural = 0   # width needed at least (folding columns narrow) and at ease
    for i in keep:
        numeric = bool(rows) and all(isinstance(r[i], int | float | decimal.Decimal) or r[i] is None
                                     for r in rows)
        longest = max([len(columns[i])] + [len(_cell(r[i])) for r in rows[:200]])
        folds = columns[i] in wrap
        total += min(longest, 30 if folds else 60) + 3   # a folding column can be narrow
        natural += min(longest, 60) + 3
        t.add_column(escape(columns[i]), justify="right" if numeric else "left", no_wrap=not folds,
                     overflow="fold" if folds else "ellipsis", min_width=min(longest, 6 if numeric else 10),
                     max_width=60)
    for r in rows:
        t.add_row(*[escape(_cell(r[i])) for i in keep])   # '[i]' in a name is text, not rich markup
    tty = file is None and sys.stdout.isatty()
    console = Console(file=file, width=None if tty else max(80, natural + 1), soft_wrap=False)
    if tty and total + 1 > console.width:
        _records(columns, rows, keep, title, console)   # too wide: squeezing would hide columns
        return
    console.print(t)


def _records(columns: Sequence[str], rows: Sequence[Sequence[object]], keep: list[int], title: str | None,
             console) -> None:
    """One block per row, one 'column  value' line per column (psql's expanded display): used when a
    table is wider than the terminal, so that no column is squeezed out of sight."""
    from rich.markup import escape

    width = max(len(columns[i]) for i in keep) if keep else 0
    if title:
        console.print(f"[bold]{escape(title)}[/bold]")
    for n, r in enumerate(rows, 1):
        console.print(f"[dim]-- row {n} --[/dim]")
        for i in keep:
            console.print(f"[bold]{escape(columns[i].ljust(width))}[/bold]  {escape(_cell(r[i]))}",
                          soft_wrap=True)
    console.print(f"[dim]{len(rows)} rows (expanded: the table is wider than the terminal; "
                  "--format csv|json|markdown for other layouts)[/dim]")


def emit(columns: Sequence[str], rows: Sequence[Sequence[object]], fmt: str = "table",
         output: str | os.PathLike[str] | None = None, title: str | None = None,
         wrap: Sequence[str] = ()) -> None:
    """Print the rows to stdout, or write them to OUTPUT, in FMT (one of FORMATS).

    WRAP names columns whose long cells a table folds onto several lines instead of cutting them short.
    """
    columns = list(columns)
    if fmt not in FORMATS:
        raise OutputError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if fmt == "parquet":
        if output is None:
            raise OutputError("--format parquet needs --output FILE")
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist([{c: _plain(v) for c, v in zip(columns, r, strict=True)} for r in rows],
                                     schema=None) if rows else pa.table({c: pa.array([], pa.null())
                                                                         for c in columns})
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf)
        write_atomic(output, buf.getvalue().to_pybytes())
        return
    if fmt == "table":
        if output is None:
            _table(columns, rows, title, None, wrap)
            return
        buf = io.StringIO()
        _table(columns, rows, title, buf, wrap)
        write_atomic(output, buf.getvalue().encode())
        return
    text = render_text(columns, rows, fmt, title)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text.encode())
