"""How fast do the study's queries answer on a large trace? 10 million traced events over 100 runs.

Builds a synthetic database (default .cache/bench/query_scale.duckdb, rebuilt with --rebuild):
  - index: 5,000 functions holding 2 lock sites each (spin_lock / mutex_lock on struct fields, a few
    functions with two sites of one primitive, hence ambiguous), the lock-pass rows the mapping reads;
  - trace: 100 runs (4 runtimes x 3 workloads x 2 modes, repeated), each with the same 2,000 distinct
    12-frame stacks (lock slow path, entry, site function, 9 callers) = 2.4 M stack_frames rows, and
    100,000 events per run = 10,000,000 events, as lock_events rows the way lima-trace aggregates them
    (per lock, stack, pid, comm, cgroup): --rows-per-run 10000 (default; each stack's site locks one of 8
    instances, 50 pids, 4 cgroups, count 10 per row), or --rows-per-run 100000 for the worst case where
    the aggregation merged nothing (count 1 per row, 10 M rows).
lima.queries.refresh_mappings then maps the stacks once and caches the per-run object counts (timed).
Then times top-locks, shared-locks and lock-rates as lima-query runs them (default parameters), on the
DuckDB thread count given (default 2, the machine's cores), first run and best of --repeat, plus the
staleness check lima-query makes before answering, and prints the figures. Target: each under 1 s.

    .venv/bin/python bench/query_scale.py [--rows-per-run 10000] [--threads 2] [--repeat 3] [--rebuild]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
from lima.db import connect
from lima.queries import install_views
from lima.queries.catalog import load_catalog
from lima.queries.cli import run_query
from lima.queries.install import mappings_stale, needs_install, use_caches

ROOT = Path(__file__).resolve().parent.parent
N_RUNS = 100
N_STACKS = 2000
DEPTH = 12
N_FUNCS = 5000
EVENTS_PER_RUN = 100_000
QUERIES = ("top-locks", "shared-locks", "lock-rates")


def build(path: Path, rows_per_run: int) -> dict[str, float]:
    """Write the synthetic index and trace into a new database; seconds per step."""
    for p in (path, path.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = {}
    t0 = time.perf_counter()
    con = connect(path)
    con.execute(f"""
        INSERT INTO files (file_id, path, status)
        SELECT i, 'kernel/f' || i || '.c', 'ok' FROM range(1, 51) r(i);
        INSERT INTO functions SELECT (i % 50 + 1) * 1048576 + i, i % 50 + 1, 'fn_' || i, false, false, 'void',
               10, 90, NULL FROM range({N_FUNCS}) r(i);
        -- site 1: spin_lock on s_<i%300>.lock_<i%7>; site 2: mutex_lock on a global, or (every 50th function)
        -- a second spin_lock on another struct: those functions are ambiguous
        INSERT INTO lock_sites (site_id, file_id, function_id, function, line, primitive, op, mode, lock_kind,
                                arg_text, via, object_kind, struct_name, field_path, symbol, confidence)
        SELECT 2 * i, i % 50 + 1, (i % 50 + 1) * 1048576 + i, 'fn_' || i, 20, 'spin_lock', 'acquire',
               'exclusive', 'spinlock', '&x->lock', NULL, 'field', 's_' || (i % 300), 'lock_' || (i % 7),
               NULL, 1.0
        FROM range({N_FUNCS}) r(i)
        UNION ALL
        SELECT 2 * i + 1, i % 50 + 1, (i % 50 + 1) * 1048576 + i, 'fn_' || i, 40,
               CASE WHEN i % 50 = 0 THEN 'spin_lock' ELSE 'mutex_lock' END, 'acquire', 'exclusive',
               CASE WHEN i % 50 = 0 THEN 'spinlock' ELSE 'mutex' END, '&g', NULL,
               CASE WHEN i % 50 = 0 THEN 'field' ELSE 'global' END,
               CASE WHEN i % 50 = 0 THEN 't_' || (i % 40) END, CASE WHEN i % 50 = 0 THEN 'lock' END,
               CASE WHEN i % 50 = 0 THEN NULL ELSE 'g_mutex_' || (i % 100) END, 1.0
        FROM range({N_FUNCS}) r(i);
    """)
    t["index rows"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    con.execute(f"""
        INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, duration_s, events_seen, source)
        SELECT 'run' || i, ['runc', 'runsc-kvm', 'fc', 'host'][i % 4 + 1],
               ['nginx', 'fio', 'redis'][i // 4 % 3 + 1], ['coldstart', 'warmup'][i // 12 % 2 + 1],
               'contention', 10.0 + i % 7, {EVENTS_PER_RUN}, 'lima-trace'
        FROM range({N_RUNS}) r(i);
        -- stack s: slow path, entry (_raw_spin_lock or mutex_lock), site fn_(s*7 % N_FUNCS), 9 callers
        INSERT INTO stack_frames (run_id, stack_id, depth, symbol)
        SELECT 'run' || r.i, s.s, d.d,
               CASE d.d WHEN 0 THEN CASE WHEN s.s % 3 = 0 THEN '__mutex_lock.constprop.0'
                                         ELSE 'native_queued_spin_lock_slowpath' END
                        WHEN 1 THEN CASE WHEN s.s % 3 = 0 THEN 'mutex_lock' ELSE '_raw_spin_lock' END
                        WHEN 2 THEN 'fn_' || (s.s * 7 % {N_FUNCS})
                        ELSE 'caller_' || ((s.s + d.d) % 500) END
        FROM range({N_RUNS}) r(i), range({N_STACKS}) s(s), range({DEPTH}) d(d);
    """)
    t["stack_frames"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    count = EVENTS_PER_RUN // rows_per_run
    con.execute(f"""
        INSERT INTO lock_events (run_id, lock_addr, lock_type, stack_id, pid, tgid, comm, cgroup_id, count,
                                 wait_ns_total, wait_ns_max, event)
        SELECT 'run' || (n // {rows_per_run}),
               (18446612682702848000 + (st * 8 + hash(n, 'a') % 8) * 64)::UBIGINT,
               CASE WHEN st % 3 = 0 THEN 'mutex' ELSE 'spinlock' END,
               st, (1000 + hash(n, 'p') % 50)::INTEGER, 1000, 'worker', (hash(n, 'c') % 4)::UBIGINT, {count},
               (hash(n, 'w') % 20000 * {count})::UBIGINT, (hash(n, 'w') % 20000)::UBIGINT, 'contended'
        FROM (SELECT n, (hash(n, 's') % {N_STACKS})::BIGINT AS st FROM range({N_RUNS * rows_per_run}) r(n));
    """)
    t["lock_events"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    install_views(con, force=True)  # installs, then refresh_mappings: map stacks, cache object counts
    t["install + map + cache"] = time.perf_counter() - t0
    t["lock_object_counts rows"] = con.execute("SELECT count(*) FROM lock_object_counts").fetchone()[0]
    con.execute("CHECKPOINT")
    con.close()
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=None, help="default .cache/bench/query_scale_<rows-per-run>.duckdb")
    ap.add_argument("--rows-per-run", type=int, default=10_000, choices=(10_000, 100_000))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    path = Path(args.db or ROOT / ".cache" / "bench" / f"query_scale_{args.rows_per_run}.duckdb")
    if args.rebuild or not path.exists():
        print(f"building {path} ...")
        for step, val in build(path, args.rows_per_run).items():
            print(f"  {step:<24} {val:10.2f} s" if isinstance(val, float) else f"  {step:<24} {val:10,}")
    con = connect(path)
    if install_views(con):  # query files changed since the build: reinstall and re-map (not timed)
        print("query files changed since the build: views reinstalled and caches rebuilt")
    con.close()
    con = duckdb.connect(str(path), read_only=True)
    con.execute(f"SET threads = {args.threads}")
    n_rows, n_events = con.execute("SELECT count(*), sum(count) FROM lock_events").fetchone()
    n_runs = con.execute("SELECT count(*) FROM trace_runs").fetchone()[0]
    n_frames = con.execute("SELECT count(*) FROM stack_frames").fetchone()[0]
    print(f"database: {path} ({path.stat().st_size / 2**20:.0f} MiB): {n_runs} runs, {n_events:,} events in "
          f"{n_rows:,} lock_events rows, {n_frames:,} stack_frames rows, threads={args.threads}")
    catalog = load_catalog()
    t0 = time.perf_counter()
    stale = needs_install(con) or mappings_stale(con)
    use_caches(con)  # as lima-query does once the caches hold every run
    check_s = time.perf_counter() - t0
    print(f"{'query':<14} {'rows':>6} {'first s':>9} {'best s':>9}  target < 1 s")
    for name in QUERIES:
        times = []
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            _, rows = run_query(con, catalog[name])
            times.append(time.perf_counter() - t0)
        verdict = "ok" if min(times) < 1.0 else "SLOW"
        print(f"{name:<14} {len(rows):>6} {times[0]:>9.3f} {min(times):>9.3f}  {verdict}")
    print(f"{'cache check':<14} {'':>6} {check_s:>9.3f} {'':>9}  (lima-query does it before each query;"
          f" stale={stale})")
    con.close()


if __name__ == "__main__":
    main()
