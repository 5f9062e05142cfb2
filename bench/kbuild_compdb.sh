#!/usr/bin/env bash
# Real compile commands for the libclang front end (lima-index --compile-commands), built out of tree.
#
#   bash bench/kbuild_compdb.sh [TARGET ...]
#
# TARGETs are make targets of the kernel tree: objects (kernel/locking/mutex.o mm/mmap.o) or directories
# (kernel/ mm/); default: kernel/locking/mutex.o mm/mmap.o. Into $KBUILD (default .cache/kbuild, git-ignored)
# with O=, so the source tree ($LIMA_KERNEL_SRC, default .cache/linux-source-6.1) is never written:
#   1. make defconfig and make prepare (once: ~6 s here),
#   2. make the TARGETs (make skips what is built: a re-run costs seconds; kernel/ and mm/ from scratch
#      take several minutes on 2 cores),
#   3. the tree's own scripts/clang-tools/gen_compile_commands.py -d $KBUILD -o $KBUILD/compile_commands.json
#      (one entry per object built so far in $KBUILD).
# Needs make, gcc, flex, bison, bc, libelf-dev, libssl-dev (apt-packages.txt). Prints the path of the
# compile_commands.json and its number of entries. Exit 2 on bad input, 1 when the build fails.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=${LIMA_KERNEL_SRC:-$ROOT/.cache/linux-source-6.1}
KBUILD=${KBUILD:-$ROOT/.cache/kbuild}
JOBS=${JOBS:-$(nproc)}

if [[ ! -f $SRC/Makefile ]]; then
    echo "kbuild_compdb.sh: error: no kernel tree at $SRC (bash run.sh setup unpacks it, or set LIMA_KERNEL_SRC)" >&2
    exit 2
fi
for tool in make gcc flex bison bc python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "kbuild_compdb.sh: error: $tool is missing (apt-get install the packages of apt-packages.txt)" >&2
        exit 2
    fi
done
if [[ $# -eq 0 ]]; then
    set -- kernel/locking/mutex.o mm/mmap.o
fi
for t in "$@"; do
    if [[ $t == /* || $t == *..* ]]; then
        echo "kbuild_compdb.sh: error: $t: give a path relative to the kernel tree (kernel/ or mm/mmap.o)" >&2
        exit 2
    fi
done

mkdir -p "$KBUILD"
log=$KBUILD/kbuild_compdb.log
: >"$log"
run() {
    if ! make -C "$SRC" O="$KBUILD" -j"$JOBS" "$@" >>"$log" 2>&1; then
        echo "kbuild_compdb.sh: error: make $* failed; last lines of $log:" >&2
        tail -n 15 "$log" >&2
        exit 1
    fi
}
t0=$(date +%s.%N)
if [[ ! -f $KBUILD/.config ]]; then
    run defconfig
fi
run prepare
run "$@"
python3 "$SRC/scripts/clang-tools/gen_compile_commands.py" -d "$KBUILD" -o "$KBUILD/compile_commands.json"
t1=$(date +%s.%N)
n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$KBUILD/compile_commands.json")
printf '%s: %s entries (built %s in %.1f s; log %s)\n' "$KBUILD/compile_commands.json" "$n" "$*" \
    "$(echo "$t1 - $t0" | bc)" "$log"
