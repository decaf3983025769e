"""Who holds a lease: worker ids that name their host, boot, process and the process's start, so an embedded
store can tell at once that a lease's holder is dead (a crashed ``archbot serve`` on this machine) instead of
waiting for the lease to run out.

A worker id reads ``<host>:<pid>:<boot>:<start>:<random>``. ``boot`` is the start of the kernel's boot id
(``/proc/sys/kernel/random/boot_id``), ``start`` the process's start time in clock ticks since boot
(``/proc/<pid>/stat``), so a pid reused after a restart (a container's pid 1) is not mistaken for the old
holder. Off Linux both are empty and only the pid is checked. A holder on another host, or one whose id does
not parse (an older archbot), is never declared dead here: its lease runs out as before.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """One process as a lease holder names it."""

    host: str
    pid: int
    boot: str  # "" when unknown
    start: str  # "" when unknown


def boot_id(proc: Path = PROC) -> str:
    """The first 8 characters of this boot's id ("" off Linux)."""
    try:
        return (proc / "sys/kernel/random/boot_id").read_text(encoding="ascii").strip().replace("-", "")[:8]
    except OSError:
        return ""


def process_start(pid: int, proc: Path = PROC) -> str | None:
    """The start time (clock ticks since boot) of process ``pid``; None when there is no such process, ""
    when it exists but this system does not say when it started."""
    try:
        stat = (proc / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return _pid_exists(pid)
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


def _pid_exists(pid: int) -> str | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


def current(proc: Path = PROC) -> ProcessIdentity:
    """This process."""
    pid = os.getpid()
    return ProcessIdentity(socket.gethostname(), pid, boot_id(proc), process_start(pid, proc) or "")


def worker_id(me: ProcessIdentity) -> str:
    """A fresh worker id for a worker of process ``me``."""
    return f"{me.host}:{me.pid}:{me.boot}:{me.start}:{uuid.uuid4().hex[:8]}"


def parse_worker_id(text: str) -> ProcessIdentity | None:
    """The process a worker id names; None when it is not one of ours. The older ``host:pid:random``
    form parses with an unknown boot and start."""
    parts = text.rsplit(":", 4)
    if len(parts) == 5:
        host, pid, boot, start, _ = parts
    elif len(parts) == 3:
        host, pid, _ = parts
        boot = start = ""
    else:
        return None
    if not host or not pid.isdigit():
        return None
    return ProcessIdentity(host, int(pid), boot, start)


def holder_is_dead(owner: str, me: ProcessIdentity, start_of: Callable[[int], str | None]) -> bool:
    """True only when ``owner`` surely names a process that no longer runs: on this host, and either from
    an earlier boot, or its pid is gone, or its pid now belongs to a process that started at another time.
    ``start_of(pid)`` is :func:`process_start` (injected for tests)."""
    holder = parse_worker_id(owner)
    if holder is None or holder.host != me.host:
        return False
    if holder.boot and me.boot and holder.boot != me.boot:
        return True
    if holder.pid == me.pid:
        return bool(holder.start and me.start and holder.start != me.start)  # same pid, other process
    running = start_of(holder.pid)
    if running is None:
        return True
    return bool(holder.start and running and holder.start != running)


def dead_holder_check(me: ProcessIdentity | None = None) -> Callable[[str], bool]:
    """``holder_is_dead`` bound to this process and the real ``/proc``."""
    identity = me if me is not None else current()
    return lambda owner: holder_is_dead(owner, identity, process_start)
