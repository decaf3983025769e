"""GraphQL documents archbot sends.  Every field is checked against GitHub's public schema.

``pr_context_query`` reads, in ONE request (DESIGN Decision 5): the PR head and base, its author,
the config file from the default branch, archbot's (and everyone's) conversation comments, the
review threads, recent reviews, the text of chosen files at the head commit through aliases, and
(when a check name is given) the check runs of that name on the head commit with the App that
created each, so a restarted job finds the check run it started before it died.

Notes on GitHub's schema that shaped the query:
* ``fullDatabaseId`` (``BigInt``, sent as a string) is used, not ``databaseId``: comment ids no
  longer fit the 32-bit ``Int``.
* ``Commit.file(path:)`` on ``defaultBranchRef.target`` reads the config from the default branch.
* File paths travel as variables, never spliced into the document.
* ``Commit.checkSuites(filterBy: {appId})`` -> ``CheckSuite.app { databaseId }`` and
  ``CheckSuite.checkRuns(filterBy: {checkName})`` -> ``CheckRun { databaseId name status }``.
  ``CheckRun`` has no ``fullDatabaseId``; GitHub answers its ``databaseId`` (typed ``Int``) with
  the whole id, which is past 2**31 today.  ``CheckSuiteFilter.checkName`` is left unused: its
  meaning (suite or run name) is not documented clearly; the run filter's is.

The check-run lookup is OPTIONAL: an older GitHub Enterprise Server may not know ``checkSuites``
(``undefinedField``), and an App without the ``checks`` permission gets ``FORBIDDEN`` ("Resource
not accessible by integration") there.  :func:`optional_refusal` recognises those answers so the
caller can ask again without that part (``check_name=None``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

COMMENTS_LAST = 100
THREADS_FIRST = 100
THREAD_COMMENTS_FIRST = 20
REVIEWS_LAST = 50
CHECK_SUITES_LAST = 10
CHECK_RUNS_LAST = 20

CHECK_RUNS_PART = "check_runs"  # the optional part's name in logs and PRContext.degraded
_CHECK_RUNS_FRAGMENT = "ArchbotCheckRuns"
_CHECK_RUNS_FIELDS = frozenset({"checkSuites", "checkRuns"})
_CHECK_RUNS_TYPES = frozenset(
    {"CheckSuite", "CheckSuiteConnection", "CheckSuiteFilter", "CheckRun", "CheckRunConnection", "CheckRunFilter"}
)
# GraphQL error codes of a schema that lacks something we asked for, and the reason label for each
_SCHEMA_CODES = {"undefinedField": "undefined_field", "argumentNotAccepted": "argument_not_accepted"}
FORBIDDEN_REASON = "forbidden"
_FORBIDDEN_MESSAGE = "resource not accessible by integration"

_BLOB_FRAGMENT = """
fragment ArchbotBlobText on Blob {
  text
  isBinary
  isTruncated
}
"""


def _check_runs_fragment(*, by_app: bool) -> str:
    """Check runs named ``$checkName`` on a commit, per suite with the App that created them."""
    suite_filter = ", filterBy: {appId: $checkAppId}" if by_app else ""
    return f"""
fragment {_CHECK_RUNS_FRAGMENT} on Commit {{
  oid
  checkSuites(last: {CHECK_SUITES_LAST}{suite_filter}) {{
    nodes {{
      app {{ databaseId }}
      checkRuns(last: {CHECK_RUNS_LAST}, filterBy: {{checkName: $checkName}}) {{
        nodes {{ databaseId name status }}
      }}
    }}
  }}
}}
"""


_PR_FIELDS = f"""
      number
      title
      body
      state
      isDraft
      isCrossRepository
      headRefOid
      baseRefOid
      baseRefName
      headRepository {{ nameWithOwner }}
      author {{ __typename login }}
      comments(last: {COMMENTS_LAST}) {{
        totalCount
        nodes {{ id fullDatabaseId author {{ __typename login }} body createdAt }}
      }}
      reviewThreads(first: {THREADS_FIRST}) {{
        totalCount
        nodes {{
          id
          isResolved
          isOutdated
          comments(first: {THREAD_COMMENTS_FIRST}) {{
            nodes {{ fullDatabaseId author {{ __typename login }} body path line }}
          }}
        }}
      }}
      reviews(last: {REVIEWS_LAST}) {{
        nodes {{ fullDatabaseId author {{ __typename login }} body state commit {{ oid }} }}
      }}
"""

RESOLVE_THREAD_MUTATION = """
mutation ArchbotResolveThread($threadId: ID!) {
  resolveReviewThread(input: {threadId: $threadId}) {
    thread { id isResolved }
  }
}
"""


REVIEWED_COMMIT = "reviewedCommit"  # alias of the head commit read by sha (check runs)


def file_alias(index: int) -> str:
    """The alias under which the ``index``-th requested file comes back."""
    return f"file{index}"


def pr_context_query(
    *,
    owner: str,
    name: str,
    number: int,
    config_path: str,
    paths: Sequence[str],
    head_sha: str | None,
    check_name: str | None = None,
    check_app_id: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """The PR-context document and its variables.

    With ``head_sha`` the files are read as ``object(expression: "<sha>:<path>")`` on the
    repository and the check runs from ``object(oid: <sha>)``; without it, both from the PR's last
    commit (``commits(last: 1)``).  Check runs are asked for only with ``check_name``; with
    ``check_app_id`` only the suites of that App are read.
    """
    variables: dict[str, Any] = {"owner": owner, "name": name, "number": number, "configPath": config_path}
    declared = ["$owner: String!", "$name: String!", "$number: Int!", "$configPath: String!"]
    repo_fields: list[str] = []
    commit_fields: list[str] = []
    for index, path in enumerate(paths):
        var = f"p{index}"
        declared.append(f"${var}: String!")
        if head_sha is not None:
            variables[var] = f"{head_sha}:{path}"
            repo_fields.append(f"    {file_alias(index)}: object(expression: ${var}) {{ ...ArchbotBlobText }}")
        else:
            variables[var] = path
            commit_fields.append(
                f"              {file_alias(index)}: file(path: ${var}) {{ object {{ ...ArchbotBlobText }} }}"
            )
    fragments = _BLOB_FRAGMENT
    if check_name is not None:
        declared.append("$checkName: String!")
        variables["checkName"] = check_name
        if check_app_id is not None:
            declared.append("$checkAppId: Int!")
            variables["checkAppId"] = check_app_id
        if head_sha is not None:
            declared.append("$headOid: GitObjectID!")
            variables["headOid"] = head_sha
            repo_fields.append(
                f"    {REVIEWED_COMMIT}: object(oid: $headOid) {{ ... on Commit {{ ...ArchbotCheckRuns }} }}"
            )
        else:
            commit_fields.append("              ...ArchbotCheckRuns")
        fragments += _check_runs_fragment(by_app=check_app_id is not None)
    head_commit = ""
    if commit_fields:
        head_commit = (
            "      headCommit: commits(last: 1) {\n        nodes {\n          commit {\n"
            + "\n".join(commit_fields)
            + "\n          }\n        }\n      }\n"
        )
    document = (
        f"query ArchbotPullRequestContext({', '.join(declared)}) {{\n"
        "  repository(owner: $owner, name: $name) {\n"
        "    defaultBranchRef {\n"
        "      name\n"
        "      target {\n"
        "        ... on Commit {\n"
        "          config: file(path: $configPath) { object { ...ArchbotBlobText } }\n"
        "        }\n"
        "      }\n"
        "    }\n"
        "    pullRequest(number: $number) {"
        f"{_PR_FIELDS}{head_commit}"
        "    }\n" + "".join(line + "\n" for line in repo_fields) + "  }\n}\n" + fragments
    )
    return document, variables


def _about_check_runs(error: Mapping[str, Any]) -> bool:
    """True when a GraphQL error points into the optional check-run lookup (by path or by name)."""
    path = [str(p) for p in error.get("path") or []]
    if any(p in _CHECK_RUNS_FIELDS or p == f"fragment {_CHECK_RUNS_FRAGMENT}" for p in path):
        return True
    extensions = error.get("extensions") or {}
    if not isinstance(extensions, Mapping):
        return False
    names = {str(extensions.get(key, "")) for key in ("fieldName", "name", "argumentName")}
    return bool(names & _CHECK_RUNS_FIELDS) or str(extensions.get("typeName", "")) in _CHECK_RUNS_TYPES


def _refusal_reason(error: Mapping[str, Any]) -> str | None:
    extensions = error.get("extensions") or {}
    code = str(extensions.get("code", "")) if isinstance(extensions, Mapping) else ""
    if code in _SCHEMA_CODES:
        return _SCHEMA_CODES[code]
    if error.get("type") == "FORBIDDEN" or _FORBIDDEN_MESSAGE in str(error.get("message", "")).lower():
        return FORBIDDEN_REASON
    return None


def optional_refusal(errors: Sequence[Mapping[str, Any]]) -> str | None:
    """Why GitHub refused the optional check-run lookup, when that is ALL it refused.

    ``undefined_field`` / ``argument_not_accepted`` (a schema without it: older GitHub Enterprise
    Server) or ``forbidden`` (no permission); ``None`` when any error is about something else or of
    another kind, so that asking again without the optional part would not help.
    """
    reasons = [_refusal_reason(error) if _about_check_runs(error) else None for error in errors]
    if not reasons or None in reasons:
        return None
    return reasons[0]


CONTEXT_ALIAS_PREFIX = "ctx"


def context_alias(index: int) -> str:
    """The alias under which the ``index``-th review-context blob comes back."""
    return f"{CONTEXT_ALIAS_PREFIX}{index}"


def context_blobs_query(*, owner: str, name: str, head_sha: str, paths: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """Blob texts of ``paths`` at ``head_sha`` in ONE query (the review's context files).

    Each path is an alias ``ctx<i>: object(expression: $e<i>)`` whose expression ``"<sha>:<path>"``
    travels as a variable: nothing the repository chose is spliced into the document.  A path that
    does not exist (most candidates derived from imports) answers ``null``; a tree answers an object
    without the Blob fields.
    """
    variables: dict[str, Any] = {"owner": owner, "name": name}
    declared = ["$owner: String!", "$name: String!"]
    fields: list[str] = []
    for index, path in enumerate(paths):
        declared.append(f"$e{index}: String!")
        variables[f"e{index}"] = f"{head_sha}:{path}"
        fields.append(
            f"    {context_alias(index)}: object(expression: $e{index}) "
            "{ ... on Blob { text byteSize isBinary isTruncated } }"
        )
    document = (
        f"query ArchbotReviewContext({', '.join(declared)}) {{\n"
        "  repository(owner: $owner, name: $name) {\n" + "\n".join(fields) + "\n  }\n}\n"
    )
    return document, variables
