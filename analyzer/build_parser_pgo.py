"""Rebuild the installed tree-sitter runtime with profile-guided optimization (PGO), trained on kernel C.

tree-sitter's wheel is compiled once for every machine, without knowing which branches of its parser
loop are hot. Compiled here with gcc's PGO (-fprofile-generate, a training run that parses a sample of
the kernel tree as lima-index does, then -fprofile-use), the same runtime parses the kernel about 20%
faster (bench/parser_pgo.py; most of lima-index's time is tree-sitter's parse). The trees are the same:
only the machine code differs. run.sh runs it once the kernel source is unpacked:

    python -m lima.analyzer.build_parser_pgo --train SRC [--cache DIR] [--force]

It replaces the tree-sitter of this environment with a wheel built from the same release's sdist (kept
in CACHE), and writes a stamp beside the binding naming the build (lima-index records it as meta
`parser_build`). Exit status 0
when built (or already built for this release and binding), 1 with one line on stderr otherwise; the
PyPI wheel then stays installed, and lima-index works as before, only slower.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

from lima.analyzer.build_ts_walk import sdist, unpack

#: gcc flags of both builds, and of each (the profile directory is added per run).
CFLAGS = "-O3 -march=native"
GENERATE = "-fprofile-generate -fprofile-update=single"
USE = "-fprofile-use -fprofile-partial-training -Wno-missing-profile"
#: Training sample: every TRAIN_STRIDE-th .c/.h file of the tree (sorted), at most TRAIN_BYTES.
TRAIN_STRIDE = 20
TRAIN_BYTES = 48 * 1024 * 1024

# Run in a child with the instrumented build first on sys.path: parse each file as lima-index's workers
# do (kernel annotations blanked, loop macros rewritten: Extractor.parse).
_TRAIN = """
import sys
from lima.analyzer.extract import Extractor, needs_parse
import tree_sitter
assert tree_sitter.__file__.startswith(sys.argv[1]), tree_sitter.__file__
ex = Extractor(walker=False)
for path in sys.argv[2:]:
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\\0" not in raw and needs_parse(raw):
        ex.parse(raw)
"""


def _binding() -> Path:
    """The installed tree-sitter binding (its compiled module)."""
    files = metadata.distribution("tree-sitter").files or []
    for f in files:
        if f.name.startswith("_binding") and f.suffix == ".so":
            return Path(f.locate()).resolve()
    raise RuntimeError("the installed tree-sitter has no compiled _binding module")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def stamp_path() -> Path:
    """The stamp naming the PGO build: beside the installed binding."""
    return _binding().with_name("lima-pgo.json")


def installed_build() -> dict | None:
    """The stamp of the PGO build, when it is the tree-sitter installed now; else None (the PyPI wheel,
    or a build since replaced by pip)."""
    try:
        stamp = json.loads(stamp_path().read_text())
        return stamp if stamp.get("binding") == _digest(_binding()) else None
    except (OSError, ValueError, RuntimeError, metadata.PackageNotFoundError):
        return None


def training_files(src: Path) -> list[Path]:
    """Every TRAIN_STRIDE-th .c/.h file under SRC in path order, up to TRAIN_BYTES."""
    files = sorted(p for p in src.rglob("*.[ch]") if p.is_file())
    out, total = [], 0
    for p in files[::TRAIN_STRIDE]:
        out.append(p)
        total += p.stat().st_size
        if total >= TRAIN_BYTES:
            break
    return out


def _pip(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise RuntimeError(f"{what} failed: {' / '.join(tail) or done.returncode}")


def build(train: Path, cache: Path, force: bool = False) -> dict:
    """Build, train, rebuild and install tree-sitter with PGO; returns the stamp written."""
    version = metadata.version("tree-sitter")
    done = installed_build()
    if not force and done is not None and done.get("version") == version and done.get("cflags") == CFLAGS:
        return done
    if shutil.which(os.environ.get("CC", "gcc")) is None:
        raise RuntimeError("no C compiler (apt install gcc)")
    files = training_files(train)
    if not files:
        raise RuntimeError(f"{train}: no .c/.h files to train on")
    tarball = sdist(version, cache)
    with tempfile.TemporaryDirectory(prefix="lima-pgo-") as tmp_name:
        tmp = Path(tmp_name)
        src = unpack(tarball, tmp / "src")
        profile = tmp / "profile"
        # both builds compile in SRC/build, so the profile's file names (from the object paths) match
        env = {**os.environ, "CFLAGS": f"{CFLAGS} {GENERATE} -fprofile-dir={profile}",
               "LDFLAGS": "-fprofile-generate"}
        _pip(["install", "-q", "--no-deps", "--no-build-isolation", "--target", str(tmp / "gen"), str(src)],
             env, "the instrumented build")
        child_env = {**os.environ, "PYTHONPATH": str(tmp / "gen")}
        ran = subprocess.run([sys.executable, "-c", _TRAIN, str(tmp / "gen"), *map(str, files)],
                             capture_output=True, text=True, env=child_env)
        if ran.returncode != 0:
            raise RuntimeError(f"the training run failed: {ran.stderr.strip().splitlines()[-1:]}")
        if not any(profile.rglob("*lib.gcda")):
            raise RuntimeError(f"the training run left no profile of the runtime in {profile}")
        shutil.rmtree(src / "build")
        env["CFLAGS"] = f"{CFLAGS} {USE} -fprofile-dir={profile}"
        env.pop("LDFLAGS")
        _pip(["wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp / "wheel"), str(src)],
             env, "the optimized build")
        wheels = sorted((tmp / "wheel").glob("tree_sitter-*.whl"))
        if not wheels:
            raise RuntimeError("the optimized build left no wheel")
        _pip(["install", "-q", "--no-deps", "--force-reinstall", str(wheels[0])], dict(os.environ),
             "installing the optimized build")
    stamp = {"version": version, "cflags": CFLAGS, "binding": _digest(_binding()),
             "trained_on": f"{len(files)} files of {train.resolve()}",
             "training_bytes": sum(p.stat().st_size for p in files)}
    stamp_path().write_text(json.dumps(stamp, indent=1) + "\n")
    return stamp


def describe() -> str:
    """One line for meta `parser_build`: the PGO build installed, or the PyPI wheel."""
    stamp = installed_build()
    if stamp is None:
        return "tree-sitter wheel from PyPI"
    return (f"tree-sitter {stamp['version']} built here with PGO ({stamp['cflags']}, trained on "
            f"{stamp['trained_on']})")


def main(argv: list[str] | None = None) -> int:
    """Command line: build and install, print the stamp."""
    ap = argparse.ArgumentParser(prog="python -m lima.analyzer.build_parser_pgo",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=Path, required=True,
                    help=f"a kernel source tree to train on (every {TRAIN_STRIDE}th .c/.h file)")
    ap.add_argument("--cache", type=Path, default=Path(".cache/sdist"),
                    help="where the tree-sitter sdist is kept (default: .cache/sdist)")
    ap.add_argument("--force", action="store_true", help="rebuild even if built for this release")
    args = ap.parse_args(argv)
    if not args.train.is_dir():
        print(f"build_parser_pgo: {args.train}: not a directory", file=sys.stderr)
        return 1
    try:
        stamp = build(args.train.resolve(), args.cache.resolve(), args.force)
    except (RuntimeError, OSError, tarfile.TarError) as e:
        print(f"build_parser_pgo: {e}", file=sys.stderr)
        return 1
    print(f"build_parser_pgo: tree-sitter {stamp['version']} with PGO, trained on {stamp['trained_on']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
