"""Start-up work of ``archbot serve`` that would otherwise stall the event loop under load.

The receiver and the worker share one process and one loop, so CPU spent by a job delays webhook
answers. Three things are done once, before the server listens:

- githubkit's REST namespaces and the response models archbot parses are imported now: githubkit loads
  them lazily, and the first job of the process paid about 350 ms of CPU for them on the loop;
- the thread switch interval drops from 5 ms to 1 ms: the worker's CPU-heavy steps (static analysis,
  context preparation) run in threads, and a thread holding the GIL made the loop wait up to a whole
  interval before it could answer a delivery;
- the start-up heap is collected once and frozen (``gc.freeze``), so later collections do not walk the
  hundreds of thousands of objects that modules and schemas leave behind (shorter GC pauses).
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

# what app/github/api.py calls, and the models their answers are parsed into
REST_NAMESPACES = ("pulls", "issues", "checks", "repos", "reactions")
GITHUB_MODELS = (
    "PullRequest",
    "DiffEntry",
    "CommitComparison",
    "Issue",
    "IssueComment",
    "RepositoryCollaboratorPermission",
    "CheckRun",
    "PullRequestReview",
    "Reaction",
    "InstallationToken",
)
SWITCH_INTERVAL = 0.001  # seconds a thread may hold the GIL while another waits for it


def preload_github(client: Any) -> int:
    """Touch ``client``'s REST namespaces and import the response models; returns the models loaded."""
    rest = client.rest
    for name in REST_NAMESPACES:
        getattr(rest, name)
    models = importlib.import_module("githubkit_schemas.latest.models")
    return sum(1 for name in GITHUB_MODELS if getattr(models, name, None) is not None)


def freeze_heap() -> None:
    """Collect the start-up garbage once, then keep everything left out of later collections."""
    gc.collect()
    gc.freeze()


def warm_up(client: Any) -> int:
    """All of the above, once, before ``archbot serve`` listens; returns the models preloaded."""
    loaded = preload_github(client)
    sys.setswitchinterval(SWITCH_INTERVAL)
    freeze_heap()
    return loaded
