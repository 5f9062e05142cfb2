"""tree-sitter's parse time with the PyPI wheel and with the PGO build run.sh installs, side by side.

analyzer/build_parser_pgo.py rebuilds tree-sitter's runtime with gcc's profile-guided optimization,
trained on every 20th .c/.h file of the kernel tree. This parses the same files with both builds, each in
a child process (one core), as lima-index's workers do (Extractor.parse: annotations blanked, loop macros
rewritten, then tree-sitter), checks that both give the same trees (their S-expressions' digest), and
prints the CPU seconds of the parses alone. The wheel is downloaded from PyPI into a temporary folder.

    .venv/bin/python bench/parser_pgo.py [SRC] [--only kernel mm fs net]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from lima.analyzer.build_parser_pgo import describe

# In the child: parse every file, report the parse CPU time, bytes and a digest of the trees.
_CHILD = """
import hashlib, json, sys, time
import tree_sitter
from lima.analyzer.extract import Extractor, needs_parse
ex = Extractor(walker=False)
srcs = []
for path in sys.argv[1:]:
    raw = open(path, "rb").read()
    if b"\\0" in raw or not needs_parse(raw):
        continue
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        continue
    srcs.append(ex.parse(raw)[0])
digest = hashlib.sha256()
cpu = 0.0
for src in srcs:
    t0 = time.process_time()
    tree = ex.parser.parse(src)
    cpu += time.process_time() - t0
    digest.update(str(tree.root_node).encode())
print(json.dumps({"binding": tree_sitter.__file__, "cpu": cpu, "bytes": sum(map(len, srcs)),
                  "files": len(srcs), "trees": digest.hexdigest()[:16]}))
"""


def _run(files: list[str], pythonpath: str | None) -> dict:
    env = None if pythonpath is None else {**os.environ, "PYTHONPATH": pythonpath}
    done = subprocess.run([sys.executable, "-c", _CHILD, *files], capture_output=True, text=True, env=env,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"parser_pgo: the parse run failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", nargs="?", type=Path, default=Path(".cache/linux-source-6.1"))
    ap.add_argument("--only", nargs="+", default=["kernel", "mm", "fs", "net"],
                    help="subfolders of SRC to parse (default: %(default)s)")
    args = ap.parse_args(argv)
    files = sorted(str(p) for d in args.only for p in (args.src / d).rglob("*.[ch]") if p.is_file())
    if not files:
        print(f"parser_pgo: no .c/.h files under {args.src} {' '.join(args.only)}", file=sys.stderr)
        return 2
    print(f"installed: {describe()}")
    version = metadata.version("tree-sitter")
    with tempfile.TemporaryDirectory(prefix="lima-wheel-") as tmp:
        pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--only-binary=:all:", "--target"]
        got = subprocess.run([*pip, tmp, f"tree-sitter=={version}"], capture_output=True, text=True)
        if got.returncode != 0:
            print(f"parser_pgo: could not fetch the tree-sitter {version} wheel: {got.stderr.strip()[-300:]}",
                  file=sys.stderr)
            return 1
        rows = [("PyPI wheel", _run(files, tmp)), ("installed build", _run(files, None))]
    base = rows[0][1]["cpu"]
    print(f"{len(files)} files under {args.src} ({' '.join(args.only)}), "
          f"{rows[0][1]['bytes'] / 1e6:.0f} MB parsed by each")
    print(f"{'build':<16} {'parse CPU s':>11} {'ns/byte':>8} {'vs wheel':>9}  trees")
    for name, r in rows:
        print(f"{name:<16} {r['cpu']:>11.2f} {r['cpu'] / r['bytes'] * 1e9:>8.1f} {r['cpu'] / base:>8.2f}x"
              f"  {r['trees']}")
    if rows[0][1]["trees"] != rows[1][1]["trees"]:
        print("parser_pgo: the two builds gave different trees", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
