"""lima-index end to end on small trees: output database, incremental runs, bad input, interruptions."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, ROOT

LIMA_INDEX = [sys.executable, "-m", "lima.analyzer.cli"]
DUCKDB_SHELL = ROOT / ".venv" / "bin" / "duckdb"
MAKEFILE = "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\nNAME = Curry Ramen\n"


def run(*args: str, env: dict | None = None, user: int | None = None,
        lock_pass: bool = False) -> subprocess.CompletedProcess:
    """lima-index with these arguments (code facts only unless lock_pass)."""
    cmd = [*LIMA_INDEX, *args, *([] if lock_pass else ["--no-lock-pass"])]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {}), "COLUMNS": "200"})


def make_src(tmp: Path) -> Path:
    src = tmp / "linux"
    shutil.copytree(FIXTURES / "c", src / "kernel")
    (src / "Makefile").write_text(MAKEFILE)
    return src


def q(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def one_line_error(p: subprocess.CompletedProcess) -> str:
    lines = [x for x in p.stderr.splitlines() if x.startswith("lima-index: error:")]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    return lines[0]


def test_help_explains_every_option():
    p = run("--help")
    assert p.returncode == 0
    for opt in ("--db", "--jobs", "--only", "--force", "--quiet", "--no-lock-pass", "--kconfig", "LIMA_DB",
                "examples:"):
        assert opt in p.stdout
    # what decides that a file is read again: size and mtime, not its content (test_incremental_runs)
    text = " ".join(p.stdout.split())
    assert "reads again only files whose size or modification time changed" in text
    assert "a file edited with its size and modification time restored is not read again" in text


def test_index_fixtures_and_open_in_duckdb_shell(tmp_path):
    src = make_src(tmp_path)
    db = tmp_path / "lima.duckdb"
    p = run(str(src), "--db", str(db), "--jobs", "2", lock_pass=True)
    assert p.returncode == 0, p.stderr
    assert "lima-index summary" in p.stderr
    if importlib.util.find_spec("lima.analyzer.lock_pass"):
        assert "rebuilt in" in p.stderr
        p = run(str(src), "--db", str(db), lock_pass=True)  # same facts: the lock pass is not redone
        assert "up to date (code facts, makefiles and configuration unchanged)" in p.stderr
    else:
        assert "skipped (lima.analyzer.lock_pass not available yet)" in p.stderr
    meta = dict(q(db, "SELECT key, value FROM meta"))
    assert meta["kernel_version"] == "6.1.192"
    assert meta["parser"].startswith("tree-sitter 0.25.2, tree-sitter-c 0.24.1")
    assert meta["parser_build"].startswith(("tree-sitter 0.25.2 built here with PGO", "tree-sitter wheel"))
    assert meta["tool_version"] and meta["indexed_at"]
    assert q(db, "SELECT count(*), min(status), max(status) FROM files") == [(6, "ok", "ok")]
    assert q(db, "SELECT path FROM files WHERE path LIKE '%fptr.c'") == [("kernel/fptr.c",)]
    # the database opens in the duckdb shell of duckdb-cli (PyPI) that users are promised
    shell = subprocess.run([str(DUCKDB_SHELL), str(db), "-csv", "-noheader", "-c",
                            "SELECT name FROM functions WHERE name = '__x64_sys_read'"],
                           capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip() == "__x64_sys_read"
    # ... and answers the queries at once: lima-index installs them as views and macros
    shell = subprocess.run([str(DUCKDB_SHELL), str(db), "-csv", "-noheader", "-c",
                            "SELECT (SELECT count(*) FROM top_locks), "
                            "(SELECT count(*) > 0 FROM lock_site(function := 'caller'))"],
                           capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip() == "0,true"


def test_incremental_runs(tmp_path):
    src = make_src(tmp_path)
    db = tmp_path / "lima.duckdb"
    assert run(str(src), "--db", str(db)).returncode == 0
    before = dict(q(db, "SELECT path, indexed_at FROM files"))
    functions = q(db, "SELECT count(*) FROM functions")[0][0]

    p = run(str(src), "--db", str(db))  # nothing changed: nothing re-parsed
    assert p.returncode == 0 and "0 parsed, 6 unchanged" in p.stderr
    assert dict(q(db, "SELECT path, indexed_at FROM files")) == before

    os.utime(src / "kernel" / "calls.c", ns=(1, 1))  # touched, same content: read, not re-parsed
    p = run(str(src), "--db", str(db))
    assert "0 parsed, 6 unchanged" in p.stderr
    assert q(db, "SELECT mtime_ns FROM files WHERE path = 'kernel/calls.c'") == [(1,)]

    f = src / "kernel" / "functions.c"
    f.write_text(f.read_text() + "\nint added_later(void)\n{\n\treturn 0;\n}\n")
    (src / "kernel" / "fptr.c").unlink()
    p = run(str(src), "--db", str(db))
    assert "1 parsed, 4 unchanged, 1 removed" in p.stderr
    after = dict(q(db, "SELECT path, indexed_at FROM files"))
    assert set(after) == set(before) - {"kernel/fptr.c"}
    assert [x for x in after if after[x] != before[x]] == ["kernel/functions.c"]
    assert q(db, "SELECT count(*) FROM functions")[0][0] == functions - 1 + 1  # setup() gone, one added
    assert q(db, "SELECT count(*) FROM functions WHERE name = 'added_later'") == [(1,)]
    assert q(db, "SELECT count(*) FROM fptr_assignments f JOIN files USING (file_id)"
                 " WHERE path = 'kernel/fptr.c'") == [(0,)]
    assert q(db, "SELECT count(*) FROM fptr_assignments WHERE function = 'demo_read'") == [(0,)]

    p = run(str(src), "--db", str(db), "--force")
    assert "5 parsed, 0 unchanged" in p.stderr


def _set_extractor(db: Path, value: str) -> None:
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = ? WHERE key = 'facts_extractor'", [value])
    con.close()


def test_another_extractor_reads_every_file_again(tmp_path):
    """Facts of another LIMA's extractor (same file contents) are re-read, and the lock pass redone."""
    src = make_src(tmp_path)
    shutil.copytree(FIXTURES / "c", src / "mm")
    db = tmp_path / "lima.duckdb"
    assert run(str(src), "--db", str(db), lock_pass=True).returncode == 0
    mine = q(db, "SELECT value FROM meta WHERE key = 'facts_extractor'")[0][0]
    _set_extractor(db, "older")
    p = run(str(src), "--db", str(db), "--only", "kernel", lock_pass=True)  # a part: mm/ stays stale
    assert "every file is read again (those outside --only at their next run)" in p.stderr
    assert "6 parsed, 0 unchanged" in p.stderr and "rebuilt in" in p.stderr
    assert q(db, "SELECT value FROM meta WHERE key = 'facts_extractor'") == [("older",)]
    p = run(str(src), "--db", str(db), lock_pass=True)
    assert "12 parsed, 0 unchanged" in p.stderr and "rebuilt in" in p.stderr
    assert q(db, "SELECT value FROM meta WHERE key = 'facts_extractor'") == [(mine,)]
    p = run(str(src), "--db", str(db), lock_pass=True)
    assert "read again" not in p.stderr and "0 parsed, 12 unchanged" in p.stderr
    assert "up to date (code facts, makefiles and configuration unchanged)" in p.stderr


def test_only_subfolder_keeps_the_rest(tmp_path):
    src = make_src(tmp_path)
    shutil.copytree(FIXTURES / "c", src / "mm")
    db = tmp_path / "lima.duckdb"
    assert run(str(src), "--db", str(db), "--only", "kernel").returncode == 0
    assert q(db, "SELECT count(*) FROM files WHERE path LIKE 'mm/%'") == [(0,)]
    assert run(str(src), "--db", str(db), "--only", "mm").returncode == 0
    assert q(db, "SELECT count(*) FROM files") == [(12,)]


def test_overlapping_only_lists_each_file_once(tmp_path):
    src = make_src(tmp_path)
    db = tmp_path / "lima.duckdb"
    p = run(str(src), "--db", str(db), "--only", "kernel", "--only", "kernel/fptr.c")
    assert p.returncode == 0, p.stderr
    assert q(db, "SELECT count(*), count(DISTINCT path) FROM files") == [(6, 6)]


def test_bad_src(tmp_path):
    p = run(str(tmp_path / "missing"), "--db", str(tmp_path / "x.duckdb"))
    assert p.returncode == 2 and "not a directory" in one_line_error(p)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README").write_text("no C here\n")
    p = run(str(tmp_path / "empty"), "--db", str(tmp_path / "x.duckdb"))
    assert p.returncode == 2 and "no .c or .h files" in one_line_error(p)
    assert not (tmp_path / "x.duckdb").exists(), "bad input must leave no new database behind"


def test_kernel_configuration_bad_given_or_the_trees_own(tmp_path):
    src = make_src(tmp_path)
    db = tmp_path / "x.duckdb"
    p = run(str(src), "--db", str(db), "--kconfig", str(tmp_path / "no.config"), lock_pass=True)
    assert p.returncode == 2 and "no.config: No such file or directory" in one_line_error(p)
    bad = tmp_path / "bad.config"
    bad.write_text("CONFIG_SMP=y\nCONFIG_X86\n")
    p = run(str(src), "--db", str(db), "--kconfig", str(bad), lock_pass=True)
    assert p.returncode == 2 and "bad.config:2: not a kernel configuration line" in one_line_error(p)
    assert not db.exists()
    p = run(str(src), "--db", str(db), lock_pass=True)
    assert p.returncode == 0, p.stderr
    assert q(db, "SELECT value FROM meta WHERE key = 'kconfig'") == [("Debian 6.1 amd64 (built in)",)]
    (src / ".config").write_text("CONFIG_SMP=y\n")
    p = run(str(src), "--db", str(db), lock_pass=True)   # another configuration: the lock pass runs again
    assert p.returncode == 0 and "#if by" in p.stderr + p.stdout
    assert q(db, "SELECT value FROM meta WHERE key = 'kconfig'") == [(str(src / ".config"),)]


def test_db_in_missing_folder(tmp_path):
    p = run(str(make_src(tmp_path)), "--db", str(tmp_path / "nope" / "lima.duckdb"))
    assert p.returncode == 2 and "does not exist" in one_line_error(p)


def test_db_held_by_another_writer(tmp_path):
    db = tmp_path / "lima.duckdb"
    holder = duckdb.connect(str(db))
    try:
        p = run(str(make_src(tmp_path)), "--db", str(db))
    finally:
        holder.close()
    assert p.returncode == 2
    # the whole line, with the holder's PID (this process) and nothing of DuckDB's text cut in half
    assert one_line_error(p) == (f"lima-index: error: {db}: held open by another writer (PID {os.getpid()}); "
                                 "wait for it to finish or use another --db")


@pytest.mark.parametrize("duckdb_text, holder", [
    ('IO Error: Could not set lock on file "/x.duckdb": Conflicting lock is held in /usr/bin/python3.11 '
     "(PID 3290). See also https://duckdb.org/docs/stable/connect/concurrency", " (PID 3290)"),
    ('IO Error: Could not set lock on file "/x.duckdb": Conflicting lock is held in /bin/p (PID 7) by user '
     "root. See also https://duckdb.org/docs/connect/concurrency", " (PID 7)"),
    ('IO Error: Could not set lock on file "/x.duckdb": Resource temporarily unavailable', ""),
])
def test_lock_holder_is_its_pid_or_nothing(duckdb_text, holder):
    """DuckDB's lock-conflict text varies between versions: only the PID is taken from it."""
    from lima.db import _holder

    assert _holder(duckdb_text) == holder


def test_binary_and_non_utf8_files_are_skipped_and_counted(tmp_path):
    src = make_src(tmp_path)
    (src / "kernel" / "blob.c").write_bytes(b"int x;\0\0\x01")
    (src / "kernel" / "latin1.h").write_bytes(b"/* M\xfcller */\nint y;\n")
    db = tmp_path / "lima.duckdb"
    p = run(str(src), "--db", str(db))
    assert p.returncode == 2
    assert "2 files skipped (1 binary, 1 non-UTF-8); the rest is indexed" in one_line_error(p)
    assert "lima-index: warning: kernel/latin1.h: skipped (non_utf8): not UTF-8 at byte 4" in p.stderr
    status = dict(q(db, "SELECT path, status FROM files"))
    assert status["kernel/blob.c"] == "binary" and status["kernel/latin1.h"] == "non_utf8"
    assert sum(1 for s in status.values() if s == "ok") == 6


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to run as nobody")
def test_unreadable_file_is_skipped_and_counted():
    tmp = Path(tempfile.mkdtemp(prefix="lima-unreadable-"))
    try:
        tmp.chmod(0o777)
        src = make_src(tmp)
        for p in [src, *src.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        (src / "kernel" / "calls.c").chmod(0o000)
        db = tmp / "lima.duckdb"
        p = run(str(src), "--db", str(db), user=65534)  # nobody cannot read a 000 file
        assert p.returncode == 2, p.stderr
        assert "1 file skipped (1 unreadable); the rest is indexed" in one_line_error(p)
        assert q(db, "SELECT status FROM files WHERE path = 'kernel/calls.c'") == [("unreadable",)]
        assert q(db, "SELECT count(*) FROM files WHERE status = 'ok'") == [(5,)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_crashed_worker_costs_only_its_file(tmp_path):
    src = make_src(tmp_path)
    db = tmp_path / "lima.duckdb"
    p = run(str(src), "--db", str(db), "--jobs", "2",
            env={"LIMA_INDEX_TEST_CRASH": "kernel/structs.c"})  # test hook: that worker dies
    assert p.returncode == 2
    assert "1 file skipped (1 crashed); the rest is indexed" in one_line_error(p)
    status = dict(q(db, "SELECT path, status FROM files"))
    assert status.pop("kernel/structs.c") == "crashed"
    assert set(status.values()) == {"ok"} and len(status) == 5
    assert q(db, "SELECT count(*) FROM functions WHERE name = 'demo_function'") == [(1,)]
    # next run retries the crashed file
    p = run(str(src), "--db", str(db))
    assert p.returncode == 0 and "1 parsed, 5 unchanged" in p.stderr


def _big_tree(tmp: Path, files: int, functions: int) -> Path:
    src = tmp / "big"
    for i in range(files):
        d = src / f"d{i % 10}"
        d.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"static int f{i}_{k}(struct demo *d, int x)\n{{\n\tspin_lock(&d->lock);\n"
            f"\tx = helper_{k % 7}(d, x + {k});\n\tspin_unlock(&d->lock);\n\treturn x;\n}}\n\n"
            for k in range(functions))
        (d / f"file{i}.c").write_text(body)
    (src / "Makefile").write_text(MAKEFILE)
    return src


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_run_keeps_whole_batches_and_resumes(tmp_path, sig, code):
    files, per_file = 80, 300  # ~3.5 MB: a few worker batches of 1 MB
    src = _big_tree(tmp_path, files, per_file)
    db = tmp_path / "lima.duckdb"
    marker = tmp_path / "committed"  # test hook: lima-index writes it after each commit
    proc = subprocess.Popen([*LIMA_INDEX, str(src), "--db", str(db), "--jobs", "1", "--no-lock-pass"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            env={**os.environ, "LIMA_INDEX_TEST_COMMIT_MARKER": str(marker)})
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, sig)  # like Ctrl-C: the whole process group gets the signal
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "interrupted: kept" in err and "Traceback" not in err
    # the database is whole: every file row has all its facts, no facts without a file row
    kept = q(db, "SELECT count(*) FROM files WHERE status = 'ok'")[0][0]
    assert 0 < kept < files
    assert q(db, "SELECT count(*) FROM functions")[0][0] == kept * per_file
    assert q(db, "SELECT count(*) FROM calls WHERE file_id NOT IN (SELECT file_id FROM files)") == [(0,)]
    p = run(str(src), "--db", str(db))
    assert p.returncode == 0, p.stderr
    assert f"{files - kept:,} parsed, {kept:,} unchanged" in p.stderr
    assert q(db, "SELECT count(*) FROM functions")[0][0] == files * per_file
    assert q(db, "SELECT count(*) FROM calls")[0][0] == files * per_file * 3


def test_index_without_headers_warns_and_summary_times_both_passes(tmp_path):
    """A tree indexed without include/ gets a warning naming what to add (struct and lock answers need the
    headers); the summary shows the code-facts time, the lock pass and the whole wall time apart."""
    src = make_src(tmp_path)
    db = tmp_path / "lima.duckdb"
    p = run(str(src), "--db", str(db), lock_pass=True)
    assert p.returncode == 0, p.stderr
    warning = [x for x in p.stderr.splitlines() if x.startswith("lima-index: warning: the database holds no")]
    assert len(warning) == 1 and "--only include --only arch/x86/include" in warning[0], p.stderr
    for row in ("code facts", "lock pass", "wall time"):
        assert any(x.startswith(f"│ {row}") for x in p.stderr.splitlines()), (row, p.stderr)
    # with the headers in the tree and in the index, no warning
    (src / "include" / "linux").mkdir(parents=True)
    (src / "include" / "linux" / "spinlock_types.h").write_text("typedef struct { int x; } spinlock_t;\n")
    asm = src / "arch" / "x86" / "include" / "asm"
    asm.mkdir(parents=True)
    (asm / "mmu.h").write_text("typedef struct { int id; } mm_context_t;\n")
    p = run(str(src), "--db", str(db), lock_pass=True)
    assert p.returncode == 0, p.stderr
    assert "the database holds no" not in p.stderr, p.stderr


def test_interruption_message_says_what_is_kept(capsys):
    """After the code facts, an interruption keeps them whole: the message says which phase it stopped."""
    from lima.analyzer.cli import _interrupted

    assert _interrupted(None, signal.SIGINT, "lock pass") == 130
    err = capsys.readouterr().err
    assert err.startswith("lima-index: interrupted: in the lock pass; the code facts are complete")
    assert _interrupted(None, signal.SIGTERM, "clang") == 143
    assert "in the clang front end; the code facts and lock tables are complete" in capsys.readouterr().err


def test_file_name_not_utf8_is_skipped_and_counted(tmp_path):
    """A name that is not UTF-8 cannot be stored as a path: the file is skipped like a non-UTF-8 file, its
    name shown (and kept in files.path) with \\xNN escapes; the other files are indexed."""
    src = make_src(tmp_path)
    bad = src / "kernel" / os.fsdecode(b"caf\xe9.c")
    bad.write_text("int cafe(void)\n{\n\treturn 0;\n}\n")
    db = tmp_path / "lima.duckdb"
    p = run(str(src), "--db", str(db))
    assert p.returncode == 2, p.stderr
    assert one_line_error(p) == "lima-index: error: 1 file skipped (1 non-UTF-8 name); the rest is indexed"
    assert ("lima-index: warning: kernel/caf\\xe9.c: skipped (bad_name): file name is not valid UTF-8"
            in p.stderr)
    assert q(db, "SELECT status FROM files WHERE path = 'kernel/caf\\xe9.c'") == [("bad_name",)]
    assert q(db, "SELECT count(*) FROM files WHERE status = 'ok'") == [(6,)]
    assert q(db, "SELECT count(*) FROM functions WHERE name = 'cafe'") == [(0,)]
    bad.unlink()   # its row goes like any vanished file's
    p = run(str(src), "--db", str(db))
    assert p.returncode == 0 and "0 parsed, 6 unchanged, 1 removed" in p.stderr, p.stderr


def test_only_a_binary_file_says_nothing_was_indexed(tmp_path):
    src = tmp_path / "tree"
    src.mkdir()
    (src / "blob.c").write_bytes(b"int x;\0\0\x01")
    p = run(str(src), "--db", str(tmp_path / "lima.duckdb"))
    assert p.returncode == 2
    assert one_line_error(p) == "lima-index: error: 1 file skipped (1 binary); no file could be indexed"
    assert "the database holds no" not in p.stderr   # no header advice for a database without facts


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to run as nobody")
def test_unlistable_subfolder_is_skipped_and_counted():
    """A subfolder nobody can list is skipped, named and counted; the rest is indexed, and the rows of its
    files are kept (unknown is not gone). SRC or an --only folder that cannot be listed is an error."""
    tmp = Path(tempfile.mkdtemp(prefix="lima-unlistable-"))
    try:
        tmp.chmod(0o777)
        src = make_src(tmp)
        shutil.copytree(FIXTURES / "c", src / "mm")
        for p in [src, *src.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        db = tmp / "lima.duckdb"
        (src / "mm").chmod(0o000)
        p = run(str(src), "--db", str(db), user=65534)
        assert p.returncode == 2, p.stderr
        assert one_line_error(p) == ("lima-index: error: 1 folder skipped (1 unreadable folder); "
                                     "the rest is indexed")
        assert "lima-index: warning: mm/: folder skipped (cannot list it): Permission denied" in p.stderr
        assert q(db, "SELECT count(*) FROM files WHERE status = 'ok' AND path LIKE 'kernel/%'") == [(6,)]
        (src / "mm").chmod(0o755)
        assert run(str(src), "--db", str(db), user=65534).returncode == 0
        (src / "mm").chmod(0o000)
        p = run(str(src), "--db", str(db), user=65534)
        assert p.returncode == 2 and "0 removed" in p.stderr, p.stderr
        assert q(db, "SELECT count(*) FROM files WHERE path LIKE 'mm/%'") == [(6,)]
        p = run(str(src), "--db", str(db), "--only", "mm", user=65534)
        assert p.returncode == 2 and "mm: cannot list folder: Permission denied" in one_line_error(p)
    finally:
        for d in tmp.rglob("*"):
            if d.is_dir():
                d.chmod(0o755)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("form", ["./kernel", "kernel/", ".//kernel", "mm/../kernel", "ABS"])
def test_only_written_any_way_removes_deleted_files(tmp_path, form):
    """--only is normalised relative to SRC: files deleted under it leave the database whatever its
    spelling (absolute paths under SRC included)."""
    src = make_src(tmp_path)
    shutil.copytree(FIXTURES / "c", src / "mm")
    db = tmp_path / "lima.duckdb"
    assert run(str(src), "--db", str(db)).returncode == 0
    (src / "kernel" / "fptr.c").unlink()
    only = str(src / "kernel") if form == "ABS" else form
    p = run(str(src), "--db", str(db), "--only", only)
    assert p.returncode == 0, p.stderr
    assert "0 parsed, 5 unchanged, 1 removed" in p.stderr
    assert q(db, "SELECT count(*) FROM files WHERE path = 'kernel/fptr.c'") == [(0,)]
    assert q(db, "SELECT count(*) FROM files") == [(11,)]


def test_only_outside_src_is_shown_as_typed(tmp_path):
    src = make_src(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    db = tmp_path / "lima.duckdb"
    for typed in (str(tmp_path / "elsewhere"), "../elsewhere"):
        p = run(str(src), "--db", str(db), "--only", typed)
        assert p.returncode == 2
        assert one_line_error(p) == (f"lima-index: error: {typed}: --only wants a folder or a .c/.h file "
                                     f"under {src}")
    assert not db.exists()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("ddl", ["CREATE TABLE mydata (x INT)", "CREATE TABLE files (x INT)",
                                 "CREATE TABLE meta (key VARCHAR, value VARCHAR)"])
def test_database_of_something_else_is_left_untouched(tmp_path, ddl):
    """A DuckDB file with other tables (no LIMA meta table with a schema_version) is refused, unchanged."""
    db = tmp_path / "theirs.duckdb"
    con = duckdb.connect(str(db))
    con.execute(ddl)
    con.close()
    before = _digest(db)
    p = run(str(make_src(tmp_path)), "--db", str(db))
    assert p.returncode == 2
    assert re.fullmatch(rf"lima-index: error: {re.escape(str(db))}: not a LIMA database \(it holds '\w+' and "
                        r"no LIMA meta table\); left untouched: use another database file", one_line_error(p))
    assert _digest(db) == before
    assert len(q(db, "SELECT * FROM duckdb_tables()")) == 1


def test_empty_duckdb_file_is_initialised(tmp_path):
    db = tmp_path / "new.duckdb"
    duckdb.connect(str(db)).close()
    p = run(str(make_src(tmp_path)), "--db", str(db))
    assert p.returncode == 0, p.stderr
    assert q(db, "SELECT count(*) FROM files") == [(6,)]


def test_other_schema_version_advice_works(tmp_path):
    """The advice of the schema-version error is one that works (--force does not re-create)."""
    src = make_src(tmp_path)
    db = tmp_path / "lima.duckdb"
    assert run(str(src), "--db", str(db)).returncode == 0
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    con.close()
    p = run(str(src), "--db", str(db), "--force")
    assert p.returncode == 2
    line = one_line_error(p)
    assert "schema version 0, this LIMA needs 1" in line and "--force" not in line
    assert "delete this file or pass another --db" in line
    db.unlink()
    assert run(str(src), "--db", str(db)).returncode == 0


def test_writer_keeps_only_committed_transactions(tmp_path):
    """The writer inserts into an open transaction and commits per COMMIT_BYTES: an exception (Ctrl-C)
    between commits rolls the open part back, and the count it reports as kept is what the file holds."""
    from lima.analyzer.indexer import Indexer
    from lima.analyzer.workers import BatchResult, FileResult
    from lima.db import connect

    def batch(first: int, n: int) -> BatchResult:
        return BatchResult([FileResult(i, f"f{i}.c", 10, 0, f"h{i}", "ok") for i in range(first, first + n)])

    db = tmp_path / "lima.duckdb"
    con = connect(db)
    (tmp_path / "a.c").write_text("int a;\n")
    ix = Indexer(con, tmp_path, jobs=1, only=[], force=False)
    ix.plan()
    ix.write_batch([batch(1, 3)], commit=False)
    ix.write_batch([batch(4, 2)])   # commits both
    ix.write_batch([batch(6, 4)], commit=False)
    assert ix.stats.files_done == 9 and ix.stats.files_committed == 5
    ix.rollback()                   # as write_results does on an exception
    ix.rollback()                   # nothing open: a no-op
    assert ix.stats.files_committed == 5
    con.close()
    assert q(db, "SELECT min(file_id), max(file_id), count(*) FROM files") == [(1, 5, 5)]


@pytest.mark.parametrize("defer", [False, True])
def test_indexer_leaves_the_last_checkpoint_to_the_caller_when_asked(tmp_path, defer):
    """lima-index runs Indexer.run(defer_checkpoint=True): the checkpoint threshold stays raised, so the
    last facts stay in the WAL for the lock pass's loading thread to checkpoint; otherwise it is reset."""
    from lima.analyzer.indexer import CHECKPOINT_THRESHOLD, Indexer
    from lima.db import connect

    for i in range(3):
        (tmp_path / f"f{i}.c").write_text(f"int v{i};\nint f{i}(void) {{ return v{i}; }}\n")
    con = connect(tmp_path / "lima.duckdb")
    default = con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]
    ix = Indexer(con, tmp_path, jobs=1, only=[], force=False)
    tasks, deleted = ix.plan()
    ix.run(tasks, deleted, defer_checkpoint=defer)
    now = con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]
    con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")   # (as DuckDB shows it)
    raised = con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]
    assert raised != default
    assert now == (raised if defer else default)
    assert con.execute("SELECT count(*) FROM functions").fetchone() == (3,)
    con.close()
