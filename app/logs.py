"""structlog configuration: one place, once per process, always on stderr, secrets redacted.

stdout belongs to the document a command prints (DESIGN, Decisions 14): ``--format json|sarif`` must
parse, so no log line may ever reach it. ``ARCHBOT_LOG_FORMAT`` picks ``json`` (one object a line)
or ``console`` (readable lines); unset, it is ``console`` when stderr is a terminal and ``json``
otherwise. The standard library's loggers (uvicorn, httpx, the SDKs) go to stderr as well.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog

from app.review.sanitize import redact_secrets

LogFormat = Literal["json", "console"]


def _redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last line of defence: no token or key pattern reaches a log line."""
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = redact_secrets(value)
    return event_dict


def default_format(stream: TextIO) -> LogFormat:
    """``console`` on a terminal, ``json`` for files, pipes and log collectors."""
    isatty = getattr(stream, "isatty", None)
    return "console" if isatty is not None and isatty() else "json"


def configure_logging(level: str = "INFO", *, fmt: LogFormat | None = None, stream: TextIO | None = None) -> None:
    """Configure structlog and the standard library's root logger for the process.

    ``stream`` defaults to stderr; only ``archbot action`` passes another one (its workflow log).
    """
    target = stream if stream is not None else sys.stderr
    chosen = fmt or default_format(target)
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: Any = (
        structlog.processors.JSONRenderer() if chosen == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=target),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(target)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(max(numeric, logging.WARNING))
