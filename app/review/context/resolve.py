"""Resolve a dotted name used in one module to the definition it means, across the repository's files.

Pure: files come through a ``read`` callable (the head revision's texts) and a list of the paths the
source knows. Resolution follows imports (absolute, relative, ``as`` aliases, re-exports through a
package ``__init__``), ``self``/``cls`` to the enclosing class and its bases, module-level instances
(``settings = Settings()`` then ``settings.DEBUG`` is the ``DEBUG`` field of ``Settings``), and, for
a method called on an object of unknown type, a method of that name defined exactly once in the
modules loaded so far. The standard library is never looked up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.review.context.pysource import Definition, ModuleIndex, Reference, parse_module
from app.review.repo_files import is_safe_path

_SETTINGS_WORDS = ("settings", "config", "conf", "cfg", "options", "env")
# Method names too common to resolve by name alone (they would match the wrong class).
_GENERIC = frozenset(
    {
        "get", "set", "put", "post", "run", "call", "send", "read", "write", "close", "open", "start", "stop",
        "update", "items", "keys", "values", "append", "extend", "pop", "add", "remove", "delete", "clear",
        "copy", "format", "join", "split", "strip", "encode", "decode", "load", "loads", "dump", "dumps", "save",
        "create", "init", "setup", "main", "parse", "render", "handle", "process", "execute", "apply", "wait",
        "result", "cancel", "done", "next", "iter", "filter", "map", "sort", "lower", "upper", "replace", "find",
        "count", "index", "insert", "info", "debug", "warning", "error", "exception", "log", "emit", "connect",
        "request", "fetch", "submit", "acquire", "release",
    }
)  # fmt: skip
_MAX_HOPS = 3
_MAPPING_METHODS = frozenset({"get", "__contains__", "pop", "setdefault"})
PRELOAD_ALL_BELOW = 400  # a source listing fewer Python files than this is parsed whole
SIBLINGS_LOADED = 60  # otherwise: at most this many modules of the changed files' packages


@dataclass(frozen=True)
class Target:
    """What a reference resolved to: a definition (``kind`` "callee") or a setting/constant."""

    path: str
    start: int
    end: int
    symbol: str
    kind: str  # "callee" or "setting"
    definition: Definition | None = None
    header: int | None = None  # a class field's ``class`` line, shown above it


class RepoIndex:
    """Parsed modules of the head revision, loaded on demand and cached."""

    def __init__(self, read: Callable[[str], str | None], paths: Sequence[str], changed: Sequence[str] = ()) -> None:
        self._read = read
        self._modules: dict[str, ModuleIndex | None] = {}
        self._by_suffix: dict[str, list[str]] = {}
        python = [p for p in dict.fromkeys([*changed, *paths]) if p.endswith((".py", ".pyi")) and is_safe_path(p)]
        for path in python:
            parts = path.split("/")
            for index in range(len(parts)):
                self._by_suffix.setdefault("/".join(parts[index:]), []).append(path)
        self._known = set(python)
        for path in changed:
            self.module(path)
        if len(python) < PRELOAD_ALL_BELOW:
            for path in python:
                self.module(path)
            return
        # a large repository: the changed files' own packages too (their callers and readers live there)
        homes = {p.rsplit("/", 1)[0] if "/" in p else "" for p in changed}
        siblings = [p for p in python if (p.rsplit("/", 1)[0] if "/" in p else "") in homes]
        for path in siblings[:SIBLINGS_LOADED]:
            self.module(path)

    def module(self, path: str) -> ModuleIndex | None:
        """The parsed module at ``path`` (None: not a readable Python file)."""
        if path not in self._modules:
            text = self._read(path) if path.endswith((".py", ".pyi")) and is_safe_path(path) else None
            self._modules[path] = parse_module(path, text) if text is not None else None
        return self._modules[path]

    def loaded(self) -> list[ModuleIndex]:
        return [m for m in self._modules.values() if m is not None]

    def module_path(self, dotted: str, importer: str, base_dir: str | None = None) -> str | None:
        """The file of module ``dotted`` imported from ``importer`` (``base_dir``: a relative import)."""
        rel = dotted.replace(".", "/")
        if base_dir is not None:
            stem = "/".join(p for p in (base_dir, rel) if p)
            options = [f"{stem}.py", f"{stem}/__init__.py"] if rel else [f"{stem}/__init__.py"]
            return next((p for p in options if p in self._known), None)
        if not rel or dotted.split(".", 1)[0] in sys.stdlib_module_names:
            return None
        home = importer.split("/")[:-1]
        for suffix in (f"{rel}.py", f"{rel}/__init__.py"):
            matches = self._by_suffix.get(suffix)
            if matches:
                return min(matches, key=lambda p: (-_common(p.split("/")[:-1], home), len(p), p))
        return None

    # ------------------------------------------------------------------------------------- resolve

    def resolve(self, mod: ModuleIndex, ref: Reference) -> Target | None:
        """The definition or setting ``ref`` (used in ``mod``) means, or None."""
        chain = ref.chain
        head, rest = chain[0], chain[1:]
        if head in ("self", "cls") and rest:
            owner = mod.enclosing(ref.line, kinds=("class",))
            found = self._member(mod, owner, rest[0], 0) if owner is not None else None
            if found is not None or len(chain) == 2:
                return found
            return self._by_name(chain[-1]) if ref.call else self._settings_field(chain)
        if head == "super" and rest:
            owner = mod.enclosing(ref.line, kinds=("class",))
            return self._inherited(mod, owner, rest[0]) if owner is not None else None
        scope = mod.enclosing(ref.line, kinds=("function", "method"))
        typed = mod.local_types.get(scope.qualname, {}).get(head) if scope is not None and rest else None
        if typed is not None:
            found = self._instance_field(mod, typed, rest[0], 0)
            if found is not None:
                return found
        local = mod.definition(head)
        if local is not None:
            return self._in_def(mod, local, rest, 0)
        if head in mod.imports:
            found = self._via_binding(mod, head, rest, 0)
            if found is not None:
                return found
        elif head in mod.instances and rest:
            return self._instance_field(mod, mod.instances[head], rest[0], 0)
        elif not rest and head in mod.constants:
            return self._constant(mod, head)
        if len(chain) >= 2:
            found = self._settings_field(chain)
            if found is not None:
                return found
            return self._by_name(chain[-1]) if ref.call else None
        return None

    def _target(self, mod: ModuleIndex, d: Definition) -> Target:
        return Target(mod.path, d.start, d.end, d.qualname, "callee", d)

    def _constant(self, mod: ModuleIndex, name: str) -> Target:
        start, end = mod.constants[name]
        return Target(mod.path, start, end, name, "setting")

    def _in_def(self, mod: ModuleIndex, d: Definition, rest: tuple[str, ...], hops: int) -> Target | None:
        if not rest:
            return self._target(mod, d)
        return self._member(mod, d, rest[0], hops) if d.kind == "class" else None

    def _member(self, mod: ModuleIndex, cls: Definition, name: str, hops: int) -> Target | None:
        """Method or class-level field ``name`` of class ``cls`` (or of its bases)."""
        method = mod.definition(f"{cls.qualname}.{name}")
        if method is not None:
            return self._target(mod, method)
        span = mod.fields.get(cls.qualname, {}).get(name)
        if span is not None:
            return Target(mod.path, span[0], span[1], f"{cls.qualname}.{name}", "setting", header=cls.def_line)
        if hops >= _MAX_HOPS:
            return None
        for base in cls.bases:
            found = self._class(mod, base, hops + 1)
            if found is not None:
                member = self._member(found[0], found[1], name, hops + 1)
                if member is not None:
                    return member
        return None

    def _class(self, mod: ModuleIndex, name: str, hops: int) -> tuple[ModuleIndex, Definition] | None:
        """The class ``name`` means in ``mod`` (local, or imported)."""
        local = mod.definition(name)
        if local is not None and local.kind == "class":
            return mod, local
        binding = mod.imports.get(name)
        if binding is None or binding.name is None or hops > _MAX_HOPS:
            return None
        target_path = self.module_path(binding.module, mod.path, binding.base_dir)
        target = self.module(target_path) if target_path else None
        return self._class(target, binding.name, hops + 1) if target is not None else None

    def _instance_field(self, mod: ModuleIndex, cls_name: str, attr: str, hops: int) -> Target | None:
        found = self._class(mod, cls_name, hops)
        if found is None:
            return None
        member = self._member(found[0], found[1], attr, hops)
        if member is None and attr in _MAPPING_METHODS:  # inherited from Mapping: it goes through __getitem__
            member = self._member(found[0], found[1], "__getitem__", hops)
        return member

    def _inherited(self, mod: ModuleIndex, cls: Definition, name: str) -> Target | None:
        """``super().name`` in class ``cls``: the member of the first base that has it."""
        for base in cls.bases:
            found = self._class(mod, base, 0)
            member = self._member(found[0], found[1], name, 1) if found is not None else None
            if member is not None:
                return member
        return None

    def _via_binding(self, mod: ModuleIndex, local: str, rest: tuple[str, ...], hops: int) -> Target | None:
        binding = mod.imports[local]
        if binding.name is None:  # import a.b.c: the longest prefix of the chain that is a module
            for k in range(len(rest), -1, -1):
                dotted = ".".join([binding.module, *rest[:k]])
                path = self.module_path(dotted, mod.path)
                target = self.module(path) if path else None
                if target is not None:
                    return self._symbol(target, rest[k:], hops)
            return None
        sub = self.module_path(f"{binding.module}.{binding.name}".strip("."), mod.path, binding.base_dir)
        sub_module = self.module(sub) if sub else None
        if sub_module is not None:
            return self._symbol(sub_module, rest, hops)
        path = self.module_path(binding.module, mod.path, binding.base_dir)
        target = self.module(path) if path else None
        return self._symbol(target, (binding.name, *rest), hops) if target is not None else None

    def _symbol(self, mod: ModuleIndex, names: tuple[str, ...], hops: int) -> Target | None:
        """``names[0]`` of module ``mod`` (then its member ``names[1]``)."""
        if not names:
            return None
        head, rest = names[0], names[1:]
        d = mod.definition(head)
        if d is not None:
            return self._in_def(mod, d, rest, hops)
        if head in mod.instances and rest:
            return self._instance_field(mod, mod.instances[head], rest[0], hops) or self._constant(mod, head)
        if head in mod.constants:
            return self._constant(mod, head)
        if head in mod.imports and hops < _MAX_HOPS:  # a re-export
            return self._via_binding(mod, head, rest, hops + 1)
        return None

    def _by_name(self, name: str) -> Target | None:
        """The one function or method called ``name`` among the loaded modules (not a generic name)."""
        if name in _GENERIC or len(name) < 4 or name.startswith("__"):
            return None
        found = [(m, d) for m in self.loaded() for d in m.defs if d.name == name and d.kind != "class"]
        return self._target(*found[0]) if len(found) == 1 else None

    def _settings_field(self, chain: tuple[str, ...]) -> Target | None:
        """``<...>.settings.X``: the field ``X`` of the one settings/config class (or config module
        constant) among the loaded modules."""
        if not any(word in part.lower() for part in chain[:-1] for word in _SETTINGS_WORDS):
            return None
        attr = chain[-1]
        found: list[Target] = []
        for m in self.loaded():
            for d in m.defs:
                span = m.fields.get(d.qualname, {}).get(attr) if d.kind == "class" else None
                if span is not None and any(w in d.name.lower() for w in _SETTINGS_WORDS):
                    found.append(Target(m.path, span[0], span[1], f"{d.qualname}.{attr}", "setting", header=d.def_line))
            stem = m.path.rsplit("/", 1)[-1].lower()
            if attr in m.constants and any(w in stem for w in _SETTINGS_WORDS):
                found.append(self._constant(m, attr))
        return found[0] if len(found) == 1 else None


def _common(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
