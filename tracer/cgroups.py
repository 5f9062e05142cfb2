"""From what the user names (a cgroup path, a container id) to the cgroup v2 id and level that the BPF
filter compares with bpf_get_current_ancestor_cgroup_id(level).

The cgroup v2 id of a cgroup is the inode number of its directory in the cgroup2 mount (kernfs node
id), and its level is its depth below the root.  A container's processes, a gVisor runsc sandbox
(its sentry and gofer) and a Firecracker VMM all live in one cgroup, so one filter covers them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CgroupError", "Cgroup", "cgroup2_mount", "cgroup_of_path", "cgroup_of_pid",
           "cgroup_of_container", "cgroup_paths"]


class CgroupError(Exception):
    """The cgroup or container cannot be found."""


@dataclass(frozen=True)
class Cgroup:
    """A cgroup v2 directory, its id (inode) and level (depth under the root)."""

    path: Path
    id: int
    level: int


def cgroup2_mount() -> Path:
    """Mount point of the cgroup v2 hierarchy (/sys/fs/cgroup, or /sys/fs/cgroup/unified in hybrid mode)."""
    with open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 2 and parts[2] == "cgroup2":
                return Path(parts[1])
    raise CgroupError("no cgroup v2 hierarchy is mounted (bpf_get_current_cgroup_id needs one)")


def cgroup_of_path(path: str | Path) -> Cgroup:
    """The cgroup at a path, absolute or relative to the cgroup v2 mount."""
    root = cgroup2_mount()
    p = Path(path)
    if not p.is_absolute() or not p.is_relative_to(root):
        p = root / str(path).lstrip("/")
    if not p.is_dir():
        raise CgroupError(f"{path}: no such cgroup under {root}")
    rel = p.relative_to(root)
    level = 0 if str(rel) == "." else len(rel.parts)
    return Cgroup(p, os.stat(p).st_ino, level)


def cgroup_of_pid(pid: int) -> Cgroup:
    """The cgroup v2 cgroup of a process (the 0:: line of /proc/PID/cgroup)."""
    try:
        text = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        raise CgroupError(f"process {pid} does not exist") from None
    for line in text.splitlines():
        if line.startswith("0::"):
            return cgroup_of_path(line[3:])
    raise CgroupError(f"process {pid} has no cgroup v2 entry in /proc/{pid}/cgroup")


def _runtime_state_pid(container: str) -> int | None:
    """Init pid of a runc / runsc / crun container through `<runtime> state ID` (default roots)."""
    for tool in ("runc", "runsc", "crun"):
        exe = shutil.which(tool)
        if not exe:
            continue
        try:
            out = subprocess.run([exe, "state", container], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0:
            try:
                pid = int(json.loads(out.stdout).get("pid") or 0)
            except (ValueError, AttributeError):
                continue
            if pid > 0:
                return pid
    return None


def cgroup_of_container(container: str) -> Cgroup:
    """The cgroup of a container: a cgroup directory named after its id (docker-<id>.scope,
    cri-containerd-<id>.scope, docker/<id>, ...; a unique prefix of 12+ characters is enough), else
    the cgroup of its init process as `runc|runsc|crun state ID` reports it."""
    root = cgroup2_mount()
    if len(container) >= 12:
        hits = []
        for dirpath, dirnames, _ in os.walk(root):
            for d in dirnames:
                if container in d:
                    hits.append(Path(dirpath) / d)
            if len(hits) > 1:
                break
        if len(hits) == 1:
            return cgroup_of_path(hits[0])
        if len(hits) > 1:
            raise CgroupError(f"container {container}: several cgroups match ({hits[0]}, {hits[1]}); "
                              "give more of the id or --cgroup PATH")
    pid = _runtime_state_pid(container)
    if pid is None:
        raise CgroupError(f"container {container}: no cgroup named after it under {root} and no runtime "
                          "(runc, runsc, crun) knows it; give --cgroup PATH or --pid")
    return cgroup_of_pid(pid)


def cgroup_paths(ids: set[int]) -> dict[int, str]:
    """Path under the cgroup v2 mount ('/' for the root) of each of these cgroup ids that still exists,
    found in one walk of the mount (stopped once every id is found)."""
    try:
        root = cgroup2_mount()
    except (CgroupError, OSError):
        return {}
    todo, out = set(ids), {}
    for dirpath, _dirnames, _ in os.walk(root):
        try:
            ino = os.stat(dirpath).st_ino
        except OSError:   # removed during the walk
            continue
        if ino in todo:
            rel = Path(dirpath).relative_to(root)
            out[ino] = "/" if str(rel) == "." else f"/{rel}"
            todo.discard(ino)
            if not todo:
                break
    return out
