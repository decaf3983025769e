"""The fake GitHub behaves like GitHub where archbot depends on it."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from graphql import build_schema, parse, validate, validate_schema

from app.github.graphql_queries import RESOLVE_THREAD_MUTATION, pr_context_query
from tests.fakegithub import ACTIONS_TOKEN, SCHEMA_SDL, FakeGitHub, parse_diff, serve_fake

HEAD = "b" * 40
BASE = "a" * 40
REPO = "octo/app"

DIFF = """diff --git a/app/x.py b/app/x.py
index 1111111..2222222 100644
--- a/app/x.py
+++ b/app/x.py
@@ -10,3 +10,4 @@ def f():
     a = 1
-    b = 2
+    b = 3
+    c = 4
     return a
diff --git a/old_name.py b/new_name.py
similarity index 90%
rename from old_name.py
rename to new_name.py
index 1111111..2222222 100644
--- a/old_name.py
+++ b/new_name.py
@@ -1,2 +1,2 @@
-x = 1
+x = 2
 y = 2
\\ No newline at end of file
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..3333333
Binary files /dev/null and b/logo.png differ
"""


@pytest.fixture
def fake() -> FakeGitHub:
    gh = FakeGitHub(app_id=7, slug="archbot")
    gh.add_installation(42)
    gh.add_repo(REPO, files={".github/archbot.yml": "review: {}\n"})
    gh.add_pr(REPO, 1, diff=DIFF, head_sha=HEAD, base_sha=BASE, head_files={"app/x.py": "a = 1\n"})
    return gh


@pytest.fixture
async def client(fake: FakeGitHub) -> AsyncIterator[httpx.AsyncClient]:
    """Authenticated as the Action's GITHUB_TOKEN (github-actions[bot])."""
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url="http://gh.test", headers={"Authorization": f"token {ACTIONS_TOKEN}"}
    ) as c:
        yield c


def app_jwt(fake: FakeGitHub) -> str:
    now = int(time.time())
    return jwt.encode({"iss": str(fake.app_id), "iat": now - 60, "exp": now + 540}, fake.private_key, algorithm="RS256")


async def install_token(client: httpx.AsyncClient, fake: FakeGitHub) -> str:
    response = await client.post(
        "/app/installations/42/access_tokens", headers={"Authorization": f"Bearer {app_jwt(fake)}"}
    )
    assert response.status_code == 201
    assert response.json()["expires_at"] == "2099-01-01T00:00:00Z"
    return str(response.json()["token"])


async def graphql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200
    payload: dict[str, Any] = response.json()
    return payload


# ---------------------------------------------------------------- diff model


def test_parse_diff_lines_and_statuses() -> None:
    x, renamed, binary = parse_diff(DIFF)
    assert (x.filename, x.status, x.additions, x.deletions) == ("app/x.py", "modified", 2, 1)
    assert sorted(x.right) == [10, 11, 12, 13]  # added + context, new numbering
    assert sorted(x.left) == [10, 11, 12]  # removed + context, old numbering
    assert (renamed.filename, renamed.previous_filename, renamed.status) == ("new_name.py", "old_name.py", "renamed")
    assert renamed.patch is not None
    assert renamed.patch.endswith("\\ No newline at end of file")
    assert (binary.filename, binary.status, binary.patch) == ("logo.png", "added", None)


# ---------------------------------------------------------------- reviews


async def test_review_comment_outside_the_diff_rejects_the_whole_review(
    fake: FakeGitHub, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/repos/octo/app/pulls/1/reviews",
        json={
            "commit_id": HEAD,
            "event": "COMMENT",
            "body": "b",
            "comments": [
                {"path": "app/x.py", "line": 12, "side": "RIGHT", "body": "fine"},
                {"path": "app/x.py", "line": 20, "side": "RIGHT", "body": "outside"},
            ],
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"] == ["Pull request review thread line must be part of the diff"]
    assert fake.reviews(REPO, 1) == []
    assert fake.threads(REPO, 1) == []


@pytest.mark.parametrize(
    "comment",
    [
        {"path": "app/x.py", "line": 14, "side": "LEFT"},  # LEFT uses old numbers: 14 is not there
        {"path": "app/x.py", "line": 9},  # before the hunk
        {"path": "logo.png", "line": 1},  # binary: no patch
        {"path": "not/in/pr.py", "line": 1},
        {"path": "app/x.py", "line": 12, "start_line": 12},  # a range must start before its end
    ],
)
async def test_uncommentable_targets_get_422(client: httpx.AsyncClient, comment: dict[str, Any]) -> None:
    response = await client.post(
        "/repos/octo/app/pulls/1/reviews",
        json={"commit_id": HEAD, "event": "COMMENT", "body": "b", "comments": [{**comment, "body": "c"}]},
    )
    assert response.status_code == 422


async def test_commentable_targets_and_recorded_event(fake: FakeGitHub, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/repos/octo/app/pulls/1/reviews",
        json={
            "commit_id": HEAD,
            "event": "APPROVE",  # GitHub accepts it; the fake records it so tests can forbid it
            "body": "b",
            "comments": [
                {"path": "app/x.py", "line": 11, "side": "LEFT", "body": "removed"},
                {"path": "app/x.py", "line": 13, "body": "added"},
                {"path": "new_name.py", "start_line": 1, "line": 2, "body": "range"},
                {"path": "app/x.py", "position": 3, "body": "by position"},
            ],
        },
    )
    assert response.status_code == 200
    (review,) = fake.reviews(REPO, 1)
    assert (review.event, review.state, review.author.login) == ("APPROVE", "APPROVED", "github-actions[bot]")
    assert len(fake.threads(REPO, 1)) == 4


# ---------------------------------------------------------------- GraphQL


def test_schema_subset_is_valid_and_accepts_archbot_queries() -> None:
    schema = build_schema(SCHEMA_SDL)
    assert validate_schema(schema) == []
    for (paths, head), (check_name, app_id) in itertools.product(
        (((), None), (("a.py",), None), (("a.py", "b.py"), HEAD), ((), HEAD)),
        ((None, None), ("archbot", None), ("archbot", 7)),
    ):
        document, _ = pr_context_query(
            owner="o",
            name="r",
            number=1,
            config_path=".github/archbot.yml",
            paths=paths,
            head_sha=head,
            check_name=check_name,
            check_app_id=app_id,
        )
        assert validate(schema, parse(document)) == []
    assert validate(schema, parse(RESOLVE_THREAD_MUTATION)) == []


async def test_graphql_unknown_field_gives_errors_with_http_200(client: httpx.AsyncClient) -> None:
    query = '{ repository(owner: "octo", name: "app") { pullRequest(number: 1) { mergeQueue } } }'
    payload = await graphql(client, query)
    assert "data" not in payload
    (error,) = payload["errors"]
    assert error["message"] == "Field 'mergeQueue' doesn't exist on type 'PullRequest'"
    assert error["extensions"] == {"code": "undefinedField", "typeName": "PullRequest", "fieldName": "mergeQueue"}


async def test_graphql_not_found_and_connection_rules(client: httpx.AsyncClient) -> None:
    payload = await graphql(client, '{ repository(owner: "octo", name: "app") { pullRequest(number: 9) { title } } }')
    assert payload["data"] == {"repository": {"pullRequest": None}}
    assert payload["errors"][0]["type"] == "NOT_FOUND"
    assert payload["errors"][0]["path"] == ["repository", "pullRequest"]
    payload = await graphql(
        client, '{ repository(owner: "octo", name: "app") { pullRequest(number: 1) { comments { totalCount } } } }'
    )
    assert "must provide a `first` or `last` value" in payload["errors"][0]["message"]
    payload = await graphql(
        client,
        '{ repository(owner: "octo", name: "app") { pullRequest(number: 1) { comments(first: 101) { totalCount } } } }',
    )
    assert "exceeds the `first` limit of 100 records" in payload["errors"][0]["message"]


async def test_graphql_bot_logins_have_no_suffix_and_ids_are_bigint(client: httpx.AsyncClient) -> None:
    response = await client.post("/repos/octo/app/issues/1/comments", json={"body": "hi"})
    assert response.json()["user"] == {**response.json()["user"], "login": "github-actions[bot]", "type": "Bot"}
    assert response.json()["performed_via_github_app"]["slug"] == "github-actions"
    payload = await graphql(
        client,
        '{ repository(owner: "octo", name: "app") { pullRequest(number: 1) { comments(last: 5) { nodes {'
        " author { __typename login } fullDatabaseId databaseId viewerDidAuthor } } } } }",
    )
    (node,) = payload["data"]["repository"]["pullRequest"]["comments"]["nodes"]
    assert node["author"] == {"__typename": "Bot", "login": "github-actions"}
    assert node["fullDatabaseId"] == str(response.json()["id"])
    assert node["databaseId"] is None  # too big for Int
    assert node["viewerDidAuthor"] is True


async def test_graphql_check_suites_per_app_with_their_check_runs(fake: FakeGitHub, client: httpx.AsyncClient) -> None:
    as_app = {"Authorization": f"token {await install_token(client, fake)}"}
    start = {"name": "archbot", "head_sha": HEAD, "status": "in_progress"}
    own = (await client.post("/repos/octo/app/check-runs", json=start, headers=as_app)).json()["id"]
    await client.post("/repos/octo/app/check-runs", json={**start, "name": "lint"}, headers=as_app)
    await client.post("/repos/octo/app/check-runs", json=start)  # the Actions token: GitHub Actions' suite
    query = """query($oid: GitObjectID!, $app: Int!) { repository(owner: "octo", name: "app") {
      mine: object(oid: $oid) { ... on Commit { checkSuites(last: 10, filterBy: {appId: $app}) { nodes {
        app { databaseId slug }
        checkRuns(last: 20, filterBy: {checkName: "archbot"}) { nodes { databaseId name status } }
      } } } }
      all: object(oid: $oid) { ... on Commit { checkSuites(first: 10) { nodes {
        app { databaseId } checkRuns(first: 20) { totalCount }
      } } } }
    } }"""
    payload = await graphql(client, query, {"oid": HEAD, "app": fake.app_id})
    assert "errors" not in payload
    (suite,) = payload["data"]["repository"]["mine"]["checkSuites"]["nodes"]
    assert suite["app"] == {"databaseId": 7, "slug": "archbot"}
    assert suite["checkRuns"]["nodes"] == [{"databaseId": own, "name": "archbot", "status": "IN_PROGRESS"}]
    assert own > 2**31  # GitHub answers CheckRun.databaseId (typed Int) with the whole id
    suites = payload["data"]["repository"]["all"]["checkSuites"]["nodes"]
    assert [(s["app"]["databaseId"], s["checkRuns"]["totalCount"]) for s in suites] == [(7, 2), (15368, 1)]


CHECK_SUITES_QUERY = """query($oid: GitObjectID!) { repository(owner: "octo", name: "app") {
  nameWithOwner
  commit: object(oid: $oid) { ... on Commit { oid checkSuites(last: 10) { nodes { app { databaseId } } } } }
} }"""


async def test_graphql_schema_without_check_suites_like_an_older_ghes() -> None:
    old = FakeGitHub(schema_without=["Commit.checkSuites"])
    old.add_repo(REPO)
    old.add_pr(REPO, 1, diff=DIFF, head_sha=HEAD, base_sha=BASE)
    async with httpx.AsyncClient(
        transport=old.transport(), base_url="http://gh.test", headers={"Authorization": f"token {ACTIONS_TOKEN}"}
    ) as c:
        payload = await graphql(c, CHECK_SUITES_QUERY, {"oid": HEAD})
        assert "data" not in payload  # a validation error: nothing runs
        (error,) = payload["errors"]
        assert error["extensions"] == {"code": "undefinedField", "typeName": "Commit", "fieldName": "checkSuites"}
        assert error["message"] == "Field 'checkSuites' doesn't exist on type 'Commit'"
        # still strict, and the rest of the schema is intact
        payload = await graphql(c, '{ repository(owner: "octo", name: "app") { nameWithOwner } }')
        assert payload == {"data": {"repository": {"nameWithOwner": REPO}}}
    with pytest.raises(ValueError, match=r"Commit\.nope"):
        FakeGitHub(schema_without=["Commit.nope"])


async def test_graphql_forbidden_check_suites_answer_null_and_an_error_at_their_path() -> None:
    gh = FakeGitHub(schema_forbidden=["Commit.checkSuites"])
    gh.add_repo(REPO)
    gh.add_pr(REPO, 1, diff=DIFF, head_sha=HEAD, base_sha=BASE)
    async with httpx.AsyncClient(
        transport=gh.transport(), base_url="http://gh.test", headers={"Authorization": f"token {ACTIONS_TOKEN}"}
    ) as c:
        payload = await graphql(c, CHECK_SUITES_QUERY, {"oid": HEAD})
    assert payload["data"]["repository"] == {"nameWithOwner": REPO, "commit": {"oid": HEAD, "checkSuites": None}}
    (error,) = payload["errors"]
    assert error["type"] == "FORBIDDEN"
    assert error["message"] == "Resource not accessible by integration"
    assert error["path"] == ["repository", "commit", "checkSuites"]


async def test_graphql_object_expressions(client: httpx.AsyncClient) -> None:
    query = """query($e: String!) { repository(owner: "octo", name: "app") {
      head: object(expression: "HEAD:.github/archbot.yml") { ... on Blob { text } }
      file: object(expression: $e) { __typename ... on Blob { text byteSize } }
      dir: object(expression: "main:.github") { __typename }
      gone: object(expression: "main:nope") { __typename }
      defaultBranchRef { name target { ... on Commit {
        file(path: ".github/archbot.yml") { object { ... on Blob { text } } } } } }
    } }"""
    payload = await graphql(client, query, {"e": f"{HEAD}:app/x.py"})
    repo = payload["data"]["repository"]
    assert repo["head"] == {"text": "review: {}\n"}
    assert repo["file"] == {"__typename": "Blob", "text": "a = 1\n", "byteSize": 6}
    assert repo["dir"] == {"__typename": "Tree"}
    assert repo["gone"] is None
    assert repo["defaultBranchRef"]["target"]["file"]["object"]["text"] == "review: {}\n"


async def test_graphql_resolve_review_thread(fake: FakeGitHub, client: httpx.AsyncClient) -> None:
    thread_id = fake.add_review_comment(REPO, 1, path="app/x.py", line=12, body="hm", author="archbot[bot]")
    payload = await graphql(client, RESOLVE_THREAD_MUTATION, {"threadId": thread_id})
    assert payload["data"]["resolveReviewThread"]["thread"] == {"id": thread_id, "isResolved": True}
    assert fake.threads(REPO, 1)[0].resolved_by == "github-actions[bot]"
    payload = await graphql(client, RESOLVE_THREAD_MUTATION, {"threadId": "PRRT_nope"})
    assert payload["errors"][0]["type"] == "NOT_FOUND"


# ---------------------------------------------------------------- REST behaviour


async def test_auth_token_exchange_and_authorship(fake: FakeGitHub, client: httpx.AsyncClient) -> None:
    assert (await client.get("/app", headers={"Authorization": "Bearer not-a-jwt"})).status_code == 401
    assert (await client.get("/repos/octo/app/issues/1", headers={"Authorization": "token nope"})).status_code == 401
    app = await client.get("/app", headers={"Authorization": f"Bearer {app_jwt(fake)}"})
    assert app.json()["slug"] == "archbot"
    token = await install_token(client, fake)
    response = await client.post(
        "/repos/octo/app/issues/1/comments", json={"body": "hi"}, headers={"Authorization": f"token {token}"}
    )
    assert response.json()["user"]["login"] == "archbot[bot]"
    assert response.json()["performed_via_github_app"]["id"] == 7
    fake.revoke_tokens()
    revoked = await client.get("/repos/octo/app/issues/1", headers={"Authorization": f"token {token}"})
    assert revoked.status_code == 401
    assert revoked.json()["message"] == "Bad credentials"
    assert fake.token_exchanges == 1


async def test_diff_406_too_large() -> None:
    fake = FakeGitHub(max_diff_files=2)
    fake.add_repo(REPO)
    fake.add_pr(REPO, 1, diff=DIFF, head_sha=HEAD, base_sha=BASE)
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url="http://gh.test", headers={"Authorization": f"token {ACTIONS_TOKEN}"}
    ) as c:
        response = await c.get("/repos/octo/app/pulls/1", headers={"Accept": "application/vnd.github.diff"})
        assert response.status_code == 406
        assert response.json()["errors"] == [{"resource": "PullRequest", "field": "diff", "code": "too_large"}]
        assert response.json()["message"].startswith("Sorry, the diff exceeded the maximum number of files (2)")
        assert (await c.get("/repos/octo/app/pulls/1")).json()["head"]["sha"] == HEAD


async def test_pagination_link_headers(fake: FakeGitHub, client: httpx.AsyncClient) -> None:
    for i in range(5):
        fake.add_comment(REPO, 1, f"c{i}")
    first = await client.get("/repos/octo/app/issues/1/comments", params={"per_page": 2})
    assert [c["body"] for c in first.json()] == ["c0", "c1"]
    assert first.links["next"]["url"] == "http://gh.test/repos/octo/app/issues/1/comments?per_page=2&page=2"
    assert first.links["last"]["url"].endswith("page=3")
    last = await client.get(first.links["last"]["url"])
    assert [c["body"] for c in last.json()] == ["c4"]
    assert "next" not in last.links


async def test_check_run_annotation_limit_and_accumulation(fake: FakeGitHub, client: httpx.AsyncClient) -> None:
    start = {"name": "archbot", "head_sha": HEAD, "status": "in_progress"}
    run_id = (await client.post("/repos/octo/app/check-runs", json=start)).json()["id"]
    url = f"/repos/octo/app/check-runs/{run_id}"
    note = {"path": "app/x.py", "start_line": 1, "end_line": 1, "annotation_level": "notice", "message": "m"}
    too_many = await client.patch(url, json={"output": {"title": "t", "summary": "s", "annotations": [note] * 51}})
    assert too_many.status_code == 422
    for _ in range(2):
        ok = await client.patch(url, json={"output": {"title": "t", "summary": "s", "annotations": [note] * 50}})
        assert ok.status_code == 200
    assert len(fake.check_runs(REPO)[0].annotations) == 100
    bad = await client.patch(url, json={"output": {"title": "t"}})
    assert bad.status_code == 422


async def test_fail_next_sequences_and_request_log(fake: FakeGitHub, client: httpx.AsyncClient) -> None:
    fake.fail_next("GET", r"/issues/1$", status=502)
    fake.fail_next("GET", r"/issues/1$", status=429, headers={"retry-after": "3"})
    statuses = [(await client.get("/repos/octo/app/issues/1")).status_code for _ in range(3)]
    assert statuses == [502, 429, 200]
    logged = [(r.method, r.path, r.status) for r in fake.calls()]
    assert logged == [("GET", "/repos/octo/app/issues/1", s) for s in statuses]
    assert fake.count("GET", "/issues/") == 3


async def test_compare_404_after_force_push(fake: FakeGitHub, client: httpx.AsyncClient) -> None:
    fake.push(REPO, 1, head_sha="c" * 40, diff=DIFF, force=True)
    gone = await client.get(f"/repos/octo/app/compare/{HEAD}...{'c' * 40}")
    assert gone.status_code == 404
    assert (await client.get(f"/repos/octo/app/compare/{BASE}...{'c' * 40}")).status_code == 200


def test_serve_fake_on_a_real_port(fake: FakeGitHub) -> None:
    with serve_fake(fake) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base_url, headers={"Authorization": f"token {ACTIONS_TOKEN}"}) as c:
            response = c.get("/repos/octo/app/pulls/1", headers={"Accept": "application/vnd.github.diff"})
    assert response.status_code == 200
    assert response.text == DIFF
    assert fake.count("GET") == 1
