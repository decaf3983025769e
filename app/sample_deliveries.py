"""Webhook bodies that ``archbot send-test-delivery`` signs and sends: ``ping`` and ``pull_request.opened``.

Pure builders, shaped like GitHub's own deliveries (the fixtures in ``fixtures/github-webhooks/``):
the same top-level keys and the same ``pull_request`` keys, with the repository, PR number,
installation and head commit given on the command line.  The sender and the PR author are a
plain user (archbot skips PRs opened by bots).
"""

from __future__ import annotations

from typing import Any

PING: dict[str, Any] = {"zen": "Design for failure.", "hook_id": 1, "hook": {"type": "App", "events": ["pull_request"]}}

NO_COMMIT = "0" * 40  # the default head: not the PR's, so the worker sees "head moved" and posts nothing
TEST_USER = "archbot-test-delivery"
TEST_USER_ID = 1
WEB_URL = "https://github.com"


def _account(login: str, account_id: int, api_url: str, kind: str = "User") -> dict[str, Any]:
    return {
        "login": login,
        "id": account_id,
        "node_id": f"U_test{account_id}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{account_id}?v=4",
        "gravatar_id": "",
        "url": f"{api_url}/users/{login}",
        "html_url": f"{WEB_URL}/{login}",
        "type": kind,
        "site_admin": False,
    }


def _repository(full_name: str, api_url: str, default_branch: str) -> dict[str, Any]:
    owner, _, name = full_name.partition("/")
    return {
        "id": 1,
        "node_id": "R_test1",
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": _account(owner, 2, api_url),
        "html_url": f"{WEB_URL}/{full_name}",
        "description": None,
        "fork": False,
        "url": f"{api_url}/repos/{full_name}",
        "default_branch": default_branch,
        "visibility": "public",
    }


def _ref(label_owner: str, ref: str, sha: str, repo: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    return {"label": f"{label_owner}:{ref}", "ref": ref, "sha": sha, "user": user, "repo": repo}


def pull_request_opened(
    *,
    repo: str,
    number: int,
    installation_id: int,
    head_sha: str = NO_COMMIT,
    base_sha: str = NO_COMMIT,
    api_url: str = "https://api.github.com",
    now: str = "2026-01-01T00:00:00Z",
    default_branch: str = "main",
) -> dict[str, Any]:
    """A ``pull_request`` delivery with ``action: opened`` for ``repo`` (``owner/name``) PR ``number``."""
    api = api_url.rstrip("/")
    repository = _repository(repo, api, default_branch)
    user = _account(TEST_USER, TEST_USER_ID, api)
    pr_api = f"{api}/repos/{repo}/pulls/{number}"
    issue_api = f"{api}/repos/{repo}/issues/{number}"
    html = f"{WEB_URL}/{repo}/pull/{number}"
    pull_request: dict[str, Any] = {
        "url": pr_api,
        "id": number,
        "node_id": f"PR_test{number}",
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue_api,
        "number": number,
        "state": "open",
        "locked": False,
        "title": "archbot test delivery",
        "user": user,
        "body": "Sent by `archbot send-test-delivery --event pull_request`.",
        "created_at": now,
        "updated_at": now,
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": [],
        "milestone": None,
        "commits_url": f"{pr_api}/commits",
        "review_comments_url": f"{pr_api}/comments",
        "review_comment_url": f"{api}/repos/{repo}/pulls/comments{{/number}}",
        "comments_url": f"{issue_api}/comments",
        "statuses_url": f"{api}/repos/{repo}/statuses/{head_sha}",
        "head": _ref(TEST_USER, "archbot-test", head_sha, repository, user),
        "base": _ref(repository["owner"]["login"], default_branch, base_sha, repository, repository["owner"]),
        "_links": {
            "self": {"href": pr_api},
            "html": {"href": html},
            "issue": {"href": issue_api},
            "comments": {"href": f"{issue_api}/comments"},
            "review_comments": {"href": f"{pr_api}/comments"},
            "review_comment": {"href": f"{api}/repos/{repo}/pulls/comments{{/number}}"},
            "commits": {"href": f"{pr_api}/commits"},
            "statuses": {"href": f"{api}/repos/{repo}/statuses/{head_sha}"},
        },
        "author_association": "CONTRIBUTOR",
        "auto_merge": None,
        "active_lock_reason": None,
        "draft": False,
        "merged": False,
        "mergeable": None,
        "rebaseable": None,
        "mergeable_state": "unknown",
        "merged_by": None,
        "comments": 0,
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": 1,
        "additions": 0,
        "deletions": 0,
        "changed_files": 0,
    }
    return {
        "action": "opened",
        "number": number,
        "pull_request": pull_request,
        "repository": repository,
        "installation": {"id": installation_id, "node_id": f"I_test{installation_id}"},
        "sender": user,
    }
