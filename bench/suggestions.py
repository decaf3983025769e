"""Count suggestions on the scenario PRs of the test suite: offered, verified (committable), and why not.

Each scenario runs through the real entry point (a signed webhook into the app, the SQLite queue and
worker, the strict fake GitHub and the fake model) and reads the verdicts from the metric
``archbot_suggestions_total{check, origin}``. ``--corpus`` adds the static corpus (bench/corpus): every
file as a new file, reviewed offline, to see how often a deterministic finding gets a deterministic fix.

Run: .venv/bin/python bench/suggestions.py [--corpus]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.metrics import Metrics  # noqa: E402
from app.repo_config import RepoConfig  # noqa: E402
from app.review.diff import parse_diff  # noqa: E402
from app.review.engine import ReviewRequest, review  # noqa: E402
from tests.e2e import BASE, PRS, REPO, SHA1, SHA2, make_harness, pr_payload  # noqa: E402

Tally = Counter[tuple[str, str]]  # (origin, check) -> count


def tally_of(metrics: Metrics) -> Tally:
    counts: Tally = Counter()
    for family in metrics.suggestions.collect():
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.value:
                counts[(sample.labels["origin"], sample.labels["check"])] += int(sample.value)
    return counts


async def scenario(name: str, *, script: dict[str, Any] | None, push_v2: bool = False) -> tuple[str, Tally]:
    with tempfile.TemporaryDirectory() as tmp:
        h = await make_harness(Path(tmp), with_model=script is not None)
        try:
            v1 = (PRS / "inference_v1.py").read_text()
            h.fake.add_pr(
                REPO,
                7,
                diff=(PRS / "ranking-v1.patch").read_text(),
                head_sha=SHA1,
                base_sha=BASE,
                head_files={"service/inference.py": v1},
            )
            if script is not None:
                h.model.script("submit_review", script)
            await h.deliver("pull_request", pr_payload("opened"))
            await h.drain()
            if push_v2:
                h.fake.push(
                    REPO,
                    7,
                    head_sha=SHA2,
                    diff=(PRS / "ranking-v2.patch").read_text(),
                    head_files={"service/inference.py": v1, "service/batch.py": (PRS / "batch.py").read_text()},
                )
                h.fake.set_compare(REPO, SHA1, SHA2, (PRS / "increment-v2.patch").read_text())
                await h.deliver("pull_request", pr_payload("synchronize", sha=SHA2))
                await h.drain()
            return name, tally_of(h.deps.metrics)
        finally:
            await h.close()


def new_file_diff(path: str, text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    body = "".join(f"+{line}\n" for line in lines)
    header = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
    return f"{header}@@ -0,0 +1,{len(lines)} @@\n{body}"


async def corpus() -> tuple[str, Tally]:
    counts: Tally = Counter()
    texts = {str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "bench" / "corpus").rglob("*.py"))}
    files = parse_diff("".join(new_file_diff(path, text) for path, text in texts.items()))
    # test_paths=() so the corpus files (under bench/) are analysed as production code
    request = ReviewRequest(
        anchor_files=files,
        review_files=files,
        contents=texts,
        config=RepoConfig.model_validate({"review": {"test_paths": []}}),
    )
    result = await review(request, model=None)
    for f in result.findings:
        if f.fix is not None:
            counts[("deterministic" if f.fix.deterministic else "model", f.fix.check.value)] += 1
    fixable = sum(
        1 for f in result.findings if f.rule_id in {"ARCH102", "ARCH105", "ARCH107", "ARCH108", "ARCH109", "ARCH111"}
    )
    counts[("static findings of fixable rules", "total")] = fixable
    return f"static corpus ({len(texts)} files, offline)", counts


def report(rows: list[tuple[str, Tally]]) -> None:
    total: Tally = Counter()
    for name, counts in rows:
        total.update({k: v for k, v in counts.items() if k[0] in ("model", "deterministic")})
        print(f"\n## {name}")
        print(json.dumps({f"{origin}: {check}": n for (origin, check), n in sorted(counts.items())}, indent=2))
    offered = sum(total.values())
    verified = sum(n for (_, check), n in total.items() if check == "committable")
    print(f"\n## all of the above: {offered} suggestions offered, {verified} verified (committable)")
    why = Counter[str]()
    for (_, check), n in total.items():
        if check != "committable":
            why[check] += n
    for check, n in why.most_common():
        print(f"- {n} not committable: {check}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="store_true", help="also review the static corpus offline")
    args = parser.parse_args()
    script = json.loads((PRS / "suggestion-findings.json").read_text())
    rows = [
        await scenario("ranking PR, model suggestions of every kind (tests/test_e2e_suggestions.py)", script=script),
        await scenario("ranking PR then push v2, no model (deterministic fixes only)", script=None, push_v2=True),
    ]
    report(rows)
    if args.corpus:
        report([await corpus()])


if __name__ == "__main__":
    asyncio.run(main())
