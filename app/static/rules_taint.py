"""Taint-aware rules ARCH120-ARCH126: untrusted data reaching a command, SQL, URL, path, XML or log sink.

``app.static.taint`` follows the data; this module says which calls are sinks for which family
(catalogue: ``app.static.sources_sinks``) and turns each tainted sink into a ``RawFinding``. The same
call with constants (or sanitised data) is silent. A finding's ``extra_lines`` are the lines the flow
passed through (the source, each assignment, each call into a helper), so that a sink on an unchanged
line is reported when a changed line brings the data there, and the detail names that line.

Severity: the rule's (high; medium for log injection); low where the data is only the operator's own
(``sys.argv``, ``input()``), which reaches only shell-interpreted sinks.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from app.review.models import Severity
from app.static import sources_sinks as cat
from app.static.checks import RawFinding
from app.static.facts import dotted, keyword, statement_span
from app.static.module_view import ModuleView
from app.static.taint import PARAM, WEAK, Frame, ModuleFlow, Taint, statements

COMMAND, SQL, SSRF, PATH, ARCHIVE, XXE, LOG = (
    "ARCH120",
    "ARCH121",
    "ARCH122",
    "ARCH123",
    "ARCH124",
    "ARCH125",
    "ARCH126",
)
REGEX = "ARCH144"  # the rule of app.static.redos, reported here too when the pattern comes through a flow
FAMILY_OF_RULE = {COMMAND: "command", SQL: "sql", SSRF: "ssrf", PATH: "path", ARCHIVE: "path", XXE: "xxe", LOG: "log"}

_HOST_FIXED = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#{\x00]+[/?#]")
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([a-zA-Z%])")


_SINK_NAMES: frozenset[str] = frozenset(
    name.rsplit(".", 1)[-1]
    for table in (
        cat.SHELL_SINKS, cat.PROCESS_SINKS, cat.EXEC_SINKS, cat.SQL_FUNCTION_SINKS, cat.SQL_METHOD_SINKS,
        cat.HTTP_FUNCTION_SINKS, cat.HTTP_CLIENT_CTORS, cat.HTTP_METHOD_SINKS, cat.PATH_FUNCTION_SINKS,
        cat.PATH_METHOD_SINKS, cat.UPLOAD_SAVE_METHODS, cat.ARCHIVE_EXTRACT_METHODS, cat.XML_SINKS,
        cat.LOG_METHODS, cat.REDISPATCH_CALLS, cat.REGEX_FUNCTIONS,
        {"extra", "parse", "feed", "parseString", "open", "run_in_executor"},
    )
    for name in table
)  # fmt: skip
"""The last name of every call that can be a sink (a cheap test before resolving the call)."""


@dataclass(frozen=True)
class _Hit:
    rule: str
    call: ast.Call
    taint: Taint
    sink: str
    note: str
    stmt: ast.stmt | None
    chain: tuple[int, ...]


def _arg(call: ast.Call, index: int, *names: str) -> ast.expr | None:
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        return call.args[index]
    for name in names:
        kw = keyword(call, name)
        if kw is not None:
            return kw.value
    return None


def _tier(taint: Taint | None) -> int:
    return 0 if taint is None else taint.tier


def _is_true(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and bool(expr.value)


class _Rules:
    """The ``on_call`` hook of the flow: one method per family."""

    def __init__(self) -> None:
        self.hits: dict[tuple[str, int, int], _Hit] = {}

    def add(self, rule: str, call: ast.Call, frame: Frame, taint: Taint, sink: str, *, note: str = "") -> None:
        key = (rule, call.lineno, call.col_offset)
        if key not in self.hits or self.hits[key].taint.tier < taint.tier:
            self.hits[key] = _Hit(rule, call, taint, sink, note, frame.stmt, frame.chain)

    def on_call(self, call: ast.Call, frame: Frame) -> None:
        func = call.func
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if last not in _SINK_NAMES and last not in frame.flow.aliases:
            return
        qual = frame.qualname(call.func) or ""
        method = call.func.attr if isinstance(call.func, ast.Attribute) else None
        inner = frame.flow.redispatch(call, qual, method)
        if inner is not None:
            self.on_call(inner, frame)
            return
        self._command(call, frame, qual)
        self._sql(call, frame, qual, method)
        self._ssrf(call, frame, qual, method)
        self._path(call, frame, qual, method)
        self._xml(call, frame, qual, method)
        if method in cat.LOG_METHODS:
            self._log(call, frame, method)
        if qual.rpartition(".")[0] in cat.REGEX_MODULES and qual.rpartition(".")[2] in cat.REGEX_FUNCTIONS:
            taint = self._strong(frame, _arg(call, 0, "pattern"), "regex")
            if taint is not None:
                self.add(REGEX, call, frame, taint, qual, note="the client chooses the pattern")

    # -------------------------------------------------------------- command

    def _strong(self, frame: Frame, expr: ast.expr | None, family: str) -> Taint | None:
        taint = frame.taint(expr)
        return taint if taint is not None and taint.for_family(family) and taint.strong else None

    def _argv_taint(self, frame: Frame, exprs: list[ast.expr]) -> Taint | None:
        """Taint of an argument vector; what follows a literal ``--`` cannot be an option."""
        flat: list[ast.expr] = []
        for expr in exprs:
            if isinstance(expr, ast.List | ast.Tuple):
                flat.extend(expr.elts)
            else:
                flat.append(expr)
        for expr in flat:
            if isinstance(expr, ast.Constant) and expr.value == "--":
                break
            taint = self._strong(frame, expr, "command")
            if taint is not None:
                return taint
        return None

    def _command(self, call: ast.Call, frame: Frame, qual: str) -> None:
        shell: ast.expr | None = None
        if qual in cat.SHELL_SINKS:
            shell = _arg(call, cat.SHELL_SINKS[qual], "cmd", "command")
        elif qual in cat.PROCESS_SINKS and _is_true(getattr(keyword(call, "shell"), "value", None)):
            shell = _arg(call, 0, "args")
        if shell is not None:
            taint = frame.taint(shell)
            if taint is not None and taint.for_family("command"):
                self.add(COMMAND, call, frame, taint, qual, note="a shell parses this string")
            return
        if qual in cat.PROCESS_SINKS:
            first = _arg(call, 0, "args")
            taint = self._argv_taint(frame, [first]) if first is not None else None
            if taint is not None:
                self.add(COMMAND, call, frame, taint, qual, note="no shell, but it chooses the program or its options")
        elif qual in cat.EXEC_SINKS:
            taint = self._argv_taint(frame, list(call.args[cat.EXEC_SINKS[qual] :]))
            if taint is not None:
                self.add(COMMAND, call, frame, taint, qual, note="it chooses the program or its options")

    # ------------------------------------------------------------------ SQL

    def _sql(self, call: ast.Call, frame: Frame, qual: str, method: str | None) -> None:
        if qual in cat.SQL_FUNCTION_SINKS:
            query = _arg(call, cat.SQL_FUNCTION_SINKS[qual], "sql", "text", "query")
            taint = self._query_taint(frame, query, always=True, receiver="")
            if taint is not None:
                self.add(SQL, call, frame, taint, qual)
            return
        if method == "extra":
            for kw in call.keywords:
                if kw.arg in cat.SQL_EXTRA_KEYWORDS:
                    taint = self._strong(frame, kw.value, "sql")
                    if taint is not None:
                        self.add(SQL, call, frame, taint, f".extra({kw.arg}=...)")
                        return
            return
        if method not in cat.SQL_METHOD_SINKS or not isinstance(call.func, ast.Attribute):
            return
        receiver_taint = frame.taint(call.func.value)
        if receiver_taint is not None and receiver_taint.tier > PARAM:
            return  # a method of the data itself (a dict's .raw, a parsed object's .execute)
        query = _arg(call, 0, "query", "sql", "statement", "operation")
        receiver = (dotted(call.func.value) or "").lower() or "db"
        taint = self._query_taint(frame, query, always=method in cat.SQL_ALWAYS_METHODS, receiver=receiver)
        if taint is not None:
            self.add(SQL, call, frame, taint, f".{method}()")

    def _query_taint(self, frame: Frame, query: ast.expr | None, *, always: bool, receiver: str) -> Taint | None:
        """The taint of a query that is run as SQL: untrusted data in it, or a caller's parameter
        formatted into SQL text (low severity: nobody here knows where the caller's value comes from)."""
        taint = frame.taint(query)
        if query is None or taint is None or not taint.for_family("sql") or taint.tier == WEAK:
            return None
        text = frame.const_text(query).lower()
        sqlish = any(word in f" {text} " for word in cat.SQL_WORDS)
        if not taint.strong:
            built = frame.value_of(query)
            formatted = isinstance(built, ast.JoinedStr | ast.BinOp) or (
                isinstance(built, ast.Call) and isinstance(built.func, ast.Attribute) and built.func.attr == "format"
            )
            return taint if formatted and sqlish else None
        bare = not text.strip("\x00 ")
        if always or sqlish or (bare and any(hint in receiver for hint in cat.SQL_RECEIVER_HINTS)):
            return taint
        return None

    # ----------------------------------------------------------------- SSRF

    def _host_fixed(self, frame: Frame, expr: ast.expr) -> bool:
        """The URL's scheme and host are constants: the data only fills in the path or the query."""
        expr = frame.value_of(expr)
        prefix = ""
        if isinstance(expr, ast.JoinedStr):
            for value in expr.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    prefix += value.value
                    continue
                if isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
                    constant = frame.flow.constants.get(value.value.id)
                    if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                        prefix += constant.value
                        continue
                break
        elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left = frame.value_of(expr.left)
            if isinstance(left, ast.Constant) and isinstance(left.value, str):
                prefix = left.value
            else:
                return self._host_fixed(frame, expr.left)
        elif isinstance(expr, ast.BinOp | ast.Call):
            template = expr.left if isinstance(expr, ast.BinOp) else getattr(expr.func, "value", None)
            if isinstance(template, ast.Constant) and isinstance(template.value, str):
                prefix = re.split(r"[%{]", template.value, maxsplit=1)[0]
        return bool(_HOST_FIXED.match(prefix)) or (prefix.startswith("/") and not prefix.startswith("//"))

    def _is_client(self, frame: Frame, receiver: ast.expr) -> bool:
        source = frame.value_of(receiver)
        if isinstance(source, ast.Call):
            ctor = frame.qualname(source.func) or ""
            if ctor in cat.HTTP_CLIENT_CTORS or ctor.rsplit(".", 1)[-1] in cat.HTTP_CLIENT_CTORS:
                return True
        name = (dotted(receiver) or "").rsplit(".", 1)[-1].lower()
        return name in cat.HTTP_CLIENT_NAMES or name.endswith(("_client", "_session"))

    def _ssrf(self, call: ast.Call, frame: Frame, qual: str, method: str | None) -> None:
        url: ast.expr | None = None
        sink = qual
        if qual in cat.HTTP_FUNCTION_SINKS:
            url = _arg(call, cat.HTTP_FUNCTION_SINKS[qual], "url", "host", "address")
        elif (
            method in cat.HTTP_METHOD_SINKS
            and isinstance(call.func, ast.Attribute)
            and not qual.startswith(("requests.", "httpx."))
            and _tier(frame.taint(call.func.value)) <= PARAM
            and self._is_client(frame, call.func.value)
        ):
            url = _arg(call, cat.HTTP_METHOD_SINKS[method], "url")
            sink = f"{dotted(call.func.value) or 'client'}.{method}()"
        elif qual in cat.HTTP_CLIENT_CTORS:
            url = _arg(call, 99, "base_url")
            sink = f"{qual}(base_url=...)"
        if url is None:
            return
        taint = frame.taint(url)
        if taint is None or not taint.for_family("ssrf") or taint.tier == WEAK:
            return
        if not taint.strong and qual not in cat.FILE_URL_OPENERS:
            return
        if not qual.startswith(("http.client.", "socket.")) and self._host_fixed(frame, url):
            return
        if not taint.strong:
            note = "a caller's value: `urlopen` also opens `file://` and `ftp://` URLs; check the scheme"
            self.add(SSRF, call, frame, taint, sink, note=note)
            return
        redirects = any(
            kw.arg in {"follow_redirects", "allow_redirects"} and _is_true(kw.value) for kw in call.keywords
        )
        self.add(SSRF, call, frame, taint, sink, note="redirects are followed, too" if redirects else "")

    # ----------------------------------------------------------------- paths

    def _path(self, call: ast.Call, frame: Frame, qual: str, method: str | None) -> None:
        if qual in cat.PATH_FUNCTION_SINKS:
            for index in cat.PATH_FUNCTION_SINKS[qual]:
                taint = self._strong(frame, _arg(call, index, "path", "file", "src", "dst", "directory"), "path")
                if taint is not None:
                    self.add(PATH, call, frame, taint, qual)
                    return
            return
        if method is None or not isinstance(call.func, ast.Attribute):
            return
        receiver = call.func.value
        if method in cat.PATH_METHOD_SINKS or (method == "open" and self._is_path(frame, receiver)):
            taint = self._strong(frame, receiver, "path")
            if taint is not None:
                self.add(PATH, call, frame, taint, f"Path.{method}()")
        elif method in cat.UPLOAD_SAVE_METHODS and call.args and frame.taint(receiver) is not None:
            taint = self._strong(frame, call.args[0], "path")
            if taint is not None:
                self.add(PATH, call, frame, taint, f"{dotted(receiver) or 'upload'}.save()")
        elif method in cat.ARCHIVE_EXTRACT_METHODS:
            self._extract(call, frame, receiver, method)

    def _is_path(self, frame: Frame, expr: ast.expr) -> bool:
        source = frame.value_of(expr)
        if isinstance(source, ast.BinOp) and isinstance(source.op, ast.Div):
            return True
        if isinstance(source, ast.Call):
            return (frame.qualname(source.func) or "").rsplit(".", 1)[-1] in {"Path", "PurePath", "resolve"}
        return False

    def _extract(self, call: ast.Call, frame: Frame, receiver: ast.expr, method: str) -> None:
        if keyword(call, "filter") is not None or keyword(call, "members") is not None:
            return
        source = frame.value_of(receiver)
        ctor = frame.qualname(source.func) or "" if isinstance(source, ast.Call) else ""
        if ctor in cat.ARCHIVE_SAFE_CTORS or "zip" in ctor.lower() or self._members_checked(frame, receiver):
            return
        taint = frame.taint(receiver)
        if taint is not None and taint.strong and not taint.request:
            self.add(ARCHIVE, call, frame, taint, f"{dotted(receiver) or 'archive'}.{method}()")

    @staticmethod
    def _members_checked(frame: Frame, receiver: ast.expr) -> bool:
        """A loop over the archive's members that rejects some (``raise``/``continue``) before extracting."""
        name = dotted(receiver)
        if frame.func is None or name is None:
            return False
        for node in statements(frame.func.body):
            if not isinstance(node, ast.For) or name not in (
                dotted(node.iter) or dotted(getattr(node.iter, "func", node.iter)) or ""
            ):
                continue
            if any(isinstance(inner, ast.Raise | ast.Continue) for inner in ast.walk(node)):
                return True
        return False

    # ------------------------------------------------------------------- XML

    def _safe_parser(self, frame: Frame, parser: ast.expr | None) -> bool:
        if parser is None:
            return False
        source = frame.value_of(parser)
        if not isinstance(source, ast.Call):
            return False
        ctor = frame.qualname(source.func) or ""
        if ctor in cat.XML_SAFE_PARSERS or ctor.endswith("HTMLParser"):
            return True
        entities = keyword(source, "resolve_entities")
        return entities is not None and isinstance(entities.value, ast.Constant) and entities.value.value is False

    def _xml(self, call: ast.Call, frame: Frame, qual: str, method: str | None) -> None:
        if qual in cat.XML_SINKS:
            taint = self._strong(frame, _arg(call, 0, "source", "text", "string"), "xxe")
            if taint is None:
                return
            if cat.XML_SINKS[qual] == "lxml" and self._safe_parser(frame, _arg(call, 1, "parser")):
                return
            self.add(XXE, call, frame, taint, qual)
            return
        if method in {"parse", "feed", "parseString"} and isinstance(call.func, ast.Attribute):
            source = frame.value_of(call.func.value)
            if not isinstance(source, ast.Call) or (frame.qualname(source.func) or "") not in cat.XML_PARSER_FACTORIES:
                return
            if self._safe_parser(frame, call.func.value):
                return
            taint = self._strong(frame, _arg(call, 0, "source", "data"), "xxe")
            if taint is not None:
                self.add(XXE, call, frame, taint, f"{dotted(call.func.value) or 'parser'}.{method}()")

    # ------------------------------------------------------------------- logs

    @staticmethod
    def _is_logger(frame: Frame, expr: ast.expr, name: str) -> bool:
        """``logging``, a name holding ``logging.getLogger(...)``/``structlog.get_logger()``, or a name
        that says it is a logger (``log``, ``self.logger``, ``LOGGER``)."""
        if "log" in name.rsplit(".", 1)[-1].lower():
            return True
        source = frame.value_of(expr)
        if isinstance(source, ast.Call):
            made_by = (frame.qualname(source.func) or "").rsplit(".", 1)[-1]
            return made_by in cat.LOGGER_FACTORIES
        return False

    def _log(self, call: ast.Call, frame: Frame, method: str) -> None:
        if not isinstance(call.func, ast.Attribute):
            return
        receiver = dotted(call.func.value)
        if receiver is None or not self._is_logger(frame, call.func.value, receiver):
            return
        index = cat.LOG_METHODS[method]
        if len(call.args) <= index:
            return
        message = call.args[index]
        taint = self._strong(frame, message, "log")
        if taint is not None:
            self.add(LOG, call, frame, taint, f"{receiver}.{method}()", note="the message itself is built from it")
            return
        template = frame.const_text(message)
        conversions = [m.group(1) for m in _PERCENT.finditer(template) if m.group(1) != "%"]
        for position, arg in enumerate(call.args[index + 1 :]):
            conversion = conversions[position] if position < len(conversions) else "s"
            if conversion in cat.LOG_SAFE_CONVERSIONS or frame.is_container(arg):
                continue
            taint = self._strong(frame, arg, "log")
            if taint is not None:
                self.add(LOG, call, frame, taint, f"{receiver}.{method}()", note="`%s` does not escape line breaks")
                return


def _detail(hit: _Hit, changed: frozenset[int]) -> str:
    origin = f"{hit.taint.origin} (line {hit.taint.origin_line})"
    note = f" ({hit.note})" if hit.note else ""
    text = f"Untrusted data, {origin}, reaches `{hit.sink}` on line {hit.call.lineno}{note}."
    if hit.chain:
        text += " Through the call(s) on line " + ", ".join(str(line) for line in hit.chain) + "."
    if hit.call.lineno not in changed:
        brought = sorted((hit.taint.lines | set(hit.chain)) & changed)
        if brought:
            text += f" The sink did not change: the change on line {brought[0]} brings the data here."
    return text


def check_taint(view: ModuleView) -> list[RawFinding]:
    """ARCH120-ARCH126 over one module."""
    rules = _Rules()
    ModuleFlow(view.tree, rules.on_call).run(view.lines)
    found = []
    for hit in rules.hits.values():
        line = hit.call.lineno
        last = hit.call.end_lineno or line
        span = statement_span(hit.stmt, line, last) if hit.stmt is not None else (line, last)
        severity = None if hit.taint.strong else Severity.LOW
        extra = frozenset(hit.taint.lines | set(hit.chain))
        found.append(RawFinding(hit.rule, line, span, _detail(hit, view.changed_lines), extra, severity))
    return found
