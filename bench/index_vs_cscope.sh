#!/usr/bin/env bash
# lima-index vs cscope -bqk on the same .c/.h files of a Linux tree, side by side.
#
#   bash bench/index_vs_cscope.sh [SRC] [JOBS]     (SRC default .cache/linux-source-6.1, JOBS default nproc)
#   LOCK_PASS=1 bash bench/index_vs_cscope.sh      also time the lock pass (minutes on the full tree)
#   LOCK_PASS=1 ROUNDS=3 bash bench/index_vs_cscope.sh
#                                                  then ROUNDS-1 more pairs of cscope and whole index, one
#                                                  after the other, and the median of the pairs' ratios
#                                                  (this VM's speed drifts by 10% within an hour)
#
# Runs, one after the other:
#   1. cscope -bqk over every .c/.h file of SRC (the anchor: a cross-reference database)
#   2. lima-index SRC --no-lock-pass into a fresh database (the code facts: what cscope's index compares to)
#   3. only with LOCK_PASS=1: lima-index SRC (code facts unchanged, so this is the lock pass alone)
#   4. lima-index SRC again, nothing changed (with --no-lock-pass unless LOCK_PASS=1, when it also checks
#      that the lock tables are current): the no-change re-run
#   5. only with LOCK_PASS=1: lima-index SRC into a second fresh database, code facts and lock pass in one
#      run, as a user runs it (the whole index, which issue #3 holds to cscope's time)
# and prints wall time, CPU time (user+sys, children included) and peak RSS of each, the lima/cscope
# ratios (with LOCK_PASS=1 also the floor of a whole run: its CPU seconds over every core, the least wall
# time any scheduling of that work could take here) and the database size. Peak memory is the largest sum of PSS over the process tree (lima-index runs
# worker processes that share pages), sampled every 0.3 s; GNU time's own figure (largest single process's
# RSS) is shown too.
# Targets on the 2-core benchmark machine: steps 2 and 5 wall <= cscope wall, peak RSS < 4 GB, step 4 < 10 s.
# Everything is written under .cache/bench/index_vs_cscope/. Other work on the machine skews the figures:
# check the load average printed at the start.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SRC=$(realpath "${1:-$ROOT/.cache/linux-source-6.1}")
JOBS=${2:-$(nproc)}
OUT=$ROOT/.cache/bench/index_vs_cscope
LIMA_INDEX=$ROOT/.venv/bin/lima-index
DB=$OUT/lima.duckdb
STEPS=$([ "${LOCK_PASS:-0}" = 1 ] && echo 5 || echo 4)

[ -d "$SRC" ] || { echo "index_vs_cscope: error: $SRC: not a directory" >&2; exit 2; }
command -v cscope >/dev/null || { echo "index_vs_cscope: error: cscope not installed (apt-get install cscope)" >&2; exit 2; }
[ -x "$LIMA_INDEX" ] || { echo "index_vs_cscope: error: $LIMA_INDEX missing (bash run.sh setup)" >&2; exit 2; }
mkdir -p "$OUT"

# peak_rss PID: largest sum of Pss (kB) of PID and all its descendants until PID exits. Pss, not VmRSS:
# the lock pass forks workers that share the parent's pages, and a sum of RSS would count those twice.
peak_rss() {
  local pid=$1 peak=0 sum p
  while kill -0 "$pid" 2>/dev/null; do
    sum=0
    for p in $(pgrep -g "$(ps -o pgid= -p "$pid" | tr -d ' ')" 2>/dev/null); do
      v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
      sum=$((sum + ${v:-0}))
    done
    ((sum > peak)) && peak=$sum
    sleep 0.3
  done
  echo "$peak"
}

# measure NAME CMD...: run CMD in its own process group, record wall/user/sys/maxrss/tree-peak in $OUT/NAME.*
# Each run starts after a sync: the previous step's writes (cscope leaves 2 GB of output, lima-index a
# database) go to disk before the next timer starts, so no run pays for another's writeback.
measure() {
  local name=$1; shift
  sync
  setsid /usr/bin/time -f '%e %U %S %M' -o "$OUT/$name.time" "$@" >"$OUT/$name.log" 2>&1 &
  local pid=$!
  sleep 0.05
  peak_rss "$pid" >"$OUT/$name.peak"
  wait "$pid" || echo "index_vs_cscope: warning: $name exited with $? (see $OUT/$name.log)" >&2
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); SRC=$SRC; jobs=$JOBS"
find "$SRC" -type f \( -name '*.c' -o -name '*.h' \) >"$OUT/cscope.files"
NFILES=$(wc -l <"$OUT/cscope.files")
MB=$(tr '\n' '\0' <"$OUT/cscope.files" | du -cb --files0-from=- | tail -1 | awk '{printf "%.0f", $1 / 1e6}')
echo "files: $NFILES .c/.h files, $MB MB (same list for both tools)"
sync

# cscope_run NAME / whole_run NAME: one cscope -bqk, one whole lima-index into a fresh database (step 1 and
# step 5, and each further round)
cscope_run() {
  rm -f "$OUT"/cscope.out*
  (cd "$OUT" && measure "$1" cscope -bqk -i cscope.files -f cscope.out)
}
WHOLE_DB=$OUT/whole.duckdb
whole_run() {
  rm -f "$WHOLE_DB" "$WHOLE_DB.wal"
  measure "$1" "$LIMA_INDEX" "$SRC" --db "$WHOLE_DB" --jobs "$JOBS"
  rm -f "$WHOLE_DB" "$WHOLE_DB.wal"
}

echo "1/$STEPS cscope -bqk ..."
cscope_run cscope

rm -f "$DB" "$DB.wal"
echo "2/$STEPS lima-index --no-lock-pass (fresh database) ..."
measure lima "$LIMA_INDEX" "$SRC" --db "$DB" --jobs "$JOBS" --no-lock-pass
RERUN_OPTS=(--no-lock-pass)
if [ "${LOCK_PASS:-0}" = 1 ]; then
  echo "3/$STEPS lima-index (facts unchanged: lock pass) ..."
  measure lockpass "$LIMA_INDEX" "$SRC" --db "$DB" --jobs "$JOBS"
  RERUN_OPTS=()
else
  echo "3/$STEPS lock pass not timed (LOCK_PASS=1 to include it)"
fi
echo "4/$STEPS lima-index (no change) ..."
measure rerun "$LIMA_INDEX" "$SRC" --db "$DB" --jobs "$JOBS" "${RERUN_OPTS[@]}"
if [ "${LOCK_PASS:-0}" = 1 ]; then
  echo "5/$STEPS lima-index (fresh database, code facts + lock pass in one run) ..."
  whole_run whole
  for ((r = 2; r <= ${ROUNDS:-1}; r++)); do
    echo "round $r/${ROUNDS}: cscope -bqk, then lima-index (fresh database) ..."
    cscope_run "cscope_r$r"
    whole_run "whole_r$r"
  done
fi

row() {  # row LABEL NAME
  read -r wall user sys maxrss <"$OUT/$2.time"
  local peak; peak=$(cat "$OUT/$2.peak")
  printf '%-36s %9.1f %9.1f %11.0f %11.0f\n' "$1" "$wall" "$(echo "$user + $sys" | bc)" \
    "$((maxrss / 1024))" "$((peak / 1024))"
}
field() { awk -v i="$2" '{print $i}' "$OUT/$1.time"; }

echo
printf '%-36s %9s %9s %11s %11s\n' "run" "wall s" "CPU s" "maxRSS MB" "treePSS MB"
row "cscope -bqk" cscope
row "lima-index (code facts)" lima
[ "${LOCK_PASS:-0}" = 1 ] && row "lima-index (lock pass, facts same)" lockpass
row "lima-index (no-change re-run)" rerun
[ "${LOCK_PASS:-0}" = 1 ] && row "lima-index (whole, one fresh run)" whole
echo
cw=$(field cscope 1); lw=$(field lima 1)
cc=$(echo "$(field cscope 2) + $(field cscope 3)" | bc); lc=$(echo "$(field lima 2) + $(field lima 3)" | bc)
printf 'ratio lima/cscope: wall %.2f, CPU %.2f\n' "$(echo "$lw / $cw" | bc -l)" "$(echo "$lc / $cc" | bc -l)"
if [ "${LOCK_PASS:-0}" = 1 ]; then   # a whole lima-index run = code facts + lock pass
  tw=$(echo "$lw + $(field lockpass 1)" | bc -l)
  tc=$(echo "$lc + $(field lockpass 2) + $(field lockpass 3)" | bc -l)
  printf 'ratio lima (code facts + lock pass)/cscope: wall %.2f (%.1f s), CPU %.2f\n' \
    "$(echo "$tw / $cw" | bc -l)" "$tw" "$(echo "$tc / $cc" | bc -l)"
  ww=$(field whole 1); wc=$(echo "$(field whole 2) + $(field whole 3)" | bc)
  printf 'ratio lima (whole, one fresh run)/cscope: wall %.2f (%.1f s), CPU %.2f\n' \
    "$(echo "$ww / $cw" | bc -l)" "$ww" "$(echo "$wc / $cc" | bc -l)"
  # the least wall time this work could take here: all of its CPU seconds spread evenly over every core
  # (the lock pass is one process: the rest of the gap is the time it runs with the other cores idle)
  # "single-core part": the seconds with one core busy if the rest kept every core busy (an equivalent,
  # not a measurement: idle time counts in it too)
  cores=$(nproc)
  printf 'floor of the whole run: %.1f CPU s / %d cores = %.1f s (%.2fx cscope wall)' \
    "$wc" "$cores" "$(echo "$wc / $cores" | bc -l)" "$(echo "$wc / $cores / $cw" | bc -l)"
  if [ "$cores" -gt 1 ]; then
    printf '; single-core part: %.1f s' "$(echo "($ww - $wc / $cores) * $cores / ($cores - 1)" | bc -l)"
  fi
  echo
fi
if [ "${LOCK_PASS:-0}" = 1 ] && [ "${ROUNDS:-1}" -gt 1 ]; then
  echo "rounds (cscope, then a whole lima-index run): wall s, ratio, lima peak treePSS MB"
  ratios=()
  for ((r = 1; r <= ROUNDS; r++)); do
    c=cscope_r$r; w=whole_r$r
    [ "$r" = 1 ] && c=cscope && w=whole
    ratio=$(echo "$(field "$w" 1) / $(field "$c" 1)" | bc -l)
    ratios+=("$ratio")
    printf '  round %d: cscope %.1f, lima %.1f, ratio %.2f, peak %d\n' "$r" "$(field "$c" 1)" \
      "$(field "$w" 1)" "$ratio" "$(($(cat "$OUT/$w.peak") / 1024))"
  done
  printf 'median ratio of %d rounds: %.2f\n' "$ROUNDS" \
    "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')"
fi
printf 'sizes: lima.duckdb %s MB, cscope.out* %s MB\n' \
  "$(du -cm "$DB"* | tail -1 | cut -f1)" "$(du -cm "$OUT"/cscope.out* | tail -1 | cut -f1)"
echo "rows:"
"$ROOT/.venv/bin/duckdb" -readonly "$DB" -c "
  SELECT 'files' AS t, count(*) AS n FROM files UNION ALL SELECT 'functions', count(*) FROM functions
  UNION ALL SELECT 'calls', count(*) FROM calls UNION ALL SELECT 'fptr_assignments', count(*) FROM fptr_assignments
  UNION ALL SELECT 'structs', count(*) FROM structs UNION ALL SELECT 'fields', count(*) FROM fields
  UNION ALL SELECT 'typedefs', count(*) FROM typedefs UNION ALL SELECT 'enum_constants', count(*) FROM enum_constants
  UNION ALL SELECT 'variables', count(*) FROM variables UNION ALL SELECT 'macros', count(*) FROM macros
  UNION ALL SELECT 'macro_uses', count(*) FROM macro_uses
  UNION ALL SELECT 'function_annotations', count(*) FROM function_annotations
  UNION ALL SELECT 'parse_errors', sum(parse_errors) FROM files"
echo "logs: $OUT/*.log"
