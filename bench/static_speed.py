"""Time the static engine on 200 real changed Python files (whole thing, ruff process included).

Usage: ``python bench/static_speed.py [N_FILES] [ROUNDS]``. The files are real library code taken from
the installed packages (fastapi, starlette, httpx, anyio, pydantic, anthropic, ...): 200 files of
2-120 kB, about 77,000 lines and 3 MB in all. Two cases are timed, each as the best of ROUNDS
wall-clock times for one ``analyse()`` call:

* every line changed (200 new files: the worst case, nothing is filtered before the rules run);
* a PR-like change: in each file, every other block of 20 lines changed (half the lines).

The AST rules and ruff always see whole files; only the secret scan is limited to changed lines, so
the difference between the two is the secret detectors' share. The goal is 2 s or less for 200 files.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.static import ChangedPython, analyse

PACKAGES = ("fastapi", "starlette", "httpx", "anyio", "pydantic", "anthropic", "githubkit", "structlog", "uvicorn")
MAX_FILE_BYTES = 120_000
GOAL_S = 2.0


def half_changed(item: ChangedPython) -> ChangedPython:
    """The same file with every other block of 20 lines changed."""
    return ChangedPython(item.path, item.source, frozenset(n for n in item.changed_lines if (n // 20) % 2 == 0))


def best_time(files: list[ChangedPython], rounds: int) -> tuple[float, float, int]:
    """(best, median) seconds of ``analyse(files)`` and the number of findings."""
    timings = []
    found = 0
    for _ in range(rounds):
        start = time.perf_counter()
        found = len(analyse(files).findings)
        timings.append(time.perf_counter() - start)
    return min(timings), sorted(timings)[len(timings) // 2], found


def collect(n_files: int) -> list[ChangedPython]:
    """The first ``n_files`` non-trivial .py files of the packages above, in a stable order."""
    paths: list[Path] = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        paths.extend(p for p in sorted(root.rglob("*.py")) if 2_000 <= p.stat().st_size <= MAX_FILE_BYTES)
    picked = paths[:: max(1, len(paths) // n_files)][:n_files]
    files = []
    for path in picked:
        source = path.read_text(encoding="utf-8", errors="replace")
        files.append(ChangedPython(str(path), source, frozenset(range(1, source.count("\n") + 2))))
    return files


def main() -> int:
    n_files = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    files = collect(n_files)
    lines = sum(f.source.count("\n") + 1 for f in files)
    size = sum(len(f.source) for f in files)
    print(f"{len(files)} files, {lines:,} lines, {size / 1e6:.1f} MB")
    worst = best_time(files, rounds)
    typical = best_time([half_changed(f) for f in files], rounds)
    for name, (best, median, found) in (("every line changed", worst), ("half the lines changed", typical)):
        print(f"{name:<24} best of {rounds}: {best:.2f} s (median {median:.2f} s), {found} findings")
    met = worst[0] <= GOAL_S
    print(f"goal <= {GOAL_S:.1f} s for {len(files)} files, every line changed: {'met' if met else 'NOT met'}")
    return 0 if met or len(files) != 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
