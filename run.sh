#!/usr/bin/env bash
# LIMA on a fresh Debian 12 machine (as root). Two entry points:
#   bash run.sh demo [SRC]   set everything up, index the real v6.1 tree (or SRC), trace a workload, show answers
#   bash run.sh test         set everything up, run the test suite (what .ci/run calls)
# Everything downloaded or unpacked goes under .cache/ (ignored by git); the venv is .venv/.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
CACHE=$ROOT/.cache
VENV=$ROOT/.venv
KSRC_DEFAULT=$CACHE/linux-source-6.1
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup_apt() {
  local want missing=()
  mapfile -t want < <(grep -v '^\s*#' apt-packages.txt | sed '/^\s*$/d')
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "apt: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

setup_headers_link() {
  # bcc compiles against /lib/modules/$(uname -r)/build; point it at the installed Debian headers
  # when the running kernel has none of its own (as on these VMs).
  local mod=/lib/modules/$(uname -r) arch common
  arch=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1 || true)
  common=$(ls -d /usr/src/linux-headers-*-common 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$arch" ] || return 0
  mkdir -p "$mod"
  [ -e "$mod/build" ] || ln -sfn "$arch" "$mod/build"
  [ -e "$mod/source" ] || ln -sfn "$common" "$mod/source"
}

setup_venv() {
  local stamp=$VENV/.lima-installed want
  want=$(cat pyproject.toml | sha256sum | cut -c1-16)
  if [ ! -x "$VENV/bin/python" ]; then
    log "venv: $VENV (system Python, with its site-packages for bcc)"
    /usr/bin/python3 -m venv --system-site-packages "$VENV"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "pip: installing LIMA and its dependencies"
    mkdir -p "$CACHE"
    { "$VENV/bin/pip" install -q --upgrade pip && "$VENV/bin/pip" install -q -e ".[test]"; } \
      > "$CACHE/pip.log" 2>&1 || { cat "$CACHE/pip.log" >&2; echo "run.sh: pip install failed" >&2; exit 1; }
    echo "$want" > "$stamp"
  fi
  # lima-index's C tree walker (analyzer/ts_walk.c), compiled with the installed tree-sitter's runtime
  # (its sdist, fetched once into .cache/sdist); a no-op when already built for this release and source.
  "$VENV/bin/python" -m lima.analyzer.build_ts_walk --cache "$CACHE/sdist" >/dev/null \
    || { echo "run.sh: building the C tree walker failed (see above)" >&2; exit 1; }
}

setup_kernel_source() {
  if [ ! -f "$KSRC_DEFAULT/Makefile" ]; then
    log "unpacking /usr/src/linux-source-6.1.tar.xz into $CACHE"
    mkdir -p "$CACHE"
    rm -rf "$KSRC_DEFAULT.partial" && mkdir -p "$KSRC_DEFAULT.partial"
    tar -xf /usr/src/linux-source-6.1.tar.xz -C "$KSRC_DEFAULT.partial" --strip-components=1
    mv "$KSRC_DEFAULT.partial" "$KSRC_DEFAULT"
  fi
}

setup_parser() {
  # tree-sitter rebuilt here with profile-guided optimization, trained on a sample of the kernel source:
  # lima-index parses ~20% faster (bench/parser_pgo.py). A no-op when already built for the installed
  # release; when it fails, the PyPI wheel stays and everything works, only slower.
  "$VENV/bin/python" -m lima.analyzer.build_parser_pgo --train "$KSRC_DEFAULT" --cache "$CACHE/sdist" \
    || log "warning: tree-sitter's PGO build failed (above): lima-index parses with the PyPI wheel, slower"
}

setup() {
  [ "$(id -u)" = 0 ] || { echo "run.sh: run as root (apt, bcc and tracepoints need it)" >&2; exit 2; }
  setup_apt
  setup_headers_link
  setup_venv
  setup_kernel_source
  setup_parser
  export PATH=$VENV/bin:$PATH
  export LIMA_KERNEL_SRC=${LIMA_KERNEL_SRC:-$KSRC_DEFAULT}
}

cmd_test() {
  setup
  log "tests"
  # Real-kernel tests (tracer, root) must run, not skip, on these machines.
  export LIMA_REQUIRE_REAL=1
  exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
}

cmd_demo() {
  setup
  local src=${1:-$LIMA_KERNEL_SRC} demo=$CACHE/demo
  export LIMA_DB=${LIMA_DB:-$ROOT/lima.duckdb}
  mkdir -p "$demo"
  log "indexing $src into $LIMA_DB (code facts, then lock facts)"
  lima-index "$src" --db "$LIMA_DB"

  log "what the index knows about mm_struct's locks, a lockdep name, and the lock sites of vm_mmap_pgoff"
  lima-query struct-locks --struct mm_struct --limit 8
  lima-query lock-name --name '&mm->mmap_lock' --format json
  lima-query lock-site --function vm_mmap_pgoff

  log "tracing a real workload on this kernel: 4 threads x 3000 mmap/munmap (contention backend)"
  lima-trace --check || true
  gcc -O2 -static -pthread -o "$demo/mmap_threads" tests/fixtures/mmap_threads.c
  lima-trace --runtime host --workload mmap-threads --mode coldstart -- "$demo/mmap_threads" 4 3000

  lima-query runtime-summary
  log "the traced locks with the kernel objects they protect"
  lima-query top-locks --limit 10
  log "done: open the database with  .venv/bin/duckdb $LIMA_DB  (try: SELECT * FROM top_locks;)"
}

case "${1:-}" in
  test) shift; cmd_test "$@" ;;
  demo) shift; cmd_demo "$@" ;;
  setup) setup ;;
  *) echo "usage: bash run.sh demo [SRC] | bash run.sh test [pytest args]" >&2; exit 2 ;;
esac
