#!/usr/bin/env python3
"""Which .c files LIMA says Debian's 6.1 configuration compiles, against what Debian's build compiled.

Outside truth (nothing of LIMA is used to build it): the compile units of Debian's v6.1 kernel image,
vmlinux and its ~4,000 modules in linux-image-<abi>-dbg (DW_AT_name of each DW_TAG_compile_unit, read
with `readelf --debug-dump=info --dwarf-depth=1`, paths made relative to the tree and normalised;
generated files such as the modules' *.mod.c are not in the tree and are left out). The list is cached
as .cache/btf/dwarf_compile_units.tsv (the package is fetched and unpacked as by bench/lock_recall.py).

LIMA's side is analyzer/kbuild.py run on the tree (the built-in Debian amd64 configuration, which is
/boot/config-<abi> of the same image), timed. A .c file that Debian compiled must be said built; one
it did not compile must be said not built, unless a compiled file #includes it (it is compiled inside
that unit and has none of its own: counted apart). Open verdicts (a lock-debugging option decides) are
counted apart too. Prints the counts and every disagreement; --format json for a program.

Usage:
  .venv/bin/python bench/kbuild_vs_dwarf.py [--src TREE] [--abi 6.1.0-56-amd64] [--format text|json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lock_recall import CACHE, DEFAULT_ABI, KSRC, UserError, atomic_tsv, ensure_unpacked, read_tsv, run  # noqa: E402

# "DW_AT_name        : (indirect line string, offset: 0xfb): arch/x86/kernel/head64.c"
_NAME = re.compile(r"DW_AT_name\s*:\s*(?:\([^)]*\):\s*)?(\S.*)$")
_DIR = re.compile(r"DW_AT_comp_dir\s*:\s*(?:\([^)]*\):\s*)?(\S.*)$")


def compile_units(job: tuple[str, str]) -> list[tuple[str, str]]:
    """(object, source path) of each compile unit of one ELF file, relative to its compilation directory."""
    path, label = job
    out = run(["readelf", "--debug-dump=info", "--dwarf-depth=1", path]).stdout
    units: list[dict[str, str]] = []
    for line in out.splitlines():
        if "DW_TAG_compile_unit" in line:
            units.append({})
        elif units:
            for key, pattern in (("name", _NAME), ("dir", _DIR)):
                m = pattern.search(line)
                if m and key not in units[-1]:
                    units[-1][key] = m.group(1).strip()
    rows = []
    for u in units:
        name = u.get("name")
        if not name:
            continue
        comp_dir = u.get("dir", "").rstrip("/") + "/"
        rows.append((label, os.path.normpath(name[len(comp_dir):] if name.startswith(comp_dir) else name)))
    return rows


def extract(abi: str, jobs: int) -> Path:
    """.cache/btf/dwarf_compile_units.tsv from the debug package (cached)."""
    out = CACHE / "dwarf_compile_units.tsv"
    if out.is_file():
        return out
    dbg = ensure_unpacked(f"linux-image-{abi}-dbg", CACHE / "dbg")
    moddir = dbg / "usr" / "lib" / "debug" / "lib" / "modules" / abi
    if not (moddir / "vmlinux").is_file():
        raise UserError(f"{moddir / 'vmlinux'}: missing from the unpacked debug package")
    work = [(str(moddir / "vmlinux"), "vmlinux")]
    work += [(str(p), str(p.relative_to(moddir))) for p in sorted((moddir / "kernel").rglob("*.ko"))]
    rows: set[tuple[str, str]] = set()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for got in pool.map(compile_units, work, chunksize=16):
            rows.update(got)
    atomic_tsv(out, ["object", "source"], sorted(rows))
    return out


def compare(src: Path, units_tsv: Path) -> dict:
    """Counts and disagreements of kbuild_verdicts against the compile units."""
    from lima.analyzer.kbuild import kbuild_verdicts
    from lima.analyzer.lock_config import DEFAULT_CONFIG

    compiled = {r["source"] for r in read_tsv(units_tsv) if r["source"].endswith(".c")}
    paths = sorted(str(p.relative_to(src)) for p in src.rglob("*.c"))
    t0 = time.perf_counter()
    verdicts, makefiles = kbuild_verdicts(src, paths, DEFAULT_CONFIG)
    seconds = time.perf_counter() - t0
    if not verdicts:
        raise UserError(f"{src}: no verdicts (no top-level Kbuild?)")
    in_tree = compiled & set(verdicts)
    res: dict = {"tree": str(src), "kbuild_seconds": round(seconds, 2), "makefiles_read": len(makefiles),
                 "c_files": len(verdicts), "debian_compiled_in_tree": len(in_tree),
                 "debian_compiled_not_in_tree": len(compiled - set(verdicts))}
    built_ok = [p for p in in_tree if verdicts[p].built is True]
    missed = sorted((p, verdicts[p].built, verdicts[p].reason) for p in in_tree
                    if verdicts[p].built is not True)
    rest = [p for p in verdicts if p not in compiled]
    not_built_ok = [p for p in rest if verdicts[p].built is False]
    extra = sorted((p, verdicts[p].reason) for p in rest if verdicts[p].built is True)
    included = [e for e in extra if e[1].startswith("#include")]
    res.update({
        "compiled_said_built": len(built_ok),
        "compiled_said_other": [{"path": p, "built": b, "reason": r} for p, b, r in missed],
        "not_compiled": len(rest),
        "not_compiled_said_not_built": len(not_built_ok),
        "not_compiled_said_built_as_included": len(included),
        "not_compiled_said_built_otherwise": [{"path": p, "reason": r} for p, r in extra
                                              if not r.startswith("#include")],
        "open": sorted((p, verdicts[p].reason) for p in verdicts if verdicts[p].built is None),
    })
    res["recall_built"] = round(len(built_ok) / max(len(in_tree), 1), 5)
    res["recall_not_built"] = round(len(not_built_ok) / max(len(rest) - len(included), 1), 5)
    return res


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--src", type=Path, default=KSRC, help=f"kernel tree (default {KSRC})")
    ap.add_argument("--abi", default=DEFAULT_ABI, help=f"Debian kernel ABI name (default {DEFAULT_ABI})")
    ap.add_argument("--jobs", type=int, default=2, help="processes reading the debug files")
    ap.add_argument("--format", choices=["text", "json"], default="text")
    args = ap.parse_args(argv)
    try:
        if not (args.src / "Kbuild").is_file():
            raise UserError(f"{args.src}: not a kernel tree (no Kbuild); bash run.sh setup unpacks v6.1")
        CACHE.mkdir(parents=True, exist_ok=True)
        res = compare(args.src, extract(args.abi, args.jobs))
    except UserError as e:
        print(f"kbuild_vs_dwarf: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kbuild_vs_dwarf: interrupted (the cache is written whole or not at all)", file=sys.stderr)
        return 130
    if args.format == "json":
        json.dump(res, sys.stdout, indent=1)
        print()
        return 0
    print(f"{res['c_files']:,} .c files in {res['tree']}; kbuild.py read {res['makefiles_read']:,} makefiles "
          f"in {res['kbuild_seconds']} s")
    print(f"Debian compiled {res['debian_compiled_in_tree']:,} of them "
          f"(+{res['debian_compiled_not_in_tree']:,} generated files not in the tree)")
    print(f"  said built:      {res['compiled_said_built']:,}  ({res['recall_built']:.3%})")
    print(f"  said otherwise:  {len(res['compiled_said_other']):,}")
    for m in res["compiled_said_other"]:
        print(f"    {m['path']}  [{m['built']}]  {m['reason']}")
    print(f"Debian did not compile {res['not_compiled']:,}")
    print(f"  said not built:  {res['not_compiled_said_not_built']:,}  ({res['recall_not_built']:.3%} of "
          "those not #included by a compiled file)")
    print(f"  said built, #included by a compiled file: {res['not_compiled_said_built_as_included']:,}")
    print(f"  said built otherwise: {len(res['not_compiled_said_built_otherwise']):,}")
    for m in res["not_compiled_said_built_otherwise"]:
        print(f"    {m['path']}  {m['reason']}")
    print(f"open (a lock-debugging option decides): {len(res['open']):,}")
    for p, r in res["open"]:
        print(f"    {p}  {r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
