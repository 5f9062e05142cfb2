"""Where a lima-index run's CPU goes: the parent process (the DuckDB writer, the progress bar, the views)
against the worker processes (reading, parsing and extracting the files).

Runs lima-index's main() in this process with the arguments given, then prints this process's CPU
seconds (user + sys, all its threads) and its children's (the workers, once they have ended), and the wall
time. Index into a fresh database to time a whole code-facts run:

    .venv/bin/python bench/index_cpu_split.py SRC --no-lock-pass --db /tmp/x.duckdb
"""

from __future__ import annotations

import resource
import sys
import time

from lima.analyzer.cli import main as lima_index


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


if __name__ == "__main__":   # the workers are spawned: they import this file without running it
    t0 = time.perf_counter()
    rc = lima_index(sys.argv[1:])
    wall = time.perf_counter() - t0
    print(f"index_cpu_split: CPU s: parent {_cpu(resource.RUSAGE_SELF):.1f}, workers "
          f"{_cpu(resource.RUSAGE_CHILDREN):.1f}; wall {wall:.1f} s (lima-index exit {rc})", file=sys.stderr)
    sys.exit(rc)
