"""Route templates of GitHub API URLs, for metric labels and span names (pure).

A template keeps only words from a fixed vocabulary and replaces every other segment with a placeholder
(``/repos/{owner}/{repo}/pulls/{number}/reviews``), so it never carries an owner, a repository, a file
path, a sha or a query string, and the set of templates is bounded.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_SEGMENTS = 8
STATIC = frozenset(
    {
        "access_tokens", "app", "branches", "check-runs", "check-suites", "collaborators", "comments",
        "commits", "compare", "contents", "files", "git", "graphql", "installation", "installations",
        "issues", "labels", "permission", "pulls", "reactions", "ref", "refs", "repos", "repositories",
        "reviews", "events", "dismissals", "requested_reviewers", "statuses", "status", "trees", "blobs",
        "rate_limit", "users", "user", "annotations", "merge", "timeline",
    }
)  # fmt: skip
_NAMED = {"collaborators": "{username}", "users": "{username}", "ref": "{ref}", "commits": "{ref}"}
_REST = {"contents": "{path}", "compare": "{basehead}", "refs": "{ref}", "trees": "{sha}", "blobs": "{sha}"}


def route_template(url: str, *, api_prefix: str = "") -> str:
    """The route template of ``url`` (a full URL or a path), with ``api_prefix`` (GHES ``/api/v3``) removed."""
    path = urlsplit(url).path
    if api_prefix and path.startswith(api_prefix):
        path = path[len(api_prefix) :]
    segments = [s for s in path.split("/") if s]
    out: list[str] = []
    previous = ""
    for index, segment in enumerate(segments):
        if len(out) >= MAX_SEGMENTS:
            out.append("…")
            break
        if previous in _REST:
            out.append(_REST[previous])
            break
        if previous == "repos":
            out.append("{owner}")
            previous = "{owner}"
            continue
        if previous == "{owner}" and index == 2:
            out.append("{repo}")
            previous = "{repo}"
            continue
        if segment in STATIC:
            out.append(segment)
        elif previous in _NAMED:
            out.append(_NAMED[previous])
        else:
            out.append("{id}" if segment.isdigit() else "{param}")
        previous = segment if segment in STATIC else out[-1]
    return "/" + "/".join(out)
