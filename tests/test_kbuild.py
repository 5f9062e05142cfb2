"""Which .c files the kernel configuration compiles (analyzer/kbuild.py), on the miniature tree
tests/fixtures/kbuild (its makefiles say what each file must get) and on the real v6.1 tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES
from lima.analyzer.kbuild import config_arch, kbuild_verdicts, makefiles_digest
from lima.analyzer.lock_config import DEFAULT_CONFIG, KernelConfig
from lockdb_helper import lock_tables

TREE = FIXTURES / "kbuild"
CONFIG = KernelConfig.read(TREE / "test.config")


def _c_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".c", ".h"))


@pytest.fixture(scope="module")
def verdicts():
    got, makefiles = kbuild_verdicts(TREE, _c_files(TREE), CONFIG)
    return got, makefiles


@pytest.mark.parametrize(("path", "built", "why"), [
    ("arch/x86/kernel/setup.c", True, "arch/x86/kernel/Makefile:1: obj-y"),
    # a tab-indented assignment inside ifeq is read (X86_64=y); the else branch and a recipe line are not
    ("arch/x86/kernel/head64.c", True, "arch/x86/kernel/Makefile:3"),
    ("arch/x86/kernel/head32.c", False, "arch/x86/kernel/Makefile does not compile it"),
    ("arch/x86/lib/usercopy.c", True, "lib-y"),                       # libs-y of the arch Makefile
    ("arch/arm/kernel/traps.c", False, "does not enter arch/arm/ (it builds arch/x86/)"),
    ("kernel/fork.c", True, "kernel/Makefile:1: obj-y"),              # obj-y = (recursive) then +=
    ("kernel/fork_inc.c", True, '#include "fork_inc.c" in kernel/fork.c'),
    ("kernel/fork_unset.c", False, "kernel/Makefile does not compile it"),   # its #include is #ifdef'd out
    ("kernel/unset.c", False,
     "kernel/Makefile:3: obj-$(CONFIG_NOT_SET) += unset.o: CONFIG_NOT_SET is not set"),
    ("kernel/locking/mutex.c", True, "kernel/locking/Makefile:1"),
    ("kernel/locking/lockdep.c", None, "CONFIG_LOCKDEP is a lock-debugging option, left open"),
    ("drivers/foo/core.c", True, "drivers/foo/Makefile:3: foo-y (built in)"),
    ("drivers/foo/extra.c", False,
     "drivers/foo/Makefile:4: foo-$(CONFIG_FOO_EXTRA) += extra.o: CONFIG_FOO_EXTRA is not set"),
    ("drivers/foo/never.c", False, "drivers/foo/Makefile:5: foo-$(CONFIG_NOT_SET:m=y) += never.o"),
    ("drivers/foo/relo.c", True, "drivers/foo/Makefile:6"),
    ("lib/shared.c", True, "drivers/foo/Makefile:6"),                        # the source relo.o's rule names
    ("drivers/foo/parted.c", True, "(as a module)"),                         # through an included makefile
    ("drivers/bar/bar.c", True, "drivers/bar/Makefile:1: obj-m"),            # obj-$(subst m,y,$(CONFIG_BAR))
    ("drivers/bar/sub/sub_a.c", True, "drivers/bar/sub/Makefile:1"),         # $(addprefix sub_, a.o b.o)
    ("drivers/bar/sub/sub_b.c", True, "drivers/bar/sub/Makefile:1"),
    ("drivers/bar/baz_main.c", False, "drivers/bar/Makefile:3: obj-$(CONFIG_NOT_SET) += baz.o"),
    ("drivers/bar/maybe.c", True, "drivers/bar/Makefile:6"),                 # ifneq ($(shell ...)): both
    ("drivers/off/off.c", False, "drivers/Makefile:3: obj-$(CONFIG_OFF) += off/: CONFIG_OFF is not set"),
    ("lib/string.c", True, "lib/Makefile:1: lib-y"),
    ("tools/perf/perf.c", False, "Kbuild does not enter tools/"),
])
def test_verdicts_of_the_miniature_tree(verdicts, path, built, why):
    v = verdicts[0][path]
    assert v.built is built, v
    assert why in v.reason


def test_headers_get_no_verdict_and_every_makefile_read_is_listed(verdicts):
    got, makefiles = verdicts
    assert "include/linux/s.h" not in got
    assert "drivers/foo/Makefile.parts" in makefiles        # included by drivers/foo/Makefile
    assert "drivers/off/Makefile" not in makefiles          # drivers/off/ is not entered
    assert "arch/x86/Makefile" in makefiles and "Kbuild" in makefiles


def test_a_tree_without_kbuild_gets_no_verdicts():
    assert kbuild_verdicts(FIXTURES / "locks" / "config", ["rq.c"], CONFIG) == ({}, [])


def test_the_makefiles_digest_follows_an_edit(tmp_path):
    shutil.copytree(TREE, tmp_path / "t")
    root = tmp_path / "t"
    before = makefiles_digest(root, ["kernel/Makefile"])
    (root / "kernel" / "Makefile").write_text("obj-y = fork.o\n")
    assert makefiles_digest(root, ["kernel/Makefile"]) != before
    assert makefiles_digest(root, []) == ""


def test_the_architecture_comes_from_the_configuration():
    assert config_arch(DEFAULT_CONFIG) == "x86"
    assert config_arch(KernelConfig.parse("CONFIG_ARM64=y\n", "t")) == "arm64"
    assert config_arch(KernelConfig.parse("CONFIG_SMP=y\n", "t")) is None


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = lock_tables(tmp_path_factory.mktemp("kbuild") / "k.duckdb", TREE,
                    ["include", "kernel/fork.c", "drivers/foo/core.c", "drivers/bar/baz_main.c"],
                    config=CONFIG)
    yield c
    c.close()


def test_the_lock_pass_writes_the_verdicts(con):
    rows = dict(con.execute("SELECT f.path, k.built FROM kbuild_files k JOIN files f USING (file_id)"
                            ).fetchall())
    assert rows == {"kernel/fork.c": True, "drivers/foo/core.c": True, "drivers/bar/baz_main.c": False}
    assert con.execute("SELECT value FROM meta WHERE key = 'kbuild_arch'").fetchone() == ("x86",)


def test_a_call_reaches_the_definition_in_a_built_file(con):
    # grab() is non-static in both drivers/bar/baz_main.c (not built, first by file order) and
    # drivers/foo/core.c (built): fork_lock's call locks s.b
    got = con.execute("SELECT primitive, struct_name, field_path FROM lock_sites WHERE function = 'fork_lock'"
                      ).fetchall()
    assert got == [("grab", "s", "b")]


def test_sites_in_a_file_not_built_say_why(con):
    conf, reason = con.execute("SELECT confidence, reason FROM lock_sites WHERE function = 'baz_work' "
                               "AND op = 'acquire'").fetchone()
    assert conf <= 0.2
    assert reason.startswith(f"not built with {CONFIG.source} (drivers/bar/Makefile:3: "
                             "obj-$(CONFIG_NOT_SET) += baz.o: CONFIG_NOT_SET is not set)")
    conf, reason = con.execute("SELECT confidence, reason FROM lock_sites WHERE function = 'grab' "
                               "AND field_path = 'b'").fetchone()
    assert conf > 0.2 and not reason.startswith("not built")


# -- the real v6.1 tree: facts read in its makefiles and checked against Debian's build --------------------

@pytest.fixture(scope="module")
def real(kernel_src):
    paths = sorted(str(p.relative_to(kernel_src)) for p in kernel_src.rglob("*.c"))
    return kbuild_verdicts(kernel_src, paths, DEFAULT_CONFIG)[0]


@pytest.mark.parametrize(("path", "built", "why"), [
    ("mm/slub.c", True, "mm/Makefile"),                       # obj-$(CONFIG_SLUB) += slub.o, SLUB=y
    ("mm/slab.c", False, "CONFIG_SLAB is not set"),           # Debian builds SLUB
    ("kernel/sched/fair.c", True, "kernel/sched/Makefile:32: obj-y"),
    ("kernel/sched/idle.c", True, '#include "idle.c" in kernel/sched/build_policy.c'),
    ("kernel/sched/psi.c", True, '#include "psi.c" in kernel/sched/build_utility.c'),   # `# include`, PSI=y
    ("drivers/mailbox/pl320-ipc.c", False,
     "drivers/mailbox/Makefile:18: obj-$(CONFIG_PL320_MBOX) += pl320-ipc.o: CONFIG_PL320_MBOX is not set"),
    ("tools/lib/bpf/relo_core.c", True, "kernel/bpf/Makefile:44"),   # $(obj)/relo_core.o: its source
    ("kernel/locking/lockdep.c", None, "CONFIG_LOCKDEP is a lock-debugging option"),
    ("arch/arm/kernel/traps.c", False, "does not enter arch/arm/"),
    # ixgbe-$(CONFIG_FCOE:m=y) += ixgbe_fcoe.o, FCOE=m: a substitution reference in the list's name
    ("drivers/net/ethernet/intel/ixgbe/ixgbe_fcoe.c", True, "drivers/net/ethernet/intel/ixgbe/Makefile:19"),
    # arch/x86/kernel/Makefile:149-156: obj-$(CONFIG_GART_IOMMU), tab-indented in ifeq ($(CONFIG_X86_64),y)
    ("arch/x86/kernel/amd_gart_64.c", True, "arch/x86/kernel/Makefile:152"),
])
def test_verdicts_on_the_real_tree(real, path, built, why):
    v = real[path]
    assert v.built is built, v
    assert why in v.reason


def test_lima_index_reruns_the_lock_pass_when_a_makefile_changes(tmp_path):
    """Only makefiles changed (no .c/.h file): the code facts are current but the verdicts are not."""
    src = tmp_path / "t"
    shutil.copytree(TREE, src)
    (src / ".config").write_text((TREE / "test.config").read_text())
    db = tmp_path / "k.duckdb"
    index = [str(Path(sys.executable).with_name("lima-index")), str(src), "--db", str(db), "--jobs", "1"]

    def run() -> str:
        p = subprocess.run(index, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "COLUMNS": "200"})
        assert p.returncode == 0, p.stderr
        return p.stderr

    def verdict(path: str):
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute("SELECT k.built FROM kbuild_files k JOIN files f USING (file_id) "
                               "WHERE f.path = ?", [path]).fetchone()[0]
        finally:
            con.close()

    assert "rebuilt in" in run()
    assert verdict("drivers/foo/extra.c") is False
    assert "up to date (code facts, makefiles and configuration unchanged)" in run()
    mk = src / "drivers" / "foo" / "Makefile"
    mk.write_text(mk.read_text().replace("foo-$(CONFIG_FOO_EXTRA) += extra.o", "foo-y += extra.o"))
    assert "rebuilt in" in run()
    assert verdict("drivers/foo/extra.c") is True


def test_file_built_query(con):
    """lima-query file-built: the verdict and its makefile line; --built filters; a header has none."""
    from lima.queries import install_views
    from lima.queries.catalog import load_catalog
    from lima.queries.cli import run_query

    install_views(con)
    q = load_catalog()["file-built"]
    cols, rows = run_query(con, q, {"path": "drivers/"})
    got = {r[0]: (r[1], r[2]) for r in rows}
    assert got["drivers/foo/core.c"][0] is True
    assert got["drivers/bar/baz_main.c"] == (False, "drivers/bar/Makefile:3: obj-$(CONFIG_NOT_SET) += baz.o: "
                                                    "CONFIG_NOT_SET is not set")
    assert cols[:3] == ["path", "built", "reason"]
    _cols, rows = run_query(con, q, {"path": "drivers/", "built": "no"})
    assert [r[0] for r in rows] == ["drivers/bar/baz_main.c"]
    _cols, rows = run_query(con, q, {"path": "include/linux/s.h"})
    assert rows == []
