"""structlog configuration: one place, once per process, always on stderr, secrets redacted.

stdout belongs to the document a command prints (DESIGN, Decisions 14): ``--format json|sarif`` must
parse, so no log line may ever reach it. ``ARCHBOT_LOG_FORMAT`` picks ``json`` (one object a line)
or ``console`` (readable lines); unset, it is ``console`` when stderr is a terminal and ``json``
otherwise. Inside a job every line, archbot's and the standard library's, carries the job's
``delivery_id``, ``installation_id``, ``repo``, ``number`` and ``job_id`` (bound by the worker in
contextvars, so per task). The standard library's loggers (uvicorn, httpx, the SDKs) go to stderr as well, at WARNING
and above only (whatever level a library sets on its own logger) and redacted like archbot's lines.
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
    """Last line of defence: no token or key pattern reaches a log line, nested or not."""
    for key, value in list(event_dict.items()):
        event_dict[key] = redact_value(value)
    return event_dict


def redact_value(value: Any) -> Any:
    """``value`` with secrets redacted: strings, and the strings inside dicts, lists and tuples.

    Numbers, booleans and ``None`` pass as they are; any other object (an exception, a path, a model)
    becomes its redacted ``str``, since a renderer would print that text anyway.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact_secrets(value)
    if isinstance(value, dict):
        return {redact_value(k) if isinstance(k, str) else k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return redact_secrets(str(value))


class RedactingFormatter(logging.Formatter):
    """The standard library's lines (uvicorn, httpx, the SDKs, tracebacks) redacted like archbot's own,
    with the job context bound in structlog's contextvars (delivery, installation, repo, number, job)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = structlog.contextvars.get_contextvars()
        if context:
            text += " " + " ".join(f"{key}={value}" for key, value in context.items())
        return redact_secrets(text)


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
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    # Libraries log whole requests at DEBUG (the anthropic SDK prints the prompt, and does so whenever
    # ANTHROPIC_LOG=debug sets its own logger's level): below WARNING, no library line gets out.
    handler.setLevel(max(numeric, logging.WARNING))
    root.addHandler(handler)
    root.setLevel(max(numeric, logging.WARNING))
