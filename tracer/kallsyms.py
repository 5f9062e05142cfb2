"""Kernel addresses to names through /proc/kallsyms, read once at capture time: code addresses to
symbol+offset [module] (stack frames), data addresses to the global variable that holds them (locks).

/proc/kallsyms lists data symbols (types d D b B r R) only on kernels built with CONFIG_KALLSYMS_ALL;
elsewhere a lock address stays unnamed.  Addresses read as 0 when kptr_restrict hides them (not root).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Kallsyms", "Symbol", "KallsymsError"]

KALLSYMS = Path("/proc/kallsyms")
TEXT_TYPES = frozenset("tTwW")
DATA_TYPES = frozenset("dDbBrRvV")
# the largest gap accepted between a data symbol and an address inside it (kallsyms has no sizes)
MAX_DATA_SPAN = 1 << 16


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
            elif kind in DATA_TYPES:
                data.append((addr, name, module))
        if (code or data) and not nonzero:
            raise KallsymsError("kallsyms shows every address as 0 (run as root, or lower kptr_restrict)")
        self._code = _Table(code)
        self._data = _Table(data)
        self.data_symbols = len(data)
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
        """The global variable holding a data address (a lock inside it), within MAX_DATA_SPAN bytes."""
        return self._data.lookup(addr, MAX_DATA_SPAN)
