"""Benchmark of the diff front end: parse_diff -> filter_files -> plan_review on a large real diff.

The diff is built at bench time and never committed (DESIGN decision 10): two source releases of one
package are downloaded from PyPI with ``pip download --no-deps --no-binary :all:`` into
``bench/.work/`` (git-ignored), unpacked, and compared with ``git diff --no-index``. The two
``pip download`` calls are separate because one call naming two versions of the same package is
refused by pip's resolver (ResolutionImpossible). The header paths are rewritten from
``a/old/pip-24.0/src/x.py`` to ``a/src/x.py`` so the diff looks like a pull request's.

Default: pip 24.0 -> 24.1 (about 2.7 MB, 333 files: code, vendored libraries, docs, deletions).
``--package SQLAlchemy --old 2.0.26 --new 2.0.27`` gives 245 files, mostly HTML with very long lines.

Usage: ``python bench/prepare_diff.py [--package pip --old 24.0 --new 24.1] [--runs 7]``.
Prints diff size, files, best time, chunks, tokens, files reviewed vs named, and checks that every
hunk is either in a chunk or named as not reviewed. Exit status 1 if that check fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import time
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.review.budget import ReviewPlan, plan_review  # noqa: E402
from app.review.diff import FileDiff, filter_files, parse_diff  # noqa: E402

WORK = ROOT / "bench" / ".work"
GOAL_SECONDS = 0.3


def download(package: str, version: str, dest: Path) -> Path:
    """The sdist of ``package==version`` in ``dest`` (downloaded unless already there)."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
    subprocess.run([*cmd, f"{package}=={version}", "-d", str(dest)], check=True)
    canon = package.lower().replace("-", "_")
    for candidate in sorted(dest.iterdir()):
        name = candidate.name.lower().replace("-", "_")
        if name.startswith(f"{canon}_{version}.") and name.endswith((".tar.gz", ".zip", ".tar.bz2")):
            return candidate
    raise SystemExit(f"no sdist for {package}=={version} in {dest}")


def unpack(archive: Path, dest: Path) -> Path:
    """Unpack an sdist into ``dest``; returns its single top-level directory."""
    if not dest.exists():
        dest.mkdir(parents=True)
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(dest)  # noqa: S202 - a PyPI sdist unpacked inside bench/.work only
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(dest, filter="data")
    (top,) = [p for p in dest.iterdir() if p.is_dir()]
    return top


def build_diff(package: str, old: str, new: str) -> Path:
    """bench/.work/<package>-<old>-<new>/pr.diff, built once and then reused."""
    work = WORK / f"{package}-{old}-{new}"
    target = work / "pr.diff"
    if target.exists():
        return target
    old_dir = unpack(download(package, old, work / "dl"), work / "old")
    new_dir = unpack(download(package, new, work / "dl"), work / "new")
    old_rel = old_dir.relative_to(work).as_posix()
    new_rel = new_dir.relative_to(work).as_posix()
    proc = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "--src-prefix=a/", "--dst-prefix=b/", old_rel, new_rel],
        cwd=work,
        capture_output=True,
        check=False,
    )
    if proc.returncode not in (0, 1):  # 1 means "there are differences"
        raise SystemExit(f"git diff failed: {proc.stderr.decode(errors='replace')}")
    replacements = [
        (f"a/{old_rel}/".encode(), b"a/"),
        (f"b/{new_rel}/".encode(), b"b/"),
        (f"rename from {old_rel}/".encode(), b"rename from "),
        (f"rename to {new_rel}/".encode(), b"rename to "),
    ]
    header_starts = (b"diff --git ", b"--- ", b"+++ ", b"rename from ", b"rename to ", b"Binary files ")
    out = []
    for raw in proc.stdout.splitlines(keepends=True):
        line = raw
        if line.startswith(header_starts):
            for old_text, new_text in replacements:
                line = line.replace(old_text, new_text)
        out.append(line)
    target.write_bytes(b"".join(out))
    return target


def coverage(files: list[FileDiff], plan: ReviewPlan) -> tuple[int, int, int, list[str]]:
    """(hunks in input, hunks in chunks, hunks named, problems): every hunk once, in a chunk or named."""
    totals = {f.path: len(f.hunks) for f in files}
    in_chunks: Counter[str] = Counter()
    seen: set[int] = set()
    problems: list[str] = []
    for chunk in plan.chunks:
        for cf in chunk.files:
            for hunk in cf.hunks:
                if id(hunk) in seen:
                    problems.append(f"hunk in two chunks: {cf.path} {hunk.header()}")
                seen.add(id(hunk))
                in_chunks[cf.path] += 1
    named: Counter[str] = Counter()
    named_paths: set[str] = set()
    for entry in plan.not_reviewed:
        named_paths.add(entry.path)
        named[entry.path] += totals.get(entry.path, 0) if entry.hunks is None else entry.hunks
    for path, total in totals.items():
        if in_chunks[path] + named[path] != total:
            problems.append(f"{path}: {total} hunks, {in_chunks[path]} in chunks, {named[path]} named")
        if total == 0 and path not in named_paths:
            problems.append(f"{path}: a file without hunks is not named")
    return sum(totals.values()), sum(in_chunks.values()), sum(named.values()), problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--package", default="pip")
    parser.add_argument("--old", default="24.0")
    parser.add_argument("--new", default="24.1")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--chunk-budget", type=int, default=12_000)
    parser.add_argument("--review-budget", type=int, default=120_000)
    parser.add_argument("--max-files", type=int, default=None)
    args = parser.parse_args()

    path = build_diff(args.package, args.old, args.new)
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    best = {"parse": float("inf"), "filter": float("inf"), "plan": float("inf"), "total": float("inf")}
    files: list[FileDiff] = []
    kept: list[FileDiff] = []
    plan: ReviewPlan | None = None
    for _ in range(args.runs):
        t0 = time.perf_counter()
        files = parse_diff(text)
        t1 = time.perf_counter()
        kept, skipped = filter_files(files)
        t2 = time.perf_counter()
        plan = plan_review(
            kept,
            skipped,
            chunk_budget=args.chunk_budget,
            review_budget=args.review_budget,
            max_files=args.max_files,
        )
        t3 = time.perf_counter()
        for key, value in (("parse", t1 - t0), ("filter", t2 - t1), ("plan", t3 - t2), ("total", t3 - t0)):
            best[key] = min(best[key], value)
    assert plan is not None
    t0 = time.perf_counter()
    rendered = sum(len(c.render()) for c in plan.chunks)
    render_s = time.perf_counter() - t0

    hunks, chunked, named, problems = coverage(files, plan)
    reviewed_paths = {cf.path for c in plan.chunks for cf in c.files}
    named_paths = {n.path for n in plan.not_reviewed}
    partial = reviewed_paths & named_paths
    reasons = Counter(n.reason for n in plan.not_reviewed)
    lines = text.count("\n")

    print(f"diff            {args.package} {args.old} -> {args.new}: {path.relative_to(ROOT)}")
    print(f"size            {len(raw):,} bytes ({len(raw) / 1e6:.2f} MB), {lines:,} lines")
    print(f"files           {len(files)} parsed, {sum(len(f.hunks) for f in files):,} hunks")
    print(
        f"time (best/{args.runs})   total {best['total']:.3f} s = parse {best['parse']:.3f} + "
        f"filter {best['filter']:.4f} + plan {best['plan']:.3f}"
        f"   (goal <= {GOAL_SECONDS} s: {'met' if best['total'] <= GOAL_SECONDS else 'NOT met'})"
    )
    print(f"render          all chunks once: {render_s:.3f} s, {rendered:,} characters")
    print(f"filter          {len(kept)} kept, {len(files) - len(kept)} skipped and named")
    print(
        f"chunks          {len(plan.chunks)} (budget {args.chunk_budget:,} tokens each; largest "
        f"{max((c.tokens for c in plan.chunks), default=0):,})"
    )
    print(f"tokens          {plan.total_tokens:,} in chunks (review budget {args.review_budget:,})")
    print(
        f"files           {len(reviewed_paths)} reviewed ({len(partial)} of them partly), "
        f"{len(named_paths - reviewed_paths)} named not reviewed, {len(files)} in all"
    )
    for reason, count in reasons.most_common():
        print(f"  not reviewed  {count:4d}  {reason}")
    share = 100.0 * (chunked + named) / hunks if hunks else 100.0
    print(f"hunks           {hunks:,}: {chunked:,} in chunks + {named:,} named = {share:.1f} % accounted for")
    for problem in problems[:20]:
        print(f"  PROBLEM {problem}")
    return 1 if problems or (chunked + named) != hunks else 0


if __name__ == "__main__":
    raise SystemExit(main())
