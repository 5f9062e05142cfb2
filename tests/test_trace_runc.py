"""lima-trace on a real runc container (Debian's runc, a busybox-static rootfs): traced by --container,
which finds the container's cgroup v2, only the container's processes are counted, not a host process
doing the same work at the same time (lima-trace --mmap-lock: every mmap_lock acquisition counted)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from conftest import ROOT, require_real
from test_trace_real import LIMA_TRACE, mmap_threads, tids, writes_per_thread  # noqa: F401  (fixture)

pytestmark = pytest.mark.root
N = 1500


def _bundle(tmp: Path, exe: Path, go: Path) -> Path:
    """A runc bundle: busybox-static + the static mmap_threads, read-only root, /go bound from go."""
    busybox = shutil.which("busybox")
    if not busybox:
        require_real("busybox-static is not installed")
    bundle = tmp / "bundle"
    (bundle / "rootfs" / "bin").mkdir(parents=True)
    (bundle / "rootfs" / "go").mkdir()
    shutil.copy(busybox, bundle / "rootfs" / "bin" / "busybox")
    for applet in ("sh", "sleep", "touch"):
        (bundle / "rootfs" / "bin" / applet).symlink_to("busybox")
    shutil.copy(exe, bundle / "rootfs" / "bin" / "mmap_threads")
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    spec = json.loads((bundle / "config.json").read_text())
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["/bin/sh", "-c", "while [ ! -e /go/go ]; do sleep 0.05; done; "
                               f"/bin/mmap_threads 2 {N} > /go/out; touch /go/done"]
    spec["root"]["readonly"] = True
    spec["mounts"].append({"destination": "/go", "type": "bind", "source": str(go),
                           "options": ["rbind", "rw"]})
    (bundle / "config.json").write_text(json.dumps(spec))
    return bundle


def _wait_for(path: Path, seconds: float) -> None:
    end = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < end, f"{path} did not appear in {seconds}s"
        time.sleep(0.05)


def test_runc_container_only_its_processes(mmap_threads, tmp_path):  # noqa: F811
    if not shutil.which("runc"):
        require_real("runc is not installed")
    go = tmp_path / "go"
    go.mkdir()
    bundle = _bundle(tmp_path, mmap_threads, go)
    cid = f"lima-test-{os.getpid()}"
    db = tmp_path / "t.duckdb"
    tracer = None
    try:
        # the container's process inherits runc's stdio: no pipe, or run -d would never see EOF
        with open(tmp_path / "runc.log", "w") as log:
            subprocess.run(["runc", "run", "-d", "--bundle", str(bundle), cid], check=True, timeout=30,
                           stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        tracer = subprocess.Popen([*LIMA_TRACE, "--db", str(db), "--runtime", "runc", "--workload", "mmap",
                                   "--container", cid, "--duration", "60", "--run-id", "rc", "--no-summary",
                                   "--mmap-lock"],
                                  stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT)
        while "tracing with" not in (line := tracer.stderr.readline()):
            assert line, "lima-trace ended before tracing"
        host = subprocess.Popen([str(mmap_threads), "2", str(N)], stdout=subprocess.PIPE, text=True)
        (go / "go").touch()
        _wait_for(go / "done", 60)
        host_out, _ = host.communicate(timeout=60)
        tracer.send_signal(signal.SIGTERM)
        err = tracer.stderr.read()
        assert tracer.wait(timeout=30) == 0, err
    finally:
        if tracer is not None and tracer.poll() is None:
            tracer.kill()
        subprocess.run(["runc", "delete", "-f", cid], capture_output=True, timeout=30)
    con = duckdb.connect(str(db), read_only=True)
    runtime, filters = con.execute("SELECT runtime, filters FROM trace_runs").fetchone()
    filters = json.loads(filters)
    assert runtime == "runc" and filters["container"] == cid and filters["cgroup"].endswith(cid)
    # every counted event ran in the container's cgroup
    assert {r[0] for r in con.execute("SELECT DISTINCT cgroup_id FROM lock_events").fetchall()} == {
        filters["cgroup_id"]}
    # the container's two workers, each exactly N mmap and N munmap write acquisitions of mmap_lock ...
    counts = writes_per_thread(con, "rc")
    workers = {pid: n for pid, n in counts.items() if n >= 2 * N}
    assert sorted(workers.values()) == [2 * N, 2 * N]
    assert len(re.findall(r"^tid \d+$", (go / "out").read_text(), re.M)) == 2
    # ... and none of the host process doing the same thing at the same time
    host_tids = set(tids(host_out))
    assert len(host_tids) == 2 and not host_tids & set(counts)
    host_pid = host.pid
    assert con.execute("SELECT count(*) FROM lock_events WHERE tgid = ?", [host_pid]).fetchone()[0] == 0
