"""Count GitHub requests per PR review against the fake GitHub (DESIGN Decision 5: every REST and
GraphQL request except the installation token exchange). Goal: <= 8 for 28 files, <= 15 for 245.

Run: .venv/bin/python bench/github_calls.py
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e import BASE, REPO, SHA1, SHA2, make_harness, pr_payload


def synthetic_pr(files: int, *, sha_seed: str = "") -> tuple[str, dict[str, str]]:
    """A diff of ``files`` changed Python modules (new files, 42 lines each) and their texts; each
    imports two unchanged modules of the repository, which App mode fetches as review context."""
    parts: list[str] = []
    texts: dict[str, str] = {}
    for i in range(files):
        path = f"svc/module_{i:03d}.py"
        body = [f'"""Module {i}{sha_seed}."""', "import asyncio", "from svc import common"]
        body += ["from svc.settings import TIMEOUT"]
        body += ["", "", f"async def handler_{i}(x: int) -> int:"]
        body += [f"    y{j} = x + {j}" for j in range(34)]
        body += ["    return x"]
        texts[path] = "\n".join(body) + "\n"
        hunk = "".join(f"+{line}\n" for line in body)
        parts.append(
            f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1234567\n"
            f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(body)} @@\n{hunk}"
        )
    texts["svc/settings.py"] = "TIMEOUT = 5\n"  # unchanged: context only
    texts["svc/common.py"] = "def helper() -> int:\n    return 1\n"
    return "".join(parts), texts


def findings_for_chunk(body: dict[str, Any]) -> dict[str, Any]:
    """One finding for every third file the chunk shows (a model answers about its own chunk)."""
    prompt = json.dumps(body["messages"])
    paths = sorted(set(re.findall(r"### File: (svc/module_\d+\.py)", prompt)))
    findings = [
        {
            "path": p,
            "line": 6,
            "side": "RIGHT",
            "severity": "medium",
            "category": "reliability",
            "title": f"Issue in {p}",
            "rationale": "Because.",
        }
        for p in paths
        if int(p[-6:-3]) % 3 == 0
    ]
    return {"summary": "ok", "findings": findings}


async def count_for(files: int) -> tuple[int, int, Counter[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        h = await make_harness(Path(tmp))
        diff, texts = synthetic_pr(files)
        h.fake.add_pr(REPO, 7, diff=diff, head_sha=SHA1, base_sha=BASE, head_files=texts)
        h.model.script("submit_review", findings_for_chunk)
        before = h.fake.count()
        await h.deliver("pull_request", pr_payload("opened"))
        await h.worker.drain()
        first = h.fake.count() - before
        kinds = Counter(
            f"{r.method} {'graphql' if r.graphql else r.path}" for r in h.fake.requests[before:] if not r.token_exchange
        )

        # a second push: incremental review through the compare API
        diff2, texts2 = synthetic_pr(files, sha_seed=" v2")
        h.fake.push(REPO, 7, head_sha=SHA2, diff=diff2, head_files=texts2)
        h.fake.set_compare(REPO, SHA1, SHA2, diff2)
        before = h.fake.count()
        await h.deliver("pull_request", pr_payload("synchronize", sha=SHA2))
        await h.worker.drain()
        second = h.fake.count() - before
        await h.close()
        return first, second, kinds


async def main() -> None:
    print(f"{'files':>6} {'first review':>13} {'incremental push':>17}  requests of the first review")
    for files in (28, 245):
        first, second, kinds = await count_for(files)
        detail = ", ".join(f"{k} x{v}" if v > 1 else k for k, v in sorted(kinds.items()))
        print(f"{files:>6} {first:>13} {second:>17}  {detail}")


if __name__ == "__main__":
    asyncio.run(main())
