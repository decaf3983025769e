"""Print one answered review thread: the ranking PR is reviewed, alice asks "why?" in archbot's thread on
the logged request body, and archbot answers (the fake model's scripted answer, through the real webhook,
queue, worker, sanitizer and the strict fake GitHub). For the closing note of issue 19.

Run: .venv/bin/python bench/threads.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_e2e_threads import ask, leak_thread, opened  # noqa: E402

ANSWER = {
    "verdict": "hold",
    "answer": (
        "`req.model_dump()` includes `user_id` and the full feature payload, and at INFO it goes to the "
        "shared log pipeline, which keeps 30 days and is readable by every on-call engineer, cc @ops. "
        "Being INFO rather than DEBUG is what makes it reach production. Log only what you need to "
        'correlate: `log.info("rank request", extra={"request_id": req.request_id})`.'
    ),
}


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        h = await opened(Path(tmp))
        try:
            h.model.script("submit_answer", ANSWER)
            await ask(h, "It is only logged at INFO, so why is this a problem?")
            for comment in leak_thread(h).comments:
                print(f"--- {comment.author.login} (comment {comment.id})\n{comment.body}\n")
        finally:
            await h.close()


if __name__ == "__main__":
    asyncio.run(main())
