"""lima-trace without a kernel: header/ABI agreement, vocabulary, BTF and kallsyms parsing, decoding of
recorded captures (contention recorded on this machine; lockdep and primitives hand-made), storage,
file:line resolution, CLI validation."""

from __future__ import annotations

import ctypes as ct
import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from lima.db import LimaDbError, connect
from lima.tracer import cli
from lima.tracer.abi import LockEvent, LockKey
from lima.tracer.btf import parse_btf
from lima.tracer.capture import Capture, build_rows
from lima.tracer.dwarf import elf_symbol, source_lines
from lima.tracer.kallsyms import Kallsyms, KallsymsError
from lima.tracer.report import summarize
from lima.tracer.store import merge_side_file, side_file_for, write_run, write_with_fallback
from lima.tracer.vocabulary import (
    EVENTS,
    FLAGS,
    PRIMITIVES,
    STATS,
    flag_names,
    frame_context,
    lock_type_mode,
)

ROOT = Path(__file__).resolve().parent.parent
HEADER = ROOT / "tracer" / "lima_trace.h"
SAMPLE = Path(__file__).resolve().parent / "fixtures" / "trace_contention_sample.json"


def header_defines() -> dict[str, int]:
    out = {}
    for m in re.finditer(r"^#define (\w+)\s+(\(1U << \d+\)|\d+)", HEADER.read_text(), re.M):
        v = m.group(2)
        out[m.group(1)] = eval(v.replace("1U", "1"))   # noqa: S307 - our own header, numbers only
    return out


# --- header and ABI --------------------------------------------------------------------------------

def test_header_constants_match_python():
    d = header_defines()
    assert {v: k for k, v in EVENTS.items()} == {"acquire": d["EV_ACQUIRE"], "contended": d["EV_CONTENDED"],
                                                 "release": d["EV_RELEASE"]}
    for name, bit in FLAGS.items():
        assert d[f"LF_{name}"] == bit, name
    assert [k for k in d if k.startswith("LF_")] == [f"LF_{n}" for n in FLAGS]
    stat_names = [k[5:].lower() for k, v in sorted(d.items(), key=lambda kv: kv[1])
                  if k.startswith("STAT_") and k != "STAT_MAX"]
    assert stat_names == STATS
    assert d["STAT_MAX"] == len(STATS)


def test_ctypes_layout_matches_c():
    if not shutil.which("gcc"):
        pytest.skip("gcc not installed")
    src = textwrap.dedent("""
        #include <stdio.h>
        #include <stddef.h>
        typedef unsigned long long u64; typedef long long s64; typedef unsigned int u32;
        typedef int s32; typedef unsigned short u16; typedef unsigned char u8;
        #include "lima_trace.h"
        int main(void) {
            printf("%zu %zu %zu %zu %zu %zu\\n", sizeof(struct lock_key), sizeof(struct lock_event),
                   offsetof(struct lock_key, comm), offsetof(struct lock_event, ts_ns),
                   offsetof(struct lock_key, event), sizeof(struct lock_val));
            return 0;
        }
    """)
    tmp = ROOT / ".cache" / "trace" / "abi"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "abi.c").write_text(src)
    subprocess.run(["gcc", f"-I{HEADER.parent}", "-o", str(tmp / "abi"), str(tmp / "abi.c")], check=True)
    got = [int(x) for x in subprocess.run([str(tmp / "abi")], capture_output=True, text=True,
                                          check=True).stdout.split()]
    assert got == [ct.sizeof(LockKey), ct.sizeof(LockEvent), LockKey.comm.offset, LockEvent.ts_ns.offset,
                   LockKey.event.offset, 24]


# --- vocabulary ------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags,expected", [
    (0x01, ("spinlock", "exclusive")),   # qspinlock.c:405 LCB_F_SPIN
    (0x03, ("rwlock", "read")),          # qrwlock.c:38 LCB_F_SPIN | LCB_F_READ
    (0x05, ("rwlock", "write")),         # qrwlock.c:70
    (0x02, ("rwsem", "read")),           # rwsem.c:1077 LCB_F_READ
    (0x04, ("rwsem", "write")),          # rwsem.c:1157 LCB_F_WRITE
    (0x20, ("mutex", "exclusive")),      # mutex.c:649 LCB_F_MUTEX
    (0x21, ("mutex", "exclusive")),      # mutex.c:605 LCB_F_MUTEX | LCB_F_SPIN
    (0x00, ("semaphore", "exclusive")),  # semaphore.c:249 flags 0
    (0x12, ("percpu_rwsem", "read")),    # percpu-rwsem.c:175
    (0x14, ("percpu_rwsem", "write")),   # percpu-rwsem.c:228
    (0x08, ("rt_mutex", "exclusive")),   # rtmutex.c:1687 LCB_F_RT
    (0x104, ("rwsem", "write")),         # mmap_lock tracepoint, write
    (0x302, ("rwsem", "read")),          # mmap_lock, read, trylock
    (0x40, (None, None)),                # unknown bit
])
def test_contention_flags(flags, expected):
    assert lock_type_mode(flags) == expected


def test_flag_names():
    assert flag_names(0x104) == ["WRITE", "MMAP_LOCK"]
    assert flag_names(0x1502) == ["READ", "MMAP_LOCK", "FAILED", "SAMPLED"]   # --mmap-lock, stack sampled
    assert lock_type_mode(0x1502) == ("rwsem", "read")
    assert flag_names(0) == []


def test_frame_context():
    assert frame_context(["_raw_spin_lock", "try_to_wake_up", "do_syscall_64"]) is None
    assert frame_context(["_raw_spin_lock", "rcu_core", "handle_softirqs", "__irq_exit_rcu",
                          "sysvec_apic_timer_interrupt"]) == "softirq"
    assert frame_context(["_raw_spin_lock", "hrtimer_interrupt", "__sysvec_apic_timer_interrupt",
                          "sysvec_apic_timer_interrupt"]) == "hardirq"
    assert frame_context(["_raw_spin_lock", "default_do_nmi", "exc_nmi"]) == "nmi"
    # a page fault is task context
    assert frame_context(["down_read", "exc_page_fault", "asm_exc_page_fault"]) is None


def test_primitives_are_unique_and_typed():
    names = [p[0] for p in PRIMITIVES]
    assert len(names) == len(set(names))
    assert all(p[2] in ("read", "write", "exclusive") for p in PRIMITIVES)
    assert all(p[3] == ("trylock" in p[0]) for p in PRIMITIVES)


# --- BTF -------------------------------------------------------------------------------------------

def _btf_blob() -> bytes:
    """A tiny BTF: int; struct outer { int x; struct { int y; int mmap_lock; }; } via a typedef'd
    anonymous member at bit 64; struct with a bitfield (kind_flag); func lock_acquire."""
    strings = b"\0int\0outer\0x\0y\0mmap_lock\0lock_acquire\0bf\0flags\0"

    def off(s: bytes) -> int:
        return strings.index(s + b"\0")

    types = b""
    types += struct.pack("<3I", off(b"int"), 1 << 24, 4) + struct.pack("<I", 32)          # 1 INT
    types += struct.pack("<3I", 0, (4 << 24) | 2, 8)                                      # 2 anon STRUCT
    types += struct.pack("<3I", off(b"y"), 1, 0) + struct.pack("<3I", off(b"mmap_lock"), 1, 32)
    types += struct.pack("<3I", 0, 8 << 24, 2)                                            # 3 TYPEDEF -> 2
    types += struct.pack("<3I", off(b"outer"), (4 << 24) | 2, 16)                         # 4 STRUCT outer
    types += struct.pack("<3I", off(b"x"), 1, 0) + struct.pack("<3I", 0, 3, 64)
    types += struct.pack("<3I", off(b"lock_acquire"), 12 << 24, 0)                        # 5 FUNC
    types += struct.pack("<3I", off(b"bf"), (4 << 24) | (1 << 31) | 1, 8)                 # 6 bitfield
    types += struct.pack("<3I", off(b"flags"), 1, (3 << 24) | 40)
    hdr = struct.pack("<HBBI4I", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return hdr + types + strings


def test_btf_member_offsets_and_functions():
    btf = parse_btf(_btf_blob())
    assert btf.member_offset("outer", "x") == 0
    assert btf.member_offset("outer", "mmap_lock") == 12     # (64 + 32) bits
    assert btf.member_offset("outer", "nope") is None
    assert btf.member_offset("bf", "flags") == 5             # kind_flag: low 24 bits = 40 bits
    assert btf.has_function("lock_acquire") and not btf.has_function("mutex_lock_nested")


def test_btf_rejects_garbage():
    from lima.tracer.btf import BtfError
    with pytest.raises(BtfError):
        parse_btf(b"\0" * 64)


# --- kallsyms --------------------------------------------------------------------------------------

KALLSYMS_TEXT = """\
ffffffff81000000 T _text
ffffffff81001000 T vm_mmap_pgoff
ffffffff81001200 t __vm_munmap
ffffffff81001400 T down_write_killable
ffffffffc0100000 t ext4_foo\t[ext4]
ffffffff82a00000 D init_mm
ffffffff82a01000 b rtnl_mutex
ffffffff82b00000 D last_data
"""


def test_kallsyms_code_and_data():
    k = Kallsyms(KALLSYMS_TEXT)
    s = k.code(0xFFFFFFFF81001234)
    assert (s.name, s.offset, s.module) == ("__vm_munmap", 0x34, None)
    assert str(k.code(0xFFFFFFFFC0100010)) == "ext4_foo+0x10 [ext4]"
    assert k.data(0xFFFFFFFF82A01000).name == "rtnl_mutex"           # a global lock, at once
    m = k.data(0xFFFFFFFF82A000B8)
    assert (m.name, m.offset) == ("init_mm", 0xB8)                     # init_mm.mmap_lock-like member
    assert k.data(0xFFFF888100000000) is None                          # heap: no symbol
    assert k.data(0xFFFFFFFF82B00000 + (1 << 20)) is None              # too far past the last symbol
    assert k.address("_text") == 0xFFFFFFFF81000000
    assert k.data_symbols == 3


def test_kallsyms_labels_data_only_inside_a_variable():
    """This VM's kallsyms (no CONFIG_KALLSYMS_ALL) lists section markers as its only data symbols: a lock
    at 0xffffffff83009a40 was labelled __start_init_stack+0x9a40."""
    k = Kallsyms("ffffffff81000000 T _text\n"
                 "ffffffff83000000 D __start_init_stack\n"
                 "ffffffff83229a48 D __start_once\n"
                 "ffffffff83300000 D jiffies_lock\n"
                 "ffffffff83300040 T a_text_symbol\n"
                 "ffffffff83300100 D big_table\n")
    assert k.data(0xFFFFFFFF83009A40) is None                          # markers are no variables
    assert k.data(0xFFFFFFFF83229A48) is None
    assert k.data_symbols == 2
    assert (k.data(0xFFFFFFFF83300008).name, k.data(0xFFFFFFFF83300008).offset) == ("jiffies_lock", 8)
    assert k.data(0xFFFFFFFF83300048) is None                          # past the next (text) symbol
    assert k.data(0xFFFFFFFF83300100 + 0xFF0).name == "big_table"      # few variables: 4 KiB at most
    assert k.data(0xFFFFFFFF83300100 + 0x1000) is None


def test_kallsyms_hidden_addresses():
    with pytest.raises(KallsymsError):
        Kallsyms("0000000000000000 T _text\n0000000000000000 T foo\n")


# --- decoding captures ---------------------------------------------------------------------------

def test_recorded_contention_capture():
    """A capture recorded on this machine (lima-trace --save-capture, mmap_threads 2 300)."""
    cap = Capture.from_json(SAMPLE)
    rows = build_rows(cap, Kallsyms(cap.kallsyms))
    assert rows.events_seen + rows.irq_events == sum(v[0] for _, v in cap.counts)
    assert rows.events_seen == cap.stats["seen"] - rows.irq_events
    frames: dict[int, list[str]] = {}
    for f in rows.stack_frames:
        frames.setdefault(f["stack_id"], []).append(f["symbol"])
        assert f["symbol"] and f["offset"] is not None and f["address"] > 0xFFFF800000000000
    # the workload's writes to mm->mmap_lock come from mmap and munmap
    writes = [r for r in rows.lock_events if r["flags"] == "WRITE|MMAP_LOCK" and r["comm"] == "mmap_threads"]
    via = {s for r in writes for s in frames[r["stack_id"]] if s in ("vm_mmap_pgoff", "__vm_munmap")}
    assert via == {"vm_mmap_pgoff", "__vm_munmap"}
    assert all(r["lock_name"] == "&mm->mmap_lock" and r["lock_type"] == "rwsem" and r["mode"] == "write"
               and r["event"] == "acquire" for r in writes)
    contended = [r for r in rows.lock_events if r["event"] == "contended"]
    assert contended and all(r["wait_ns_total"] > 0 and r["wait_ns_max"] <= r["wait_ns_total"]
                             for r in contended)
    # the per-event stream: exactly the cap, each with a stack that was symbolized
    assert len(rows.trace_events) == len(cap.events) == 50
    assert {e["stack_id"] for e in rows.trace_events} <= set(frames)
    # the summary ranks the mm's mmap_lock first
    top = summarize(rows.lock_events, rows.stack_frames)["top"][0]
    assert top["lock"].startswith("&mm->mmap_lock @") and top["events"] == max(
        sum(r["count"] for r in rows.lock_events if r["lock_addr"] == a)
        for a in {r["lock_addr"] for r in rows.lock_events})


def _key(**kw) -> dict:
    base = {"lock_addr": 0, "cgroup_id": 7, "name_ptr": 0, "stack_id": 1, "pid": 10, "tgid": 10,
            "flags": 0, "event": 1, "subclass": 0, "comm": "w"}
    base.update(kw)
    return base


def _ksyms_for_hand_samples() -> Kallsyms:
    return Kallsyms("ffffffff81000000 T _text\nffffffff81000100 T do_task\n"
                    "ffffffff81000200 T handle_softirqs\nffffffff81000300 T lock_acquire\n"
                    "ffffffff81000400 T down_write\n"
                    "ffffffff82000000 D rtnl_mutex\n")


def test_lockdep_capture_names_modes_and_irq():
    """Hand-made lockdep capture (no lockdep kernel here): class names come from `names`."""
    cap = Capture(backend="lockdep",
                  counts=[(_key(lock_addr=0xFFFF888000001000, name_ptr=0xAA, flags=0x2, subclass=1),
                           (5, 0, 0)),
                          (_key(lock_addr=0xFFFFFFFF82000000, name_ptr=0xBB, event=3), (2, 0, 0)),
                          (_key(lock_addr=0xFFFF888000002000, name_ptr=0xAA, stack_id=2), (3, 0, 0)),
                          (_key(lock_addr=0xFFFF888000003000, name_ptr=0xCC, event=2), (4, 900, 400))],
                  stacks={1: [0xFFFFFFFF81000305, 0xFFFFFFFF81000110],
                          2: [0xFFFFFFFF81000305, 0xFFFFFFFF81000210, 0xFFFFFFFF81000120]},
                  names={0xAA: "&mm->mmap_lock", 0xBB: "rtnl_mutex", 0xCC: "&sb->s_type->i_mutex_key"})
    rows = build_rows(cap, _ksyms_for_hand_samples())
    assert rows.irq_events == 3 and rows.events_seen == 11
    by_name = {r["lock_name"]: r for r in rows.lock_events}
    assert by_name["&mm->mmap_lock"]["mode"] == "read" and by_name["&mm->mmap_lock"]["subclass"] == 1
    assert by_name["rtnl_mutex"]["lock_symbol"] == "rtnl_mutex"
    assert by_name["rtnl_mutex"]["event"] == "release" and by_name["rtnl_mutex"]["mode"] is None
    assert by_name["&sb->s_type->i_mutex_key"]["wait_ns_total"] == 900
    excl = build_rows(Capture(backend="lockdep", counts=[(_key(name_ptr=0xAA, flags=0x4), (1, 0, 0))],
                              names={0xAA: "rtnl_mutex"}), _ksyms_for_hand_samples())
    assert excl.lock_events[0]["mode"] == "exclusive"
    assert all(r["lock_type"] is None for r in rows.lock_events)
    kept = build_rows(cap, _ksyms_for_hand_samples(), keep_irq=True)
    assert kept.irq_events == 0 and kept.events_seen == 14
    assert [r["context"] for r in kept.lock_events if r["stack_id"] == 2] == ["softirq"]


def test_primitives_capture_maps_index_to_primitive():
    idx = [p[0] for p in PRIMITIVES].index("down_write")
    try_idx = [p[0] for p in PRIMITIVES].index("mutex_trylock")
    cap = Capture(backend="primitives",
                  counts=[(_key(lock_addr=0xFFFF888000001000, subclass=idx), (7, 0, 0)),
                          (_key(lock_addr=0xFFFFFFFF82000000, subclass=try_idx, flags=1 << 9), (1, 0, 0))],
                  stacks={1: [0xFFFFFFFF81000405, 0xFFFFFFFF81000110]})
    rows = build_rows(cap, _ksyms_for_hand_samples())
    r0, r1 = rows.lock_events
    assert (r0["primitive"], r0["lock_type"], r0["mode"], r0["wait_ns_total"]) == ("down_write", "rwsem",
                                                                                    "write", None)
    assert (r1["primitive"], r1["lock_symbol"], r1["flags"]) == ("mutex_trylock", "rtnl_mutex", "TRYLOCK")


def test_capture_json_roundtrip(tmp_path):
    cap = Capture.from_json(SAMPLE)
    p = tmp_path / "c.json"
    p.write_text(cap.to_json())
    again = Capture.from_json(p)
    assert again.counts == cap.counts and again.stacks == cap.stacks and again.kallsyms == cap.kallsyms


# --- the BPF program text -------------------------------------------------------------------------

def test_primitives_program_attaches_only_present_functions():
    text = cli.bpf_program("primitives", {"mutex_lock", "down_write", "vfs_read"})
    probes = re.findall(r"^PRIMITIVE_PROBE\((\w+), (\d+), (\w+)\)$", text, re.M)
    names = [p[0] for p in PRIMITIVES]
    assert probes == [("mutex_lock", str(names.index("mutex_lock")), "0"),
                      ("down_write", str(names.index("down_write")), "0")]


def test_cflags_filters():
    class Cg:
        id, level = 4242, 2
    flags = cli.bpf_cflags("contention", 4096, 0, True, Cg(), "tar", 64, None)
    assert "-DFILTER_PID" in flags and "-DCGROUP_ID=4242ULL" in flags and "-DCGROUP_LEVEL=2" in flags
    assert ["-DCOMM_0=116", "-DCOMM_1=97", "-DCOMM_2=114", "-DCOMM_3=0"] == [f for f in flags if f.startswith(
        "-DCOMM_")][:4]
    assert "-DMMAP_LOCK_OFFSET=-1" in flags and not any(f.startswith("-DWITH_EVENTS") for f in flags)
    assert "-DWITH_MMAP_LOCK" in flags and "-DMMAP_LOCK_STACKS=64" in flags
    default = cli.bpf_cflags("contention", 4096, 0, True, None, None, None, None)
    assert not any("MMAP_LOCK" in f for f in default)
    ev = cli.bpf_cflags("lockdep", 4096, 1000, False, None, None, None, None)
    assert "-DEVENTS_MAX=1000" in ev and "-DLOCKDEP_NAME_OFFSET=24" in ev and "-DFILTER_PID" not in ev


def test_version_compare():
    assert cli.version_tuple("6.1.192") == (6, 1, 192)
    assert cli.version_tuple("6.18.44-fc-v669") == (6, 18, 44)
    assert cli.version_tuple("Linux 6.1.0-56-amd64") == (6, 1, 0)


# --- storage ---------------------------------------------------------------------------------------

def _run(run_id: str) -> dict:
    return {"run_id": run_id, "runtime": "host", "workload": "w", "mode": "warmup", "backend": "contention",
            "source": "lima-trace", "events_seen": 3, "events_lost": 0}


ROW = {"lock_addr": 1, "stack_id": 1, "pid": 1, "tgid": 1, "comm": "w", "cgroup_id": 1, "count": 3,
       "event": "contended", "wait_ns_total": 10, "wait_ns_max": 5}
FRAME = {"stack_id": 1, "depth": 0, "address": 0xFFFFFFFF81000000, "symbol": "f", "offset": 0}


def test_write_run_is_one_transaction(tmp_path):
    db = tmp_path / "t.duckdb"
    con = connect(db)
    write_run(con, _run("a"), [ROW], [FRAME], [])
    with pytest.raises(LimaDbError):
        write_run(con, _run("a"), [ROW], [FRAME], [])          # same run id again
    with pytest.raises((duckdb.Error, pa.ArrowInvalid)):
        write_run(con, _run("b"), [ROW, {**ROW, "count": "many"}], [FRAME], [])   # fails midway
    assert con.execute("SELECT run_id FROM trace_runs").fetchall() == [("a",)]
    assert con.execute("SELECT count(*) FROM lock_events").fetchone()[0] == 1
    con.close()


def test_a_broken_query_file_does_not_lose_the_run(tmp_path, monkeypatch):
    """Mapping the new run (installing the query views) fails on a query catalog that is being edited
    (queries/install.py raises ValueError on a circular reference): the run stays written, with a warning."""
    import lima.queries

    def broken(_con, **_kw):
        raise ValueError("queries: circular reference a -> b -> a")
    monkeypatch.setattr(lima.queries, "install_views", broken)
    db, said = tmp_path / "t.duckdb", []
    assert write_with_fallback(db, _run("r1"), [ROW], [FRAME], [], wait_s=1, say=said.append) == db
    assert "run stored, but mapping it to objects failed (queries: circular reference" in said[-1]
    con = connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM lock_events WHERE run_id='r1'").fetchone()[0] == 1


def test_ctrl_c_while_the_stored_run_is_mapped_keeps_it_and_says_where(tmp_path):
    """A Ctrl-C after the commit, while the run is mapped to objects (after()), is StoredThenInterrupted:
    lima-trace says the run is written (it said "nothing written"), and it is."""
    from lima.tracer.store import StoredThenInterrupted

    def interrupted(_con):
        raise KeyboardInterrupt
    db = tmp_path / "t.duckdb"
    with pytest.raises(StoredThenInterrupted) as e:
        write_with_fallback(db, _run("r1"), [ROW], [FRAME], [], wait_s=1, say=lambda _m: None,
                            after=interrupted)
    assert (e.value.run_id, e.value.where) == ("r1", db) and isinstance(e.value.cause, KeyboardInterrupt)
    con = connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM lock_events WHERE run_id='r1'").fetchone()[0] == 1


def test_lima_trace_says_where_a_run_interrupted_after_its_commit_is(monkeypatch, capsys):
    from lima.tracer import cli
    from lima.tracer.store import StoredThenInterrupted

    def run(_args):
        raise StoredThenInterrupted("r1", "/data/lima.duckdb", cli.Terminated())
    monkeypatch.setattr(cli, "run", run)
    monkeypatch.setattr(cli, "parse_args", lambda argv: None)
    assert cli.main([]) == 128 + 15
    assert capsys.readouterr().err == ("lima-trace: interrupted (SIGTERM); run r1 written to "
                                       "/data/lima.duckdb (not yet mapped to objects: the next lima-query "
                                       "maps it)\n")


def test_summary_names_objects_as_the_queries_do(tmp_path):
    """The summary row of a lock known by address only shows the object lima-query maps it to, read
    from the database once the run is stored; without an index it says so."""
    from lima.tracer.report import lock_objects
    index = (Path(__file__).parent / "fixtures" / "traces" / "index_rows.sql").read_text()
    addr = 0xFFFF888627C2BA80
    # dget_parent > lockref_get_not_zero > _raw_spin_lock: dentry.d_lockref.lock (index_rows.sql sites 3, 4)
    frames = [{"stack_id": 1, "depth": d, "address": 0xFFFFFFFF81000000 + d, "symbol": sym, "offset": 0x10}
              for d, sym in enumerate(("_raw_spin_lock", "lockref_get_not_zero", "dget_parent"))]
    row = {**ROW, "lock_addr": addr, "lock_type": "spinlock"}
    got = {}
    for name, sql in (("indexed", index), ("bare", None)):
        db = tmp_path / f"{name}.duckdb"
        con = connect(db)
        if sql:
            con.execute(sql)
        con.close()
        write_with_fallback(db, _run("r"), [row], frames, [], wait_s=1,
                            after=lambda c, n=name: got.__setitem__(n, lock_objects(c, "r")))
    assert got == {"indexed": {addr: "dentry.d_lockref.lock"}, "bare": None}
    top = summarize([row], frames, objects=got["indexed"])["top"][0]
    assert (top["lock"], top["object"]) == (f"{addr:#x}", "dentry.d_lockref.lock")
    assert summarize([row], frames, objects=None)["top"][0]["object"] == "no index"


def test_cgroup_ids_get_their_paths(tmp_path):
    """A cgroup v2 id is the inode of its directory: the root and this process's cgroup are found in
    one walk; the paths go to trace_cgroups and the summary shows them instead of the number."""
    from lima.tracer.cgroups import cgroup2_mount, cgroup_of_pid, cgroup_paths
    try:
        root = cgroup2_mount()
    except Exception:
        pytest.skip("no cgroup v2 mount here")
    mine = cgroup_of_pid(os.getpid())
    found = cgroup_paths({os.stat(root).st_ino, mine.id, 1 << 60})
    rel = mine.path.relative_to(root)
    assert found == {os.stat(root).st_ino: "/", mine.id: "/" if str(rel) == "." else f"/{rel}"}
    cap = Capture(backend="contention", counts=[(_key(cgroup_id=7, stack_id=-1), (4, 0, 0)),
                                                (_key(cgroup_id=8, stack_id=-1), (1, 0, 0))],
                  cgroups={7: "/system.slice/docker-3f2a.scope", 99: "/unused"})
    rows = build_rows(cap, _ksyms_for_hand_samples())
    assert rows.cgroups == [{"cgroup_id": 7, "path": "/system.slice/docker-3f2a.scope"}]
    db = tmp_path / "t.duckdb"
    con = connect(db)
    write_run(con, _run("c"), rows.lock_events, [], [], rows.cgroups)
    assert con.execute("SELECT run_id, cgroup_id, path FROM trace_cgroups").fetchall() == [
        ("c", 7, "/system.slice/docker-3f2a.scope")]
    con.close()
    top = summarize(rows.lock_events, [], cgroups=cap.cgroups)["top"][0]
    assert top["cgroup"] == "/system.slice/docker-3f2a.scope (+1)"
    assert Capture.from_json(_roundtrip(cap, tmp_path)).cgroups == cap.cgroups


def _roundtrip(cap: Capture, tmp_path: Path) -> Path:
    f = tmp_path / "cap.json"
    f.write_text(cap.to_json())
    return f


HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _hold(db: Path, seconds: float) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(seconds)], stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "holding"
    return p


def test_busy_database_waits_then_writes(tmp_path):
    db = tmp_path / "t.duckdb"
    connect(db).close()
    holder = _hold(db, 1.5)
    said = []
    written = write_with_fallback(db, _run("r1"), [ROW], [FRAME], [], wait_s=20, say=said.append)
    holder.wait()
    assert written == db and "retrying" in said[0]
    con = connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM lock_events WHERE run_id='r1'").fetchone()[0] == 1


def test_busy_database_side_file_then_merge(tmp_path):
    db = tmp_path / "t.duckdb"
    connect(db).close()
    holder = _hold(db, 30)
    said = []
    try:
        written = write_with_fallback(db, _run("r2"), [ROW], [FRAME], [], wait_s=1, say=said.append)
    finally:
        holder.kill()
        holder.wait()
    assert written == side_file_for(db, "r2") and written.exists()
    assert "lima-trace --merge" in said[-1]
    assert merge_side_file(db, written) == ["r2"]
    assert not written.exists()
    con = connect(db, read_only=True)
    assert con.execute("SELECT events_seen FROM trace_runs WHERE run_id='r2'").fetchone() == (3,)
    assert con.execute("SELECT symbol FROM stack_frames WHERE run_id='r2'").fetchall() == [("f",)]


# --- file:line -------------------------------------------------------------------------------------

def test_source_lines_with_dwarf(tmp_path):
    if not (shutil.which("gcc") and shutil.which("addr2line") and shutil.which("nm")):
        pytest.skip("gcc/binutils not installed")
    (tmp_path / "f.c").write_text("int g(int x);\nint f(int x) { return g(x) * 3; }\n"
                                  "int g(int x) { return x + 1; }\nint main(void) { return f(1); }\n")
    subprocess.run(["gcc", "-g", "-O0", "-o", str(tmp_path / "f"), str(tmp_path / "f.c")], check=True)
    f, g = elf_symbol(tmp_path / "f", "f"), elf_symbol(tmp_path / "f", "g")
    offset = 0x1000000   # pretend the image was moved (KASLR): runtime = link + offset
    lines = source_lines(tmp_path / "f", [f + offset + 1, g + offset + 1, 0x10 + offset], offset)
    assert lines[f + offset + 1] == (str(tmp_path / "f.c"), 2)
    assert lines[g + offset + 1] == (str(tmp_path / "f.c"), 3)
    assert 0x10 + offset not in lines


# --- CLI validation --------------------------------------------------------------------------------

def test_not_root_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(cli.os, "geteuid", lambda: 1000)
    assert cli.main(["--workload", "w", "--duration", "1"]) == 2
    assert "must run as root" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--workload", "w"], "nothing to trace"),
    (["--workload", "w", "--cgroup", "/a", "--container", "b", "--duration", "1"], "not both"),
    (["--workload", "w", "--comm", "a-very-long-command-name", "--duration", "1"], "15 characters"),
    (["--duration", "1"], "--workload LABEL is required"),
    (["--workload", "w", "--pid", "999999999", "--duration", "1"], "no such process"),
    (["--workload", "w", "--runtime", " ", "--duration", "1"], "--runtime must not be empty"),
    (["--workload", "w", "--mode", "weird", "--duration", "1"], "must be coldstart or warmup"),
    (["--workload", "w", "--duration", "1", "--mmap-lock-stacks", "8"], "goes with --mmap-lock"),
    (["--workload", "w", "--duration", "1", "--mmap-lock", "--mmap-lock-stacks", "-1"], "must be >= 0"),
])
def test_bad_input_exit_2(monkeypatch, capsys, args, message):
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_merge_missing_side_file(tmp_path, capsys):
    assert cli.main(["--merge", str(tmp_path / "nope.duckdb"), "--db", str(tmp_path / "t.duckdb")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_merge_never_deletes_what_is_not_a_side_file(tmp_path, capsys):
    db = tmp_path / "t.duckdb"
    connect(db).close()
    other = tmp_path / "index.duckdb"
    connect(other).close()
    # an ordinary database, or the database itself, is refused and kept
    assert cli.main(["--merge", str(other), "--db", str(db)]) == 2
    assert "not a side file" in capsys.readouterr().err and other.exists()
    same = tmp_path / "t.duckdb.x.pending.duckdb"
    connect(same).close()
    assert cli.main(["--merge", str(same), "--db", str(same)]) == 2
    assert "same file" in capsys.readouterr().err and same.exists()
    # a side file with no run is kept too
    assert cli.main(["--merge", str(same), "--db", str(db)]) == 2
    assert "holds no run" in capsys.readouterr().err and same.exists()


@pytest.mark.parametrize("extra,message", [
    (["--db", "/no/such/folder/t.duckdb", "--", "true"], "does not exist; nothing traced"),
    (["--", "/no/such/command"], "command not found"),
    (["--save-capture", "/no/such/folder/c.json", "--", "true"], "--save-capture"),
])
def test_outputs_and_command_checked_before_tracing(monkeypatch, capsys, tmp_path, extra, message):
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    monkeypatch.setattr(cli, "run_checks", lambda **_: pytest.fail("reached the backend choice"))
    args = ["--workload", "w"] + (["--db", str(tmp_path / "t.duckdb")] if "--db" not in extra else []) + extra
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "t.duckdb").exists()


def test_a_file_that_is_not_duckdb_is_refused_before_tracing(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    monkeypatch.setattr(cli, "run_checks", lambda **_: pytest.fail("reached the backend choice"))
    bad = tmp_path / "notes.duckdb"
    bad.write_text("not a database\n")
    assert cli.main(["--workload", "w", "--db", str(bad), "--", "true"]) == 2
    assert "nothing traced" in capsys.readouterr().err


def test_help_mentions_every_backend(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for word in ("lockdep", "primitives", "contention", "--container", "--keep-irq", "--events", "--merge"):
        assert word in out
    # what the default records and costs, and what --mmap-lock costs, with the bench that measured it
    flat = " ".join(out.split())
    assert f"the default records {cli.DEFAULT_RECORDS}" in flat and cli.DEFAULT_COST in flat
    assert cli.MMAP_LOCK_COST in flat and "bench/tracer_overhead.sh" in cli.DEFAULT_COST


def test_summary_names_columns_as_the_queries_and_keeps_brackets():
    """The summary's columns read as lima-query's (events is a number, event_kinds the kinds, wait_ms), and
    a class name with brackets (&obj_hash[i].lock, kernel/debugobjects.c) is printed, not read as markup."""
    import io as _io

    from lima.tracer.report import print_summary, summarize
    from rich.console import Console
    row = {"lock_addr": 0x10, "lock_name": "&obj_hash[i].lock", "stack_id": None, "count": 4,
           "event": "contended", "wait_ns_total": 2_500_000, "lock_type": "spinlock", "cgroup_id": None}
    summary = summarize([row], [])
    top = summary["top"][0]
    assert (top["events"], top["event_kinds"], top["wait_ms"]) == (4, "contended", 2.5)
    buf = _io.StringIO()
    run = {"run_id": "r[1]", "backend": "contention", "duration_s": 1.0, "events_lost": 0, "stacks_lost": 0,
           "irq_events": 0, "notes": None}
    print_summary(run, summary, console=Console(file=buf, width=250))
    out = buf.getvalue()
    assert "&obj_hash[i].lock @0x10" in out and "run r[1]" in out, out
    assert "event kinds" in out and "contended wait ms" in out and "2.500" in out, out


# --- run id, exit status, input, --output, closed pipe, signals (user-facing fixes) ------------------

def test_taken_run_id_refused_before_tracing(monkeypatch, capsys, tmp_path):
    """A --run-id the database already holds is refused before anything is traced, not after."""
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    monkeypatch.setattr(cli, "run_checks", lambda **_: pytest.fail("reached the backend choice"))
    db = tmp_path / "t.duckdb"
    con = connect(db)
    write_run(con, _run("X"), [ROW], [FRAME], [])
    con.close()
    assert cli.main(["--db", str(db), "--run-id", "X", "--workload", "w", "--", "true"]) == 2
    err = capsys.readouterr().err
    assert "--run-id X: already exists" in err and "nothing traced" in err and len(err.splitlines()) == 1


def test_run_id_taken_meanwhile_goes_to_the_side_file(tmp_path):
    """Taken between the check and the write: the capture is kept in the side file, with an error."""
    from types import SimpleNamespace
    db = tmp_path / "t.duckdb"
    con = connect(db)
    write_run(con, _run("X"), [ROW], [FRAME], [])
    con.close()
    rows = SimpleNamespace(lock_events=[ROW, ROW], stack_frames=[FRAME], trace_events=[], cgroups=[])
    with pytest.raises(cli.UsageError, match="already exists.*pending.duckdb"):
        cli.store_run(db, _run("X"), rows, 0, say=print, after=None)
    side = side_file_for(db, "X")
    con = connect(side, read_only=True)
    assert con.execute("SELECT count(*) FROM lock_events WHERE run_id = 'X'").fetchone()[0] == 2
    con.close()


def test_command_status_as_time_and_strace_pass_it_on():
    assert cli.command_status(0) == (0, "command exited with status 0")
    assert cli.command_status(3) == (3, "command exited with status 3")
    assert cli.command_status(-9) == (137, "command killed by signal 9")


@pytest.mark.parametrize("args,message", [
    (["--duration", "nan"], "--duration nan: must be a finite"),
    (["--duration", "inf"], "--duration inf: must be a finite"),
    (["--duration", "1", "--db-wait", "-5"], "--db-wait -5: must be"),
    (["--duration", "1", "--output", "/no/such/folder/s.json"], "--output"),
])
def test_endless_or_negative_times_refused_before_tracing(monkeypatch, capsys, tmp_path, args, message):
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    monkeypatch.setattr(cli, "run_checks", lambda **_: pytest.fail("reached the backend choice"))
    assert cli.main(["--workload", "w", "--db", str(tmp_path / "t.duckdb"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1


def test_start_message_says_what_ends_the_run():
    assert cli.start_message("contention", None, None, 2) == \
        "lima-trace: tracing with contention for 2 s (Ctrl-C stops early)"
    assert cli.start_message("contention", None, None, None) == \
        "lima-trace: tracing with contention until Ctrl-C"
    assert cli.start_message("contention", "sh", 7, None) == \
        "lima-trace: tracing with contention, command sh (pid 7) until it ends (Ctrl-C stops early)"


def test_json_and_csv_summary_rows_name_the_run():
    import csv as _csv
    import json as _json

    from lima.tracer.report import render_summary
    row = {"lock_addr": 0x10, "lock_name": "l", "stack_id": None, "count": 4, "event": "contended",
           "wait_ns_total": 1, "lock_type": "spinlock", "cgroup_id": None}
    run = {"run_id": "r1", "backend": "contention", "duration_s": 1.0, "events_lost": 0, "stacks_lost": 0,
           "irq_events": 0, "notes": None}
    summary = summarize([row], [])
    assert _json.loads(render_summary(run, summary, "json"))["top"][0]["run_id"] == "r1"
    rows = list(_csv.DictReader(render_summary(run, summary, "csv").splitlines()))
    assert rows[0]["run_id"] == "r1" and rows[0]["events"] == "4"


def test_check_into_a_closed_pipe_is_quiet():
    """lima-trace --check --format json | head: no BrokenPipeError traceback."""
    p = subprocess.Popen([sys.executable, "-m", "lima.tracer.cli", "--check", "--format", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.close()   # the reader is gone before lima-trace writes
    err = p.stderr.read()
    assert p.wait(timeout=60) in (0, 1) and "Traceback" not in err and "BrokenPipe" not in err, err


def test_forked_command_does_not_run_lima_trace_handlers():
    """Ctrl-C (to the process group) while the command waits to be released: the child dies of it
    quietly instead of running lima-trace's KeyboardInterrupt handling (a second message)."""
    script = textwrap.dedent("""
        import os, signal, sys, time
        from lima.tracer import cli
        pid, w = cli.start_command(["true"])
        time.sleep(0.3)
        os.kill(pid, signal.SIGINT)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() in ("-2", "127") and out.stderr == "", out.stderr
