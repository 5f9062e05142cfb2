"""compile_commands.json for the libclang front end: read it, and keep only the flags that change parsing.

A kernel build's command lines are gcc's (-mpreferred-stack-boundary, -fconserve-stack, ...): libclang
refuses some of them. What decides the AST is the preprocessor and the language: include paths, macro
definitions, forced includes, -nostdinc, the C standard and the target width. Everything else is dropped
and -Wno-everything added (warnings are not what we read).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CompileEntry", "CompileCommandsError", "read_compile_commands", "parse_flags", "flags_hash"]

#: Flags that take a value, joined (-Ifoo) or separate (-I foo); those marked True name a path.
_VALUE_FLAGS: dict[str, bool] = {"-I": True, "-D": False, "-U": False, "-include": True, "-isystem": True,
                                 "-iquote": True, "-imacros": True}
#: Flags kept as they are.
_PLAIN_FLAGS = {"-nostdinc", "-m64"}
#: Flags we add: no warnings (they are not read, and some gcc-only -W options would be reported).
EXTRA_FLAGS = ["-Wno-everything"]


class CompileCommandsError(Exception):
    """The compile_commands.json file is missing or not what the format says (one line for the user)."""


@dataclass(frozen=True)
class CompileEntry:
    """One translation unit of a compile_commands.json: the source file and the flags libclang gets."""

    file: str            # absolute path of the source file
    directory: str       # the entry's working directory
    args: tuple[str, ...]


def _abs(path: str, directory: str) -> str:
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(directory, path))


def parse_flags(argv: list[str], directory: str) -> list[str]:
    """The parsing flags of a compiler command line (argv[0] is the compiler), paths made absolute."""
    out: list[str] = []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in _VALUE_FLAGS:
            if i + 1 < len(argv):
                v = argv[i + 1]
                out += [a, _abs(v, directory) if _VALUE_FLAGS[a] else v]
            i += 2
            continue
        if a in _PLAIN_FLAGS or a.startswith("-std="):
            out.append(a)
        elif a[:2] in ("-I", "-D", "-U") and len(a) > 2:
            out.append("-I" + _abs(a[2:], directory) if a.startswith("-I") else a)
        i += 1
    return out + EXTRA_FLAGS


def flags_hash(args: tuple[str, ...] | list[str]) -> str:
    """A short digest of a flag list (a file whose flags changed is parsed again)."""
    return hashlib.blake2b("\0".join(args).encode(), digest_size=8).hexdigest()


def read_compile_commands(path: Path) -> list[CompileEntry]:
    """Every entry of a compile_commands.json; CompileCommandsError with a one-line reason when unusable.

    Entries carry "command" (one shell-quoted string) or "arguments" (a list). A file listed twice keeps
    its last entry (the build's final word).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CompileCommandsError(f"{path}: no such file (a kernel build writes it with "
                                   "scripts/clang-tools/gen_compile_commands.py)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CompileCommandsError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CompileCommandsError(f"{path}:{e.lineno}: not JSON: {e.msg}") from None
    if not isinstance(data, list):
        raise CompileCommandsError(f"{path}: not a compile_commands.json (the top level must be a list)")
    out: dict[str, CompileEntry] = {}
    for n, e in enumerate(data):
        where = f"{path}: entry {n + 1}"
        if not isinstance(e, dict) or not isinstance(e.get("file"), str) \
                or not isinstance(e.get("directory"), str):
            raise CompileCommandsError(f"{where}: needs \"file\" and \"directory\" strings")
        if isinstance(e.get("arguments"), list) and all(isinstance(a, str) for a in e["arguments"]):
            argv = list(e["arguments"])
        elif isinstance(e.get("command"), str):
            try:
                argv = shlex.split(e["command"])
            except ValueError as err:
                raise CompileCommandsError(f"{where}: command is not shell syntax: {err}") from None
        else:
            raise CompileCommandsError(f"{where}: needs \"command\" (a string) or \"arguments\" (a list)")
        directory = e["directory"]
        f = _abs(e["file"], directory)
        out[f] = CompileEntry(f, directory, tuple(parse_flags(argv, directory)))
    return list(out.values())
