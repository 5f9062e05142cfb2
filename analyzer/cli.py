"""lima-index: index a Linux source tree into the LIMA DuckDB database (code facts, then lock facts)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

import duckdb
from lima.analyzer.clang_flags import CompileCommandsError, read_compile_commands
from lima.analyzer.clang_pass import run_clang_pass
from lima.analyzer.indexer import BadInput, Indexer, IndexStats, run_lock_pass
from lima.analyzer.lock_config import DEFAULT_CONFIG, BadConfig, KernelConfig
from lima.db import LimaDbError, connect, default_db_path, get_meta
from lima.queries import install_views
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

__all__ = ["main", "build_parser"]

PROG = "lima-index"

EPILOG = """\
examples:
  lima-index .cache/linux-source-6.1                  index the whole tree into ./lima.duckdb
  lima-index SRC --db /tmp/k.duckdb --jobs 2          choose the database and the number of workers
  lima-index SRC --only kernel --only mm --only include --only arch/x86/include
                                                      index (or refresh) just these subfolders (struct
                                                      and lock answers need the headers too)
  lima-index SRC --only include/linux/mm_types.h      ... or just this file
  lima-index SRC --force                              re-parse every file even if unchanged
  lima-index SRC --no-lock-pass                       code facts only (skip the lock analysis)
  lima-index SRC --compile-commands BUILD/compile_commands.json
                                                      also resolve lock sites with libclang (the
                                                      files of a kernel build; default
                                                      SRC/compile_commands.json when it exists)
  LIMA_DB=/data/lima.duckdb lima-index SRC --quiet    database from the environment, no progress bar

A second run reads again only files whose size or modification time changed, re-parses those of
them whose content changed (every file after an upgrade of LIMA that reads C differently) and drops
files that disappeared; a file edited with its size and modification time restored is not read again
(--force reads it). An interrupted run (Ctrl-C, SIGTERM) keeps every finished batch and the next run
completes it.
Bad input (SRC not a directory or without .c/.h files, database folder missing, database held open by
another writer or holding other tables than LIMA's) gives a one-line error and exit code 2. Source files
that are unreadable, binary, non-UTF-8 or have a name that is not UTF-8, and subfolders that cannot be
listed, are skipped, listed and counted (exit code 2); the other files are still indexed. Exit 130 after
Ctrl-C, 143 after SIGTERM.
"""


#: How files.status values (and "unreadable_folder", a subfolder that could not be listed) read in messages.
_LABELS = {"non_utf8": "non-UTF-8", "unreadable": "unreadable", "binary": "binary",
           "failed": "failed", "crashed": "crashed", "bad_name": "non-UTF-8 name",
           "unreadable_folder": "unreadable folder"}


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _skipped_message(stats: IndexStats) -> str:
    """The closing error line of a run that skipped files or folders: how many, why, what was indexed."""
    folders = stats.skipped.get("unreadable_folder", 0)
    files = sum(stats.skipped.values()) - folders
    what = " and ".join(_count(n, noun) for n, noun in ((files, "file"), (folders, "folder")) if n)
    why = ", ".join(f"{v:,} {_LABELS.get(k, k)}" for k, v in stats.skipped.items())
    indexed = stats.parsed + stats.unchanged
    rest = "the rest is indexed" if indexed else "no file could be indexed"
    return f"{what} skipped ({why}); {rest}"


class _Terminated(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of lima-index."""
    p = argparse.ArgumentParser(
        prog=PROG, description="Index the C sources of a Linux tree (functions, calls, structs, fields, "
        "globals, macros, ...) into one DuckDB database with tree-sitter, then derive the lock facts.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", metavar="SRC",
                   help="root of the Linux source tree (the folder with the top Makefile)")
    p.add_argument("--db", metavar="PATH",
                   help=f"database file to create or update (default: $LIMA_DB, else ./lima.duckdb; now "
                   f"{default_db_path()})")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="worker processes parsing in parallel (default: all cores, %(default)s here)")
    p.add_argument("--only", action="append", default=[], metavar="SUBDIR",
                   help="index only this subfolder (or .c/.h file) of SRC (repeatable); files of the "
                   "database outside it are kept")
    p.add_argument("--force", action="store_true", help="re-parse every file, even unchanged ones")
    p.add_argument("--no-lock-pass", action="store_true",
                   help="write the code facts only; the lock_* tables keep their old content until a run "
                   "without this option rebuilds them")
    p.add_argument("--kconfig", metavar="FILE",
                   help="kernel .config whose options decide between #if alternatives of one definition "
                   "(which double_rq_lock, which _double_lock_balance the lock pass follows) and which .c "
                   "files the tree's makefiles compile (kbuild_files; lock sites in the others get "
                   "confidence <= 0.2): default SRC/.config if the tree has one, else Debian's amd64 6.1 "
                   "configuration, built in; /boot/config-$(uname -r) is the running kernel's")
    clang = p.add_mutually_exclusive_group()
    clang.add_argument("--compile-commands", metavar="FILE",
                       help="compile_commands.json of a build of SRC (make O=DIR ...; then "
                       "scripts/clang-tools/gen_compile_commands.py -d DIR): after the lock pass, parse its "
                       "indexed files with libclang into clang_lock_sites, the compiler's view of each lock "
                       "site (lima-query resolver-check compares); default SRC/compile_commands.json when it "
                       "exists; unchanged files are not parsed again")
    clang.add_argument("--no-clang", action="store_true",
                       help="skip the libclang front end (its tables keep their content)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary table")
    return p


def _fail(msg: str) -> int:
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    return 2


def _summary(con, stats: IndexStats, console: Console, total_seconds: float, clang: str) -> None:
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("files", "functions", "calls", "fptr_assignments", "structs", "fields", "typedefs",
                        "enum_constants", "variables", "macros", "macro_uses", "function_annotations")}
    globals_ = con.execute("SELECT count(*) FROM variables WHERE scope IN ('global', 'extern')").fetchone()[0]
    perrs = con.execute("SELECT coalesce(sum(parse_errors), 0), count(*) FILTER (parse_errors > 0) "
                        "FROM files").fetchone()
    t = Table(title="lima-index summary", show_header=True)
    t.add_column("fact")
    t.add_column("rows in database", justify="right")
    t.add_column("this run", justify="right")
    t.add_row("files", f"{counts['files']:,}",
              f"{stats.parsed:,} parsed, {stats.unchanged:,} unchanged, {stats.deleted:,} removed")
    for name in ("functions", "calls", "fptr_assignments", "structs", "fields", "typedefs", "enum_constants",
                 "variables", "macros", "macro_uses", "function_annotations"):
        t.add_row(name, f"{counts[name]:,}", "")
    t.add_row("globals (file-scope variables)", f"{globals_:,}", "")
    t.add_row("parse errors (tree-sitter ERROR/MISSING)", f"{perrs[0]:,} in {perrs[1]:,} files",
              f"{stats.parse_errors:,}")
    skipped = ", ".join(f"{_LABELS.get(k, k)} {v:,}" for k, v in stats.skipped.items())
    t.add_row("skipped (files, folders)", "", skipped or "0")
    mbs = stats.bytes_to_parse / 1e6
    t.add_row("code facts", "", f"{stats.seconds:.1f} s ({mbs:,.0f} MB read)")
    t.add_row("lock pass", "", escape(stats.lock_pass))
    t.add_row("clang front end", "", escape(clang))
    t.add_row("wall time", "", f"{total_seconds:.1f} s")
    console.print(t)


#: Parsing at least this much with tree-sitter's PyPI wheel prints how to build the faster one.
PGO_HINT_BYTES = 100 * 1000 * 1000


def parser_hint(bytes_parsed: int, parser_build: str) -> str | None:
    """A note for a run that parsed much with the PyPI wheel (analyzer/build_parser_pgo.py), else None."""
    if bytes_parsed < PGO_HINT_BYTES or not parser_build.startswith("tree-sitter wheel"):
        return None
    return (f"note: {bytes_parsed / 1e6:,.0f} MB parsed with tree-sitter's PyPI wheel; "
            "`python -m lima.analyzer.build_parser_pgo --train SRC` rebuilds it for this machine with "
            "profile-guided optimization (parses about 20% faster; run.sh does it)")


def _missing_headers(con) -> str | None:
    """A warning when the database holds no kernel headers: structs, their lock members and the lock
    wrappers of include/linux/*.h are then unknown, so struct and lock answers come back empty."""
    have = dict(con.execute(
        "SELECT 'include' AS d, count(*) FILTER (path LIKE 'include/linux/%') FROM files UNION ALL "
        "SELECT 'arch/x86/include', count(*) FILTER (path LIKE 'arch/x86/include/%') FROM files").fetchall())
    missing = [d for d, n in have.items() if n == 0]
    if not missing or not con.execute("SELECT count(*) FROM files WHERE status = 'ok'").fetchone()[0]:
        return None
    dirs = " and no ".join(m + "/" for m in missing)
    return (f"the database holds no {dirs} headers: structs, lock members and lock wrappers defined there "
            "are unknown, so struct and lock answers may be empty; index them too ("
            + " ".join(f"--only {m}" for m in missing) + ")")


def _interrupted(indexer: Indexer | None, signum: int, phase: str = "code facts") -> int:
    """The one-line message and exit code (130 Ctrl-C, 143 SIGTERM) of an interrupted run."""
    done = indexer.stats.files_committed if indexer else 0
    if phase == "code facts":
        kept = f"kept {done:,} files committed in whole transactions"
    elif phase == "lock pass":
        kept = f"in the lock pass; the code facts are complete ({done:,} files written by this run)"
    else:
        kept = ("in the clang front end; the code facts and lock tables are complete, and the clang files "
                "finished in whole batches are kept")
    print(f"{PROG}: interrupted: {kept}; run the same command again to finish", file=sys.stderr)
    return 143 if signum == signal.SIGTERM else 130


def _kernel_config(path: str | None, src: Path) -> KernelConfig:
    """--kconfig FILE, else the tree's own .config, else the built-in Debian amd64 6.1 one."""
    if path:
        return KernelConfig.read(Path(path))
    own = src / ".config"
    return KernelConfig.read(own) if own.is_file() else DEFAULT_CONFIG


def main(argv: list[str] | None = None, *, exits_after: bool = False) -> int:
    """Entry point of lima-index. exits_after: the caller ends the process with os._exit right after
    (entry), so the lock pass leaves its objects to it."""
    args = build_parser().parse_args(argv)
    console = Console(stderr=True, quiet=args.quiet)
    if args.jobs < 1:
        return _fail("--jobs must be at least 1")
    src = Path(args.src)
    if not src.is_dir():
        return _fail(f"{src}: not a directory (give the root of a Linux source tree)")
    compdb = None if args.no_clang else Path(args.compile_commands) if args.compile_commands else \
        src / "compile_commands.json" if (src / "compile_commands.json").is_file() else None
    try:
        entries = read_compile_commands(compdb) if compdb is not None else []
    except CompileCommandsError as e:
        return _fail(str(e))
    try:
        kconfig = _kernel_config(args.kconfig, src)
    except BadConfig as e:
        return _fail(str(e))

    got_signal: list[int] = []   # DuckDB reports a signal inside a query as its own error: remember it
    phase = ["code facts"]       # what an interruption stops (its message says what is kept)

    def on_term(signum, frame):  # noqa: ARG001
        got_signal.append(signum)
        raise _Terminated()

    def on_int(signum, frame):  # noqa: ARG001
        got_signal.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_int)
    con = None
    indexer = None
    db_path = Path(args.db or default_db_path())
    created = not db_path.exists()
    t_start = time.perf_counter()
    try:
        con = connect(db_path)
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        indexer = Indexer(con, src, jobs=args.jobs, only=args.only, force=args.force)
        tasks, deleted = indexer.plan()
        stats = indexer.stats
        if indexer.extractor_changed:
            later = " (those outside --only at their next run)" if args.only else ""
            console.print("this LIMA reads C differently from the one that made the database: every file "
                          f"is read again{later}")
        with Progress(TextColumn("[bold]indexing"), BarColumn(bar_width=24), TaskProgressColumn(),
                      TextColumn("{task.fields[files]}"), TransferSpeedColumn(), TimeElapsedColumn(),
                      TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[errs]}"),
                      console=console, transient=False, disable=args.quiet) as progress:
            bar = progress.add_task("index", total=max(stats.bytes_to_parse, 1),
                                    files=f"0/{len(tasks):,} files", errs="errors 0")

            def on_batch(st: IndexStats, _files) -> None:
                skipped = sum(st.skipped.values())
                progress.update(bar, completed=st.bytes_done, files=f"{st.files_done:,}/{len(tasks):,} files",
                                errs=f"parse errors {st.parse_errors:,}, skipped {skipped}")

            # the last facts' checkpoint is left to the lock pass's loading thread, or to the CHECKPOINT
            # below (Indexer.run)
            indexer.run(tasks, deleted, on_batch, defer_checkpoint=True)
            progress.update(bar, completed=max(stats.bytes_to_parse, 1))
        phase[0] = "lock pass"
        if args.no_lock_pass:
            stats.lock_pass = "not run (--no-lock-pass)"
        else:
            console.print("[bold]lock pass[/bold] ...")
            stats.lock_pass = run_lock_pass(con, console, force=args.force, config=kconfig,
                                            keep_objects=exits_after)
        clang_problems: list[str] = []
        if compdb is None:
            clang = "not run (--no-clang)" if args.no_clang else \
                "not run (no SRC/compile_commands.json; --compile-commands FILE)"
        else:
            phase[0] = "clang"
            cst = run_clang_pass(con, src, compdb, entries, jobs=args.jobs, force=args.force, console=console,
                                 quiet=args.quiet)
            clang = cst.line()
            clang_problems = cst.problems
        # the queries as views and macros, so the duckdb shell answers right away (and traced runs are
        # re-mapped against the new index now rather than at the next lima-query)
        install_views(con)
        con.execute("RESET checkpoint_threshold")
        con.execute("CHECKPOINT")
        _summary(con, stats, console, time.perf_counter() - t_start, clang)
        lock_warnings = None if args.no_lock_pass else get_meta(con, "lock_pass_warnings")
        if lock_warnings:
            print(f"{PROG}: warning: lock pass: {lock_warnings}", file=sys.stderr)
        if tasks and indexer.walker_problem:
            print(f"{PROG}: warning: C tree walker not in use: {indexer.walker_problem}; tree-sitter's query "
                  "cursor read the files instead (the same facts, more slowly)", file=sys.stderr)
        hint = parser_hint(stats.bytes_to_parse, get_meta(con, "parser_build") or "")
        if hint:
            print(f"{PROG}: {hint}", file=sys.stderr)
        headers = _missing_headers(con)
        if headers:
            print(f"{PROG}: warning: {headers}", file=sys.stderr)
        for line in stats.problems[:20]:
            print(f"{PROG}: warning: {line}", file=sys.stderr)
        if len(stats.problems) > 20:
            print(f"{PROG}: warning: ... and {len(stats.problems) - 20} more (files.status != 'ok')",
                  file=sys.stderr)
        for line in clang_problems[:10]:
            print(f"{PROG}: warning: clang: {line}", file=sys.stderr)
        if len(clang_problems) > 10:
            print(f"{PROG}: warning: clang: ... and {len(clang_problems) - 10} more (clang_files.status "
                  "!= 'parsed')", file=sys.stderr)
        if stats.skipped:
            return _fail(_skipped_message(stats))
        return 0
    except (BadInput, LimaDbError) as e:
        if created and con is not None:   # bad input: leave no empty database behind
            con.close()
            con = None
            for p in (db_path, db_path.with_name(db_path.name + ".wal")):
                p.unlink(missing_ok=True)
        return _fail(str(e))
    except (duckdb.Error, RuntimeError) as e:
        if got_signal:
            return _interrupted(indexer, got_signal[0], phase[0])
        if isinstance(e, RuntimeError):
            raise
        if os.environ.get("LIMA_DEBUG"):
            raise
        return _fail(f"database error: {str(e).splitlines()[0]} (set LIMA_DEBUG=1 for details)")
    except OSError as e:
        if os.environ.get("LIMA_DEBUG"):
            raise
        return _fail(f"{e.filename or 'system'}: {e.strerror or e}")
    except (KeyboardInterrupt, _Terminated) as e:
        return _interrupted(indexer, signal.SIGTERM if isinstance(e, _Terminated) else signal.SIGINT,
                                phase[0])
    finally:
        if con is not None:
            try:
                con.close()
            except Exception:  # noqa: BLE001
                pass


def entry() -> None:
    """The lima-index command: main(), then leave without tearing the interpreter down.

    By then the database is closed and every worker has ended; what is left is freeing the lock pass's
    objects one by one (8.3 million on the full 6.1 tree), which the pass itself leaves alive for that
    reason (keep_objects): 1.7-1.9 s saved, measured on the full 6.1 tree.
    """
    rc = main(exits_after=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


if __name__ == "__main__":
    entry()
