"""ARCH116 (per-instance lock over process-wide state) and ARCH117 (resizing a collection while iterating)."""

from __future__ import annotations

import ast

from app.static.module_view import ModuleView
from app.static.state_checks import check_state


def _hits(source: str) -> set[tuple[str, int]]:
    tree = ast.parse(source)
    return {(f.rule_id, f.line) for f in check_state(ModuleView(tree, "svc.py", source.split("\n"), frozenset()))}


LOCKS = """import asyncio, os, threading
REGISTRY = {}
_LOCK = threading.Lock()


class A:
    def __init__(self):
        self._lock = asyncio.Lock()
        self.items = {}

    async def set_env(self, v):
        async with self._lock:
            os.environ["K"] = v

    async def own_state(self, k, v):
        async with self._lock:
            self.items[k] = v

    def register(self, k, v):
        with self._lock:
            REGISTRY[k] = v

    def register_shared(self, k, v):
        with _LOCK:
            REGISTRY[k] = v
"""


def test_instance_lock_over_process_state() -> None:
    assert _hits(LOCKS) == {("ARCH116", 13), ("ARCH116", 21)}


def test_mutation_while_iterating() -> None:
    source = (
        "def f(xs, d, s):\n"
        "    for x in xs:\n        xs.remove(x)\n"  # 3
        "    for k in d:\n        del d[k]\n"  # 5
        "    for k, v in d.items():\n        d[k.lower()] = v\n"  # 7
        "    for w in s:\n        s.discard(w)\n"  # 9
        "    for x in list(xs):\n        xs.remove(x)\n"
        "    for k in d:\n        d[k] = 0\n"
        "    for x in xs:\n        xs.append(x)\n"
        "    for i, x in enumerate(xs):\n        if x:\n            del xs[i]\n            break\n"
    )
    assert _hits(source) == {("ARCH117", 3), ("ARCH117", 5), ("ARCH117", 7), ("ARCH117", 9)}
