"""The query catalogue: every queries/*.sql file, its header (name, kind, description, parameters) and text.

Header format (documented in queries/README.md), one `--` comment line each, before the SQL:

    -- name: top-locks
    -- kind: query                      (optional: query | view; view = parameterless mapping layer)
    -- description: One line saying what the query answers
    -- param: runtime VARCHAR null  Only this runtime
    -- param: limit INTEGER 100  Rows at most
    -- empty: What an empty answer means   (optional: printed on stderr when the query returns no rows)

A `param:` line is `NAME TYPE DEFAULT  DESCRIPTION`, DEFAULT being a literal, `null` or `required`.
The SQL refers to a parameter as the DuckDB named parameter `$NAME`; it is bound, never pasted.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["Param", "QueryFile", "CatalogError", "load_catalog", "parse_query_file", "find_query",
           "catalog_fingerprint", "close_matches"]

#: Types a parameter may declare, with the Python conversion of a command-line value.
PARAM_TYPES = {"VARCHAR": str, "INTEGER": int, "BIGINT": int, "DOUBLE": float, "BOOLEAN": None}

_HEADER = re.compile(r"^--\s*(name|kind|description|param|empty):\s*(.*?)\s*$")
_PARAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s+([A-Z]+)\s+(\S+)\s*(.*)$")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class CatalogError(Exception):
    """A malformed query file, or an unknown query or parameter (one line for the user)."""


@dataclass(frozen=True)
class Param:
    """One declared parameter of a query."""

    name: str
    type: str
    default: str | None  # literal text; None when the default is null
    required: bool
    description: str

    def convert(self, text: str | None) -> object:
        """The command-line text as a Python value of the declared type (None stays None)."""
        if text is None:
            return None
        if self.type == "BOOLEAN":
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise CatalogError(f"--{self.name}: {text!r} is not a BOOLEAN (true/false)")
        try:
            return PARAM_TYPES[self.type](text)
        except ValueError:
            raise CatalogError(f"--{self.name}: {text!r} is not a valid {self.type}") from None

    def default_value(self) -> object:
        """The default converted to its type (None for null or required)."""
        return None if self.default is None else self.convert(self.default)


@dataclass(frozen=True)
class QueryFile:
    """A parsed queries/NAME.sql file."""

    name: str
    kind: str
    description: str
    params: tuple[Param, ...]
    sql: str
    path: str
    extra: dict[str, str] = field(default_factory=dict)
    empty: str | None = None

    @property
    def sql_name(self) -> str:
        """Name of the installed view/macro (dashes become underscores)."""
        return self.name.replace("-", "_")

    def param(self, name: str) -> Param:
        """The declared parameter NAME, or CatalogError naming close matches."""
        for p in self.params:
            if p.name == name:
                return p
        names = [p.name for p in self.params]
        hint = close_matches(name, names)
        have = ", ".join(f"--{n}" for n in names) or "none"
        raise CatalogError(f"{self.name}: unknown parameter --{name}{hint} (parameters: {have})")


def close_matches(word: str, choices: list[str]) -> str:
    """'; did you mean a, b?' for the closest choices, or ''."""
    near = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    near += [c for c in choices if word and word in c and c not in near][:3 - len(near)]
    return f"; did you mean {', '.join(near)}?" if near else ""


def parse_query_file(text: str, path: str) -> QueryFile:
    """Parse the header and body of one query file; CatalogError with the file and line when malformed."""
    meta: dict[str, str] = {}
    params: list[Param] = []
    body_start = 0
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if not line.lstrip().startswith("--"):
            body_start = i
            break
        m = _HEADER.match(line.strip())
        if not m:
            continue  # free comment lines document the query
        key, value = m.groups()
        if key == "param":
            pm = _PARAM.match(value)
            if not pm:
                raise CatalogError(f"{path}:{i + 1}: param line must be 'NAME TYPE DEFAULT  description'")
            pname, ptype, pdefault, pdesc = pm.groups()
            if ptype not in PARAM_TYPES:
                raise CatalogError(f"{path}:{i + 1}: parameter type {ptype} is not one of "
                                   f"{', '.join(PARAM_TYPES)}")
            required = pdefault.lower() == "required"
            default = None if required or pdefault.lower() == "null" else pdefault
            params.append(Param(pname, ptype, default, required, pdesc.strip()))
        else:
            meta[key] = value
    else:
        body_start = len(lines)
    sql = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
    if "name" not in meta or "description" not in meta:
        raise CatalogError(f"{path}: header needs '-- name:' and '-- description:' lines")
    kind = meta.get("kind", "query")
    if kind not in ("query", "view"):
        raise CatalogError(f"{path}: kind must be query or view, not {kind!r}")
    if not sql:
        raise CatalogError(f"{path}: no SQL after the header")
    used = set(_DOLLAR.findall(_strip_sql_comments_and_strings(sql)))
    declared = {p.name for p in params}
    if used - declared:
        names = ", ".join("$" + u for u in sorted(used - declared))
        raise CatalogError(f"{path}: uses undeclared parameter(s) {names}")
    if declared - used:
        raise CatalogError(f"{path}: declares unused parameter(s) {', '.join(sorted(declared - used))}")
    if kind == "view" and params:
        raise CatalogError(f"{path}: a view takes no parameters")
    return QueryFile(meta["name"], kind, meta["description"], tuple(params), sql, path,
                     empty=meta.get("empty"))


def _strip_sql_comments_and_strings(sql: str) -> str:
    """SQL text with string literals and -- comments blanked (so '$x' inside them is not a parameter)."""
    sql = re.sub(r"'(?:[^']|'')*'", "''", sql)
    return re.sub(r"--[^\n]*", "", sql)


def load_catalog() -> dict[str, QueryFile]:
    """Every query file shipped in lima.queries, by name (views first in dependency order of their names)."""
    out: dict[str, QueryFile] = {}
    root = resources.files("lima.queries")
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        q = parse_query_file(entry.read_text(encoding="utf-8"), f"queries/{entry.name}")
        if q.name != entry.name[:-4]:
            raise CatalogError(f"queries/{entry.name}: header name {q.name!r} differs from the file name")
        out[q.name] = q
    return out


def find_query(catalog: dict[str, QueryFile], name: str) -> QueryFile:
    """The query NAME (dashes and underscores are interchangeable) or CatalogError with close matches."""
    for cand in (name, name.replace("_", "-")):
        if cand in catalog:
            return catalog[cand]
    hint = close_matches(name.replace("_", "-"), sorted(catalog))
    raise CatalogError(f"unknown query {name!r}{hint} (lima-query --list shows them all)")


def catalog_fingerprint(catalog: dict[str, QueryFile]) -> str:
    """Hash of every query file's text: installed views are refreshed when it changes."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(catalog):
        h.update(name.encode())
        h.update(b"\0")
        h.update(catalog[name].sql.encode())
        h.update(repr(catalog[name].params).encode())
    return h.hexdigest()
