#!/usr/bin/env bash
# bench/tracer_overhead.sh: what lima-trace costs a lock-heavy workload.
#
# Workloads, each printing its own wall time ("elapsed S"), so that the tracer's start-up (compiling
# the BPF program) is not counted: lima-trace starts the command only once the programs are attached.
#   mmap   tests/fixtures/mmap_threads THREADS ITERATIONS: threads doing mmap + touch + munmap on one
#          mm; every round takes mm->mmap_lock 3-4 times and they contend: the worst case, nearly
#          every instruction is a lock operation.
#   untar  4 x tar xf of a tarball of /usr/include (made once under .cache) into /dev/shm: a file-system
#          workload (dentries, inodes, page cache), through a shell (fork following).
#
# Side by side, median of REPS interleaved rounds (each round runs every variant once):
#   untraced              the anchor
#   default               lima-trace: contended waits (lock:contention_begin/end) with stacks, aggregated
#                         in the kernel
#   default+events        lima-trace --events 1000000 (a per-event ring buffer stream as well)
#   mmap-lock             lima-trace --mmap-lock: also every mmap_lock acquisition, a stack for 1 in 64
#   mmap-lock-stacks-1    lima-trace --mmap-lock --mmap-lock-stacks 1: a stack for every acquisition
#   mmap-lock-stacks-0    lima-trace --mmap-lock --mmap-lock-stacks 0: no stack at all (the floor of
#                         counting every acquisition)
# Figures: elapsed seconds, slowdown ratio (traced / untraced), events counted, events per second of
# workload time, the fastest..slowest run (other work on the machine shows there first), and the ratio
# of the fastest runs (traced / untraced: the least disturbed run of each, a steadier figure when the
# machine is shared).  The runs are stored in $DB (trace_runs: events_seen, duration_s); a TSV line per
# variant is appended to .cache/bench/tracer_overhead.tsv.  Target: ratio < 1.05 for the default.
#
# Usage (root): bash bench/tracer_overhead.sh [THREADS] [ITERATIONS] [REPS]
# (about 4 minutes with the defaults on 2 CPUs: most of it is compiling the BPF program for each run)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
THREADS=${1:-2}
ITER=${2:-50000}
REPS=${3:-5}
OUT=$ROOT/.cache/bench
DB=$OUT/tracer_overhead.duckdb
EXE=$ROOT/.cache/trace/mmap_threads
PY=$ROOT/.venv/bin/python
[ "$(id -u)" = 0 ] || { echo "tracer_overhead.sh: run as root (lima-trace needs it)" >&2; exit 2; }
mkdir -p "$OUT" "$(dirname "$EXE")"
if [ ! -x "$EXE" ] || [ "$ROOT/tests/fixtures/mmap_threads.c" -nt "$EXE" ]; then
  gcc -O2 -static -pthread -o "$EXE" "$ROOT/tests/fixtures/mmap_threads.c"
fi
rm -f "$DB" "$DB.wal"
TARBALL=$OUT/usr-include.tar
[ -f "$TARBALL" ] || tar cf "$TARBALL" -C /usr include
UNTAR_DIR=/dev/shm/lima-bench-untar
# 4 untars (and deletes) in a row: one takes about 0.15 s here, too short to time a few percent
UNTAR=(bash -c 's=$(date +%s%N); for i in 1 2 3 4; do rm -rf "$1"; mkdir -p "$1"; tar xf "$2" -C "$1"; done;
                e=$(date +%s%N); echo "elapsed $(awk -v d=$((e - s)) "BEGIN {print d / 1e9}")"; rm -rf "$1"' \
       untar "$UNTAR_DIR" "$TARBALL")
MMAP=("$EXE" "$THREADS" "$ITER")

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# once WORKLOAD VARIANT REP "LIMA-TRACE OPTIONS" COMMAND...: one run; prints "elapsed events"
# (VARIANT untraced runs the command alone; events is then 0)
once() {
  local workload=$1 variant=$2 rep=$3 opts=$4; shift 4
  local log
  if [ "$variant" = untraced ]; then
    log=$("$@")
    echo "$(awk '/^elapsed/ {print $2}' <<<"$log") 0"
    return
  fi
  # shellcheck disable=SC2086
  log=$("$PY" -m lima.tracer.cli --db "$DB" --runtime host --workload "$workload" --mode warmup \
        --run-id "$workload-$variant-$rep" --format json $opts -- "$@" 2>"$OUT/last_trace.log") \
    || { echo "lima-trace failed:" >&2; cat "$OUT/last_trace.log" >&2; exit 1; }
  echo "$(awk '/^elapsed/ {print $2}' <<<"$log") $("$PY" -c 'import json,sys; t=sys.stdin.read()
print(json.loads(t[t.index("{"):])["run"]["events_seen"])' <<<"$log")"
}

VARIANTS=("untraced|" "default|" "default+events|--events 1000000" "mmap-lock|--mmap-lock"
          "mmap-lock-stacks-1|--mmap-lock --mmap-lock-stacks 1" "mmap-lock-stacks-0|--mmap-lock --mmap-lock-stacks 0")
echo "kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at start," \
     "median of $REPS interleaved rounds; mmap = mmap_threads $THREADS x $ITER"
printf '%-8s %-20s %10s %8s %12s %14s %17s %10s\n' workload variant elapsed_s ratio events events_per_s \
  "min..max_s" best_ratio
for workload in mmap untar; do
  if [ "$workload" = mmap ]; then cmd=("${MMAP[@]}"); else cmd=("${UNTAR[@]}"); fi
  "${cmd[@]}" > /dev/null   # warm-up: page cache, binary
  declare -A EL=() EV=()
  # rounds interleave the variants, so that a change of load on the machine hits them all alike
  for rep in $(seq "$REPS"); do
    for spec in "${VARIANTS[@]}"; do
      name=${spec%%|*}
      read -r el ev < <(once "$workload" "$name" "$rep" "${spec#*|}" "${cmd[@]}")
      EL[$name]+="$el "; EV[$name]+="$ev "
    done
  done
  base=$(tr ' ' '\n' <<<"${EL[untraced]}" | sed '/^$/d' | median)
  best_base=$(tr ' ' '\n' <<<"${EL[untraced]}" | sed '/^$/d' | sort -g | head -1)
  for spec in "${VARIANTS[@]}"; do
    name=${spec%%|*}
    el=$(tr ' ' '\n' <<<"${EL[$name]}" | sed '/^$/d' | median)
    ev=$(tr ' ' '\n' <<<"${EV[$name]}" | sed '/^$/d' | median)
    ratio=$(awk -v a="$el" -v b="$base" 'BEGIN {printf "%.3f", a / b}')
    rate=$(awk -v e="$ev" -v s="$el" 'BEGIN {printf "%.0f", e / s}')
    spread=$(tr ' ' '\n' <<<"${EL[$name]}" | sed '/^$/d' | sort -g | awk 'NR == 1 {a = $1} {b = $1}
             END {printf "%.3f..%.3f", a, b}')
    best=$(tr ' ' '\n' <<<"${EL[$name]}" | sed '/^$/d' | sort -g | head -1 |
           awk -v b="$best_base" '{printf "%.3f", $1 / b}')
    [ "$name" = untraced ] && { ev=-; rate=-; }
    printf '%-8s %-20s %10.3f %8s %12s %14s %17s %10s\n' "$workload" "$name" "$el" "$ratio" "$ev" "$rate" \
      "$spread" "$best"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$(uname -r)" "$workload" \
      "$name" "$base" "$el" "$ratio" "$ev" "$rate" >> "$OUT/tracer_overhead.tsv"
  done
  unset EL EV
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end; runs stored in $DB (trace_runs); figures appended" \
     "to $OUT/tracer_overhead.tsv"
