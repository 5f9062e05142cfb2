#!/usr/bin/env python3
"""The tree-sitter lock resolver (lock_sites) against clang (clang_lock_sites) on the files of a kernel build.

Anchor: LIMA's libclang front end (lima-index --compile-commands), which reads each lock argument with the
compiler's own types for the build's configuration. Both sides are counted on the same files: those of
the compile_commands.json that clang parsed. Steps:

  1. unless --no-build: bash bench/kbuild_compdb.sh TARGETS (defconfig, out of tree in .cache/kbuild);
  2. lima-index SRC --db DB --only kernel --only mm --only include --only arch/x86/include (and the
     TARGETS' top folders) --compile-commands .cache/kbuild/compile_commands.json, with every clang file
     parsed again (--reparse, the default, empties clang_files first so the clang time is a full one);
  3. prints, side by side, each side's sites and how they resolve (field/global/percpu, param/local,
     unknown/ambiguous), then the paired sites per category of lima-query resolver-check, the clang front
     end's time, and with --sample N, N sites of each disagreeing category (lima-query resolver-diff).

Usage:
  .venv/bin/python bench/resolver_vs_clang.py kernel/ mm/     # build (minutes the first time), index, compare
  .venv/bin/python bench/resolver_vs_clang.py --no-build --no-index --db .cache/clang/bench.duckdb --sample 5
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KSRC = Path(os.environ.get("LIMA_KERNEL_SRC") or ROOT / ".cache" / "linux-source-6.1")
KBUILD = Path(os.environ.get("KBUILD") or ROOT / ".cache" / "kbuild")


def fail(msg: str) -> int:
    print(f"resolver_vs_clang.py: error: {msg}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("targets", nargs="*", default=["kernel/", "mm/"],
                    help="make targets built for compile commands (default kernel/ mm/)")
    ap.add_argument("--db", default=str(ROOT / ".cache" / "clang" / "bench.duckdb"), help="database")
    ap.add_argument("--no-build", action="store_true", help="use .cache/kbuild/compile_commands.json as is")
    ap.add_argument("--no-index", action="store_true", help="compare what DB holds (no lima-index run)")
    ap.add_argument("--no-reparse", action="store_true", help="let lima-index skip unchanged clang files")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="lima-index --jobs")
    ap.add_argument("--sample", type=int, default=0, metavar="N",
                    help="print N sites of each disagreeing category")
    args = ap.parse_args(argv)
    if not (KSRC / "Makefile").is_file():
        return fail(f"no kernel tree at {KSRC} (bash run.sh setup unpacks it)")
    db = Path(args.db)
    compdb = KBUILD / "compile_commands.json"
    if not args.no_build:
        t0 = time.perf_counter()
        r = subprocess.run(["bash", str(ROOT / "bench" / "kbuild_compdb.sh"), *args.targets])
        if r.returncode:
            return fail(f"bench/kbuild_compdb.sh failed ({r.returncode})")
        print(f"build + compile_commands.json: {time.perf_counter() - t0:.1f} s")
    if not compdb.is_file() and not args.no_index:
        return fail(f"{compdb} missing: run bash bench/kbuild_compdb.sh {' '.join(args.targets)}")
    import duckdb
    if not args.no_index:
        db.parent.mkdir(parents=True, exist_ok=True)
        if db.exists() and not args.no_reparse:
            con = duckdb.connect(str(db))
            if con.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_name = 'clang_files'").fetchone()[0]:
                con.execute("DELETE FROM clang_files")
            con.close()
        only = {"kernel", "mm", "include", "arch/x86/include"} | {t.split("/")[0] for t in args.targets}
        cmd = [sys.executable, "-m", "lima.analyzer.cli", str(KSRC), "--db", str(db), "--jobs",
               str(args.jobs), "--compile-commands", str(compdb)]
        for o in sorted(only):
            cmd += ["--only", o]
        t0 = time.perf_counter()
        r = subprocess.run(cmd)
        if r.returncode not in (0,):
            return fail(f"lima-index failed ({r.returncode})")
        print(f"lima-index (code facts, lock pass, clang front end): {time.perf_counter() - t0:.1f} s")
    if not db.is_file():
        return fail(f"{db}: no such database")
    from lima.db import connect, get_meta
    from lima.queries import install_views
    from lima.queries.catalog import find_query, load_catalog
    from lima.queries.cli import run_query
    con = connect(db)
    install_views(con)
    cat = load_catalog()
    files = con.execute("""
        SELECT count(*), count(*) FILTER (c.status = 'errors'),
               count(*) FILTER (c.status NOT IN ('parsed', 'errors')),
               coalesce(sum(c.seconds), 0), coalesce(median(c.seconds), 0), coalesce(max(c.seconds), 0)
        FROM clang_files c""").fetchone()
    if not files[0]:
        return fail(f"{db}: no file parsed by clang (run without --no-index)")
    sides = con.execute("""
        WITH p AS (SELECT * FROM resolver_pairs(file := NULL))
        SELECT 'tree-sitter' AS side, count(*) AS sites,
               count(*) FILTER (p.ts_kind IN ('field', 'global', 'percpu')) AS resolved,
               count(*) FILTER (p.ts_kind IN ('param', 'local')) AS param_local,
               count(*) FILTER (p.ts_kind IN ('unknown', 'ambiguous')) AS unknown
        FROM p WHERE p.site_id IS NOT NULL
        UNION ALL
        SELECT 'clang', count(*), count(*) FILTER (p.clang_kind IN ('field', 'global', 'percpu')),
               count(*) FILTER (p.clang_kind IN ('param', 'local')),
               count(*) FILTER (p.clang_kind = 'unknown')
        FROM p WHERE p.clang_kind IS NOT NULL""").fetchall()
    print(f"\nfiles parsed by clang: {files[0]:,} ({files[1]:,} with error diagnostics, {files[2]:,} failed)")
    print(f"\n{'primitive call sites':<34}{'tree-sitter':>16}{'clang (anchor)':>16}")
    names = ["sites in these files", "resolved (field/global/percpu)", "param / local", "unknown / ambiguous"]
    for i, name in enumerate(names):
        cells = []
        for row in sides:
            v = row[i + 1]
            cells.append(f"{v:,}" if i == 0 else f"{v:,} ({100.0 * v / max(row[1], 1):.1f}%)")
        print(f"{name:<34}{cells[0]:>16}{cells[1]:>16}")
    _cols, rows = run_query(con, find_query(cat, "resolver-check"), {})
    paired = sum(r[1] for r in rows if r[0] not in ("only-ts", "only-clang", "ts-macro-body"))
    print(f"\n{'category (lima-query resolver-check)':<20}{'sites':>8}{'share':>9}{'of paired':>11}  meaning")
    for cat_name, n, share, _files, meaning in rows:
        unpaired = cat_name in ("only-ts", "only-clang", "ts-macro-body")
        of_paired = f"{100.0 * n / paired:.1f}%" if not unpaired and paired else ""
        print(f"{cat_name:<20}{n:>8,}{share:>8.2f}%{of_paired:>11}  {meaning}")
    wall = get_meta(con, "clang_seconds")
    print(f"\nclang front end: last run {wall} s wall ({files[0]:,} files, --jobs {args.jobs}); per file "
          f"{files[4]:.2f} s median, {files[5]:.1f} s max, {files[3]:.0f} s summed")
    if args.sample:
        q = find_query(cat, "resolver-diff")
        for cat_name in ("differ", "ts-unresolved", "clang-unresolved", "only-ts", "only-clang"):
            _c, drows = run_query(con, q, {"category": cat_name})
            drows = drows[:args.sample]
            if drows:
                print(f"\n{cat_name}:")
            for r in drows:
                print(f"  {r[1]} {r[3]}({r[4]}) in {r[2]}: tree-sitter {r[5]} [{r[7]}]"
                      f" | clang {r[6]} [{r[8]}]")
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
