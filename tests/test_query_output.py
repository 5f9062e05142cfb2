"""The table output of every LIMA command (lima.queries.output): nothing is squeezed out of sight."""

from __future__ import annotations

import io
import os
import re
import stat
import threading

import pytest
from lima.queries import output
from lima.queries.cli import main


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


COLUMNS = ["rank", "object", "count", "top_site_file", "top_site_line", "status"]
ROWS = [(1, "mm_struct.mmap_lock", 41003, "mm/util.c", 518, "resolved"),
        (2, "task_struct.pi_lock", 74, "kernel/sched/core.c", 4123, "resolved")]


def _render(monkeypatch, width: int) -> str:
    out = _Tty()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setenv("COLUMNS", str(width))
    output.emit(COLUMNS, ROWS, "table", None, title="top-locks")
    return re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())   # drop the terminal styling


def test_wide_terminal_gets_a_table_with_every_value(monkeypatch):
    text = _render(monkeypatch, 200)
    assert "┃ rank" in text and "-- row" not in text
    for v in ("41003", "4123", "kernel/sched/core.c", "mm_struct.mmap_lock"):
        assert v in text


def test_narrow_terminal_switches_to_one_block_per_row(monkeypatch):
    text = _render(monkeypatch, 40)
    assert "-- row 2 --" in text and "expanded" in text
    lines = [line.rstrip() for line in text.splitlines()]
    assert "count          41003" in lines and "top_site_line  4123" in lines
    assert "top_site_file  kernel/sched/core.c" in lines


def test_square_brackets_in_cells_are_text_not_markup(monkeypatch):
    """Lockdep names hold indexes (&obj_hash[i].lock): rich must not read them as markup and drop them."""
    out = _Tty()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setenv("COLUMNS", "200")
    rows = [("&obj_hash[i].lock", ["&default_group_class[depth - 1]"], "[bold]x[/bold]")]
    output.emit(["class_name", "init_names", "n[1]"], rows, "table", None, title="lock-name [x]")
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    for v in ("&obj_hash[i].lock", "&default_group_class[depth - 1]", "[bold]x[/bold]", "n[1]",
              "lock-name [x]"):
        assert v in text


CSV = "rank,object\n1,mm_struct.mmap_lock\n"


def _emit(path) -> None:
    output.emit(["rank", "object"], [(1, "mm_struct.mmap_lock")], "csv", path)


@pytest.mark.parametrize(("target", "message"), [
    ("{d}", "{d}: is a folder; --output wants a file name"),
    ("{d}/new/", "{d}/new/: names a folder (ends in /); --output wants a file name"),
    ("{d}/missing/x.csv", "{d}/missing/x.csv: folder {d}/missing does not exist"),
])
def test_output_to_a_folder_is_one_line_exit_2(tmp_path, capsys, target, message):
    """Before: a traceback (IsADirectoryError from os.replace) for a folder."""
    assert main(["--list", "--format", "csv", "--output", target.format(d=tmp_path)]) == 2
    out = capsys.readouterr()
    assert out.err == f"lima-query: {message.format(d=tmp_path)}\n"
    assert list(tmp_path.iterdir()) == []   # no temporary file left behind


def test_output_through_a_symlink_writes_its_target_and_keeps_its_mode(tmp_path):
    """Before: the link was replaced by a regular file (and the target left as it was)."""
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to("real.csv")
    _emit(link)
    assert link.is_symlink() and os.readlink(link) == "real.csv"
    assert target.read_text() == CSV
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    dangling = tmp_path / "dangling.csv"   # a link to a file not made yet: made, as open() would
    dangling.symlink_to("made.csv")
    _emit(dangling)
    assert dangling.is_symlink() and (tmp_path / "made.csv").read_text() == CSV
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.csv", "link.csv", "made.csv", "real.csv"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_new_output_file_gets_0666_less_the_umask(tmp_path, umask, mode):
    """Before: 0600 whatever the umask (mkstemp's mode)."""
    old = os.umask(umask)
    try:
        _emit(tmp_path / "new.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == mode


def test_fifo_and_descriptor_outputs_are_written_directly(tmp_path):
    """A FIFO (lima-query ... --output >(gzip > x.gz)) and /dev/fd/N or /dev/stdout cannot be renamed
    over: they are opened and written. Before: the FIFO was replaced by a regular file, /dev/fd/N failed."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    _emit(fifo)
    reader.join(10)
    assert got == [CSV] and stat.S_ISFIFO(fifo.stat().st_mode)
    # /dev/fd/N open on a regular file (as /dev/stdout is under `> file`): that open file gets the rows
    plain = tmp_path / "plain.txt"
    with open(plain, "w") as f:
        _emit(f"/dev/fd/{f.fileno()}")
    assert plain.read_text() == CSV
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "plain.txt"]
