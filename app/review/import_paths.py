"""Which repository files a review should read besides the diff: the modules the changed files import.

Pure. App mode knows no file tree (the PR-context query reads chosen paths only), so the candidates
are derived from the import statements themselves: ``from a.b import c`` may live in ``a/b.py``,
``a/b/__init__.py`` or (``c`` a submodule) ``a/b/c.py``, at the repository root or under the
directory the changed files show the package in (``src/``, ``services/api/``...). Relative imports
resolve against the importing file's package. When the source knows its paths (a working tree),
only existing ones are kept.

Order (most useful first, then capped): modules whose imported names the changed lines use (when
``focus`` gives those lines: what the context builder will resolve callees and settings into), then
settings and configuration modules, then modules imported by more changed files, then the order they
were first imported in. Modules whose top-level package is
not seen among the changed files' directories (most likely third-party) come after every local one;
the standard library is never asked for.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from app.review.repo_files import is_safe_path

DEFAULT_LIMIT = 160
_CONFIG_WORDS = ("settings", "config", "conf", "constants")
_MAX_SOURCE_CHARS = 2_000_000  # a changed file bigger than this is not parsed for imports
_WORD_RE = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class ImportRef:
    """One imported module: its dotted name (absolute, or resolved from a relative import) and the
    names taken from it (which may be submodules: ``from pkg import sub``)."""

    module: str
    names: tuple[str, ...] = ()
    relative_base: str | None = None  # the importing package's directory for a relative import


def imports_of(path: str, text: str) -> list[ImportRef]:
    """The imports in one Python file (every level, ``if TYPE_CHECKING`` included); [] if unparsable."""
    if len(text) > _MAX_SOURCE_CHARS:
        return []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    package = path.rsplit("/", 1)[0] if "/" in path else ""
    refs: list[ImportRef] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            refs += [ImportRef(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names if alias.name != "*")
            if node.level == 0:
                if node.module:
                    refs.append(ImportRef(node.module, names))
                continue
            base = _parent(package, node.level - 1)
            if base is not None:
                refs.append(ImportRef(node.module or "", names, relative_base=base))
    return refs


def _parent(directory: str, levels: int) -> str | None:
    """``directory`` with ``levels`` trailing parts removed; None when that leaves no package."""
    parts = [p for p in directory.split("/") if p]
    if levels >= len(parts):  # the repository root is not a package: no climbing to it
        return None
    return "/".join(parts[: len(parts) - levels])


def _roots_by_package(changed: Iterable[str]) -> dict[str, list[str]]:
    """Top-level package name -> directories it sits in, read off the changed files' paths."""
    roots: dict[str, list[str]] = {}
    for path in changed:
        parts = path.split("/")[:-1]
        for index, part in enumerate(parts):
            root = "/".join(parts[:index])
            seen = roots.setdefault(part, [])
            if root not in seen:
                seen.append(root)
    return roots


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def _module_files(base: str, dotted: str, names: Sequence[str], dirs: AbstractSet[str] = frozenset()) -> list[str]:
    """The files module ``dotted`` under directory ``base`` may be, then its imported submodules
    (names in CamelCase or UPPER case are classes and constants, not modules). A module known to be
    a directory (a changed file sits in it) is not also looked for as ``<name>.py``."""
    stem = _join(base, dotted.replace(".", "/"))
    files = [f"{stem}/__init__.py"] if stem in dirs or not dotted else [f"{stem}.py", f"{stem}/__init__.py"]
    if not stem:
        files = []
    return files + [f"{_join(stem, name)}.py" for name in names if name.isidentifier() and name.islower()]


def _candidates(ref: ImportRef, roots: Mapping[str, Sequence[str]], dirs: AbstractSet[str]) -> tuple[list[str], bool]:
    """The candidate files of one import and whether the import is local (relative, or its top
    package seen among the changed files)."""
    if ref.relative_base is not None:
        return _module_files(ref.relative_base, ref.module, ref.names, dirs), True
    top = ref.module.split(".", 1)[0]
    if not top or top in sys.stdlib_module_names:
        return [], False
    local = roots.get(top)
    bases = list(local) if local else ["", "src"]
    return [path for base in bases for path in _module_files(base, ref.module, ref.names, dirs)], bool(local)


def _is_config(path: str) -> bool:
    """A settings or configuration module (by its file or package name)."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".py")
    if stem == "__init__":
        stem = path.rsplit("/", 2)[-2] if path.count("/") else ""
    return any(word in stem.lower() for word in _CONFIG_WORDS)


def _used(ref: ImportRef, words: AbstractSet[str]) -> bool:
    """Whether the changed lines name what ``ref`` imports (a name taken from it, or its top module)."""
    if ref.names:
        return any(name in words for name in ref.names)
    return ref.module.split(".", 1)[0] in words or ref.module.rsplit(".", 1)[-1] in words


def context_paths(
    changed: Mapping[str, str],
    *,
    known: Sequence[str] | None = None,
    limit: int = DEFAULT_LIMIT,
    focus: Mapping[str, str] | None = None,
) -> list[str]:
    """Candidate paths of the repository modules the changed Python files import, best first.

    ``changed`` maps each changed Python file to its head text; those files are never candidates.
    ``known`` (when the source can list its files) keeps only existing paths. ``focus`` maps a file
    to the text of its changed lines: modules those lines use come first. At most ``limit``.
    """
    roots = _roots_by_package(changed)
    dirs = {path.rsplit("/", 1)[0] for path in changed if "/" in path}
    dirs |= {d.rsplit("/", i)[0] for d in list(dirs) for i in range(1, d.count("/") + 1)}
    existing = set(known) if known is not None else None
    order: dict[str, int] = {}  # candidate -> first position seen
    importers: dict[str, set[str]] = {}
    local: dict[str, bool] = {}
    used: set[str] = set()
    for path, text in changed.items():
        if not path.endswith((".py", ".pyi")):
            continue
        words = set(_WORD_RE.findall(focus.get(path, ""))) if focus else set()
        for ref in imports_of(path, text):
            files, is_local = _candidates(ref, roots, dirs)
            if words and _used(ref, words):
                used.update(files)
            for candidate in files:
                if candidate in changed or not is_safe_path(candidate):
                    continue
                if existing is not None and candidate not in existing:
                    continue
                order.setdefault(candidate, len(order))
                importers.setdefault(candidate, set()).add(path)
                local[candidate] = local.get(candidate, False) or is_local
    ranked = sorted(order, key=lambda c: (not local[c], c not in used, not _is_config(c), -len(importers[c]), order[c]))
    return ranked[:limit]
