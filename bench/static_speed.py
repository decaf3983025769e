"""Time the static engine on 200 real changed Python files (whole thing, ruff process included).

Usage: ``python bench/static_speed.py [N_FILES] [ROUNDS]``. The files are real library code taken from
the installed packages (fastapi, starlette, httpx, anyio, pydantic, anthropic, ...), every line marked as
changed (the worst case: nothing is filtered away before the rules run). Prints the best of ROUNDS
wall-clock times for one ``analyse()`` call; the goal is 200 files in 2 s or less.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.review.static import ChangedPython, analyse

PACKAGES = ("fastapi", "starlette", "httpx", "anyio", "pydantic", "anthropic", "githubkit", "structlog", "uvicorn")
MAX_FILE_BYTES = 120_000
GOAL_S = 2.0


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
    timings = []
    report = None
    for _ in range(rounds):
        start = time.perf_counter()
        report = analyse(files)
        timings.append(time.perf_counter() - start)
    assert report is not None
    best = min(timings)
    print(f"{len(files)} files, {lines:,} lines, {size / 1e6:.1f} MB, all lines changed")
    print(f"findings: {len(report.findings)}; not analysed: {len(report.not_analysed)}; rules: {report.rules_run}")
    print(f"analyse(): best of {rounds} = {best:.2f} s (median {sorted(timings)[len(timings) // 2]:.2f} s)")
    print(f"goal <= {GOAL_S:.1f} s for 200 files: {'met' if best <= GOAL_S else 'NOT met'}")
    return 0 if best <= GOAL_S or len(files) != 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
