"""file:line for kernel stack frames from a vmlinux with DWARF (--vmlinux PATH), as the original LIMA
did: runtime addresses are moved back by the KASLR offset (kallsyms _text minus the ELF's _text) and
given to binutils addr2line in one batch.  A return address points after its call, so address - 1 is
looked up (the line of the call itself).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from lima.tracer.kallsyms import Kallsyms

__all__ = ["DwarfError", "elf_symbol", "kaslr_offset", "source_lines"]


class DwarfError(Exception):
    """vmlinux unusable or addr2line missing."""


def elf_symbol(elf: Path, name: str) -> int:
    """Address of a symbol in an ELF file (binutils nm)."""
    nm = shutil.which("nm")
    if not nm:
        raise DwarfError("nm (binutils) is not installed")
    out = subprocess.run([nm, str(elf)], capture_output=True, text=True)
    if out.returncode != 0:
        raise DwarfError(f"{elf}: nm failed: {out.stderr.strip().splitlines()[0] if out.stderr else ''}")
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise DwarfError(f"{elf}: no symbol {name}")


def kaslr_offset(vmlinux: Path, ksyms: Kallsyms) -> int:
    """Runtime minus link-time address of _text."""
    runtime = ksyms.address("_text")
    if runtime is None:
        raise DwarfError("kallsyms has no _text")
    return runtime - elf_symbol(vmlinux, "_text")


def source_lines(elf: Path, addrs: list[int], offset: int) -> dict[int, tuple[str, int]]:
    """Map runtime return addresses to (file, line) of their call; unknown ones are left out."""
    tool = shutil.which("addr2line")
    if not tool:
        raise DwarfError("addr2line (binutils) is not installed")
    if not elf.is_file():
        raise DwarfError(f"{elf}: no such file")
    uniq = sorted(set(addrs))
    if not uniq:
        return {}
    text = "".join(f"{a - offset - 1:#x}\n" for a in uniq)
    out = subprocess.run([tool, "-e", str(elf)], input=text, capture_output=True, text=True)
    if out.returncode != 0:
        raise DwarfError(f"{elf}: addr2line failed: {out.stderr.strip()[:200]}")
    result: dict[int, tuple[str, int]] = {}
    for addr, line in zip(uniq, out.stdout.splitlines(), strict=False):
        loc = line.split(" (discriminator")[0].strip()
        file, _, num = loc.rpartition(":")
        if file and file != "??" and num.isdigit() and int(num) > 0:
            result[addr] = (file, int(num))
    return result
