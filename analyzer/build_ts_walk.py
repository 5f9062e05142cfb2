"""Build the C tree walker (analyzer/ts_walk.c) into lima.analyzer._ts_walk.

The walker reads the trees of the installed py-tree-sitter, so it is compiled with the tree-sitter runtime
of exactly that release, taken from its source distribution on PyPI (downloaded once into CACHE, not
kept in git). Needs gcc and the Python headers (apt-packages.txt). run.sh runs it after pip install:

    python -m lima.analyzer.build_ts_walk [--cache DIR] [--force]

Exit status 0 when the module is built (or already built for this release and source), 1 with one line
on stderr saying what is missing otherwise (run.sh stops there). lima-index itself, when the module is
missing, stale or built for another tree-sitter, warns and runs tree-sitter's query cursor instead.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "ts_walk.c"


def target() -> Path:
    """Where the built module goes (beside this file, so that the editable install imports it)."""
    return HERE / ("_ts_walk" + sysconfig.get_config_var("EXT_SUFFIX"))


def source_digest() -> str:
    """Digest of ts_walk.c, compiled into the module (SOURCE_DIGEST) so that a stale build is noticed."""
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]


def _stamp(version: str) -> str:
    return f"{source_digest()} {version}"


def sdist(version: str, cache: Path) -> Path:
    """tree-sitter VERSION's source distribution from PyPI, downloaded once into CACHE (its path)."""
    cache.mkdir(parents=True, exist_ok=True)
    kept = cache / f"tree-sitter-{version}.tar.gz"
    if kept.is_file():
        return kept
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
               "--no-build-isolation", "-d", tmp, f"tree-sitter=={version}"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pip download tree-sitter=={version} (sdist) failed: "
                               f"{done.stderr.strip().splitlines()[-1:] or done.returncode}")
        found = sorted(Path(tmp).glob("tree[-_]sitter-*.tar.gz"))
        if not found:
            raise RuntimeError(f"pip download tree-sitter=={version} left no sdist")
        os.replace(found[0], kept)
    return kept


def unpack(tarball: Path, dest: Path, inside: str = "") -> Path:
    """Unpack the regular files of an sdist whose path contains INSIDE into DEST; returns its top folder."""
    with tarfile.open(tarball) as tf:
        members = [m for m in tf.getmembers() if inside in m.name and m.isreg()
                   and not m.name.startswith("/") and ".." not in Path(m.name).parts]
        tf.extractall(dest, members=members)  # regular files inside the sdist's folder only
    tops = {Path(m.name).parts[0] for m in members}
    if len(tops) != 1:
        raise RuntimeError(f"{tarball.name}: not one top folder")
    return dest / tops.pop()


def runtime_source(version: str, cache: Path) -> Path:
    """The tree-sitter runtime (lib/) of VERSION's sdist, downloaded and unpacked under CACHE."""
    lib = cache / f"tree-sitter-{version}" / "tree_sitter" / "core" / "lib"
    if (lib / "src" / "lib.c").is_file():
        return lib
    tarball = sdist(version, cache)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        unpacked = unpack(tarball, Path(tmp), "/tree_sitter/core/lib/")
        shutil.rmtree(cache / f"tree-sitter-{version}", ignore_errors=True)
        unpacked.rename(cache / f"tree-sitter-{version}")
    return lib


def build(cache: Path, force: bool = False) -> Path:
    """Compile ts_walk.c with the runtime of the installed tree-sitter; returns the module's path."""
    version = metadata.version("tree-sitter")
    out = target()
    stamp_file = out.with_suffix(".stamp")
    if not force and out.is_file() and stamp_file.is_file() and stamp_file.read_text() == _stamp(version):
        return out
    cc = shutil.which(os.environ.get("CC", "gcc"))
    if cc is None:
        raise RuntimeError("no C compiler (apt install gcc)")
    include = sysconfig.get_paths()["include"]
    if not Path(include, "Python.h").is_file():
        raise RuntimeError(f"no Python.h in {include} (apt install python3-dev)")
    lib = runtime_source(version, cache)
    tmp = out.with_name(out.name + ".partial")
    cmd = [cc, "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-std=c11", "-D_DEFAULT_SOURCE",
           f'-DLIMA_TS_VERSION="{version}"', f'-DLIMA_TS_SOURCE="{source_digest()}"',
           f"-I{lib / 'include'}", f"-I{lib / 'src'}", f"-I{include}",
           str(SOURCE), str(lib / "src" / "lib.c"), "-o", str(tmp)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"{cc} failed:\n{done.stderr.strip()}")
    os.replace(tmp, out)
    stamp_file.write_text(_stamp(version))
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: build the walker, print where it went."""
    ap = argparse.ArgumentParser(prog="python -m lima.analyzer.build_ts_walk",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=Path(".cache/sdist"),
                    help="where the tree-sitter sdist is downloaded and unpacked (default: .cache/sdist)")
    ap.add_argument("--force", action="store_true", help="rebuild even if built for this release")
    args = ap.parse_args(argv)
    try:
        path = build(args.cache.resolve(), args.force)
    except (RuntimeError, OSError, tarfile.TarError) as e:
        print(f"build_ts_walk: {e}", file=sys.stderr)
        return 1
    print(f"build_ts_walk: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
