"""What this kernel allows the tracer to do (lima-trace --check), and which backend `auto` picks.

Every answer is found by trying or by presence (a file, a tracepoint, a BTF function), never by the
kernel version number.
"""

from __future__ import annotations

import os
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lima.tracer.btf import BtfError, load_vmlinux_btf

__all__ = ["Check", "run_checks", "tracefs_root", "mount_tracefs", "TRACEFS_ROOTS", "FENTRY_PROBE"]

TRACEFS_ROOTS = (Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing"))
CONTENTION_TPS = ("lock:contention_begin", "lock:contention_end")
MMAP_LOCK_TPS = ("mmap_lock:mmap_lock_acquire_returned",)   # lima-trace --mmap-lock
LOCKDEP_FUNCS = ("lock_acquire", "lock_release", "lock_contended")
# a tiny fentry program, loaded and attached for real to learn whether fentry is allowed here
FENTRY_PROBE = "KFUNC_PROBE(vfs_read, void *file) { return 0; }"


@dataclass
class Check:
    """Findings, then the backend auto picks and why each backend is or is not usable."""

    items: list[tuple[str, bool, str]] = field(default_factory=list)
    usable: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    auto: str | None = None
    mmap_lock: bool = False

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.items.append((name, ok, detail))
        return ok

    def as_dict(self) -> dict:
        return {"checks": [{"check": n, "ok": ok, "detail": d} for n, ok, d in self.items],
                "usable": self.usable, "refused": self.refused, "auto": self.auto}


def tracefs_root() -> Path | None:
    """Where the tracing events directory is, if mounted."""
    for root in TRACEFS_ROOTS:
        try:
            if (root / "events").is_dir():
                return root
        except OSError:   # not root: tracefs is mode 0700
            continue
    return None


def mount_tracefs() -> Path | None:
    """Mount tracefs at /sys/kernel/tracing when it is not mounted (root only); the mount stays."""
    root = tracefs_root()
    if root is None and os.geteuid() == 0 and TRACEFS_ROOTS[0].is_dir():
        os.system("mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null")
        root = tracefs_root()
    return root


def tracepoint_exists(root: Path | None, tp: str) -> bool:
    """True when category:event exists under tracefs."""
    if root is None:
        return False
    cat, ev = tp.split(":")
    try:
        return (root / "events" / cat / ev / "format").is_file()
    except OSError:
        return False


def _try_fentry() -> tuple[bool, str]:
    """Load and attach a trivial fentry program; report the kernel's answer."""
    try:
        from bcc import BPF
    except ImportError as e:
        return False, f"bcc not importable: {e}"
    err = tempfile.TemporaryFile()
    saved = os.dup(2)
    os.dup2(err.fileno(), 2)   # libbpf prints the kernel's answer on fd 2
    try:
        b = BPF(text=FENTRY_PROBE.encode())
        b.cleanup()
        return True, "fentry program loaded and attached (vfs_read)"
    except Exception as e:   # bcc raises plain Exception
        err.seek(0)
        said = [ln for ln in err.read().decode(errors="replace").splitlines() if ln.strip()]
        kernel = said[-1].strip() if said else ""
        msg = str(e).strip().splitlines()[-1]
        if "super-user" in msg and os.geteuid() == 0:
            msg = "the kernel refused the fentry program although running as root (EPERM)"
        return False, f"{msg}{': ' + kernel if kernel else ''}"[:200]
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        err.close()


def run_checks(try_fentry: bool | str = True) -> Check:
    """Probe the machine; fill which backends are usable and which one auto picks.
    try_fentry: True, False, or "auto" (only when it can change auto's choice: the kernel has lockdep,
    or no contention tracepoints); loading the probe program costs about a second."""
    c = Check()
    release = platform.release()
    root = c.add("root", os.geteuid() == 0, "running as root" if os.geteuid() == 0
                 else "not root: BPF programs and tracepoints need root")
    try:
        import bcc  # noqa: F401
        has_bcc = c.add("bcc", True, "python3 bcc importable")
    except ImportError as e:
        has_bcc = c.add("bcc", False, f"cannot import bcc ({e}); apt-get install python3-bpfcc")
    build = Path("/lib/modules") / release / "build"
    headers = c.add("headers", build.exists(),
                    f"{build} -> {os.path.realpath(build)}" if build.exists()
                    else f"{build} missing: bcc cannot compile (bash run.sh setup links the Debian headers)")
    tfs = mount_tracefs() if root else tracefs_root()
    c.add("tracefs", tfs is not None,
          str(tfs) if tfs else "tracefs not mounted or not readable (root mounts it)")
    btf = None
    try:
        btf = load_vmlinux_btf()
        c.add("btf", True, f"/sys/kernel/btf/vmlinux: {len(btf.functions)} functions")
    except BtfError as e:
        c.add("btf", False, f"no kernel BTF ({e}): fentry impossible")
    lockdep_funcs = bool(btf) and all(btf.has_function(f) for f in LOCKDEP_FUNCS)
    c.add("lockdep", lockdep_funcs, "lock_acquire/lock_release/lock_contended present (CONFIG_LOCKDEP)"
          if lockdep_funcs else "no lock_acquire in BTF: kernel built without CONFIG_LOCKDEP")
    tps = all(tracepoint_exists(tfs, t) for t in CONTENTION_TPS)
    fentry_ok, fentry_why = False, "not tried (needs root, bcc, headers and BTF)"
    if try_fentry == "auto" and not lockdep_funcs and tps:
        try_fentry, fentry_why = False, "not tried (auto does not need it here; lima-trace --check tries)"
    if try_fentry and root and has_bcc and headers and btf is not None:
        fentry_ok, fentry_why = _try_fentry()
    c.add("fentry", fentry_ok, fentry_why)
    c.add("contention tracepoints", tps, "lock:contention_begin/end present" if tps
          else "no lock:contention_begin/end (kernel < 5.19, or tracefs missing or unreadable)")
    c.mmap_lock = all(tracepoint_exists(tfs, t) for t in MMAP_LOCK_TPS)
    c.add("mmap_lock tracepoints", c.mmap_lock,
          "mmap_lock:mmap_lock_acquire_returned present: --mmap-lock counts every mmap_lock acquisition"
          if c.mmap_lock else "no mmap_lock:mmap_lock_acquire_returned tracepoint (--mmap-lock needs it)")
    base = [n for n, ok in (("root", root), ("bcc", has_bcc), ("headers", headers)) if not ok]
    base_why = f"missing: {', '.join(base)}" if base else ""

    def decide(name: str, needs: list[tuple[bool, str]], ok_why: str) -> None:
        missing = [why for ok, why in needs if not ok]
        if base_why:
            missing.insert(0, base_why)
        if missing:
            c.refused[name] = "; ".join(missing)
        else:
            c.usable[name] = ok_why

    decide("lockdep", [(lockdep_funcs, "kernel has no lockdep (lock_acquire absent from BTF)"),
                       (fentry_ok, f"fentry refused: {fentry_why}")],
           "every acquisition with its lockdep class name")
    decide("contention", [(tps, "no lock:contention_begin/end tracepoints")],
           "contended lock waits with wait times and stacks"
           + ("; every mmap_lock acquisition with --mmap-lock" if c.mmap_lock else ""))
    decide("primitives", [(btf is not None, "no kernel BTF"), (fentry_ok, f"fentry refused: {fentry_why}")],
           "every call of a lock primitive (no names)")
    for name in ("lockdep", "contention", "primitives"):
        if name in c.usable:
            c.auto = name
            break
    return c
