"""lima-trace for real, as root, on this kernel: the contention backend on a workload whose lock
acquisitions are known (mmap_threads: each thread makes exactly N mmap and N munmap calls, each taking
mm->mmap_lock for writing once, in vm_mmap_pgoff and __vm_munmap), by default (contended waits) and
with --mmap-lock (every acquisition, stacks of all or of a sample), the refusal of the other backends,
the end of a run by SIGTERM, and a database held by a reader."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from conftest import ROOT, require_real

pytestmark = pytest.mark.root
FIXTURES = ROOT / "tests" / "fixtures"
WORK = ROOT / ".cache" / "trace"
LIMA_TRACE = [sys.executable, "-m", "lima.tracer.cli"]


def _require_tracing() -> None:
    if os.geteuid() != 0:
        require_real("lima-trace needs root")
    try:
        import bcc  # noqa: F401
    except ImportError:
        require_real("python3-bpfcc (bcc) is not importable")
    from lima.tracer.check import mount_tracefs, tracepoint_exists
    if not tracepoint_exists(mount_tracefs(), "lock:contention_begin"):
        require_real("no lock:contention_begin tracepoint on this kernel")
    if not (Path("/lib/modules") / platform.release() / "build").exists():
        require_real("no kernel headers link (bash run.sh setup)")


@pytest.fixture(scope="module")
def mmap_threads() -> Path:
    """tests/fixtures/mmap_threads.c built static under .cache/trace (also runs in a busybox rootfs)."""
    _require_tracing()
    if not shutil.which("gcc"):
        require_real("gcc is not installed (apt-packages.txt lists it)")
    WORK.mkdir(parents=True, exist_ok=True)
    exe = WORK / "mmap_threads"
    src = FIXTURES / "mmap_threads.c"
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(["gcc", "-O2", "-static", "-pthread", "-o", str(exe), str(src)], check=True)
    return exe


def trace(db: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*LIMA_TRACE, "--db", str(db), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def tids(stdout: str) -> list[int]:
    return [int(x) for x in re.findall(r"^tid (\d+)$", stdout, re.M)]


def per_thread(con: duckdb.DuckDBPyConnection, run_id: str, symbol: str, flags: str) -> dict[int, int]:
    """Events per thread whose stack passes through `symbol`, with exactly these flags."""
    return dict(con.execute("""
        SELECT e.pid, sum(e.count)::BIGINT FROM lock_events e
        WHERE e.run_id = ? AND e.flags = ? AND e.stack_id IN
              (SELECT stack_id FROM stack_frames WHERE run_id = ? AND symbol = ?)
        GROUP BY e.pid""", [run_id, flags, run_id, symbol]).fetchall())


def writes_per_thread(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[int, int]:
    """--mmap-lock write acquisitions of mmap_lock per thread, rows with a sampled stack or none summed."""
    return dict(con.execute("""
        SELECT pid, sum(count)::BIGINT FROM lock_events
        WHERE run_id = ? AND event = 'acquire' AND flags IN ('WRITE|MMAP_LOCK', 'WRITE|MMAP_LOCK|SAMPLED')
        GROUP BY pid""", [run_id]).fetchall())


def test_check_explains_this_kernel():
    _require_tracing()
    out = subprocess.run([*LIMA_TRACE, "--check", "--format", "json"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    c = json.loads(out.stdout)
    checks = {x["check"]: x for x in c["checks"]}
    assert checks["root"]["ok"] and checks["contention tracepoints"]["ok"]
    assert "contention" in c["usable"]
    order = [b for b in ("lockdep", "contention", "primitives") if b in c["usable"]]
    assert c["auto"] == order[0]
    for name, why in c["refused"].items():
        assert why, name
    if c["auto"] == "contention":   # what the default records and costs, and what --mmap-lock adds
        assert c["default"]["records"].startswith("contended lock waits")
        assert "bench/tracer_overhead.sh" in c["default"]["cost"]
        assert checks["mmap_lock tracepoints"]["ok"] == (c["default"]["mmap_lock"] is not None)
    if not checks["lockdep"]["ok"]:
        assert "lockdep" in c["refused"]["lockdep"]
    if not checks["fentry"]["ok"]:          # these VMs: fentry refused with EPERM even as root
        assert "fentry refused" in c["refused"]["primitives"]


def test_other_backends_compile_then_are_refused_at_load():
    """The lockdep and primitives programs compile here; the kernel refuses to load them (no
    lock_acquire in BTF; fentry EPERM).  A broken program fails earlier, at compile: the test tells
    the two apart."""
    _require_tracing()
    from bcc import BPF
    from lima.tracer import cli
    from lima.tracer.btf import load_vmlinux_btf
    from lima.tracer.check import run_checks
    btf = load_vmlinux_btf()
    c = run_checks()
    for backend in ("lockdep", "primitives"):
        if backend in c.usable:
            continue
        text = cli.bpf_program(backend, btf.functions)
        flags = cli.bpf_cflags(backend, 4096, 100, True, None, "x", None, btf)
        with pytest.raises(Exception) as e:
            BPF(text=text.encode(), cflags=flags)
        assert "Failed to compile" not in str(e.value), str(e.value)
        assert "Failed to load BPF program" in str(e.value) or "super-user" in str(e.value)
        WORK.mkdir(parents=True, exist_ok=True)   # the db folder must exist (checked before the backend)
        out = trace(WORK / "refused.duckdb", "--backend", backend, "--workload", "w", "--duration", "1")
        assert out.returncode == 2 and f"backend {backend} is not usable here" in out.stderr
        assert "Traceback" not in out.stderr
    with pytest.raises(Exception, match="Failed to compile"):
        BPF(text=(cli.bpf_program("contention") + "\nint broken(void) { return undefined_name; }\n").encode(),
            cflags=cli.bpf_cflags("contention", 4096, 0, False, None, None, None, None))


def test_default_records_contended_waits_with_stacks(mmap_threads, tmp_path):
    """The default: contended waits only, each with its wait time and a stack; no mmap_lock acquisition.
    4 threads x 10000 rounds: 18-300 waits at 3000 rounds, 200-2000 at 10000 (5 runs each, measured)."""
    db = tmp_path / "t.duckdb"
    n, threads = 10000, 4
    out = trace(db, "--runtime", "host", "--mode", "coldstart", "--format", "json", "--run-id", "mm1",
                "--", str(mmap_threads), str(threads), str(n))
    assert out.returncode == 0, out.stderr
    workers = tids(out.stdout)
    assert len(workers) == threads
    con = duckdb.connect(str(db), read_only=True)
    cur = con.execute("SELECT * FROM trace_runs")
    run = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    assert (run["run_id"], run["runtime"], run["workload"], run["mode"], run["backend"]) == (
        "mm1", "host", "mmap_threads", "coldstart", "contention")
    assert run["kernel_release"] == platform.release() and run["host"] == socket.gethostname()
    assert json.loads(run["filters"])["command"] == [str(mmap_threads), str(threads), str(n)]
    assert run["source"] == "lima-trace" and 0 < run["duration_s"] < 60
    assert run["events_lost"] == 0 and run["notes"] is None
    total = con.execute("SELECT sum(count) FROM lock_events").fetchone()[0]
    assert run["events_seen"] == total > 0
    assert con.execute("SELECT DISTINCT event FROM lock_events").fetchall() == [("contended",)]
    # only the command's process (and its pre-exec self) is counted
    assert {r[0] for r in con.execute("SELECT DISTINCT tgid FROM lock_events").fetchall()} == {
        con.execute("SELECT tgid FROM lock_events WHERE pid = ?", [workers[0]]).fetchone()[0]}
    # contention on the one mm's mmap_lock (an rwsem, written), with wait times, from the two paths
    waits = con.execute("""
        SELECT e.lock_addr, e.lock_type, e.mode, sum(e.count), sum(e.wait_ns_total), max(e.wait_ns_max)
        FROM lock_events e WHERE e.event = 'contended' AND e.lock_type = 'rwsem' AND e.stack_id IN
            (SELECT stack_id FROM stack_frames WHERE symbol IN ('vm_mmap_pgoff', '__vm_munmap'))
        GROUP BY ALL""").fetchall()
    assert waits, "4 threads on 2 CPUs doing mmap/munmap always contend on mmap_lock"
    assert len({w[0] for w in waits}) == 1
    for _addr, kind, _mode, count, total_ns, max_ns in waits:
        assert kind == "rwsem" and count > 0 and total_ns >= max_ns > 0
    # frames: symbol+offset resolved at capture, raw address kept, innermost first
    frames = con.execute("SELECT symbol, \"offset\", address FROM stack_frames WHERE depth = 0").fetchall()
    assert frames and all(s and o is not None and a > 0xFFFF800000000000 for s, o, a in frames)
    summary = json.loads(out.stdout[out.stdout.index("{"):])
    assert summary["events"] == total and summary["run"]["notes"] is None


def test_mmap_lock_every_stack_make_n_see_n(mmap_threads, tmp_path):
    """--mmap-lock --mmap-lock-stacks 1: every acquisition with its stack: each worker took the lock for
    writing exactly n times in each path, at the address its contended waits name (4 x 10000 rounds:
    waits for sure, see the test above)."""
    db = tmp_path / "t.duckdb"
    n, threads = 10000, 4
    out = trace(db, "--format", "json", "--run-id", "all", "--mmap-lock", "--mmap-lock-stacks", "1",
                "--", str(mmap_threads), str(threads), str(n))
    assert out.returncode == 0, out.stderr
    workers = tids(out.stdout)
    con = duckdb.connect(str(db), read_only=True)
    for symbol in ("vm_mmap_pgoff", "__vm_munmap"):
        counts = per_thread(con, "all", symbol, "WRITE|MMAP_LOCK")
        assert {t: counts.get(t) for t in workers} == {t: n for t in workers}, symbol
    assert con.execute("SELECT count(*) FROM lock_events WHERE flags LIKE '%SAMPLED%' OR "
                       "(event = 'acquire' AND stack_id IS NULL)").fetchone()[0] == 0
    writes = writes_per_thread(con, "all")
    assert {t: writes.get(t) for t in workers} == {t: 2 * n for t in workers}
    mmap_lock = {r[0] for r in con.execute(
        "SELECT DISTINCT lock_addr FROM lock_events WHERE flags = 'WRITE|MMAP_LOCK' AND pid = ?",
        [workers[0]]).fetchall()}
    waited = {r[0] for r in con.execute(
        "SELECT DISTINCT lock_addr FROM lock_events WHERE event = 'contended' AND lock_type = 'rwsem' "
        "AND pid IN (SELECT unnest(?::UBIGINT[]))", [workers]).fetchall()}
    assert len(mmap_lock) == 1 and mmap_lock <= waited   # waited: also an anon_vma rwsem, at times
    notes = con.execute("SELECT notes FROM trace_runs").fetchone()[0]
    assert notes == "--mmap-lock: every mmap_lock acquisition counted; a stack for each"
    summary = json.loads(out.stdout[out.stdout.index("{"):])
    assert summary["top"][0]["lock"].startswith("&mm->mmap_lock")


def test_mmap_lock_sampled_stacks_keep_exact_counts(mmap_threads, tmp_path):
    """--mmap-lock --mmap-lock-stacks 8: every write acquisition counted (2n per worker), about one in 8
    in rows flagged SAMPLED with a stack through mmap or munmap, the rest in rows without stack."""
    db = tmp_path / "t.duckdb"
    n, threads = 3000, 2
    out = trace(db, "--run-id", "smp", "--mmap-lock", "--mmap-lock-stacks", "8", "--",
                str(mmap_threads), str(threads), str(n))
    assert out.returncode == 0, out.stderr
    workers = tids(out.stdout)
    con = duckdb.connect(str(db), read_only=True)
    assert {t: writes_per_thread(con, "smp").get(t) for t in workers} == {t: 2 * n for t in workers}
    rows = con.execute("""SELECT flags, stack_id IS NOT NULL, sum(count)::BIGINT FROM lock_events
                          WHERE run_id = 'smp' AND event = 'acquire' AND pid IN (SELECT unnest(?::UBIGINT[]))
                          GROUP BY ALL""", [workers]).fetchall()
    by = {(f, has_stack): c for f, has_stack, c in rows}
    # reads too (page faults, munmap's downgrade), some of them failed trylocks; a stack iff SAMPLED
    for flags, has_stack in by:
        assert re.fullmatch(r"(READ|WRITE)\|MMAP_LOCK(\|FAILED)?(\|SAMPLED)?", flags), flags
        assert has_stack == flags.endswith("|SAMPLED"), flags
    sampled = by[("WRITE|MMAP_LOCK|SAMPLED", True)]
    # 4 n writes sampled at 1/8: 1500 expected, sd ~36; the bounds are > 10 sd away
    assert 1100 < sampled < 1900
    for symbol in ("vm_mmap_pgoff", "__vm_munmap"):
        assert sum(per_thread(con, "smp", symbol, "WRITE|MMAP_LOCK|SAMPLED").values()) > 300, symbol
    notes = con.execute("SELECT notes FROM trace_runs").fetchone()[0]
    assert "stacks sampled: 1 in 8" in notes and "SAMPLED" in notes
    assert "notes: --mmap-lock" in out.stdout


def test_events_stream_is_bounded(mmap_threads, tmp_path):
    """--events 200 keeps the first 200 events; also: a database indexed from another kernel version
    (meta kernel_version, written by lima-index) gets a warning, kept in the run's notes."""
    db = tmp_path / "t.duckdb"
    from lima.db import connect, set_meta
    con = connect(db)
    set_meta(con, "kernel_version", "6.1.192")
    con.close()
    # --keep-irq: an event whose stack is in interrupt context is dropped after capture otherwise, and one
    # in a few hundred runs has one (199 stored)
    out = trace(db, "--events", "200", "--run-id", "ev", "--no-summary", "--mmap-lock", "--keep-irq", "--",
                str(mmap_threads), "2", "500")
    assert out.returncode == 0, out.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM trace_events").fetchone()[0] == 200
    seen, notes = con.execute("SELECT events_seen, notes FROM trace_runs").fetchone()
    assert seen > 2000 and "--events cap 200 reached" in notes
    assert f"kernel {platform.release()} differs from the indexed source 6.1.192" in notes
    assert "differs from the indexed source" in out.stderr
    orphan = con.execute("""SELECT count(*) FROM trace_events t WHERE t.stack_id IS NOT NULL AND NOT EXISTS
        (SELECT 1 FROM stack_frames f WHERE f.stack_id = t.stack_id)""").fetchone()[0]
    assert orphan == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_ends_the_run_and_keeps_it(mmap_threads, tmp_path, sig):
    """A system-wide trace filtered by comm, ended by SIGTERM or Ctrl-C: detached, written, exit 0."""
    db = tmp_path / "t.duckdb"
    p = subprocess.Popen([*LIMA_TRACE, "--db", str(db), "--workload", "mm", "--comm", "mmap_threads",
                          "--duration", "120", "--run-id", "term", "--no-summary", "--mmap-lock"],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        while "tracing with" not in (line := p.stderr.readline()):
            assert line, "lima-trace ended before tracing"
        w = subprocess.run([str(mmap_threads), "2", "400"], capture_output=True, text=True, check=True)
        p.send_signal(sig)
        err = p.stderr.read()
        assert p.wait(timeout=30) == 0, err
    finally:
        if p.poll() is None:
            p.kill()
    assert f"({sig.name})" in err
    con = duckdb.connect(str(db), read_only=True)
    duration, mode = con.execute("SELECT duration_s, mode FROM trace_runs").fetchone()
    assert duration < 120 and mode == "warmup"
    counts = writes_per_thread(con, "term")
    assert {t: counts.get(t) for t in tids(w.stdout)} == {t: 2 * 400 for t in tids(w.stdout)}
    assert {r[0] for r in con.execute("SELECT DISTINCT comm FROM lock_events").fetchall()} == {"mmap_threads"}
    # nothing left attached
    tp = Path("/sys/kernel/tracing/events/lock/contention_begin/enable")
    time.sleep(0.2)
    assert tp.read_text().strip() == "0"


def test_database_held_by_a_reader(mmap_threads, tmp_path):
    """A reader holds the db for the whole run: the trace goes to a side file, merged afterwards."""
    db = tmp_path / "t.duckdb"
    duckdb.connect(str(db)).close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb,sys,time; c=duckdb.connect(sys.argv[1], "
                               "read_only=True); print('ok', flush=True); time.sleep(60)", str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        # --mmap-lock: rows for sure (100 rounds of 2 threads may not contend at all)
        out = trace(db, "--db-wait", "1", "--run-id", "busy", "--no-summary", "--mmap-lock", "--",
                    str(mmap_threads), "2", "100")
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 0, out.stderr
    side = db.with_name(f"{db.name}.busy.pending.duckdb")
    assert side.exists() and "lima-trace --merge" in out.stderr
    merged = subprocess.run([*LIMA_TRACE, "--merge", str(side), "--db", str(db)], capture_output=True,
                            text=True, timeout=60)
    assert merged.returncode == 0, merged.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM trace_runs WHERE run_id = 'busy'").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM lock_events WHERE run_id = 'busy'").fetchone()[0] > 0
    assert not side.exists()


def test_pid_filter_follows_forks(mmap_threads, tmp_path):
    """--pid of a shell: the workload it forks afterwards is counted (exactly), a host process doing the
    same thing at the same time is not."""
    db = tmp_path / "t.duckdb"
    go = tmp_path / "go"
    shell = subprocess.Popen(["sh", "-c", f"while [ ! -e {go} ]; do sleep 0.05; done; "
                              f"{mmap_threads} 2 300"], stdout=subprocess.PIPE, text=True)
    p = subprocess.Popen([*LIMA_TRACE, "--db", str(db), "--workload", "mm", "--pid", str(shell.pid),
                          "--duration", "120", "--run-id", "pid", "--no-summary", "--mmap-lock"],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        while "tracing with" not in (line := p.stderr.readline()):
            assert line, "lima-trace ended before tracing"
        other = subprocess.Popen([str(mmap_threads), "2", "300"], stdout=subprocess.PIPE, text=True)
        go.touch()
        out, _ = shell.communicate(timeout=60)
        other_out, _ = other.communicate(timeout=60)
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0, p.stderr.read()
    finally:
        for proc in (p, shell):
            if proc.poll() is None:
                proc.kill()
    con = duckdb.connect(str(db), read_only=True)
    counts = writes_per_thread(con, "pid")
    assert {t: counts.get(t) for t in tids(out)} == {t: 2 * 300 for t in tids(out)}
    assert not set(tids(other_out)) & set(counts)
    assert con.execute("SELECT count(*) FROM lock_events WHERE tgid = ?", [other.pid]).fetchone()[0] == 0
    assert json.loads(con.execute("SELECT filters FROM trace_runs").fetchone()[0])["pid"] == [shell.pid]


def test_cgroup_filter_counts_descendant_cgroups(mmap_threads, tmp_path):
    """--cgroup P counts tasks in P and below (bpf_get_current_ancestor_cgroup_id at P's level): a
    workload in P/inner is counted exactly, one outside P is not."""
    from lima.tracer.cgroups import cgroup2_mount
    parent = cgroup2_mount() / f"lima-test-cg-{os.getpid()}"
    inner = parent / "inner"
    inner.mkdir(parents=True)
    parent_id, inner_id = os.stat(parent).st_ino, os.stat(inner).st_ino   # cgroup v2 ids
    db, go = tmp_path / "t.duckdb", tmp_path / "go"
    p = shell = None
    try:
        shell = subprocess.Popen(["sh", "-c", f"echo $$ > {inner}/cgroup.procs; "
                                  f"while [ ! -e {go} ]; do sleep 0.05; done; exec {mmap_threads} 2 300"],
                                 stdout=subprocess.PIPE, text=True)
        p = subprocess.Popen([*LIMA_TRACE, "--db", str(db), "--workload", "mm", "--cgroup", parent.name,
                              "--duration", "120", "--run-id", "cg", "--no-summary", "--mmap-lock"],
                             stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT)
        while "tracing with" not in (line := p.stderr.readline()):
            assert line, "lima-trace ended before tracing"
        other = subprocess.run([str(mmap_threads), "2", "300"], capture_output=True, text=True, check=True)
        go.touch()
        out, _ = shell.communicate(timeout=60)
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0, p.stderr.read()
    finally:
        for proc in (p, shell):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        inner.rmdir()
        parent.rmdir()
    con = duckdb.connect(str(db), read_only=True)
    counts = writes_per_thread(con, "cg")
    assert {t: counts.get(t) for t in tids(out)} == {t: 2 * 300 for t in tids(out)}
    assert not set(tids(other.stdout)) & set(counts)
    filters = json.loads(con.execute("SELECT filters FROM trace_runs").fetchone()[0])
    assert filters["cgroup_id"] == parent_id and filters["cgroup"] == str(parent)
    # every counted task ran in the inner cgroup (the parent holds no task)
    assert {r[0] for r in con.execute("SELECT DISTINCT cgroup_id FROM lock_events").fetchall()} == {inner_id}
    # the tenant's path, found at the end of the run while the cgroup still existed
    assert con.execute("SELECT run_id, cgroup_id, path FROM trace_cgroups").fetchall() == [
        ("cg", inner_id, f"/{parent.name}/inner")]


@pytest.mark.parametrize("command,code,message", [
    ("exit 3", 3, "command exited with status 3"),
    ("kill -9 $$", 137, "command killed by signal 9"),
])
def test_command_exit_status_is_passed_on(tmp_path, command, code, message):
    """As time(1) and strace: lima-trace exits with the command's status (128+N for signal N), once the
    run is written."""
    _require_tracing()
    db = tmp_path / "t.duckdb"
    out = trace(db, "--workload", "sh", "--run-id", "st", "--no-summary", "--", "sh", "-c", command)
    assert out.returncode == code, out.stderr
    assert message in out.stderr and "run st (command exited) written" in out.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT notes FROM trace_runs WHERE run_id = 'st'").fetchone()[0] == message


def test_command_ended_by_the_duration_passes_its_status_on(tmp_path):
    """--duration ends the run while the command still runs: lima-trace stops it with SIGTERM and exits
    with its status (128 + 15), as the help's exit-status section says, and notes it in the run."""
    _require_tracing()
    db = tmp_path / "t.duckdb"
    out = trace(db, "--workload", "sleep", "--run-id", "d", "--duration", "1", "--no-summary", "--",
                "sleep", "30")
    assert out.returncode == 143, out.stderr
    assert "command killed by signal 15" in out.stderr


def test_output_keeps_the_summary_apart_from_the_command(tmp_path):
    """--format json --output FILE: the command's stdout stays on stdout, the file parses whole."""
    _require_tracing()
    db, summary = tmp_path / "t.duckdb", tmp_path / "s.json"
    out = trace(db, "--workload", "sh", "--run-id", "o", "--format", "json", "--output", str(summary), "--",
                "sh", "-c", "echo hello")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "hello\n"
    assert json.loads(summary.read_text())["run"]["run_id"] == "o"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_while_compiling_writes_nothing_and_says_so_once(tmp_path, sig):
    """Ctrl-C (to the whole process group, the waiting command included) or SIGTERM while the BPF program
    is built: one message, exit 128+N, nothing written, the command never run."""
    _require_tracing()
    db, ran = tmp_path / "t.duckdb", tmp_path / "ran"
    # the signal is held back in lima-trace for a moment, as while the compiler's C code runs (Python
    # handlers wait for it): the waiting command, which gets Ctrl-C too, reacts first
    script = textwrap.dedent(f"""
        import os, signal, sys, time
        from lima.tracer import cli
        build = cli.bpf_program
        def interrupted(*a):
            time.sleep(0.3)   # the forked command now waits on its pipe, as during a real compile
            signal.pthread_sigmask(signal.SIG_BLOCK, [{int(sig)}])
            os.killpg(0, {int(sig)}) if {int(sig)} == signal.SIGINT else os.kill(os.getpid(), {int(sig)})
            time.sleep(0.5)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [{int(sig)}])
            return build(*a)
        cli.bpf_program = interrupted
        sys.exit(cli.main(sys.argv[1:]))
    """)
    out = subprocess.run([sys.executable, "-c", script, "--db", str(db), "--workload", "w", "--",
                          "touch", str(ran)], capture_output=True, text=True, timeout=60, cwd=ROOT,
                         start_new_session=True)   # its own process group: killpg spares pytest
    assert out.returncode == 128 + sig, out.stderr
    assert out.stderr.count("interrupted") == 1 and "nothing written" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and not db.exists() and not ran.exists()
