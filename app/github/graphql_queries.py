"""GraphQL documents archbot sends.  Every field is checked against GitHub's public schema.

``pr_context_query`` reads, in ONE request (DESIGN Decision 5): the PR head and base, its author,
the config file from the default branch, archbot's (and everyone's) conversation comments, the
review threads, recent reviews, and the text of chosen files at the head commit through aliases.

Notes on GitHub's schema that shaped the query:
* ``fullDatabaseId`` (``BigInt``, sent as a string) is used, not ``databaseId``: comment ids no
  longer fit the 32-bit ``Int``.
* ``Commit.file(path:)`` on ``defaultBranchRef.target`` reads the config from the default branch.
* File paths travel as variables, never spliced into the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

COMMENTS_LAST = 100
THREADS_FIRST = 100
THREAD_COMMENTS_FIRST = 20
REVIEWS_LAST = 50

_BLOB_FRAGMENT = """
fragment ArchbotBlobText on Blob {
  text
  isBinary
  isTruncated
}
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


def file_alias(index: int) -> str:
    """The alias under which the ``index``-th requested file comes back."""
    return f"file{index}"


def pr_context_query(
    *, owner: str, name: str, number: int, config_path: str, paths: Sequence[str], head_sha: str | None
) -> tuple[str, dict[str, Any]]:
    """The PR-context document and its variables.

    With ``head_sha`` the files are read as ``object(expression: "<sha>:<path>")`` on the
    repository; without it, from the PR's last commit (``commits(last: 1)``).
    """
    variables: dict[str, Any] = {"owner": owner, "name": name, "number": number, "configPath": config_path}
    declared = ["$owner: String!", "$name: String!", "$number: Int!", "$configPath: String!"]
    repo_files: list[str] = []
    commit_files: list[str] = []
    for index, path in enumerate(paths):
        var = f"p{index}"
        declared.append(f"${var}: String!")
        if head_sha is not None:
            variables[var] = f"{head_sha}:{path}"
            repo_files.append(f"    {file_alias(index)}: object(expression: ${var}) {{ ...ArchbotBlobText }}")
        else:
            variables[var] = path
            commit_files.append(
                f"              {file_alias(index)}: file(path: ${var}) {{ object {{ ...ArchbotBlobText }} }}"
            )
    head_commit = ""
    if commit_files:
        head_commit = (
            "      headCommit: commits(last: 1) {\n        nodes {\n          commit {\n"
            + "\n".join(commit_files)
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
        "    }\n" + "".join(line + "\n" for line in repo_files) + "  }\n}\n" + _BLOB_FRAGMENT
    )
    return document, variables
