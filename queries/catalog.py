"""The query catalogue: every queries/*.sql file, its header (name, kind, description, parameters) and text.

Header format (documented in queries/README.md), one `--` comment line each, before the SQL:

    -- name: top-locks
    -- kind: query                      (optional: query | view | layer; view = parameterless mapping layer,
                                         layer = internal table macro other files call, with parameters)
    -- description: One line saying what the query answers
    -- param: runtime VARCHAR null  Only this runtime
    -- param: limit INTEGER 100  Rows at most
    -- empty: What an empty answer means   (optional: printed on stderr when the query returns no rows)
    -- empty-when: SQL | message           (optional, repeatable: evaluated in order when the query returns
                                            no rows; the first SQL condition that is true gives the message,
                                            else `empty:`. SQL may use the $parameters, message {parameter})

A `param:` line is `NAME TYPE [CHECK ...] DEFAULT  DESCRIPTION`, DEFAULT being a literal, `null` or
`required`. A CHECK token says which values are allowed (lima-query refuses others, exit 2):
    >=N  >N  <=N  <N       bounds of an INTEGER, BIGINT or DOUBLE       (limit INTEGER >=1 20  ...)
    a|b|c                  a VARCHAR that must be one of these words    (by VARCHAR count|wait count  ...)
    @TABLE.COLUMN          a VARCHAR that must be a value the database holds in TABLE.COLUMN
                           (runtime VARCHAR @trace_runs.runtime null  ...); checked for given values only
The SQL refers to a parameter as the DuckDB named parameter `$NAME`; it is bound, never pasted.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import operator
import re
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["Param", "QueryFile", "CatalogError", "load_catalog", "parse_query_file", "find_query",
           "catalog_fingerprint", "close_matches"]

#: Types a parameter may declare, with the Python conversion of a command-line value.
PARAM_TYPES = {"VARCHAR": str, "INTEGER": int, "BIGINT": int, "DOUBLE": float, "BOOLEAN": None}

#: Kinds of file: query (a user question), view (parameterless mapping layer), layer (internal table macro
#: with parameters that other files call; listed apart from the queries, like the views).
KINDS = ("query", "view", "layer")

#: Range of the integer types (DuckDB INTEGER is 32-bit, BIGINT 64-bit).
_INT_RANGE = {"INTEGER": (-2**31, 2**31 - 1), "BIGINT": (-2**63, 2**63 - 1)}

_HEADER = re.compile(r"^--\s*(name|kind|description|param|empty|empty-when):\s*(.*?)\s*$")
_PARAM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s+([A-Z]+)\s+(.*)$")
_BOUND = re.compile(r"^(>=|<=|>|<)(-?[0-9]+(?:\.[0-9]+)?)$")
_CHOICES = re.compile(r"^[A-Za-z0-9_.-]+(?:\|[A-Za-z0-9_.-]+)+$")
_DB_SET = re.compile(r"^@([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$")
_CMP = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
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
    bounds: tuple[tuple[str, float], ...] = ()  # (">=", 1): the value must compare so
    choices: tuple[str, ...] = ()  # the value must be one of these words
    db_set: tuple[str, str] | None = None  # (table, column): the value must be in that column

    @property
    def flag(self) -> str:
        """The option as users type it: --min-share for the SQL parameter $min_share."""
        return "--" + self.name.replace("_", "-")

    def allowed(self, *, with_range: bool = False) -> str:
        """What the parameter accepts, in words ('an INTEGER >= 1', 'one of count, wait'); WITH_RANGE adds
        the limits of an INTEGER or BIGINT that the declared bounds leave open ('and <= 2147483647')."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.db_set:
            return f"a value of {self.db_set[0]}.{self.db_set[1]} in this database"
        if self.type == "BOOLEAN":
            return "a BOOLEAN (true or false)"
        bounds = list(self.bounds)
        if with_range and self.type in _INT_RANGE:
            lo, hi = _INT_RANGE[self.type]
            if not any(op in (">", ">=") for op, _ in bounds):
                bounds.insert(0, (">=", lo))
            if not any(op in ("<", "<=") for op, _ in bounds):
                bounds.append(("<=", hi))
        text = ("an " if self.type[0] in "AEIOU" else "a ") + self.type
        return " ".join([text, " and ".join(f"{op} {_num(v)}" for op, v in bounds)]).rstrip()

    def _refuse(self, value: object, fault: str | None = None) -> CatalogError:
        return CatalogError(f"{self.flag} {fault or 'must be ' + self.allowed()}, not {_show(value)}")

    def convert(self, text: str | None) -> object:
        """The command-line text as a Python value of the declared type, checked (None stays None)."""
        if text is None:
            return None
        if self.type == "BOOLEAN":
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise self._refuse(text)
        try:
            value = PARAM_TYPES[self.type](text)
        except ValueError:
            raise self._refuse(text) from None
        fault = self._fault(value)
        if fault is not None:
            raise self._refuse(text, fault)   # the text as typed: 'nan', not nan
        return value

    def check(self, value: object) -> object:
        """VALUE if its type, bounds and choices are allowed (a str is converted first), else CatalogError.

        The database set (@TABLE.COLUMN) is checked by check_in_database, which needs a connection.
        """
        if value is None:
            return None
        if isinstance(value, str) and self.type != "VARCHAR":
            return self.convert(value)
        fault = self._fault(value)
        if fault is not None:
            raise self._refuse(value, fault)
        return value

    def _fault(self, value: object) -> str | None:
        """What is wrong with VALUE ('must be an INTEGER >= 1'), None when it is allowed."""
        if self.type == "VARCHAR":
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                return "must be " + self.allowed()
            if self.required and not value.strip():
                # a required text names what the query is about (a function, a struct, a class name): an
                # empty one (an unset shell variable) could only find nothing
                return "wants a name"
            return None
        if self.type == "BOOLEAN":
            ok = isinstance(value, bool)
        elif self.type in _INT_RANGE:
            if not isinstance(value, int) or isinstance(value, bool):
                return "must be " + self.allowed()
            lo, hi = _INT_RANGE[self.type]
            if not lo <= value <= hi:   # say the real limit, the declared bounds alone do not explain it
                return "must be " + self.allowed(with_range=True)
            ok = True
        else:
            ok = (isinstance(value, int | float) and not isinstance(value, bool)
                  and math.isfinite(value))
        if not ok or not all(_CMP[op](value, bound) for op, bound in self.bounds):
            return "must be " + self.allowed()
        return None

    def check_in_database(self, con: object, value: object) -> None:
        """CatalogError when the parameter names a database set (@TABLE.COLUMN) that lacks VALUE."""
        if self.db_set is None or value is None:
            return
        table, column = self.db_set
        have = [r[0] for r in con.execute(  # type: ignore[attr-defined]
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY 1").fetchall()]
        if value in have:
            return
        shown = ", ".join(map(str, have[:12])) + (", ..." if len(have) > 12 else "") if have else \
            f"none: {table} is empty"
        hint = close_matches(str(value), [str(h) for h in have])
        raise CatalogError(f"{self.flag} must be a value of {table}.{column} in this database ({shown}), "
                           f"not {_show(value)}{hint}")

    def default_value(self) -> object:
        """The default converted to its type (None for null or required)."""
        return None if self.default is None else self.convert(self.default)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _show(value: object) -> str:
    """A refused value as the user wrote it: numbers bare, other text quoted."""
    if isinstance(value, str) and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        return repr(value)
    return str(value)


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
    empty_when: tuple[tuple[str, str], ...] = ()  # (SQL condition, message), tried in order

    @property
    def internal(self) -> bool:
        """True for the layers other files build on (kind view or layer), False for user queries."""
        return self.kind != "query"

    @property
    def sql_name(self) -> str:
        """Name of the installed view/macro (dashes become underscores)."""
        return self.name.replace("-", "_")

    def param(self, name: str) -> Param:
        """The declared parameter NAME, or CatalogError naming close matches."""
        for p in self.params:
            if p.name == name:
                return p
        typed = name.replace("_", "-")
        hint = close_matches(typed, [p.flag[2:] for p in self.params], prefix="--")
        raise CatalogError(f"{self.name}: unknown parameter --{typed}{hint} "
                           f"(parameters: {', '.join(p.flag for p in self.params) or 'none'})")


def close_matches(word: str, choices: list[str], prefix: str = "") -> str:
    """'; did you mean a, b?' for the closest choices (each shown after PREFIX), or ''."""
    near = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    near += [c for c in choices if word and word in c and c not in near][:3 - len(near)]
    return f"; did you mean {', '.join(prefix + n for n in near)}?" if near else ""


def parse_query_file(text: str, path: str) -> QueryFile:
    """Parse the header and body of one query file; CatalogError with the file and line when malformed."""
    meta: dict[str, str] = {}
    params: list[Param] = []
    empty_when: list[tuple[str, str]] = []
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
            params.append(_parse_param(value, f"{path}:{i + 1}"))
        elif key == "empty-when":
            cond, sep, message = value.partition(" | ")
            if not sep or not cond.strip() or not message.strip():
                raise CatalogError(f"{path}:{i + 1}: empty-when line must be 'SQL condition | message'")
            empty_when.append((cond.strip(), message.strip()))
        else:
            meta[key] = value
    else:
        body_start = len(lines)
    sql = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
    if "name" not in meta or "description" not in meta:
        raise CatalogError(f"{path}: header needs '-- name:' and '-- description:' lines")
    kind = meta.get("kind", "query")
    if kind not in KINDS:
        raise CatalogError(f"{path}: kind must be query, view or layer, not {kind!r}")
    if not sql:
        raise CatalogError(f"{path}: no SQL after the header")
    used = set(_DOLLAR.findall(_strip_sql_comments_and_strings(sql)))
    declared = {p.name for p in params}
    if used - declared:
        names = ", ".join("$" + u for u in sorted(used - declared))
        raise CatalogError(f"{path}: uses undeclared parameter(s) {names}")
    if declared - used:
        raise CatalogError(f"{path}: declares unused parameter(s) {', '.join(sorted(declared - used))}")
    for cond, message in [*empty_when, ("", meta.get("empty", ""))]:
        unknown = (set(_DOLLAR.findall(_strip_sql_comments_and_strings(cond)))
                   | set(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", message))) - declared
        if unknown:
            names = ", ".join(sorted(unknown))
            raise CatalogError(f"{path}: empty-when uses undeclared parameter(s) {names}")
    if kind == "view" and params:
        raise CatalogError(f"{path}: a view takes no parameters")
    return QueryFile(meta["name"], kind, meta["description"], tuple(params), sql, path,
                     empty=meta.get("empty"), empty_when=tuple(empty_when))


def _parse_param(value: str, where: str) -> Param:
    """One `param:` value: NAME TYPE [CHECK ...] DEFAULT  DESCRIPTION (CatalogError at WHERE if malformed)."""
    pm = _PARAM.match(value)
    if not pm:
        raise CatalogError(f"{where}: param line must be 'NAME TYPE [CHECK ...] DEFAULT  description'")
    pname, ptype, rest = pm.groups()
    if ptype not in PARAM_TYPES:
        raise CatalogError(f"{where}: parameter type {ptype} is not one of {', '.join(PARAM_TYPES)}")
    bounds: list[tuple[str, float]] = []
    choices: tuple[str, ...] = ()
    db_set: tuple[str, str] | None = None
    while True:
        token, after = _first_token(rest)
        if (b := _BOUND.match(token)) is not None:
            if ptype not in ("INTEGER", "BIGINT", "DOUBLE"):
                raise CatalogError(f"{where}: bound {token} on a {ptype} parameter (numbers only)")
            bounds.append((b.group(1), float(b.group(2))))
        elif ptype == "VARCHAR" and _CHOICES.match(token) and not choices and not db_set:
            choices = tuple(token.split("|"))
        elif (d := _DB_SET.match(token)) is not None and ptype == "VARCHAR" and not choices and not db_set:
            db_set = (d.group(1), d.group(2))
        elif token.startswith((">", "<", "@")) or "|" in token:
            raise CatalogError(f"{where}: check {token!r} is not >=N, >N, <=N, <N, a|b|c or @table.column "
                               f"(or does not fit a {ptype} parameter)")
        else:
            break
        rest = after
    pdefault, pdesc = _first_token(rest)
    if not pdefault:
        raise CatalogError(f"{where}: param line must be 'NAME TYPE [CHECK ...] DEFAULT  description'")
    required = pdefault.lower() == "required"
    default = None if required or pdefault.lower() == "null" else pdefault
    param = Param(pname, ptype, default, required, pdesc.strip(), tuple(bounds), choices, db_set)
    try:
        param.default_value()
    except CatalogError as e:
        raise CatalogError(f"{where}: default {pdefault!r} refused: {e}") from None
    return param


def _first_token(text: str) -> tuple[str, str]:
    """(first whitespace-separated token, the rest with leading space removed)."""
    parts = text.strip().split(None, 1)
    return (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")


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
