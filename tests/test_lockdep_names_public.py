"""Lockdep class names from public reports, resolved by `lima-query lock-name` against the v6.1 tree.

tests/data/lockdep_names_public.tsv holds names exactly as lockdep printed them in public reports of kernels
5.15..6.6 (syzbot, LKML, GitHub issues; the source of each is in the file) and the v6.1 object each one
names, found by reading the init site in the Debian linux-source-6.1 tree (the note column gives it).

The index is built once per session over the init-site files, the headers next to them and include/
(about a minute on 2 cores); set LIMA_NAMES_DB to an existing index (a full-tree one works) to reuse it.

Scoring is strict: a name counts as resolved when the top row lock-name returns is the expected object
(struct + member path, or global symbol [+ member]). Names whose text is printed by several v6.1 init sites
for different objects (column `ambiguous`) are scored apart: the expected object must be among the rows.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import lima_index

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parent.parent
NAMES_TSV = ROOT / "tests" / "data" / "lockdep_names_public.tsv"
TARGET = 0.95
SITE = re.compile(r"((?:[\w.+-]+/)+[\w.+-]+\.[ch]):(\d+)")


@dataclass(frozen=True)
class Expected:
    """One row of the names file."""

    name: str
    source: str
    object_kind: str
    struct: str
    field: str
    symbol: str
    ambiguous: str
    note: str

    def label(self) -> str:
        """Object as text: struct.field or symbol[.field]."""
        if self.symbol:
            return self.symbol + (f".{self.field}" if self.field else "")
        return f"{self.struct}.{self.field}"


def load_names() -> list[Expected]:
    """Rows of tests/data/lockdep_names_public.tsv (comment lines start with '# ')."""
    with NAMES_TSV.open(newline="") as f:
        lines = [ln for ln in f if not ln.startswith("# ")]
    return [Expected(**row) for row in csv.DictReader(lines, delimiter="\t")]


def norm_struct(s: object) -> str:
    """Struct name without the struct/union keyword."""
    return re.sub(r"^(struct|union)\s+", "", str(s or "")).strip()


def norm_path(p: object) -> str:
    """Member path without subscripts, with '.' separators, without a trailing lockdep map member (the
    pseudo lock inside a work item or timer is the same object as the item)."""
    path = re.sub(r"\[[^\]]*\]", "", str(p or "")).replace("->", ".").strip(".")
    return re.sub(r"\.(lockdep_map|dep_map)$", "", path) if "." in path else path


def row_matches(row: dict, exp: Expected) -> bool:
    """Whether one lock-name result row is the expected object."""
    struct = norm_struct(row.get("struct_name") or row.get("struct"))
    path = norm_path(row.get("field_path") or row.get("member_path") or row.get("field"))
    symbol = str(row.get("symbol") or "")
    if exp.symbol:
        return symbol == exp.symbol and (not exp.field or path == norm_path(exp.field))
    return struct == exp.struct and path == norm_path(exp.field)


def describe(row: dict) -> str:
    """A result row as short text for failure messages."""
    keys = ("object_kind", "struct_name", "struct", "field_path", "field", "symbol", "file", "line")
    return "/".join(str(row.get(k)) for k in keys if row.get(k) is not None) or str(row)


#: Init-site files of the common v6.1 names tested in test_common_61_names (no public report in the file).
EXTRA_SITES = ["kernel/printk/printk.c", "kernel/rcu/tree.c", "kernel/futex/core.c"]


def index_targets(src: Path) -> list[str]:
    """What the index needs: the init-site files named in the notes, the headers next to them, include/."""
    targets = {"include"}
    files = [m.group(1) for e in load_names() for m in SITE.finditer(e.note)] + EXTRA_SITES
    for name in files:
        f = Path(name)
        targets.add(str(f))
        targets.update(str(h.relative_to(src)) for h in (src / f.parent).glob("*.h"))
    # no target inside another one (lima-index --only wants them disjoint)
    return sorted(t for t in targets if t == "include" or not t.startswith("include/"))


@pytest.fixture(scope="session")
def names_db(kernel_src: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the folders the names need (or $LIMA_NAMES_DB)."""
    reuse = os.environ.get("LIMA_NAMES_DB")
    if reuse:
        return Path(reuse)
    return lima_index(kernel_src, tmp_path_factory.mktemp("names") / "names.duckdb",
                      index_targets(kernel_src), timeout=None)


def lock_name_rows(db: Path, names: list[str]) -> dict[str, list[dict]]:
    """Rows of `lima-query lock-name --name NAME --format json` for each name, in the query's order."""
    from lima.queries.catalog import load_catalog
    from lima.queries.cli import main as lima_query

    if "lock-name" not in load_catalog():
        pytest.fail("queries/lock-name.sql is missing: the lock pass must provide `lima-query lock-name`")
    out = {}
    for name in names:
        buf, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
            code = lima_query(["lock-name", "--name", name, "--db", str(db), "--format", "json"])
        assert code == 0, f"lima-query lock-name --name {name!r} failed ({code}): {err.getvalue()}"
        text = buf.getvalue().strip()
        out[name] = json.loads(text) if text else []
    return out


def test_names_file_facts(kernel_src: Path) -> None:
    """>= 60 distinct public names, each with a source and an init site that exists in the v6.1 tree."""
    names = load_names()
    assert len({e.name for e in names}) == len(names), "duplicate names"
    plain = [e for e in names if not e.ambiguous]
    assert len(plain) >= 60, f"only {len(plain)} unambiguous names"
    bad = []
    for e in names:
        assert e.source and e.note, e.name
        assert e.object_kind in {"field", "global", "pseudo"}, e.name
        assert (e.struct and e.field) or e.symbol, e.name
        m = SITE.search(e.note)
        assert m, f"{e.name}: note names no file:line"
        lines = (kernel_src / m.group(1)).read_text(errors="replace").splitlines()
        window = "\n".join(lines[int(m.group(2)) - 1:int(m.group(2)) + 3])
        base = re.sub(r"(#\d+)?(/\d+)?$", "", e.name)
        words = {e.symbol, e.field.split(".")[-1], base, base.removesuffix("_mutex"),
                 base.split(")")[0] + ")"}
        if not any(w and w in window for w in words):
            bad.append(f"{e.name}: {m.group(0)} does not show it")
    assert not bad, "\n".join(bad)


def test_lock_name_resolves_public_names(names_db: Path) -> None:
    """lock-name returns the right object on top for >= 95% of the unambiguous public names."""
    names = [e for e in load_names() if not e.ambiguous]
    got = lock_name_rows(names_db, [e.name for e in names])
    misses, exact = [], 0
    for e in names:
        rows = got[e.name]
        if rows and row_matches(rows[0], e):
            exact += all(row_matches(r, e) for r in rows)
            continue
        shown = "; ".join(describe(r) for r in rows[:4]) or "no rows"
        misses.append(f"{e.name!r}: expected {e.object_kind} {e.label()}, got {shown}  [{e.note}]")
    ok = len(names) - len(misses)
    report = (f"lock-name agreement {ok}/{len(names)} = {ok / len(names):.1%} (top row), "
              f"{exact} with every row on the expected object")
    print(report)
    assert ok / len(names) >= TARGET, report + "\nmisses:\n" + "\n".join(misses)


def test_lock_name_lists_object_of_ambiguous_names(names_db: Path) -> None:
    """For names printed by several init sites, the object of the report is among the rows."""
    names = [e for e in load_names() if e.ambiguous]
    got = lock_name_rows(names_db, [e.name for e in names])
    misses = [f"{e.name!r}: {e.label()} not in {[describe(r) for r in got[e.name][:6]]}"
              for e in names if not any(row_matches(r, e) for r in got[e.name])]
    assert not misses, "\n".join(misses)


def test_socket_lock_names_from_string_tables(names_db: Path) -> None:
    """Socket lock classes are named from string tables a macro fills (net/core/sock.c:217-263,
    `_sock_locks("slock-")` -> "slock-" "AF_UNSPEC", ...) and indexed by sk->sk_family: every family's name
    resolves to the member that sock_lock_init()/sk_init_common() (sock.c:1995-2006, 2229-2240) give it."""
    want = {
        "slock-AF_INET": ("field", "sock", "sk_lock.slock"),          # lockdep_set_class_and_name, sock.h
        "sk_lock-AF_INET6/1": ("pseudo", "sock", "sk_lock.dep_map"),  # lockdep_init_map: lock_sock()
        "k-slock-AF_NETLINK": ("field", "sock", "sk_lock.slock"),     # kernel sockets: the kern_ tables
        "rlock-AF_UNIX": ("field", "sock", "sk_receive_queue.lock"),
        "elock-AF_PACKET": ("field", "sock", "sk_error_queue.lock"),
        "clock-AF_INET": ("field", "sock", "sk_callback_lock"),
    }
    got = lock_name_rows(names_db, list(want))
    for name, (kind, struct, field) in want.items():
        assert got[name], f"{name}: no rows"
        assert {(r["object_kind"], r["struct"], r["field"]) for r in got[name]} == {(kind, struct, field)}, \
            (name, got[name])


def test_common_61_names(names_db: Path) -> None:
    """Names every v6.1 lockdep report shows, each read at its init site:
    - init_completion(x) (include/linux/completion.h:84-88) calls init_swait_queue_head(&x->wait), whose
      __init_swait_queue_head((q), #q, &__key) (swait.h:72) names q->lock (kernel/sched/swait.c:9-10);
    - DEFINE_SEMAPHORE(console_sem) (kernel/printk/printk.c:86) -> __SEMAPHORE_INITIALIZER(name, 1) ->
      .lock = __RAW_SPIN_LOCK_UNLOCKED((name).lock) (include/linux/semaphore.h:21-29);
    - rcu_init_one() (kernel/rcu/tree.c:4589-4624) names rnp->lock buf[i] and rnp->fqslock fqs[i] from
      RCU_NODE_NAME_INIT / RCU_FQS_NAME_INIT (include/linux/rcu_node_tree.h:59-87);
    - futex_init() does spin_lock_init(&futex_queues[i].lock) (kernel/futex/core.c:1187) with
      `#define futex_queues (__futex_data.queues)` (core.c:53), an array of struct futex_hash_bucket."""
    want = {
        "&x->wait": ("field", "completion", "wait.lock", None),
        "&x->wait#8": ("field", "completion", "wait.lock", None),
        "(console_sem).lock": ("global", "semaphore", "lock", "console_sem"),
        "rcu_node_0": ("field", "rcu_node", "lock", None),
        "rcu_node_1": ("field", "rcu_node", "lock", None),
        "rcu_node_fqs_0": ("field", "rcu_node", "fqslock", None),
        "&futex_queues[i].lock": ("field", "futex_hash_bucket", "lock", None),
    }
    got = lock_name_rows(names_db, list(want))
    for name, obj in want.items():
        assert got[name], f"{name}: no rows"
        r = got[name][0]
        assert (r["object_kind"], r["struct"], r["field"], r["symbol"]) == obj, (name, got[name])
        assert r["confidence"] > 0, (name, r)
