"""Benchmark: peak RSS and wall time of the real ``archbot review`` on large real diffs.

The diffs are built at bench time and never committed (DESIGN decision 10), with
``bench/prepare_diff.py``'s ``build_diff``: two sdists of Django from PyPI (``pip download --no-deps
--no-binary :all:``), unpacked under ``bench/.work/`` (git-ignored) and compared with ``git diff
--no-index``. Django 4.2 -> 5.0 gives about 4.4 MB (1,231 files), Django 3.0 -> 5.0 about 32 MB
(4,333 files, 789,000 lines: code, docs, locale files, deletions).

Each case runs the console script as a subprocess, with no model credentials and no network:

- ``dry-run``: ``archbot review --diff D --dry-run``;
- ``offline``: ``archbot review --diff D`` (the review without a key: static checks, no model);
- ``offline+repo``: the same with ``--repo-dir`` on the unpacked new release, so the static engine
  reads the full files;
- ``... (no cap)``: the same with ``ARCHBOT_MAX_DIFF_LINES``/``_FILES`` raised so that everything is
  parsed and reviewed, to show what the cap saves (``--no-cap`` adds these rows).

Peak RSS comes from ``os.wait4`` (the child's own ``ru_maxrss``), wall time from ``perf_counter``;
the median of ``--runs`` runs is printed with the largest peak. "bytes/diff byte" is the peak above
that of a dry run on the README's small example diff (the imports), divided by the diff size.
Goal (issue 14) for the 30 MB diff with the default cap: peak <= 400 MB and wall <= 10 s.

Usage: ``python bench/large_diff_memory.py [--runs 3] [--no-cap] [--only 5mb|30mb]``.
Exit status 1 when a goal is not met.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from prepare_diff import build_diff  # noqa: E402

EXAMPLE = ROOT / "examples" / "ranking-service.patch"
GOAL_MB = 400
GOAL_SECONDS = 10.0
DIFFS = {"5mb": ("Django", "4.2", "5.0"), "30mb": ("Django", "3.0", "5.0")}
NO_CAP = {"ARCHBOT_MAX_DIFF_LINES": "1000000000", "ARCHBOT_MAX_DIFF_FILES": "1000000000"}


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    status: int


def archbot_cmd() -> list[str]:
    script = Path(sys.executable).with_name("archbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def run_once(args: list[str], extra_env: dict[str, str]) -> Run:
    """One child process; its own peak RSS from wait4 (stdout and stderr discarded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ARCHBOT_", "GITHUB_"))}
    env |= extra_env
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*archbot_cmd(), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode)


def measure(args: list[str], env: dict[str, str], runs: int) -> Run:
    results = [run_once(args, env) for _ in range(runs)]
    return Run(
        statistics.median(r.seconds for r in results),
        max(r.peak_mb for r in results),
        max(r.status for r in results),
    )


def new_tree(diff: Path) -> Path:
    """The unpacked new release next to the diff (build_diff's layout: <work>/new/<top>/)."""
    (top,) = [p for p in (diff.parent / "new").iterdir() if p.is_dir()]
    return top


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-cap", action="store_true", help="also run with the diff cap raised")
    parser.add_argument("--only", choices=sorted(DIFFS), default=None)
    args = parser.parse_args()

    base = measure(["review", "--diff", str(EXAMPLE), "--dry-run"], {}, args.runs)
    print(f"baseline: a dry run of {EXAMPLE.name}: {base.seconds:.2f} s, {base.peak_mb:.0f} MB peak RSS")
    print(f"{'diff':28s} {'case':22s} {'wall s':>7s} {'peak MB':>8s} {'bytes/diff byte':>16s} exit")
    failed = False
    for key, (package, old, new) in DIFFS.items():
        if args.only and key != args.only:
            continue
        diff = build_diff(package, old, new)
        size = diff.stat().st_size
        label = f"{package} {old}->{new} {size / 1e6:.1f} MB"
        cases: list[tuple[str, list[str], dict[str, str]]] = [
            ("dry-run", ["review", "--diff", str(diff), "--dry-run"], {}),
            ("offline", ["review", "--diff", str(diff)], {}),
            ("offline+repo", ["review", "--diff", str(diff), "--repo-dir", str(new_tree(diff))], {}),
        ]
        if args.no_cap:
            cases += [(f"{name} (no cap)", argv, NO_CAP) for name, argv, _ in cases]
        for name, argv, env in cases:
            got = measure(argv, env, args.runs)
            per_byte = max(0.0, got.peak_mb - base.peak_mb) * 1024 * 1024 / size
            goal = ""
            if key == "30mb" and not env:
                ok = got.peak_mb <= GOAL_MB and got.seconds <= GOAL_SECONDS and got.status == 0
                goal = "  goal met" if ok else f"  goal NOT met (<= {GOAL_MB} MB, <= {GOAL_SECONDS:.0f} s, exit 0)"
                failed |= not ok
            figures = f"{got.seconds:7.2f} {got.peak_mb:8.0f} {per_byte:16.2f} {got.status:4d}"
            print(f"{label:28s} {name:22s} {figures}{goal}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
