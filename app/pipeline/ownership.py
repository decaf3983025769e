"""Which comments are archbot's own: markers are trusted only from archbot's identity (DESIGN)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.github.models import AppIdentity, IssueComment, ReviewThread
from app.review.markers import parse_marker

DISMISSAL = re.compile(r"\b(won'?t fix|wontfix|by design|false positive|not an issue|intended)\b", re.IGNORECASE)


@dataclass(frozen=True)
class OwnComment:
    """One of archbot's own comments carrying a marker of a given kind."""

    comment: IssueComment
    data: dict[str, Any]


def is_ours(author: str | None, identity: AppIdentity) -> bool:
    """True when ``author`` is archbot (its bot login); anyone else's marker is ignored."""
    return author is not None and author == identity.bot_login


def own_marked_comment(comments: Iterable[IssueComment], identity: AppIdentity, kind: str) -> OwnComment | None:
    """The newest comment written by archbot that carries a valid marker of ``kind``."""
    found: OwnComment | None = None
    for comment in comments:
        if not is_ours(comment.author, identity):
            continue
        data = parse_marker(comment.body, kind)
        if data is not None:
            found = OwnComment(comment, data)
    return found


@dataclass(frozen=True)
class ThreadState:
    """What archbot's own review threads tell: which findings were posted, which were dismissed."""

    posted: dict[str, ReviewThread]  # fingerprint -> thread
    posted_for_sha: set[str]  # fingerprints posted at a given sha (for the exactly-once check)
    dismissed: set[str]
    namespace: dict[str, str]  # fingerprint -> "static" or "model": the pass that posted it


def thread_state(threads: Iterable[ReviewThread], identity: AppIdentity, sha: str | None) -> ThreadState:
    posted: dict[str, ReviewThread] = {}
    for_sha: set[str] = set()
    dismissed: set[str] = set()
    namespace: dict[str, str] = {}
    for thread in threads:
        if not thread.comments or not is_ours(thread.comments[0].author, identity):
            continue
        data = parse_marker(thread.comments[0].body, "finding")
        fps, srcs = _strings(data, "fps"), _strings(data, "srcs")
        if data is None or not fps:
            continue
        human_replies = [c for c in thread.comments[1:] if not is_ours(c.author, identity) and not c.author_is_bot]
        is_dismissed = (
            thread.is_resolved or any(DISMISSAL.search(c.body) for c in human_replies) or conceded(thread, identity)
        )
        for index, fp in enumerate(fps):
            posted[fp] = thread
            namespace[fp] = srcs[index] if index < len(srcs) else "model"
            if sha is not None and data.get("sha") == sha:
                for_sha.add(fp)
            if is_dismissed:
                dismissed.add(fp)
    return ThreadState(posted=posted, posted_for_sha=for_sha, dismissed=dismissed, namespace=namespace)


def _strings(data: dict[str, Any] | None, key: str) -> list[str]:
    value = data.get(key) if data is not None else None
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def has_human_reply(thread: ReviewThread, identity: AppIdentity) -> bool:
    return any(not is_ours(c.author, identity) and not c.author_is_bot for c in thread.comments[1:])


def own_answers(thread: ReviewThread, identity: AppIdentity) -> list[dict[str, Any]]:
    """The ``answer`` markers of archbot's own replies in a thread (see app.pipeline.thread_jobs)."""
    found = []
    for comment in thread.comments[1:]:
        data = parse_marker(comment.body, "answer") if is_ours(comment.author, identity) else None
        if data is not None:
            found.append(data)
    return found


def conceded(thread: ReviewThread, identity: AppIdentity) -> bool:
    """archbot itself agreed, in an answer in this thread, that its finding does not hold: dismissed."""
    return any(data.get("verdict") == "concede" for data in own_answers(thread, identity))
