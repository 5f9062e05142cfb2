"""The table output of every LIMA command (lima.queries.output): nothing is squeezed out of sight."""

from __future__ import annotations

import io
import re

from lima.queries import output


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
