"""Just enough of the kernel's BTF (/sys/kernel/btf/vmlinux) to ask: is there a function F, and at which
byte offset is member M of struct S (through anonymous members)?  The tracer asks by presence, never by
kernel version (mutex_lock vs mutex_lock_nested, mm_struct.mmap_lock, lockdep_map.name).

Format: include/uapi/linux/btf.h (v6.1): a header, then the type section (struct btf_type records, each
followed by kind-specific data), then the string section.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Btf", "BtfError", "load_vmlinux_btf"]

VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")

BTF_MAGIC = 0xEB9F
# kind -> size of the data after the 12-byte btf_type, as (fixed bytes, bytes per vlen item)
_KIND_EXTRA = {
    1: (4, 0),    # INT
    2: (0, 0),    # PTR
    3: (12, 0),   # ARRAY
    4: (0, 12),   # STRUCT
    5: (0, 12),   # UNION
    6: (0, 8),    # ENUM
    7: (0, 0),    # FWD
    8: (0, 0),    # TYPEDEF
    9: (0, 0),    # VOLATILE
    10: (0, 0),   # CONST
    11: (0, 0),   # RESTRICT
    12: (0, 0),   # FUNC
    13: (0, 8),   # FUNC_PROTO
    14: (4, 0),   # VAR
    15: (0, 12),  # DATASEC
    16: (0, 0),   # FLOAT
    17: (4, 0),   # DECL_TAG
    18: (0, 0),   # TYPE_TAG
    19: (0, 12),  # ENUM64
}
KIND_STRUCT, KIND_UNION, KIND_FUNC = 4, 5, 12


class BtfError(Exception):
    """BTF missing or not understood."""


@dataclass
class Btf:
    """Structs/unions (name -> type ids), functions, and members of each struct/union."""

    functions: set[str] = field(default_factory=set)
    structs: dict[str, list[int]] = field(default_factory=dict)
    # type id -> list of (member name or '', member type id, bit offset)
    members: dict[int, list[tuple[str, int, int]]] = field(default_factory=dict)
    # type id -> (kind, referenced type id) for modifiers/typedefs, to reach a member's struct
    refs: dict[int, tuple[int, int]] = field(default_factory=dict)

    def has_function(self, name: str) -> bool:
        """True when the kernel has a function of that name (fentry can attach to it)."""
        return name in self.functions

    def member_offset(self, struct_name: str, member: str) -> int | None:
        """Byte offset of `member` in `struct struct_name`, searching anonymous members; None if absent."""
        for tid in self.structs.get(struct_name, []):
            off = self._find(tid, member, 0)
            if off is not None:
                return off // 8
        return None

    def _find(self, tid: int, member: str, base_bits: int, depth: int = 0) -> int | None:
        if depth > 8:
            return None
        for name, mtype, bits in self.members.get(tid, []):
            if name == member:
                return base_bits + bits
            if name == "":
                inner = self._resolve(mtype)
                if inner in self.members:
                    off = self._find(inner, member, base_bits + bits, depth + 1)
                    if off is not None:
                        return off
        return None

    def _resolve(self, tid: int) -> int:
        seen = 0
        while tid in self.refs and seen < 16:
            tid = self.refs[tid][1]
            seen += 1
        return tid


def parse_btf(data: bytes) -> Btf:
    """Parse raw BTF bytes (little or big endian)."""
    if len(data) < 24:
        raise BtfError("BTF too short")
    for endian in ("<", ">"):
        if struct.unpack_from(endian + "H", data, 0)[0] == BTF_MAGIC:
            break
    else:
        raise BtfError("not BTF (bad magic)")
    hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(endian + "5I", data, 4)
    types = data[hdr_len + type_off: hdr_len + type_off + type_len]
    strings = data[hdr_len + str_off: hdr_len + str_off + str_len]

    def name_at(off: int) -> str:
        end = strings.index(b"\0", off)
        return strings[off:end].decode("ascii", "replace")

    btf = Btf()
    pos, tid = 0, 1
    u3 = struct.Struct(endian + "3I")
    while pos + 12 <= len(types):
        name_off, info, size_or_type = u3.unpack_from(types, pos)
        vlen, kind, kind_flag = info & 0xFFFF, (info >> 24) & 0x1F, info >> 31
        if kind not in _KIND_EXTRA:
            raise BtfError(f"unknown BTF kind {kind} at type {tid}")
        fixed, per = _KIND_EXTRA[kind]
        body = pos + 12
        if kind in (KIND_STRUCT, KIND_UNION):
            members = []
            for i in range(vlen):
                m_name, m_type, m_off = u3.unpack_from(types, body + 12 * i)
                bits = m_off & 0xFFFFFF if kind_flag else m_off
                members.append((name_at(m_name), m_type, bits))
            btf.members[tid] = members
            if name_off:
                btf.structs.setdefault(name_at(name_off), []).append(tid)
        elif kind == KIND_FUNC:
            btf.functions.add(name_at(name_off))
        elif kind in (8, 9, 10, 11, 18):
            btf.refs[tid] = (kind, size_or_type)
        pos = body + fixed + per * vlen
        tid += 1
    return btf


_CACHE: dict[Path, Btf] = {}


def load_vmlinux_btf(path: Path = VMLINUX_BTF) -> Btf:
    """The running kernel's BTF, parsed once per process."""
    if path not in _CACHE:
        try:
            _CACHE[path] = parse_btf(path.read_bytes())
        except OSError as e:
            raise BtfError(f"{path}: {e.strerror}") from None
    return _CACHE[path]
