"""Comment commands: parse the first line of a comment into a command (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

KNOWN_COMMANDS = ("plan", "review", "help")
_COMMAND = re.compile(r"^/(?P<name>[A-Za-z][\w-]{0,31})(?P<args>(?:[ \t]+\S+){0,8})[ \t]*$")


@dataclass(frozen=True)
class Command:
    """A slash command from the first line of a comment. ``known`` is False for ``/xyz``."""

    name: str
    args: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.name in KNOWN_COMMANDS

    @property
    def now(self) -> bool:
        return "--now" in self.args


def parse_command(body: str | None) -> Command | None:
    """The command on the comment's first non-blank line, or None when it does not start with ``/``.

    Paths like ``/usr/bin`` are not commands: a command name has no further slash.
    """
    if not body:
        return None
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    match = _COMMAND.match(first)
    if match is None:
        return None
    return Command(name=match["name"].lower(), args=tuple(match["args"].split()))
