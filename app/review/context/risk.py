"""Which kinds of risk a piece of code touches: what orders context under the budget.

Pure regular expressions over code text. The families are the ones whose bodies reviewers most often
need and the diff does not show: network and cloud calls, subprocesses, databases, locks and other
blocking primitives, authentication and secrets, settings.
"""

from __future__ import annotations

import re

RISKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "network",
        re.compile(
            r"\b(?:requests|httpx|aiohttp|urllib\d?|urlopen|socket|grpc|boto3|botocore|smtplib|ftplib|websockets?)\b"
            r"|\bhttp\.client\b|\.(?:urlopen|getaddrinfo|create_connection)\(|secretmanager|secrets_?manager"
            r"|get_secret\w*\(|credentials?\b|\.refresh\(|\bgoogle\.(?:auth|cloud)\b|\bazure\.",
            re.IGNORECASE,
        ),
    ),
    (
        "subprocess",
        re.compile(
            r"\bsubprocess\b|\bos\.(?:system|popen|exec\w*|spawn\w*)\(|\bPopen\(|create_subprocess|open_process\("
        ),
    ),
    (
        "database",
        re.compile(
            r"\.execute(?:many)?\(|\bcursor\b|\bsession\.(?:query|commit|add|flush|execute)\b|\bsqlalchemy\b"
            r"|\bpsycopg\d?\b|\bsqlite3\b|\bredis\b|\bpymongo\b|\basyncpg\b|\.commit\(\)",
            re.IGNORECASE,
        ),
    ),
    (
        "locks",
        re.compile(
            r"\b(?:R?Lock|Semaphore|BoundedSemaphore|Condition|Event|Barrier)\(|\.acquire\(|\bthreading\b"
            r"|\bmultiprocessing\b|\btime\.sleep\(|\.result\(\)|\.join\(\)|\bwith\s+[\w.]*lock\b",
            re.IGNORECASE,
        ),
    ),
    (
        "auth",
        re.compile(
            r"auth|token|passw|secret|permission|login|jwt|csrf|api_?key|signature|\bsign\w*\(|verify",
            re.IGNORECASE,
        ),
    ),
    ("settings", re.compile(r"\bsettings\b|\bconfig\b|\bos\.environ\b|\bgetenv\(|\bdefault=", re.IGNORECASE)),
)


def risks_of(text: str) -> tuple[str, ...]:
    """The risk families ``text`` touches, in the fixed order of :data:`RISKS`."""
    return tuple(name for name, pattern in RISKS if pattern.search(text))


def risky_lines(lines: list[str], start: int, end: int) -> set[int]:
    """Line numbers in ``start..end`` (1-based) whose code touches one of the risk families but settings."""
    out = set()
    for number in range(start, end + 1):
        text = lines[number - 1] if 0 < number <= len(lines) else ""
        if any(pattern.search(text) for name, pattern in RISKS if name != "settings"):
            out.add(number)
    return out
