"""Kernel addresses to names through /proc/kallsyms, read once at capture time: code addresses to
symbol+offset [module] (stack frames), data addresses to the global variable that holds them (locks).

/proc/kallsyms lists data symbols (types d D b B r R) only on kernels built with CONFIG_KALLSYMS_ALL;
elsewhere it lists only section markers (__start_init_stack, __stop___bug_table, __init_begin...), which
are no variables: a lock address then stays unnamed.  kallsyms has no sizes, so an address is labelled
with a data symbol only below the next symbol of any kind (text included) and at most MAX_DATA_SPAN bytes
past it, SMALL_DATA_SPAN when the table is sparse (then the next symbol says little about the size).
Addresses read as 0 when kptr_restrict hides them (not root).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Kallsyms", "Symbol", "KallsymsError"]

KALLSYMS = Path("/proc/kallsyms")
TEXT_TYPES = frozenset("tTwW")
DATA_TYPES = frozenset("dDbBrRvV")
# the largest offset accepted between a data symbol and an address inside it (kallsyms has no sizes)
MAX_DATA_SPAN = 1 << 16
# ... when kallsyms lists fewer than DENSE_DATA_SYMBOLS variables (no CONFIG_KALLSYMS_ALL)
SMALL_DATA_SPAN = 1 << 12
DENSE_DATA_SYMBOLS = 1000
# linker-script markers of section boundaries: never a variable that holds a lock
_MARKER_PREFIXES = ("__start_", "__stop_", "__end_", "__init_", "__bss_", "__per_cpu_", "__nosave_")
_MARKERS = frozenset({"_text", "_stext", "_etext", "_sdata", "_edata", "_sinittext", "_einittext", "_end",
                      "__bss_start", "__bss_stop", "__brk_base", "__brk_limit", "_brk_start", "_brk_end"})


def _is_marker(name: str) -> bool:
    return name in _MARKERS or name.startswith(_MARKER_PREFIXES)


class KallsymsError(Exception):
    """kallsyms unreadable or hiding its addresses."""


@dataclass(frozen=True)
class Symbol:
    """A resolved address."""

    name: str
    offset: int
    module: str | None

    def __str__(self) -> str:
        mod = f" [{self.module}]" if self.module else ""
        return f"{self.name}+{self.offset:#x}{mod}"


class _Table:
    def __init__(self, rows: list[tuple[int, str, str | None]]):
        rows.sort(key=lambda r: r[0])
        self.addrs = [r[0] for r in rows]
        self.names = [r[1] for r in rows]
        self.mods = [r[2] for r in rows]

    def lookup(self, addr: int, max_span: int | None) -> Symbol | None:
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0:
            return None
        off = addr - self.addrs[i]
        if max_span is not None and off >= max_span:
            return None
        # a later symbol at the same address is an alias; keep the first-listed global-looking one
        return Symbol(self.names[i], off, self.mods[i])


class Kallsyms:
    """Sorted text and data symbol tables built once from kallsyms text."""

    def __init__(self, text: str):
        code: list[tuple[int, str, str | None]] = []
        data: list[tuple[int, str, str | None]] = []
        starts: list[int] = []   # every symbol's address (markers, text and data): where a variable ends
        nonzero = False
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 3:
                continue
            addr = int(parts[0], 16)
            kind, name = parts[1], parts[2]
            module = parts[3].strip("[]") if len(parts) > 3 else None
            if addr:
                nonzero = True
            if kind in TEXT_TYPES:
                code.append((addr, name, module))
            elif kind in DATA_TYPES and not _is_marker(name):
                data.append((addr, name, module))
            if kind in TEXT_TYPES or kind in DATA_TYPES:
                starts.append(addr)
        if (code or data) and not nonzero:
            raise KallsymsError("kallsyms shows every address as 0 (run as root, or lower kptr_restrict)")
        self._code = _Table(code)
        self._data = _Table(data)
        self.data_symbols = len(data)
        self._starts = sorted(set(starts))
        self._data_span = MAX_DATA_SPAN if len(data) >= DENSE_DATA_SYMBOLS else SMALL_DATA_SPAN
        self._by_name = {name: addr for addr, name, mod in code + data if mod is None}

    @classmethod
    def load(cls, path: Path = KALLSYMS) -> Kallsyms:
        """Read /proc/kallsyms (or a saved copy)."""
        try:
            return cls(path.read_text(encoding="ascii", errors="replace"))
        except OSError as e:
            raise KallsymsError(f"{path}: {e.strerror}") from None

    def address(self, name: str) -> int | None:
        """Address of a vmlinux symbol by name."""
        return self._by_name.get(name)

    def code(self, addr: int) -> Symbol | None:
        """The function holding a code address (a stack frame)."""
        return self._code.lookup(addr, None)

    def excerpt(self, addrs: list[int]) -> str:
        """kallsyms-format lines of the code symbols that hold these addresses (to record samples)."""
        t = self._code
        lines = set()
        for a in addrs:
            i = bisect.bisect_right(t.addrs, a) - 1
            if i >= 0:
                mod = f"\t[{t.mods[i]}]" if t.mods[i] else ""
                lines.add((t.addrs[i], f"{t.addrs[i]:016x} T {t.names[i]}{mod}"))
        return "\n".join(line for _, line in sorted(lines)) + "\n"

    def data(self, addr: int) -> Symbol | None:
        """The global variable holding a data address (a lock inside it): a data symbol (never a text
        symbol or a section marker) with no other symbol between it and the address, at most
        MAX_DATA_SPAN bytes before it (SMALL_DATA_SPAN when kallsyms lists few variables)."""
        sym = self._data.lookup(addr, self._data_span)
        if sym is None:
            return None
        # the next symbol of any kind after the variable's start ends it
        nxt = bisect.bisect_right(self._starts, addr - sym.offset)
        if nxt < len(self._starts) and self._starts[nxt] <= addr:
            return None
        return sym
