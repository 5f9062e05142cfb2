"""lima-trace: record which kernel locks a workload takes, how often, how long it waits and from where,
per process and cgroup, into the LIMA database.  Reads top to bottom like a bcc tool: usage and
examples, the BPF program, attach, loop, collect and report lost events, store."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from lima.db import LimaDbError, connect, default_db_path, get_meta
from lima.queries.output import OutputError, write_atomic
from lima.tracer.abi import decode_event
from lima.tracer.btf import BtfError, load_vmlinux_btf
from lima.tracer.capture import KEY_FIELDS, Capture, build_rows
from lima.tracer.cgroups import CgroupError, cgroup_of_container, cgroup_of_path, cgroup_paths
from lima.tracer.check import mount_tracefs, run_checks
from lima.tracer.dwarf import DwarfError, kaslr_offset, source_lines
from lima.tracer.kallsyms import Kallsyms, KallsymsError
from lima.tracer.report import lock_objects, print_summary, render_summary, summarize
from lima.tracer.store import (
    RunExists,
    StoredThenInterrupted,
    merge_side_file,
    run_exists,
    side_file_for,
    write_run,
    write_with_fallback,
)
from lima.tracer.vocabulary import PRIMITIVES, RUN_MODES, STATS
from rich.console import Console

HERE = Path(__file__).resolve().parent
BACKENDS = ("lockdep", "primitives", "contention")
KNOWN_RUNTIMES = ("runc", "runsc-kvm", "runsc-kvm-overlay-off", "fc", "host")

# What the default records and what it costs, and what --mmap-lock costs: bench/tracer_overhead.sh on
# this project's 2-CPU VM (bench/README.md has the table).
DEFAULT_RECORDS = ("contended lock waits (lock:contention_begin/end: spinlocks, rwlocks, mutexes, rwsems "
                   "incl. mmap_lock, semaphores...) with wait times and kernel stacks, per thread, process "
                   "and cgroup")
DEFAULT_COST = ("Cost measured by bench/tracer_overhead.sh: 1.02-1.03x the untraced run time on a "
                "worst-case mmap/munmap loop, 0.99-1.00x on an untar; about 2.5 us per contended wait.")
MMAP_LOCK_COST = ("Costs 1.22-1.31x the untraced run time on a worst-case mmap/munmap loop (1.65-1.97x "
                  "with --mmap-lock-stacks 1, 1.07-1.24x with 0), nothing measurable on an untar "
                  "(bench/tracer_overhead.sh).")
MMAP_LOCK_STACKS = 64   # --mmap-lock-stacks default

EXAMPLES = """examples:
  lima-trace --check                              what this kernel allows, which backend auto picks
  lima-trace --runtime host --workload untar --mode coldstart -- tar xf linux.tar.xz
                                                  trace a command from its first instruction
  lima-trace --runtime runc --workload redis --mode warmup --container 3f2a... --duration 60
                                                  a container's cgroup for 60 s
  lima-trace --workload build --cgroup /system.slice/build.service --duration 10 --events 100000
                                                  a cgroup, with a per-event stream (at most 100000)
  lima-trace --workload app --pid 4242 --duration 30  a process and what it forks from now on
  lima-trace --mmap-lock --workload mm -- ./app     also every mmap_lock acquisition (stacks sampled)
  lima-trace --merge lima.duckdb.RUN.pending.duckdb   add a run written aside while the db was busy

exit status:
  with -- COMMAND, once the run is written: the command's exit status, or 128+N when signal N killed it
  (as time(1) and strace do); otherwise 0. 1 or 2 when lima-trace failed (2: bad input, or the run could
  not be stored), 130 / 143 when Ctrl-C / SIGTERM interrupted it before or after tracing (while tracing,
  they end the run and keep it, and the exit status is as above).
"""


class UsageError(Exception):
    """Bad input: one line, exit code 2."""


class Terminated(KeyboardInterrupt):
    """SIGTERM outside the tracing loop, handled as Ctrl-C is (a KeyboardInterrupt, so every cleanup
    that runs on Ctrl-C runs on it too); exit code 128 + SIGTERM."""


def raise_terminated(_signum: int, _frame: object) -> None:
    """SIGTERM handler: without it SIGTERM kills lima-trace silently, child and BPF programs left over."""
    raise Terminated()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="lima-trace",
        description="Trace kernel lock events (with kernel stacks, per thread, process and cgroup) of a "
                    "workload into the LIMA database. Needs root. In-kernel aggregation; the rows are "
                    "written at the end of the run in one transaction. On stock kernels (contention "
                    f"backend) the default records {DEFAULT_RECORDS}. {DEFAULT_COST}",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="print what this kernel allows and exit")
    p.add_argument("--merge", metavar="SIDE",
                   help="merge a side file (written while the db was busy) and exit")
    p.add_argument("--backend", choices=("auto",) + BACKENDS, default="auto",
                   help="lockdep (fentry on lock_acquire/..., CONFIG_LOCKDEP), primitives (fentry on "
                        "_raw_spin_lock*, mutex_lock*, ...), contention (lock:contention_* tracepoints: "
                        "contended waits; every mmap_lock acquisition with --mmap-lock), auto: the first "
                        "usable of those (default)")
    p.add_argument("--runtime", default="host",
                   help=f"runtime label, free text; known: {', '.join(KNOWN_RUNTIMES)} (default host)")
    p.add_argument("--workload", help="workload label (default: the command's name)")
    p.add_argument("--mode", metavar="|".join(RUN_MODES),
                   help="coldstart (traced from the workload's start) or warmup (once warm); default: "
                        "coldstart with a command, else warmup")
    p.add_argument("--run-id",
                   help="run id (default: RUNTIME-WORKLOAD-MODE-TIME-XXXX, as lima-import names runs)")
    p.add_argument("--db", type=Path, help="database (default $LIMA_DB or ./lima.duckdb)")
    p.add_argument("--db-wait", type=float, default=30.0, metavar="S",
                   help="seconds to retry while another process holds the db, then write a side file "
                        "(default 30)")
    f = p.add_argument_group("filters (combined with AND)")
    f.add_argument("--pid", type=int, action="append", default=[],
                   help="a process, its current descendants and what they fork from now on (repeatable)")
    f.add_argument("--cgroup", help="a cgroup v2 path (absolute, or relative to the cgroup2 mount), "
                                    "with its descendants")
    f.add_argument("--container", help="a container id: docker/containerd/runc/runsc (its cgroup)")
    f.add_argument("--comm", help="a task command name (exact, at most 15 characters)")
    f.add_argument("--keep-irq", action="store_true",
                   help="keep events that ran in interrupt context (attributed to whichever task was "
                        "interrupted); dropped by default")
    o = p.add_argument_group("run")
    o.add_argument("--duration", type=float,
                   help="seconds to trace (default: until the command ends, or Ctrl-C / SIGTERM); a "
                        "command still running then gets SIGTERM")
    o.add_argument("--events", type=int, nargs="?", const=100_000, default=0, metavar="MAX",
                   help="also record each event with a timestamp, at most MAX (default 100000)")
    o.add_argument("--map-size", type=int, default=65536, metavar="N",
                   help="entries of the in-kernel maps (counts, stacks); overflow is counted as lost")
    o.add_argument("--mmap-lock", action="store_true",
                   help="contention backend: also count every mmap_lock acquisition (read/write, per "
                        f"lock, thread, cgroup) from mmap_lock:mmap_lock_acquire_returned. {MMAP_LOCK_COST}")
    o.add_argument("--mmap-lock-stacks", type=int, metavar="N",
                   help="with --mmap-lock: the kernel stack of one acquisition in N, picked at random "
                        "(rows flagged SAMPLED; the others are counted in rows without stack, so counts "
                        f"stay exact); 1 = every acquisition, 0 = none (default {MMAP_LOCK_STACKS})")
    o.add_argument("--vmlinux", type=Path, help="vmlinux with DWARF: add file:line to stack frames")
    o.add_argument("--format", choices=("table", "json", "csv"), default="table",
                   help="summary format (default table); the summary goes to stdout, where a traced "
                        "command writes too: to parse it, use --output")
    o.add_argument("--output", type=Path, metavar="FILE",
                   help="write the summary to FILE (whole or not at all) instead of stdout; use it when "
                        "the traced command writes to stdout")
    o.add_argument("--no-summary", action="store_true", help="print no summary")
    o.add_argument("--save-capture", type=Path, metavar="JSON",
                   help="also save the raw capture (keys, stacks as addresses, the kallsyms lines of "
                        "their frames) as JSON: sample data for tests and bug reports")
    p.add_argument("command", nargs=argparse.REMAINDER,
                   help="-- COMMAND [ARGS]: run it and trace it (and its children) from its first "
                        "instruction")
    a = p.parse_args(argv)
    if a.command and a.command[0] == "--":
        a.command = a.command[1:]
    return a


# --------------------------------------------------------------------------------------------------
# the BPF program

def bpf_program(backend: str, btf_functions: set[str] | None = None) -> str:
    """Program text: common.bpf.c + the backend's file (+ one probe line per primitive present)."""
    text = (HERE / "common.bpf.c").read_text() + "\n" + (HERE / f"{backend}.bpf.c").read_text()
    if backend == "primitives":
        lines = []
        for i, (fn, _kind, _mode, trylock) in enumerate(PRIMITIVES):
            if btf_functions is None or fn in btf_functions:
                lines.append(f"PRIMITIVE_PROBE({fn}, {i}, {'LF_TRYLOCK' if trylock else 0})")
        text += "\n" + "\n".join(lines) + "\n"
    return text


def bpf_cflags(backend: str, map_size: int, events: int, tgids: bool, cgroup, comm: str | None,
               mmap_lock_stacks: int | None, btf) -> list[str]:
    """-D parameters of lima_trace.h and the backend file.  mmap_lock_stacks: None = no mmap_lock
    acquisitions, else count them all with the stack of one in N (0: no stack, 1: every one)."""
    flags = [f"-I{HERE}", f"-DMAX_KEYS={map_size}", f"-DMAX_STACKS={map_size}",
             f"-DMAX_PENDING={map_size}", "-DMAX_TGIDS=16384", "-DMAX_NAMES=16384"]
    if events:
        # a power of two of pages, 32 KiB .. 16 MiB, for about EVENTS_MAX records of 104 bytes
        pages = 1 << max(3, min(12, (events * 104 // 4096).bit_length()))
        flags += ["-DWITH_EVENTS", f"-DEVENTS_PAGES={pages}", f"-DEVENTS_MAX={events}"]
    if tgids:
        flags.append("-DFILTER_PID")
    if cgroup is not None:
        flags += ["-DFILTER_CGROUP", f"-DCGROUP_ID={cgroup.id}ULL", f"-DCGROUP_LEVEL={cgroup.level}"]
    if comm:
        raw = comm.encode()[:15].ljust(16, b"\0")
        flags.append("-DFILTER_COMM")
        flags += [f"-DCOMM_{i}={b}" for i, b in enumerate(raw)]
    if backend == "contention" and mmap_lock_stacks is not None:
        off = btf.member_offset("mm_struct", "mmap_lock") if btf else None
        flags += ["-DWITH_MMAP_LOCK", f"-DMMAP_LOCK_OFFSET={-1 if off is None else off}",
                  f"-DMMAP_LOCK_STACKS={mmap_lock_stacks}"]
    if backend == "lockdep":
        off = btf.member_offset("lockdep_map", "name") if btf else None
        flags.append(f"-DLOCKDEP_NAME_OFFSET={24 if off is None else off}")
        if btf and btf.has_function("lock_acquired"):
            flags.append("-DWITH_LOCK_STAT")
    return flags


# --------------------------------------------------------------------------------------------------
# helpers

def descendants(pids: list[int]) -> set[int]:
    """The given processes and all their current descendants (by /proc/*/stat ppid)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), list(pids)
    while todo:
        p = todo.pop()
        if p not in out:
            out.add(p)
            todo.extend(children.get(p, []))
    return out


def version_tuple(text: str | None) -> tuple[int, ...] | None:
    """6.1.192 from '6.1.192', 'Linux 6.1.192', '6.18.44-fc-v669'."""
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    return tuple(int(x) for x in m.groups() if x is not None) if m else None


def indexed_kernel_version(db: Path) -> str | None:
    """meta('kernel_version') of an existing database, None when absent or unreadable (busy)."""
    if not db.exists():
        return None
    try:
        con = connect(db, read_only=True)
    except LimaDbError:
        return None
    try:
        return get_meta(con, "kernel_version")
    finally:
        con.close()


def check_db_writable(db: Path) -> None:
    """Refuse, before tracing, a database the run could not be written to (missing folder, not DuckDB).

    A database held by another process is fine: the run waits for it, then goes to a side file."""
    if not db.resolve().parent.is_dir():
        raise UsageError(f"--db {db}: folder {db.parent} does not exist; nothing traced")
    if not db.exists():
        return
    try:
        connect(db, read_only=True).close()
    except LimaDbError as e:
        msg = str(e)   # busy is fine (side file), and an empty DuckDB file gets the schema when written
        if "held open" not in msg and "lock" not in msg.lower() and "no meta table" not in msg:
            raise UsageError(f"--db {e}; nothing traced") from None


def check_run_id_free(db: Path, run_id: str) -> None:
    """Refuse, before tracing, a --run-id that the database or its side file already holds: the run could
    not be stored under it.  A busy database is not read here (write_run checks again when storing)."""
    side = side_file_for(db, run_id)
    if side.exists():
        raise UsageError(f"--run-id {run_id}: already in the side file {side} (lima-trace --merge {side} "
                         "adds it); pick another; nothing traced")
    if not db.exists():
        return
    try:
        con = connect(db, read_only=True)
    except LimaDbError:
        return
    try:
        taken = run_exists(con, run_id)
    except duckdb.Error:   # no trace_runs table yet: no run at all
        taken = False
    finally:
        con.close()
    if taken:
        raise UsageError(f"--run-id {run_id}: already exists in {db}; pick another; nothing traced")


def start_command(argv: list[str]) -> tuple[int, int]:
    """Fork the command stopped before exec (it waits on a pipe); returns (pid, write end)."""
    r, w = os.pipe()
    stoppers = {signal.SIGINT, signal.SIGTERM}
    # held back over the fork: one that came while the child runs Python's after-fork code would
    # raise there (a traceback); pending, it reaches the child once its handlers are the defaults
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, stoppers)
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        raise
    if pid != 0:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    if pid == 0:
        # The child must never run lima-trace's code: Ctrl-C reaches the whole process group, and the
        # inherited Python handlers would raise in the child and print lima-trace's messages a second
        # time.  Default handling, as the command gets after exec (an ignored SIGINT stays ignored);
        # SIGPIPE too, which Python ignores and exec would pass on (as subprocess restores it).
        try:
            for sig in stoppers:
                if signal.getsignal(sig) is not signal.SIG_IGN:
                    signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(w)
            # released once the BPF programs are attached and the pid is in the filter; EOF (lima-trace
            # failed or was killed first) means: do not run untraced
            if os.read(r, 1) != b"x":
                os._exit(127)
            os.close(r)
            os.execvp(argv[0], argv)
        except OSError as e:
            os.write(2, f"lima-trace: {argv[0]}: {e.strerror}\n".encode())
        except BaseException:   # a signal that came before the handlers were reset: quietly
            pass
        os._exit(127)
    os.close(r)
    return pid, w


def command_status(exit_status: int) -> tuple[int, str]:
    """lima-trace's exit code and message for the command's os.waitstatus_to_exitcode() value: its exit
    status, or 128+N when signal N killed it, as time(1) and strace pass them on."""
    if exit_status < 0:
        return 128 - exit_status, f"command killed by signal {-exit_status}"
    return exit_status, f"command exited with status {exit_status}"


def start_message(backend: str, command: str | None, pid: int | None, duration: float | None) -> str:
    """The line that says tracing has begun and what ends it."""
    what = f", command {command} (pid {pid})" if pid else ""
    if duration:
        until = f" for {duration:g} s" + (" or until it ends" if pid else "") + " (Ctrl-C stops early)"
    elif pid:
        until = " until it ends (Ctrl-C stops early)"
    else:
        until = " until Ctrl-C"
    return f"lima-trace: tracing with {backend}{what}{until}"


def store_run(db: Path, run: dict, rows, wait_s: float, say, after) -> Path:
    """Write the run (write_with_fallback); returns the file written.  Should the run id have been taken
    since the check before tracing, the capture goes to the side file rather than being lost, and a
    UsageError says where."""
    try:
        return write_with_fallback(db, run, rows.lock_events, rows.stack_frames, rows.trace_events, wait_s,
                                   say=say, after=after, cgroups=rows.cgroups)
    except RunExists as e:
        side = side_file_for(db, run["run_id"])
        if side.exists():   # the side file holds that id too: nothing else to write it to
            raise
        con = connect(side)
        try:
            write_run(con, run, rows.lock_events, rows.stack_frames, rows.trace_events, rows.cgroups)
        finally:
            con.close()
        raise UsageError(f"{e}: run written to {side} instead (lima-trace --merge {side} --db OTHER adds it "
                         "to another database)") from None


def key_dict(k) -> dict:
    """A bcc lock_key (ctypes) as a plain dict."""
    d = {f: getattr(k, f) for f in KEY_FIELDS if f != "comm"}
    comm = k.comm if isinstance(k.comm, bytes) else bytes(k.comm)   # ctypes char[16] gives bytes
    d["comm"] = comm.split(b"\0", 1)[0].decode("utf-8", "replace")
    return d


# --------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    old_term = signal.getsignal(signal.SIGTERM)
    if old_term is not signal.SIG_IGN:   # SIGTERM stops lima-trace as Ctrl-C does, in every phase
        signal.signal(signal.SIGTERM, raise_terminated)
    code = 0
    try:
        code = run(parse_args(argv))
        sys.stdout.flush()   # here, so that a closed pipe is seen below, not at interpreter exit
        return code
    except BrokenPipeError:
        # the reader went away (| head): stop quietly, as lima-query does; stdout to /dev/null so the
        # interpreter's last flush does not raise again. The exit code stays what the run gave (the
        # command's status, --check's 1) when the pipe closed only at the final flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return code
    except UsageError as e:
        print(f"lima-trace: {e}", file=sys.stderr)
        return 2
    except (LimaDbError, CgroupError) as e:   # a database, side file, cgroup or container the user named
        print(f"lima-trace: {e}", file=sys.stderr)
        return 2
    except (KallsymsError, DwarfError) as e:
        print(f"lima-trace: {e}", file=sys.stderr)
        return 1
    except StoredThenInterrupted as e:   # while the stored run was being mapped to objects
        sig = signal.SIGTERM if isinstance(e.cause, Terminated) else signal.SIGINT
        print(f"lima-trace: interrupted ({sig.name}); run {e.run_id} written to {e.where} (not yet mapped "
              "to objects: the next lima-query maps it)", file=sys.stderr)
        return 128 + sig
    except KeyboardInterrupt as e:
        sig = signal.SIGTERM if isinstance(e, Terminated) else signal.SIGINT
        print(f"lima-trace: interrupted ({sig.name}) before the run was written; nothing written",
              file=sys.stderr)
        return 128 + sig
    finally:
        signal.signal(signal.SIGTERM, old_term)


def run(a: argparse.Namespace) -> int:
    console = Console(stderr=True, soft_wrap=True)   # one message, one line (no wrapping at 80)
    say = console.print

    # --check: what this kernel allows
    if a.check:
        c = run_checks()
        default = None
        if c.auto == "contention":
            default = {"records": DEFAULT_RECORDS, "cost": DEFAULT_COST,
                       "mmap_lock": ("--mmap-lock adds every mmap_lock acquisition, stacks sampled. "
                                     + MMAP_LOCK_COST) if c.mmap_lock else None}
        if a.format == "json":
            print(json.dumps({**c.as_dict(), "default": default}, indent=1))
        else:
            for name, ok, detail in c.items:
                print(f"{'ok ' if ok else 'NO '} {name:24} {detail}")
            for name in BACKENDS:
                why = c.usable.get(name) or c.refused.get(name)
                print(f"backend {name:11} {'usable ' if name in c.usable else 'refused'}  {why}")
            print(f"auto picks: {c.auto or 'nothing (no backend usable here)'}")
            if default:
                print(f"default records: {default['records']}. {default['cost']}")
                if default["mmap_lock"]:
                    print(default["mmap_lock"])
        return 0 if c.auto else 1

    db = a.db or default_db_path()
    if a.merge:
        runs = merge_side_file(db, Path(a.merge))
        print(f"lima-trace: merged {len(runs)} run(s) into {db}: {', '.join(runs)}")
        return 0

    # validate before anything is started
    if a.mode is not None and a.mode not in RUN_MODES:
        raise UsageError(f"--mode {a.mode!r}: must be {' or '.join(RUN_MODES)}")
    if os.geteuid() != 0:
        raise UsageError("must run as root (BPF programs and tracepoints need it); try sudo lima-trace ...")
    if not a.command and a.duration is None and not (a.pid or a.cgroup or a.container or a.comm):
        raise UsageError("nothing to trace: give -- COMMAND, or a filter (--pid/--cgroup/--container/"
                         "--comm) with --duration, or --duration for the whole system")
    for label in ("runtime", "workload", "mode", "run_id"):
        v = getattr(a, label)
        if v is not None and not v.strip():
            raise UsageError(f"--{label.replace('_', '-')} must not be empty")
    if a.cgroup and a.container:
        raise UsageError("give --cgroup or --container, not both")
    if a.comm and len(a.comm.encode()) > 15:
        raise UsageError(f"--comm {a.comm!r}: a task comm has at most 15 characters")
    # nan compares false to everything and inf never elapses: both would trace forever
    if a.duration is not None and not (math.isfinite(a.duration) and a.duration > 0):
        raise UsageError(f"--duration {a.duration:g}: must be a finite number of seconds > 0")
    if not (math.isfinite(a.db_wait) and a.db_wait >= 0):
        raise UsageError(f"--db-wait {a.db_wait:g}: must be a finite number of seconds >= 0")
    if a.map_size < 1024 or a.map_size > 1 << 22:
        raise UsageError("--map-size must be between 1024 and 4194304")
    if a.events < 0:
        raise UsageError("--events MAX must be >= 0")
    if a.mmap_lock_stacks is not None and not a.mmap_lock:
        raise UsageError("--mmap-lock-stacks goes with --mmap-lock (the default traces no mmap_lock "
                         "acquisition, only contended waits)")
    if a.mmap_lock_stacks is None:
        a.mmap_lock_stacks = MMAP_LOCK_STACKS
    if a.mmap_lock_stacks < 0:
        raise UsageError("--mmap-lock-stacks N must be >= 0 (0: no stacks, 1: every acquisition)")
    for pid in a.pid:
        if not Path(f"/proc/{pid}").exists():
            raise UsageError(f"--pid {pid}: no such process")
    if a.vmlinux and not a.vmlinux.is_file():
        raise UsageError(f"--vmlinux {a.vmlinux}: no such file")
    if a.command and shutil.which(a.command[0]) is None:
        raise UsageError(f"{a.command[0]}: command not found (or not executable); nothing traced")
    if a.save_capture and not a.save_capture.resolve().parent.is_dir():
        raise UsageError(f"--save-capture {a.save_capture}: folder {a.save_capture.parent} does not exist")
    if a.output and (a.output.is_dir() or not a.output.resolve().parent.is_dir()):
        raise UsageError(f"--output {a.output}: not a file in an existing folder; nothing traced")
    check_db_writable(Path(db))
    if a.run_id:
        check_run_id_free(Path(db), a.run_id)
    workload = a.workload or (Path(a.command[0]).name if a.command else None)
    if not workload:
        raise UsageError("--workload LABEL is required without a command")
    mode = a.mode or ("coldstart" if a.command else "warmup")
    release = platform.release()

    # which backend
    checks = run_checks(try_fentry="auto" if a.backend == "auto" else a.backend != "contention")
    backend = checks.auto if a.backend == "auto" else a.backend
    if backend is None:
        raise UsageError("no backend is usable here: " +
                         "; ".join(f"{n}: {w}" for n, w in checks.refused.items()))
    if backend in checks.refused:
        raise UsageError(f"backend {backend} is not usable here: {checks.refused[backend]}")
    if a.mmap_lock and backend != "contention":
        say(f"[yellow]lima-trace: --mmap-lock ignored: the {backend} backend records every acquisition of "
            "every lock, mmap_lock included[/]")
        a.mmap_lock = False
    if a.mmap_lock and not checks.mmap_lock:
        raise UsageError("--mmap-lock: this kernel has no mmap_lock:mmap_lock_acquire_returned tracepoint")
    mount_tracefs()
    try:
        btf = load_vmlinux_btf()
    except BtfError:
        btf = None

    # filters
    cgroup = None
    if a.cgroup:
        cgroup = cgroup_of_path(a.cgroup)
    elif a.container:
        cgroup = cgroup_of_container(a.container)
    filters = {k: v for k, v in {"pid": a.pid or None, "cgroup": str(cgroup.path) if cgroup else None,
                                 "cgroup_id": cgroup.id if cgroup else None, "container": a.container,
                                 "comm": a.comm, "command": a.command or None,
                                 "keep_irq": a.keep_irq or None}.items() if v}
    notes = []
    if a.mmap_lock:
        notes.append("--mmap-lock: every mmap_lock acquisition counted; " + (
            "no stacks" if a.mmap_lock_stacks == 0 else "a stack for each" if a.mmap_lock_stacks == 1 else
            f"stacks sampled: 1 in {a.mmap_lock_stacks} at random (rows flagged SAMPLED), the rest "
            "counted in rows without stack"))
    indexed = indexed_kernel_version(db)
    if indexed and version_tuple(indexed) != version_tuple(release):
        notes.append(f"kernel {release} differs from the indexed source {indexed}")
        say(f"[yellow]lima-trace: warning: running kernel {release} differs from the indexed source "
            f"{indexed}: stacks and lock sites may not match the index[/]")
    ksyms = Kallsyms.load()   # symbols of this boot, read now (capture time)

    from bcc import BPF

    child, release_fd = (None, None)
    if a.command:
        child, release_fd = start_command(a.command)
    stop = {"why": None}

    def on_signal(signum, _frame):
        stop["why"] = signal.Signals(signum).name
    old_term = signal.getsignal(signal.SIGTERM)
    old_int = signal.getsignal(signal.SIGINT)
    b = None
    try:
        # compile and attach
        text = bpf_program(backend, btf.functions if btf else None)
        cflags = bpf_cflags(backend, a.map_size, a.events, bool(a.pid or child), cgroup, a.comm,
                            a.mmap_lock_stacks if a.mmap_lock else None, btf)
        with console.status(f"compiling and attaching the {backend} BPF program"):
            try:
                b = BPF(text=text.encode(), cflags=cflags)
            except Exception as e:
                raise UsageError(f"backend {backend}: the kernel refused the BPF program: "
                                 f"{str(e).strip().splitlines()[-1][:200]}") from None
        if a.pid or child:
            tg = b["traced_tgids"]
            for pid in descendants(a.pid) | ({child} if child else set()):
                tg[tg.Key(pid)] = tg.Leaf(1)

        # per-event stream
        cap = Capture(backend=backend)
        if a.events:
            def on_event(_ctx, data, _size):
                if len(cap.events) >= a.events:
                    cap.events_capped += 1
                    return
                ev = decode_event(data)
                d = key_dict(ev.key)
                d.update(ts_ns=ev.ts_ns, wait_ns=ev.wait_ns, cpu=ev.cpu)
                cap.events.append(d)
            b["events"].open_ring_buffer(on_event)

        # loop: from here on SIGTERM and Ctrl-C end the run and keep it (before, they abort it)
        signal.signal(signal.SIGTERM, on_signal)
        if old_int is not signal.SIG_IGN:   # an ignored SIGINT (nohup, background job) stays ignored
            signal.signal(signal.SIGINT, on_signal)
        started_at = datetime.now(UTC).replace(tzinfo=None)
        t0 = time.monotonic()
        if release_fd is not None:
            os.write(release_fd, b"x")
            os.close(release_fd)
            release_fd = None
        say(start_message(backend, a.command[0] if child else None, child, a.duration))
        exit_status = None
        while stop["why"] is None:
            if a.events:
                b.ring_buffer_poll(100)
            else:
                time.sleep(0.1)
            if a.duration is not None and time.monotonic() - t0 >= a.duration:
                stop["why"] = "duration"
            if child is not None:
                done, status = os.waitpid(child, os.WNOHANG)
                if done:
                    exit_status = os.waitstatus_to_exitcode(status)
                    stop["why"] = "command exited"
                    child = None
        duration = time.monotonic() - t0

        # detach everything, then read the maps (they stay until cleanup)
        for tp in list(b.tracepoint_fds):
            b.detach_tracepoint(tp)
        for fn in list(b.kfunc_entry_fds):
            b.detach_kfunc(fn)
        if a.events:
            b.ring_buffer_consume()
        stats = {name: b["stats"].sum(i).value for i, name in enumerate(STATS)}
        cap.stats = stats
        for k, v in b["counts"].items():
            cap.counts.append((key_dict(k), (v.count, v.wait_ns_total, v.wait_ns_max)))
        stack_ids = {k["stack_id"] for k, _ in cap.counts} | {e["stack_id"] for e in cap.events}
        st = b["stacks"]
        for sid in stack_ids:
            if sid >= 0:
                try:
                    cap.stacks[sid] = list(st.walk(sid))
                except KeyError:
                    pass
        # the tenants: path of every cgroup seen, while the traced command's cgroups still exist
        cap.cgroups = cgroup_paths({k["cgroup_id"] for k, _ in cap.counts}
                                   | {e["cgroup_id"] for e in cap.events})
        if backend == "lockdep":
            for k, v in b["names"].items():
                cap.names[k.value] = bytes(v.name).split(b"\0", 1)[0].decode("utf-8", "replace")
    finally:
        if b is not None:
            b.cleanup()
        if release_fd is not None:
            os.close(release_fd)   # the command sees EOF and exits with 127 without running
        if child is not None:
            try:
                os.kill(child, signal.SIGTERM)
                _pid, status = os.waitpid(child, 0)
                # the run ended first (--duration, Ctrl-C): the command's status is still the one to pass on
                stop["status"] = os.waitstatus_to_exitcode(status)
            except (ProcessLookupError, ChildProcessError):
                pass
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)

    # rows
    if a.save_capture:
        cap.kallsyms = ksyms.excerpt([x for st in cap.stacks.values() for x in st])
        a.save_capture.write_text(cap.to_json())
    rows = build_rows(cap, ksyms, keep_irq=a.keep_irq)
    if a.vmlinux:
        lines = source_lines(a.vmlinux, [f["address"] for f in rows.stack_frames],
                             kaslr_offset(a.vmlinux, ksyms))
        for f in rows.stack_frames:
            f["src_file"], f["src_line"] = lines.get(f["address"], (None, None))
    capped = stats["events_capped"] + cap.events_capped
    if capped:
        notes.append(f"--events cap {a.events} reached: {capped} later events not streamed (still counted)")
    if stats["lost_ringbuf"]:
        notes.append(f"{stats['lost_ringbuf']} events lost from the ring buffer (still counted)")
    if exit_status is None:
        exit_status = stop.get("status")
    code, status_msg = command_status(exit_status) if exit_status is not None else (0, "")
    if code:
        notes.append(status_msg)
    lost = stats["lost_keys"] + stats["lost_pending"] + stats["lost_tgids"]
    run_id = a.run_id or (f"{a.runtime}-{workload}-{mode}-{started_at:%Y%m%dT%H%M%S}-"
                          f"{uuid.uuid4().hex[:4]}")
    run = {"run_id": run_id, "runtime": a.runtime, "workload": workload, "mode": mode,
           "backend": backend, "filters": json.dumps(filters, sort_keys=True),
           "kernel_release": release, "host": socket.gethostname(), "started_at": started_at,
           "duration_s": round(duration, 3), "events_seen": rows.events_seen, "events_lost": lost,
           "source": "lima-trace", "stacks_lost": stats["lost_stacks"], "irq_events": rows.irq_events,
           "notes": "; ".join(notes) or None}
    objects: dict = {"map": None, "why": "not mapped: run in a side file"}

    def read_objects(con) -> None:   # the summary names objects as lima-query does
        try:
            objects["map"] = lock_objects(con, run_id)
            objects["why"] = "no index"
        except duckdb.Error as e:
            objects["why"] = "not mapped"
            say(f"[yellow]lima-trace: warning: objects not read ({str(e).splitlines()[0]})[/]")
    written = store_run(Path(db), run, rows, a.db_wait, say=lambda m: say(f"[yellow]{m}[/]"),
                        after=read_objects)
    try:
        if lost:
            say(f"[yellow]lima-trace: {lost} events lost (full maps); raise --map-size[/]")
        if not a.no_summary:
            summary = summarize(rows.lock_events, rows.stack_frames, objects=objects["map"],
                                no_objects=objects["why"], cgroups=cap.cgroups)
            if a.output:
                try:   # lima-query's --output writer, whole or nothing (emit() takes flat rows only)
                    write_atomic(a.output, render_summary(run, summary, a.format).encode())
                except OutputError as e:   # the run is stored: say so, with the error
                    say(f"lima-trace: --output {e}; run {run_id} written to {written}")
                    return 1
            else:
                print_summary(run, summary, a.format)
        say(f"lima-trace: run {run_id} ({stop['why']}) written to {written}")
        if code:
            say(f"lima-trace: {status_msg}")
        return code
    except KeyboardInterrupt as e:   # after the run is stored: it is kept, say so
        sig = signal.SIGTERM if isinstance(e, Terminated) else signal.SIGINT
        say(f"lima-trace: interrupted ({sig.name}); run {run_id} written to {written}")
        return 128 + sig


if __name__ == "__main__":
    sys.exit(main())
