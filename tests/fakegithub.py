"""An in-process fake GitHub (REST + GraphQL) for tests, end-to-end runs and benchmarks.

Set up a scenario (import it as ``from tests.fakegithub import FakeGitHub, serve_fake``)::

    fake = FakeGitHub(app_id=1, slug="archbot")      # prefix="/api/v3" to act as GHE
    fake.add_installation(42)
    fake.add_repo("octo/app", files={".github/archbot.yml": "review: {enabled: true}\n"})
    fake.add_pr("octo/app", 7, diff=DIFF, head_sha="b" * 40, base_sha="a" * 40,
                head_files={"app/x.py": "..."}, author="alice", fork=False, draft=False)
    fake.add_comment("octo/app", 7, "/review", author="bob")
    fake.set_permission("octo/app", "bob", "write")
    fake.add_issue("octo/app", 9, title="Design: ...", labels=["design-doc"])

Talk to it in-process, or on a real port for a subprocess::

    factory = GitHubFactory(api_url="http://gh.test", app_id=fake.app_id,
                            private_key=fake.private_key, async_transport=fake.transport())
    api = factory.repo_api("octo", "app", installation_id=42)
    with serve_fake(fake) as base_url:               # GITHUB_API_URL=base_url
        ...                                          # Action token: ACTIONS_TOKEN

Change things between runs: ``push`` (``force=True`` forgets the old head: compare answers 404),
``set_compare``, ``set_file``, ``add_review_comment`` / ``reply_to_thread`` / ``resolve`` (human
threads), ``revoke_tokens`` (next use of a cached token answers 401), ``token_lifetime = 5.0``
(installation tokens expire that many seconds after the exchange, then answer 401), and ``fail_next(method,
path_regex, status=..., headers=..., times=...)`` for 5xx, rate limits and other faults.
Slow it down: ``latency = 1.0`` answers every call a second late (applied at once, answered later),
``hold_next(method, path_regex, seconds)`` applies the next matching call and holds its answer
(``held`` counts the answers being held: kill the client then, and the write happened anyway).

Inspect what was posted: ``fake.reviews(repo, n)`` (with the ``event`` sent), ``fake.threads``,
``fake.comments``, ``fake.check_runs(repo)`` (accumulated annotations), ``fake.token_exchanges``,
``fake.jwt_claims`` (every App JWT's claims and when it was seen), ``fake.credentials_seen`` and every
request in ``fake.requests`` (``fake.count(method, path_regex)`` leaves the token
exchange out unless ``include_token_exchange=True``; ``LoggedRequest.at`` uses the fake's
``clock``, so write spacing can be measured with a fake clock).

Where it matters it behaves like GitHub: Link-header pagination (``per_page``), the 406
``too_large`` diff above ``max_diff_files``/``max_diff_lines``, a 422 for a review comment
outside the diff (the whole review is rejected), 50 annotations per check-run request, comment
authorship by token (``<slug>[bot]`` for an installation token, ``github-actions[bot]`` for the
Action token), JWT checked against ``private_key`` on ``/app`` routes, and GraphQL executed
against a faithful SUBSET of GitHub's public schema: unknown fields give ``errors`` with HTTP 200,
App authors are ``Bot`` with logins without ``[bot]``, connections need ``first``/``last`` <= 100,
``databaseId`` is null for ids beyond Int32 (use ``fullDatabaseId``) except on ``CheckRun``, which
has no ``fullDatabaseId`` and answers with the whole id as GitHub does; ``Commit.checkSuites``
gives one suite per App that created check runs on the commit (``fake.check_runs``).

The App manifest flow (web pages outside the API prefix, as on GitHub Enterprise Server): POST
``/settings/apps/new`` (or ``/organizations/<org>/settings/apps/new``) with the form field ``manifest``
shows form#create-app (input#app-name, button#create), refusing what GitHub refuses (``installation``
in ``default_events``, events no permission covers); confirming redirects to the manifest's
``redirect_url`` with ``code`` and ``state``; ``POST /app-manifests/<code>/conversions`` (no auth) answers
201 once per code within ``manifest_code_ttl`` (one hour on ``clock``), else 404; the Apps are in
``fake.manifest_apps``; ``fake.become(app)`` makes the fake answer as that App (``GET /app``, tokens);
``GET /apps/<slug>/installations/new`` is its install page.

An older or more restricted GitHub: ``FakeGitHub(schema_without=["Commit.checkSuites"])`` serves a
schema without that field (an older GitHub Enterprise Server: ``undefinedField``), and
``schema_forbidden=["Commit.checkSuites"]`` answers it with ``null`` and a ``FORBIDDEN`` error
("Resource not accessible by integration") at its path, the rest of the data intact, as GitHub does
for an App without the ``checks`` permission.  The schema stays strict either way.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import functools
import hashlib
import html
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from graphql import GraphQLError, GraphQLObjectType, GraphQLScalarType, GraphQLSchema, build_schema, graphql_sync
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

DOCS = "https://docs.github.com/rest"
ACTIONS_APP: dict[str, Any] = {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"}
ACTIONS_LOGIN = "github-actions[bot]"
ACTIONS_TOKEN = "ghs_fake_actions_token"
EXPIRES_AT = "2099-01-01T00:00:00Z"
DIFF_MEDIA = "application/vnd.github.diff"
REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})
ROLE_TO_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
INT32_MAX = 2**31 - 1
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)

# A faithful subset of GitHub's public GraphQL schema (octokit/graphql-schema, 2026-07): every
# type, field, argument, input field, enum value and type reference below exists in GitHub's schema
# with the same type; generated from it by keeping only the fields archbot reads.
SCHEMA_SDL = """
schema { query: Query mutation: Mutation }
interface Actor { avatarUrl(size: Int): URI! login: String! resourcePath: URI! url: URI! }
type App implements Node { databaseId: Int id: ID! name: String! slug: String! }
scalar BigInt
type Blob implements GitObject & Node {
  abbreviatedOid: String! byteSize: Int! id: ID! isBinary: Boolean isTruncated: Boolean!
  oid: GitObjectID! text: String
}
type Bot implements Actor & Node { avatarUrl(size: Int): URI! id: ID! login: String! resourcePath: URI! url: URI! }
type CheckRun implements Node { databaseId: Int id: ID! name: String! status: CheckStatusState! }
type CheckRunConnection { nodes: [CheckRun] pageInfo: PageInfo! totalCount: Int! }
input CheckRunFilter { appId: Int checkName: String }
enum CheckStatusState { COMPLETED IN_PROGRESS PENDING QUEUED REQUESTED WAITING }
type CheckSuite implements Node {
  app: App checkRuns(after: String, before: String, filterBy: CheckRunFilter, first: Int, last: Int): CheckRunConnection
  id: ID!
}
type CheckSuiteConnection { nodes: [CheckSuite] pageInfo: PageInfo! totalCount: Int! }
input CheckSuiteFilter { appId: Int }
type Commit implements GitObject & Node {
  abbreviatedOid: String!
  checkSuites(after: String, before: String, filterBy: CheckSuiteFilter, first: Int, last: Int): CheckSuiteConnection
  file(path: String!): TreeEntry id: ID! message: String! oid: GitObjectID!
}
scalar DateTime
interface GitObject { abbreviatedOid: String! id: ID! oid: GitObjectID! }
scalar GitObjectID
type IssueComment implements Node {
  author: Actor body: String! createdAt: DateTime! databaseId: Int fullDatabaseId: BigInt id: ID!
  url: URI! viewerDidAuthor: Boolean!
}
type IssueCommentConnection { nodes: [IssueComment] pageInfo: PageInfo! totalCount: Int! }
type Mutation { resolveReviewThread(input: ResolveReviewThreadInput!): ResolveReviewThreadPayload }
interface Node { id: ID! }
type Organization implements Actor & Node & RepositoryOwner {
  avatarUrl(size: Int): URI! id: ID! login: String! resourcePath: URI! url: URI!
}
type PageInfo { endCursor: String hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String }
type PullRequest implements Node {
  author: Actor baseRefName: String! baseRefOid: GitObjectID! body: String!
  comments(after: String, before: String, first: Int, last: Int): IssueCommentConnection!
  commits(after: String, before: String, first: Int, last: Int): PullRequestCommitConnection!
  headRefName: String! headRefOid: GitObjectID! headRepository: Repository id: ID!
  isCrossRepository: Boolean! isDraft: Boolean! number: Int!
  reviewThreads(after: String, before: String, first: Int, last: Int): PullRequestReviewThreadConnection!
  reviews(after: String, author: String, before: String, first: Int, last: Int,
          states: [PullRequestReviewState!]): PullRequestReviewConnection
  state: PullRequestState! title: String! url: URI!
}
type PullRequestCommit implements Node { commit: Commit! id: ID! }
type PullRequestCommitConnection { nodes: [PullRequestCommit] pageInfo: PageInfo! totalCount: Int! }
type PullRequestReview implements Node {
  author: Actor body: String! commit: Commit createdAt: DateTime! databaseId: Int fullDatabaseId: BigInt
  id: ID! state: PullRequestReviewState!
}
type PullRequestReviewComment implements Node {
  author: Actor body: String! createdAt: DateTime! databaseId: Int fullDatabaseId: BigInt id: ID!
  line: Int originalLine: Int path: String!
}
type PullRequestReviewCommentConnection { nodes: [PullRequestReviewComment] pageInfo: PageInfo! totalCount: Int! }
type PullRequestReviewConnection { nodes: [PullRequestReview] pageInfo: PageInfo! totalCount: Int! }
enum PullRequestReviewState { APPROVED CHANGES_REQUESTED COMMENTED DISMISSED PENDING }
type PullRequestReviewThread implements Node {
  comments(after: String, before: String, first: Int, last: Int, skip: Int): PullRequestReviewCommentConnection!
  id: ID! isOutdated: Boolean! isResolved: Boolean! line: Int path: String!
}
type PullRequestReviewThreadConnection { nodes: [PullRequestReviewThread] pageInfo: PageInfo! totalCount: Int! }
enum PullRequestState { CLOSED MERGED OPEN }
type Query implements Node {
  id: ID! repository(followRenames: Boolean = true, name: String!, owner: String!): Repository
}
type Ref implements Node { id: ID! name: String! prefix: String! target: GitObject }
type Repository implements Node {
  defaultBranchRef: Ref id: ID! name: String! nameWithOwner: String!
  object(expression: String, oid: GitObjectID): GitObject owner: RepositoryOwner!
  pullRequest(number: Int!): PullRequest url: URI!
}
interface RepositoryOwner { avatarUrl(size: Int): URI! id: ID! login: String! resourcePath: URI! url: URI! }
input ResolveReviewThreadInput { clientMutationId: String threadId: ID! }
type ResolveReviewThreadPayload { clientMutationId: String thread: PullRequestReviewThread }
type Tree implements GitObject & Node { abbreviatedOid: String! id: ID! oid: GitObjectID! }
type TreeEntry { name: String! object: GitObject path: String type: String! }
scalar URI
type User implements Actor & Node & RepositoryOwner {
  avatarUrl(size: Int): URI! id: ID! login: String! resourcePath: URI! url: URI!
}
"""


# GitHub types ``CheckRun.databaseId`` as ``Int`` (and has no ``fullDatabaseId`` there) yet answers
# with the whole id, past 2**31 since 2021; graphql-core's ``Int`` would refuse such a value.
_CHECK_RUN_ID = GraphQLScalarType("GitHubCheckRunDatabaseId", serialize=int)


FORBIDDEN_MESSAGE = "Resource not accessible by integration"
MANIFEST_CONVERSION = re.compile(r"/app-manifests/(?P<code>[^/]+)/conversions")
MANIFEST_KEYS = frozenset(
    {
        "name", "url", "hook_attributes", "redirect_url", "callback_urls", "setup_url", "description", "public",
        "default_events", "default_permissions", "request_oauth_on_install", "setup_on_update",
    }
)  # fmt: skip
# The events archbot may subscribe to and the permissions that cover each (GitHub refuses the others).
MANIFEST_EVENTS: dict[str, tuple[str, ...]] = {
    "pull_request": ("pull_requests",),
    "pull_request_review": ("pull_requests",),
    "pull_request_review_comment": ("pull_requests",),
    "pull_request_review_thread": ("pull_requests",),
    "issues": ("issues",),
    "issue_comment": ("issues", "pull_requests"),
    "check_run": ("checks",),
    "check_suite": ("checks",),
    "push": ("contents",),
}


@dataclass
class ManifestApp:
    """An App registered through the fake's "new App" page (``FakeGitHub.manifest_apps``)."""

    id: int
    slug: str
    name: str
    owner: str
    html_url: str
    pem: str
    webhook_secret: str
    client_secret: str
    manifest: dict[str, Any]


def _object_field(schema: GraphQLSchema, dotted: str) -> tuple[GraphQLObjectType, str]:
    type_name, _, field_name = dotted.partition(".")
    owner = schema.get_type(type_name)
    if not isinstance(owner, GraphQLObjectType) or field_name not in owner.fields:
        raise ValueError(f"{dotted} is not a field of the fake schema")
    return owner, field_name


def _forbidden(*_: Any, **__: Any) -> None:
    raise GraphQLError(FORBIDDEN_MESSAGE, extensions={"type": "FORBIDDEN"})


def build_fake_schema(*, without: Sequence[str] = (), forbidden: Sequence[str] = ()) -> GraphQLSchema:
    """``SCHEMA_SDL`` executable like GitHub: ``CheckRun.databaseId`` serialises ids beyond Int32.

    ``without`` names fields (``"Commit.checkSuites"``) the schema lacks, as on an older GitHub
    Enterprise Server: asking for one is an ``undefinedField`` error and no data.  ``forbidden`` names
    fields that answer ``null`` plus a ``FORBIDDEN`` error ("Resource not accessible by integration")
    at their path, as for an App without the permission they need; the rest of the data comes back.
    """
    schema = build_schema(SCHEMA_SDL)
    check_run = schema.get_type("CheckRun")
    assert isinstance(check_run, GraphQLObjectType)
    check_run.fields["databaseId"].type = _CHECK_RUN_ID
    for dotted in forbidden:
        owner, name = _object_field(schema, dotted)
        owner.fields[name].resolve = _forbidden
    for dotted in without:
        owner, name = _object_field(schema, dotted)
        del owner.fields[name]
    return schema


@functools.lru_cache(maxsize=1)
def app_private_key() -> str:
    """An RSA private key (PEM) for App JWTs in tests; generated once per process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _sha(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode(), usedforsecurity=False).hexdigest()


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --------------------------------------------------------------------------- diff parsing


@dataclass
class FileDiff:
    """One file of a unified diff as GitHub's files API and review validation see it."""

    filename: str
    status: str
    previous_filename: str | None = None
    additions: int = 0
    deletions: int = 0
    patch: str | None = None
    right: set[int] = field(default_factory=set)
    left: set[int] = field(default_factory=set)
    patch_lines: int = 0


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_diff(text: str) -> list[FileDiff]:
    """Split a ``git diff`` into files with commentable lines (RIGHT: added+context new line
    numbers; LEFT: removed+context old line numbers)."""
    lines = text.split("\n")
    sections: list[list[str]] = []
    for line in lines:
        if line.startswith("diff --git ") or not sections:
            sections.append([line])
        else:
            sections[-1].append(line)
    files = []
    for section in sections:
        parsed = _parse_section(section)
        if parsed is not None:
            files.append(parsed)
    return files


def _parse_section(section: list[str]) -> FileDiff | None:
    diff, index, binary = _parse_header(section)
    if diff is None or binary:
        return diff
    patch: list[str] = []
    old = new = old_left = new_left = 0
    for line in section[index:]:
        match = _HUNK.match(line)
        if match:
            old, new = int(match.group(1)), int(match.group(3))
            old_left = int(match.group(2)) if match.group(2) is not None else 1
            new_left = int(match.group(4)) if match.group(4) is not None else 1
            patch.append(line)
            continue
        if line.startswith("\\"):
            if patch:
                patch.append(line)
            continue
        if old_left <= 0 and new_left <= 0:
            continue
        patch.append(line)
        if line.startswith("+"):
            diff.right.add(new)
            diff.additions += 1
            new, new_left = new + 1, new_left - 1
        elif line.startswith("-"):
            diff.left.add(old)
            diff.deletions += 1
            old, old_left = old + 1, old_left - 1
        else:  # context (" " or a blank line whose space was stripped)
            diff.right.add(new)
            diff.left.add(old)
            old, new, old_left, new_left = old + 1, new + 1, old_left - 1, new_left - 1
    if patch:
        diff.patch = "\n".join(patch)
        diff.patch_lines = len(patch)
    return diff


def _parse_header(section: list[str]) -> tuple[FileDiff | None, int, bool]:
    """The file's names and status from the lines before its first hunk."""
    names: dict[str, str] = {}
    status = "modified"
    binary = False
    index = 0
    while index < len(section) and not section[index].startswith("@@"):
        line = section[index]
        index += 1
        match = re.match(r"diff --git a/(.*) b/(.*)$", line)
        if match:
            names["git_a"], names["git_b"] = match.group(1), match.group(2)
        elif line.startswith("new file mode"):
            status = "added"
        elif line.startswith("deleted file mode"):
            status = "removed"
        elif line.startswith("rename from "):
            status = "renamed"
            names["old"] = line[len("rename from ") :]
        elif line.startswith("rename to "):
            names["new"] = line[len("rename to ") :]
        elif line.startswith(("Binary files ", "GIT binary patch")):
            binary = True
        elif line.startswith(("--- ", "+++ ")):
            name = line[4:].split("\t")[0]
            if name != "/dev/null":
                key = "new" if line.startswith("+++") else "old"
                names.setdefault(key, name.removeprefix("b/" if key == "new" else "a/"))
    old = names.get("old")
    filename = names.get("new") or (old if status == "removed" else None) or names.get("git_b") or old
    if filename is None:
        return None, index, binary
    diff = FileDiff(filename=filename, status=status)
    if status == "renamed":
        diff.previous_filename = old or names.get("git_a")
    return diff, index, binary


# --------------------------------------------------------------------------- state


@dataclass
class FakeActor:
    """A GitHub account: a user or a bot (``app`` set for App bots)."""

    login: str
    type: str = "User"
    id: int = 0
    app: dict[str, Any] | None = None

    def rest(self) -> dict[str, Any]:
        """The REST ``user`` object."""
        return {
            "login": self.login,
            "id": self.id,
            "node_id": f"U_{self.id}",
            "type": self.type,
            "site_admin": False,
            "url": f"https://api.github.com/users/{self.login}",
            "html_url": f"https://github.com/{self.login}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{self.id}",
        }


@dataclass
class FakeComment:
    """A conversation comment (issue or PR)."""

    id: int
    body: str
    author: FakeActor
    created_at: str
    updated_at: str
    reactions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def node_id(self) -> str:
        return f"IC_kwDOfake{self.id}"


@dataclass
class FakeReviewComment:
    """One comment in a review thread."""

    id: int
    path: str
    line: int | None
    side: str
    body: str
    author: FakeActor
    commit_id: str
    review_id: int | None
    in_reply_to_id: int | None
    created_at: str
    start_line: int | None = None
    original_line: int | None = None


@dataclass
class FakeThread:
    """A review thread (GraphQL ``PullRequestReviewThread``)."""

    id: str
    path: str
    line: int | None
    side: str
    comments: list[FakeReviewComment]
    is_resolved: bool = False
    is_outdated: bool = False
    resolved_by: str | None = None


@dataclass
class FakeReview:
    """A submitted review.  ``event`` is what the client sent (``None`` when omitted)."""

    id: int
    author: FakeActor
    body: str
    event: str | None
    state: str
    commit_id: str
    comments: list[dict[str, Any]]
    submitted_at: str


@dataclass
class FakeCheckRun:
    """A check run with accumulated annotations; ``requests`` counts the POST and PATCHes."""

    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    external_id: str | None
    app: dict[str, Any] | None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    annotations: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 1


@dataclass
class FakePull:
    """PR-specific state (its issue half lives in ``FakeIssue``)."""

    number: int
    head_sha: str
    base_sha: str
    head_ref: str
    base_ref: str
    draft: bool
    fork: bool
    head_repo: str | None
    merged: bool
    diff: str
    files: list[FileDiff]
    reviews: list[FakeReview] = field(default_factory=list)
    threads: list[FakeThread] = field(default_factory=list)
    history: list[str] = field(default_factory=list)

    def file(self, path: str) -> FileDiff | None:
        """The changed file ``path`` (new name), if the PR touches it."""
        return next((f for f in self.files if f.filename == path), None)


@dataclass
class FakeIssue:
    """An issue, or the issue half of a PR (``pull`` set)."""

    number: int
    title: str
    body: str
    labels: list[str]
    author: FakeActor
    state: str
    comments: list[FakeComment] = field(default_factory=list)
    pull: FakePull | None = None


@dataclass
class FakeRepo:
    """A repository: files per ref (branch name or sha), known commits, issues and PRs."""

    owner: str
    name: str
    id: int
    default_branch: str
    branch_sha: str
    files: dict[str, dict[str, str]]
    commits: set[str]
    issues: dict[int, FakeIssue] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    check_runs: dict[int, FakeCheckRun] = field(default_factory=dict)
    compares: dict[tuple[str, str], str] = field(default_factory=dict)
    is_org: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def resolve_ref(self, ref: str) -> str:
        """``HEAD`` and branch names to the key of ``files``."""
        if ref in ("HEAD", self.default_branch, f"refs/heads/{self.default_branch}"):
            return self.default_branch
        return ref


@dataclass
class LoggedRequest:
    """One request the fake answered.  ``path`` is without the API prefix (GraphQL: ``/graphql``),
    ``full_path`` as sent; ``at`` comes from the fake's clock; ``auth`` is ``app-jwt``,
    ``installation``, ``token`` or ``none``; ``graphql`` names the operation (``query Name``),
    ``graphql_variables`` and ``graphql_document`` are what was sent with it; ``raw`` is the body."""

    method: str
    path: str
    status: int
    at: float
    auth: str
    graphql: str | None = None
    full_path: str = ""
    graphql_variables: dict[str, Any] = field(default_factory=dict)
    graphql_document: str = ""
    raw: bytes = b""  # the request body exactly as sent (what archbot posted, for leak checks)

    @property
    def token_exchange(self) -> bool:
        return self.method == "POST" and self.path.endswith("/access_tokens")


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int


@dataclass
class _Req:
    """What a route handler sees."""

    request: Request
    method: str
    path: str
    params: dict[str, str]
    headers: Mapping[str, str]
    body: Any
    actor: FakeActor | None
    installation_id: int | None


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


Handler = Callable[["_Req", dict[str, str]], Response]


# --------------------------------------------------------------------------- the fake


class FakeGitHub:
    """In-memory GitHub.  Thread-safe enough for one server thread plus a test thread."""

    def __init__(
        self,
        *,
        app_id: int = 1,
        slug: str = "archbot",
        prefix: str = "",
        max_diff_files: int = 300,
        max_diff_lines: int = 20_000,
        default_permission: str = "read",
        blob_truncate_bytes: int = 512 * 1024,
        clock: Callable[[], float] = time.monotonic,
        private_key: str | None = None,
        schema_without: Sequence[str] = (),
        schema_forbidden: Sequence[str] = (),
    ) -> None:
        self.app_id = app_id
        self.slug = slug
        self.prefix = prefix.rstrip("/")
        self.max_diff_files = max_diff_files
        self.max_diff_lines = max_diff_lines
        self.default_permission = default_permission
        self.blob_truncate_bytes = blob_truncate_bytes
        self.clock = clock
        self._private_key = private_key
        self.repos: dict[str, FakeRepo] = {}
        self.installations: set[int] = set()
        self.requests: list[LoggedRequest] = []
        self.token_exchanges = 0
        self._installation_tokens: dict[str, int] = {}
        self._revoked: set[str] = set()
        # seconds an installation token lives (``expires_at`` from the wall clock; a token used after it
        # answers 401); None: tokens expire in 2099
        self.token_lifetime: float | None = None
        self._token_expiry: dict[str, float] = {}
        self.jwt_claims: list[dict[str, Any]] = []  # the decoded claims of every App JWT seen, with "seen_at"
        self.credentials_seen: set[str] = set()  # every JWT and token sent in Authorization (leak checks)
        self._plain_tokens: dict[str, FakeActor] = {}
        self._failures: list[_Failure] = []
        self._holds: list[tuple[str, re.Pattern[str], float]] = []
        self.latency = 0.0  # seconds every answer is held back (the call is applied first)
        self.held = 0  # answers being held back by ``hold_next`` right now
        self._ids = 2_200_000_000  # beyond Int32, like today's comment ids
        self._lock = threading.RLock()
        self._schema = build_fake_schema(without=schema_without, forbidden=schema_forbidden)
        self.bot = FakeActor(f"{slug}[bot]", "Bot", 100_000 + app_id, {"id": app_id, "slug": slug, "name": slug})
        self.add_token(ACTIONS_TOKEN)
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._register_routes()
        self.manifest_code_ttl = 3600.0  # GitHub: the manifest flow's code is valid for one hour, once
        self._manifests: dict[str, dict[str, Any]] = {}  # "new App" pages shown, not yet confirmed
        self._manifest_codes: dict[str, tuple[ManifestApp, float]] = {}
        self.manifest_apps: list[ManifestApp] = []  # Apps registered from a manifest, in order

    # ------------------------------------------------------------------ setup API

    @property
    def private_key(self) -> str:
        """The App's private key (PEM) whose public half the fake checks JWTs against."""
        if self._private_key is None:
            self._private_key = app_private_key()
        return self._private_key

    def add_installation(self, installation_id: int = 1) -> None:
        """Make ``installation_id`` exchangeable for tokens."""
        self.installations.add(installation_id)

    def add_token(
        self, token: str, *, login: str = ACTIONS_LOGIN, type: str = "Bot", app: dict[str, Any] | None = None
    ) -> FakeActor:
        """Accept a plain token acting as ``login``.  The default is the Actions ``GITHUB_TOKEN``."""
        if app is None and login == ACTIONS_LOGIN:
            app = ACTIONS_APP
        actor = FakeActor(login, type, 41898282 if login == ACTIONS_LOGIN else self._next_id(), app)
        self._plain_tokens[token] = actor
        return actor

    def revoke_tokens(self) -> None:
        """Invalidate every installation token issued so far (next use answers 401)."""
        with self._lock:
            self._revoked.update(self._installation_tokens)

    def add_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        files: Mapping[str, str] | None = None,
        is_org: bool = False,
    ) -> FakeRepo:
        """A repository whose default branch holds ``files``."""
        owner, name = full_name.split("/", 1)
        sha = _sha(full_name, default_branch)
        repo = FakeRepo(
            owner=owner,
            name=name,
            id=self._next_id(),
            default_branch=default_branch,
            branch_sha=sha,
            files={default_branch: dict(files or {}), sha: dict(files or {})},
            commits={sha},
            is_org=is_org,
        )
        self.repos[full_name] = repo
        return repo

    def repo(self, full_name: str) -> FakeRepo:
        """The repository ``owner/name`` (KeyError when unknown)."""
        return self.repos[full_name]

    def set_file(self, full_name: str, ref: str, path: str, text: str | None) -> None:
        """Put (or with ``None`` remove) a file at a ref (branch name or sha)."""
        repo = self.repos[full_name]
        files = repo.files.setdefault(repo.resolve_ref(ref), {})
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text
        if ref == repo.default_branch:
            repo.files.setdefault(repo.branch_sha, {}).update({path: text} if text is not None else {})

    def add_pr(
        self,
        full_name: str,
        number: int,
        *,
        diff: str,
        head_sha: str,
        base_sha: str,
        title: str = "A change",
        body: str = "",
        author: str = "alice",
        author_type: str = "User",
        draft: bool = False,
        fork: bool = False,
        head_repo: str | None = None,
        head_ref: str = "feature",
        base_ref: str | None = None,
        head_files: Mapping[str, str] | None = None,
        base_files: Mapping[str, str] | None = None,
        state: str = "open",
        labels: Sequence[str] = (),
    ) -> FakePull:
        """A pull request with its unified diff; rows of the files API are computed from it."""
        repo = self.repos[full_name]
        if head_repo is None:
            head_repo = f"{author}/{repo.name}" if fork else full_name
        pull = FakePull(
            number=number,
            head_sha=head_sha,
            base_sha=base_sha,
            head_ref=head_ref,
            base_ref=base_ref or repo.default_branch,
            draft=draft,
            fork=fork,
            head_repo=head_repo,
            merged=False,
            diff=diff,
            files=parse_diff(diff),
            history=[head_sha],
        )
        repo.commits.update({head_sha, base_sha})
        repo.files.setdefault(head_sha, {}).update(head_files or {})
        repo.files.setdefault(base_sha, {}).update(base_files or {})
        repo.issues[number] = FakeIssue(
            number=number,
            title=title,
            body=body,
            labels=list(labels),
            author=self._actor(author, author_type),
            state=state,
            pull=pull,
        )
        return pull

    def push(
        self,
        full_name: str,
        number: int,
        *,
        head_sha: str,
        diff: str,
        head_files: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> None:
        """A new head for a PR.  ``force=True`` forgets the old head commit (compare answers 404)."""
        repo = self.repos[full_name]
        pull = self._pull(repo, number)
        old = pull.head_sha
        if force:
            repo.commits.discard(old)
        pull.head_sha = head_sha
        pull.diff = diff
        pull.files = parse_diff(diff)
        pull.history.append(head_sha)
        repo.commits.add(head_sha)
        repo.files.setdefault(head_sha, {}).update(head_files or {})
        for thread in pull.threads:
            changed = pull.file(thread.path)
            lines = (changed.right if thread.side == "RIGHT" else changed.left) if changed else set()
            if thread.line is not None and thread.line not in lines:
                thread.is_outdated = True
                thread.line = None

    def forget_commit(self, full_name: str, sha: str) -> None:
        """Drop a commit (as after a force-push and garbage collection)."""
        self.repos[full_name].commits.discard(sha)

    def set_compare(self, full_name: str, base: str, head: str, diff: str) -> None:
        """The diff ``GET /compare/{base}...{head}`` answers with."""
        repo = self.repos[full_name]
        repo.commits.update({base, head})
        repo.compares[(base, head)] = diff

    def add_issue(
        self,
        full_name: str,
        number: int,
        *,
        title: str,
        body: str = "",
        labels: Sequence[str] = (),
        author: str = "alice",
        author_type: str = "User",
        state: str = "open",
    ) -> FakeIssue:
        """An issue (not a PR)."""
        issue = FakeIssue(number, title, body, list(labels), self._actor(author, author_type), state)
        self.repos[full_name].issues[number] = issue
        return issue

    def add_comment(
        self,
        full_name: str,
        number: int,
        body: str,
        *,
        author: str = "alice",
        author_type: str = "User",
        app: dict[str, Any] | None = None,
    ) -> int:
        """A conversation comment written by someone (``app`` = ``performed_via_github_app``)."""
        actor = self._actor(author, author_type)
        if app is not None:
            actor = dataclasses.replace(actor, app=app)
        return self._new_comment(self.repos[full_name].issues[number], body, actor).id

    def add_review_comment(
        self,
        full_name: str,
        number: int,
        *,
        path: str,
        line: int,
        body: str,
        author: str = "alice",
        author_type: str = "User",
        side: str = "RIGHT",
    ) -> str:
        """A review thread started by someone (not validated against the diff); returns its node id."""
        pull = self._pull(self.repos[full_name], number)
        actor = self._actor(author, author_type)
        comment = FakeReviewComment(
            self._next_id(), path, line, side, body, actor, pull.head_sha, None, None, _now_iso(), None, line
        )
        thread = FakeThread(f"PRRT_kwDOfake{comment.id}", path, line, side, [comment])
        pull.threads.append(thread)
        return thread.id

    def reply_to_thread(
        self,
        full_name: str,
        number: int,
        thread_id: str,
        body: str,
        *,
        author: str = "alice",
        author_type: str = "User",
    ) -> int:
        """A reply in an existing thread; returns the comment id."""
        thread = self._thread(full_name, number, thread_id)
        root = thread.comments[0]
        comment = FakeReviewComment(
            self._next_id(),
            thread.path,
            thread.line,
            thread.side,
            body,
            self._actor(author, author_type),
            root.commit_id,
            None,
            root.id,
            _now_iso(),
        )
        thread.comments.append(comment)
        return comment.id

    def resolve(self, full_name: str, number: int, thread_id: str, *, by: str = "alice") -> None:
        """A human resolves a thread."""
        thread = self._thread(full_name, number, thread_id)
        thread.is_resolved = True
        thread.resolved_by = by

    def set_permission(self, full_name: str, login: str, role: str) -> None:
        """``admin``/``maintain``/``write``/``triage``/``read``/``none`` for ``login``."""
        self.repos[full_name].permissions[login] = role

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 502,
        headers: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests matching ``method`` and ``path_regex`` (searched in the path
        without prefix, e.g. ``/repos/o/r/pulls/1``; GraphQL is ``/graphql``) fail with ``status``.

        Without ``json`` the body is what GitHub sends for that status (403/429: the secondary
        rate-limit message).  Calls queue up: several ``fail_next`` give a sequence.
        """
        body = dict(json) if json is not None else _default_failure_body(status)
        self._failures.append(
            _Failure(method.upper(), re.compile(path_regex), status, dict(headers or {}), body, times)
        )

    def hold_next(self, method: str, path_regex: str, seconds: float) -> None:
        """Apply the next request matching ``method`` and ``path_regex``, then hold its answer back
        for ``seconds`` (``held`` is 1 meanwhile): a client killed then never learns it succeeded."""
        self._holds.append((method.upper(), re.compile(path_regex), seconds))

    def _take_hold(self, method: str, path: str) -> float:
        for index, (hold_method, pattern, seconds) in enumerate(self._holds):
            if hold_method == method and pattern.search(path):
                del self._holds[index]
                return seconds
        return 0.0

    # ------------------------------------------------------------------ inspection

    def calls(
        self, method: str | None = None, path: str | None = None, *, include_token_exchange: bool = False
    ) -> list[LoggedRequest]:
        """Logged requests, filtered by method and a regex searched in the path."""
        return [
            r
            for r in list(self.requests)
            if (method is None or r.method == method.upper())
            and (path is None or re.search(path, r.path))
            and (include_token_exchange or not r.token_exchange)
        ]

    def count(self, method: str | None = None, path: str | None = None, *, include_token_exchange: bool = False) -> int:
        """How many requests matched (the token exchange is left out unless asked)."""
        return len(self.calls(method, path, include_token_exchange=include_token_exchange))

    def reviews(self, full_name: str, number: int) -> list[FakeReview]:
        """Reviews submitted on a PR, oldest first."""
        return list(self._pull(self.repos[full_name], number).reviews)

    def threads(self, full_name: str, number: int) -> list[FakeThread]:
        """Review threads of a PR."""
        return list(self._pull(self.repos[full_name], number).threads)

    def comments(self, full_name: str, number: int) -> list[FakeComment]:
        """Conversation comments of an issue or PR, oldest first."""
        return list(self.repos[full_name].issues[number].comments)

    def check_runs(self, full_name: str) -> list[FakeCheckRun]:
        """Check runs of a repository, oldest first."""
        return list(self.repos[full_name].check_runs.values())

    def transport(self) -> httpx.ASGITransport:
        """An httpx transport that calls this fake in-process."""
        return httpx.ASGITransport(app=self)

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        raw = await request.body()
        with self._lock:
            response, logged = self._dispatch(request, raw)
            self.requests.append(logged)
            hold = self._take_hold(logged.method, logged.path)
        if hold:
            self.held += 1
            try:
                await asyncio.sleep(hold)
            finally:
                self.held -= 1
        if self.latency:
            await asyncio.sleep(self.latency)
        await response(scope, receive, send)

    def _dispatch(self, request: Request, raw: bytes) -> tuple[Response, LoggedRequest]:
        method = request.method.upper()
        full_path = request.url.path
        path = full_path
        if full_path == "/api/graphql":
            path = "/graphql"
        elif self.prefix and full_path.startswith(self.prefix + "/"):
            path = full_path[len(self.prefix) :]
        logged = LoggedRequest(method, path, 0, self.clock(), "none", full_path=full_path, raw=raw)
        if method == "POST" and path == "/graphql":
            logged.graphql = _graphql_operation(raw)
            logged.graphql_document, logged.graphql_variables = _graphql_sent(raw)
        web = self._web_page(request, method, full_path, raw)
        if web is not None:
            response: Response = web
        elif path == full_path and self.prefix and path != "/graphql":
            response = _error(404, "Not Found")  # outside the API prefix
        else:
            response = self._respond(request, method, path, raw, logged)
        logged.status = response.status_code
        self._rate_headers(response, path)
        return response, logged

    def _respond(self, request: Request, method: str, path: str, raw: bytes, logged: LoggedRequest) -> Response:
        for failure in self._failures:
            if failure.times > 0 and failure.method == method and failure.pattern.search(path):
                failure.times -= 1
                self._failures = [f for f in self._failures if f.times > 0]
                return JSONResponse(failure.body, failure.status, headers=failure.headers)
        try:
            actor, installation_id, kind = self._authenticate(request, path)
            logged.auth = kind
            body: Any = json.loads(raw) if raw else None
        except _HTTPError as exc:
            return _error(exc.status, exc.message, exc.errors)
        except ValueError:
            return _error(400, "Problems parsing JSON")
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                req = _Req(
                    request, method, path, dict(request.query_params), request.headers, body, actor, installation_id
                )
                try:
                    return handler(req, match.groupdict())
                except _HTTPError as exc:
                    return _error(exc.status, exc.message, exc.errors)
        return _error(404, "Not Found")

    def _authenticate(self, request: Request, path: str) -> tuple[FakeActor | None, int | None, str]:
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        if credential:
            with self._lock:
                self.credentials_seen.add(credential)
        if path == "/app" or path.startswith("/app/"):
            if scheme.lower() != "bearer":
                raise _HTTPError(401, "A JSON web token could not be decoded")
            try:
                public = serialization.load_pem_private_key(self.private_key.encode(), None).public_key()
                claims = jwt.decode(credential, public, algorithms=["RS256"])
            except jwt.PyJWTError as exc:
                raise _HTTPError(401, "A JSON web token could not be decoded") from exc
            with self._lock:
                self.jwt_claims.append(dict(claims, seen_at=time.time()))
            if str(claims.get("iss")) != str(self.app_id):
                raise _HTTPError(401, "'Issuer' claim ('iss') must be an Integer")
            return None, None, "app-jwt"
        if MANIFEST_CONVERSION.fullmatch(path):
            return None, None, "none"  # GitHub: the code is the only credential of this endpoint
        if not credential:
            raise _HTTPError(401, "Requires authentication")
        if credential in self._installation_tokens:
            if credential in self._revoked:
                raise _HTTPError(401, "Bad credentials")
            expiry = self._token_expiry.get(credential)
            if expiry is not None and time.time() >= expiry:
                raise _HTTPError(401, "Bad credentials")
            return self.bot, self._installation_tokens[credential], "installation"
        if credential in self._plain_tokens:
            return self._plain_tokens[credential], None, "token"
        raise _HTTPError(401, "Bad credentials")

    def _rate_headers(self, response: Response, path: str) -> None:
        """GitHub's rate-limit headers, unless an injected failure set its own."""
        used = len(self.requests) + 1
        values = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(max(5000 - used, 1)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-resource": "graphql" if path == "/graphql" else "core",
        }
        for name, value in values.items():
            response.headers.setdefault(name, value)

    # ------------------------------------------------------------------ helpers

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _actor(self, login: str, type: str) -> FakeActor:
        if login == self.bot.login:
            return self.bot
        return FakeActor(login, type, _stable_id(login))

    def _repo_of(self, params: Mapping[str, str]) -> FakeRepo:
        repo = self.repos.get(f"{params['owner']}/{params['repo']}")
        if repo is None:
            raise _HTTPError(404, "Not Found")
        return repo

    def _pull(self, repo: FakeRepo, number: int) -> FakePull:
        issue = repo.issues.get(number)
        if issue is None or issue.pull is None:
            raise _HTTPError(404, "Not Found")
        return issue.pull

    def _thread(self, full_name: str, number: int, thread_id: str) -> FakeThread:
        for thread in self._pull(self.repos[full_name], number).threads:
            if thread.id == thread_id:
                return thread
        raise KeyError(thread_id)

    def _new_comment(self, issue: FakeIssue, body: str, actor: FakeActor) -> FakeComment:
        now = _now_iso()
        comment = FakeComment(self._next_id(), body, actor, now, now)
        issue.comments.append(comment)
        return comment

    def _find_comment(self, repo: FakeRepo, comment_id: int) -> FakeComment:
        for issue in repo.issues.values():
            for comment in issue.comments:
                if comment.id == comment_id:
                    return comment
        raise _HTTPError(404, "Not Found")

    def _diff_too_large(self, diff: str, files: int) -> Response | None:
        if files > self.max_diff_files:
            what = f"maximum number of files ({self.max_diff_files})"
        elif diff.count("\n") > self.max_diff_lines:
            what = f"maximum number of lines ({self.max_diff_lines})"
        else:
            return None
        return JSONResponse(
            {
                "message": f"Sorry, the diff exceeded the {what}. Consider using 'List pull requests files' "
                "API or locally cloning the repository instead.",
                "errors": [{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
                "documentation_url": f"{DOCS}/pulls/pulls#list-pull-requests-files",
                "status": "406",
            },
            406,
        )

    # ------------------------------------------------------------------ REST routes

    def _register_routes(self) -> None:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"/app", self._get_app),
            ("POST", r"/app/installations/(?P<id>\d+)/access_tokens", self._post_token),
            ("GET", repo + r"/installation", self._get_repo_installation),
            ("GET", repo + r"/pulls/(?P<number>\d+)", self._get_pull),
            ("GET", repo + r"/pulls/(?P<number>\d+)/files", self._get_pull_files),
            ("GET", repo + r"/pulls/(?P<number>\d+)/reviews", self._get_reviews),
            ("POST", repo + r"/pulls/(?P<number>\d+)/reviews", self._post_review),
            ("GET", repo + r"/pulls/(?P<number>\d+)/comments", self._get_review_comments),
            ("POST", repo + r"/pulls/(?P<number>\d+)/comments/(?P<id>\d+)/replies", self._post_review_reply),
            ("GET", repo + r"/compare/(?P<basehead>.+)", self._get_compare),
            ("GET", repo + r"/contents/(?P<path>.+)", self._get_contents),
            ("GET", repo + r"/issues/(?P<number>\d+)", self._get_issue),
            ("GET", repo + r"/issues/(?P<number>\d+)/comments", self._get_issue_comments),
            ("POST", repo + r"/issues/(?P<number>\d+)/comments", self._post_issue_comment),
            ("GET", repo + r"/issues/comments/(?P<id>\d+)", self._get_comment),
            ("PATCH", repo + r"/issues/comments/(?P<id>\d+)", self._patch_comment),
            ("POST", repo + r"/issues/comments/(?P<id>\d+)/reactions", self._post_reaction),
            ("GET", repo + r"/collaborators/(?P<user>[^/]+)/permission", self._get_permission),
            ("POST", repo + r"/check-runs", self._post_check_run),
            ("GET", repo + r"/check-runs/(?P<id>\d+)", self._get_check_run),
            ("PATCH", repo + r"/check-runs/(?P<id>\d+)", self._patch_check_run),
            ("POST", r"/graphql", self._post_graphql),
            ("POST", MANIFEST_CONVERSION.pattern, self._post_manifest_conversion),
        ]
        self._routes = [(m, re.compile(p), h) for m, p, h in table]

    def _get_app(self, req: _Req, p: dict[str, str]) -> Response:
        return JSONResponse(
            {
                "id": self.app_id,
                "slug": self.slug,
                "node_id": f"A_{self.app_id}",
                "name": self.slug.title(),
                "owner": {"login": "archbot-org", "id": 1, "type": "Organization"},
                "permissions": {"checks": "write", "contents": "read", "issues": "write", "pull_requests": "write"},
                "events": ["pull_request", "issues", "issue_comment"],
            }
        )

    def _post_token(self, req: _Req, p: dict[str, str]) -> Response:
        installation_id = int(p["id"])
        if installation_id not in self.installations:
            raise _HTTPError(404, "Not Found")
        self.token_exchanges += 1
        token = f"ghs_fake{installation_id}x{self.token_exchanges}"
        self._installation_tokens[token] = installation_id
        expires_at = EXPIRES_AT
        if self.token_lifetime is not None:
            expiry = time.time() + self.token_lifetime
            self._token_expiry[token] = expiry
            expires_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry))
        return JSONResponse(
            {
                "token": token,
                "expires_at": expires_at,
                "permissions": {"checks": "write", "contents": "read", "issues": "write", "pull_requests": "write"},
                "repository_selection": "all",
            },
            201,
        )

    def _get_repo_installation(self, req: _Req, p: dict[str, str]) -> Response:
        self._repo_of(p)
        if not self.installations:
            raise _HTTPError(404, "Not Found")
        return JSONResponse({"id": min(self.installations), "app_id": self.app_id, "app_slug": self.slug})

    def _pull_json(self, repo: FakeRepo, issue: FakeIssue, pull: FakePull) -> dict[str, Any]:
        head_repo: dict[str, Any] | None = None
        if pull.head_repo is not None:
            head_repo = {"full_name": pull.head_repo, "fork": pull.fork, "name": pull.head_repo.split("/")[-1]}
        base_repo = {
            "full_name": repo.full_name,
            "name": repo.name,
            "fork": False,
            "default_branch": repo.default_branch,
        }
        return {
            "id": issue.number + 1_000_000,
            "node_id": f"PR_kwDOfake{repo.id}n{issue.number}",
            "number": issue.number,
            "state": issue.state,
            "title": issue.title,
            "body": issue.body,
            "draft": pull.draft,
            "merged": pull.merged,
            "user": issue.author.rest(),
            "labels": [{"name": label} for label in issue.labels],
            "head": {"sha": pull.head_sha, "ref": pull.head_ref, "repo": head_repo, "label": f"x:{pull.head_ref}"},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref, "repo": base_repo, "label": f"y:{pull.base_ref}"},
            "changed_files": len(pull.files),
            "additions": sum(f.additions for f in pull.files),
            "deletions": sum(f.deletions for f in pull.files),
        }

    def _get_pull(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        pull = self._pull(repo, int(p["number"]))
        if DIFF_MEDIA in req.headers.get("accept", ""):
            too_large = self._diff_too_large(pull.diff, len(pull.files))
            if too_large is not None:
                return too_large
            return PlainTextResponse(pull.diff, media_type=DIFF_MEDIA)
        return JSONResponse(self._pull_json(repo, repo.issues[int(p["number"])], pull))

    def _file_row(self, repo: FakeRepo, pull: FakePull, f: FileDiff) -> dict[str, Any]:
        row: dict[str, Any] = {
            "sha": _sha(f.filename, pull.head_sha),
            "filename": f.filename,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.additions + f.deletions,
            "blob_url": f"https://github.com/{repo.full_name}/blob/{pull.head_sha}/{f.filename}",
            "raw_url": f"https://github.com/{repo.full_name}/raw/{pull.head_sha}/{f.filename}",
            "contents_url": f"https://api.github.com/repos/{repo.full_name}/contents/{f.filename}?ref={pull.head_sha}",
        }
        if f.patch is not None:
            row["patch"] = f.patch
        if f.previous_filename is not None:
            row["previous_filename"] = f.previous_filename
        return row

    def _get_pull_files(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        pull = self._pull(repo, int(p["number"]))
        rows = [self._file_row(repo, pull, f) for f in pull.files[:3000]]
        return _paginated(req, rows)

    def _review_json(self, review: FakeReview) -> dict[str, Any]:
        return {
            "id": review.id,
            "node_id": f"PRR_kwDOfake{review.id}",
            "user": review.author.rest(),
            "body": review.body,
            "state": review.state,
            "commit_id": review.commit_id,
            "submitted_at": review.submitted_at,
            "author_association": "NONE",
        }

    def _get_reviews(self, req: _Req, p: dict[str, str]) -> Response:
        pull = self._pull(self._repo_of(p), int(p["number"]))
        return _paginated(req, [self._review_json(r) for r in pull.reviews])

    def _post_review(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        pull = self._pull(repo, int(p["number"]))
        actor = _require_actor(req)
        body = req.body if isinstance(req.body, dict) else {}
        commit_id = str(body.get("commit_id") or pull.head_sha)
        if commit_id not in repo.commits:
            raise _HTTPError(422, "Unprocessable Entity", [f"No commit found for SHA: {commit_id}"])
        comments = list(body.get("comments") or [])
        for comment in comments:
            _check_review_comment(pull, comment)
        event = body.get("event")
        state = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}.get(
            str(event), "PENDING"
        )
        if event is not None and state == "PENDING":
            raise _HTTPError(422, "Unprocessable Entity", [f"Invalid event: {event}"])
        review = FakeReview(
            self._next_id(), actor, str(body.get("body") or ""), event, state, commit_id, comments, _now_iso()
        )
        pull.reviews.append(review)
        for c in comments:
            line = c.get("line")
            comment = FakeReviewComment(
                self._next_id(),
                str(c["path"]),
                line,
                str(c.get("side") or "RIGHT"),
                str(c.get("body") or ""),
                actor,
                commit_id,
                review.id,
                None,
                review.submitted_at,
                c.get("start_line"),
                line,
            )
            pull.threads.append(FakeThread(f"PRRT_kwDOfake{comment.id}", comment.path, line, comment.side, [comment]))
        return JSONResponse(self._review_json(review))

    def _get_review_comments(self, req: _Req, p: dict[str, str]) -> Response:
        pull = self._pull(self._repo_of(p), int(p["number"]))
        rows = []
        for thread in pull.threads:
            for c in thread.comments:
                row = {
                    "id": c.id,
                    "node_id": f"PRRC_kwDOfake{c.id}",
                    "pull_request_review_id": c.review_id,
                    "path": c.path,
                    "line": thread.line,
                    "original_line": c.original_line,
                    "side": c.side,
                    "body": c.body,
                    "user": c.author.rest(),
                    "commit_id": c.commit_id,
                    "created_at": c.created_at,
                }
                if c.in_reply_to_id is not None:
                    row["in_reply_to_id"] = c.in_reply_to_id
                rows.append(row)
        rows.sort(key=lambda r: int(r["id"]))
        return _paginated(req, rows)

    def _post_review_reply(self, req: _Req, p: dict[str, str]) -> Response:
        """REST "create a reply for a review comment": ``id`` must be a thread's FIRST comment (GitHub
        does not support replies to replies) on this pull request; the body is required."""
        pull = self._pull(self._repo_of(p), int(p["number"]))
        comment_id = int(p["id"])
        thread = next((t for t in pull.threads if any(c.id == comment_id for c in t.comments)), None)
        if thread is None:
            raise _HTTPError(404, "Not Found")
        if thread.comments[0].id != comment_id:
            raise _HTTPError(422, "Validation Failed", [{"resource": "PullRequestReviewComment", "code": "invalid"}])
        body = req.body.get("body") if isinstance(req.body, dict) else None
        if not isinstance(body, str) or not body:
            raise _HTTPError(422, "Invalid request.\n\nNo body given.")
        if len(body) > 65536:
            raise _HTTPError(
                422, "Validation Failed", [{"field": "body", "code": "custom", "message": "body is too long"}]
            )
        root = thread.comments[0]
        reply = FakeReviewComment(
            self._next_id(),
            thread.path,
            thread.line,
            thread.side,
            body,
            _require_actor(req),
            root.commit_id,
            None,
            root.id,
            _now_iso(),
        )
        thread.comments.append(reply)
        row = {"id": reply.id, "node_id": f"PRRC_kwDOfake{reply.id}", "body": body, "in_reply_to_id": root.id}
        return JSONResponse({**row, "path": reply.path, "user": reply.author.rest(), "commit_id": reply.commit_id}, 201)

    def _get_compare(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        base, sep, head = p["basehead"].partition("...")
        if not sep:
            raise _HTTPError(404, "Not Found")
        for sha in (base, head):
            if sha not in repo.commits and sha != repo.default_branch:
                raise _HTTPError(404, f"No commit found for SHA: {sha}")
        diff = repo.compares.get((base, head), "")
        if DIFF_MEDIA in req.headers.get("accept", ""):
            too_large = self._diff_too_large(diff, len(parse_diff(diff)))
            return too_large or PlainTextResponse(diff, media_type=DIFF_MEDIA)
        return JSONResponse({"status": "ahead", "ahead_by": 1, "behind_by": 0, "files": [], "commits": []})

    def _get_contents(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        ref = repo.resolve_ref(req.params.get("ref") or repo.default_branch)
        files = repo.files.get(ref)
        if files is None:
            raise _HTTPError(404, f"No commit found for the ref {ref}")
        path = p["path"].strip("/")
        if path not in files:
            entries = sorted({k[len(path) + 1 :].split("/")[0] for k in files if k.startswith(path + "/")})
            if not entries:
                raise _HTTPError(404, "Not Found")
            return JSONResponse([{"type": "file", "name": e, "path": f"{path}/{e}"} for e in entries])
        text = files[path]
        data = text.encode()
        if "raw" in req.headers.get("accept", ""):
            return Response(data, media_type="application/vnd.github.raw")
        big = len(data) > 1024 * 1024
        encoded = base64.b64encode(data).decode()
        return JSONResponse(
            {
                "type": "file",
                "encoding": "none" if big else "base64",
                "size": len(data),
                "name": path.split("/")[-1],
                "path": path,
                "sha": _sha(path, text),
                "content": "" if big else "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)),
            }
        )

    def _issue_json(self, repo: FakeRepo, issue: FakeIssue) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": issue.number + 5_000_000,
            "node_id": f"I_kwDOfake{repo.id}n{issue.number}",
            "number": issue.number,
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "user": issue.author.rest(),
            "labels": [{"name": label, "id": _stable_id(label)} for label in issue.labels],
            "comments": len(issue.comments),
        }
        if issue.pull is not None:
            payload["pull_request"] = {"url": f"https://api.github.com/repos/{repo.full_name}/pulls/{issue.number}"}
        return payload

    def _get_issue(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        issue = repo.issues.get(int(p["number"]))
        if issue is None:
            raise _HTTPError(404, "Not Found")
        return JSONResponse(self._issue_json(repo, issue))

    def _comment_json(self, repo: FakeRepo, number: int, c: FakeComment) -> dict[str, Any]:
        return {
            "id": c.id,
            "node_id": c.node_id,
            "body": c.body,
            "user": c.author.rest(),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "author_association": "NONE",
            "issue_url": f"https://api.github.com/repos/{repo.full_name}/issues/{number}",
            "html_url": f"https://github.com/{repo.full_name}/issues/{number}#issuecomment-{c.id}",
            "performed_via_github_app": c.author.app,
        }

    def _get_issue_comments(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        issue = repo.issues.get(int(p["number"]))
        if issue is None:
            raise _HTTPError(404, "Not Found")
        return _paginated(req, [self._comment_json(repo, issue.number, c) for c in issue.comments])

    def _post_issue_comment(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        issue = repo.issues.get(int(p["number"]))
        if issue is None:
            raise _HTTPError(404, "Not Found")
        body = req.body.get("body") if isinstance(req.body, dict) else None
        if not isinstance(body, str) or not body:
            raise _HTTPError(422, "Invalid request.\n\nNo body given.")
        if len(body) > 65536:
            raise _HTTPError(
                422,
                "Validation Failed",
                [{"field": "body", "code": "custom", "message": "body is too long (maximum is 65536 characters)"}],
            )
        comment = self._new_comment(issue, body, _require_actor(req))
        return JSONResponse(self._comment_json(repo, issue.number, comment), 201)

    def _get_comment(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        comment = self._find_comment(repo, int(p["id"]))
        number = next(i.number for i in repo.issues.values() if comment in i.comments)
        return JSONResponse(self._comment_json(repo, number, comment))

    def _patch_comment(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        comment = self._find_comment(repo, int(p["id"]))
        actor = _require_actor(req)
        if actor.login != comment.author.login:
            raise _HTTPError(403, "Resource not accessible by integration")
        body = req.body.get("body") if isinstance(req.body, dict) else None
        if not isinstance(body, str) or not body:
            raise _HTTPError(422, "Invalid request.\n\nNo body given.")
        comment.body = body
        comment.updated_at = _now_iso()
        number = next(i.number for i in repo.issues.values() if comment in i.comments)
        return JSONResponse(self._comment_json(repo, number, comment))

    def _post_reaction(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        comment = self._find_comment(repo, int(p["id"]))
        actor = _require_actor(req)
        content = req.body.get("content") if isinstance(req.body, dict) else None
        if content not in REACTIONS:
            raise _HTTPError(422, "Validation Failed", [{"field": "content", "code": "invalid"}])
        reaction = (actor.login, str(content))
        status = 200 if reaction in comment.reactions else 201
        if status == 201:
            comment.reactions.append(reaction)
        return JSONResponse(
            {"id": _stable_id(f"{comment.id}{reaction}"), "content": content, "user": actor.rest()}, status
        )

    def _get_permission(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        role = repo.permissions.get(p["user"], self.default_permission)
        return JSONResponse(
            {
                "permission": ROLE_TO_PERMISSION.get(role, "read"),
                "role_name": role,
                "user": FakeActor(p["user"], "User", _stable_id(p["user"])).rest(),
            }
        )

    def _check_run_json(self, repo: FakeRepo, run: FakeCheckRun) -> dict[str, Any]:
        return {
            "id": run.id,
            "name": run.name,
            "head_sha": run.head_sha,
            "status": run.status,
            "conclusion": run.conclusion,
            "external_id": run.external_id,
            "app": run.app,
            "output": {
                "title": run.title,
                "summary": run.summary,
                "text": run.text,
                "annotations_count": len(run.annotations),
            },
            "html_url": f"https://github.com/{repo.full_name}/runs/{run.id}",
        }

    def _apply_check_run(self, run: FakeCheckRun, body: Mapping[str, Any]) -> None:
        output = body.get("output")
        if output is not None:
            if not isinstance(output, dict) or not output.get("title") or not output.get("summary"):
                raise _HTTPError(422, 'Invalid request.\n\n"title", "summary" weren\'t supplied.')
            if len(str(output["summary"])) > 65535 or len(str(output.get("text") or "")) > 65535:
                raise _HTTPError(422, "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied.")
            annotations = list(output.get("annotations") or [])
            if len(annotations) > 50:
                raise _HTTPError(422, "Invalid request.\n\nOnly 50 annotations may be sent per request.")
            for a in annotations:
                missing = [k for k in ("path", "start_line", "end_line", "annotation_level", "message") if k not in a]
                if missing or a.get("annotation_level") not in ("notice", "warning", "failure"):
                    raise _HTTPError(422, f"Invalid request.\n\nInvalid annotation (missing {missing}).")
            run.title = str(output["title"])
            run.summary = str(output["summary"])
            if "text" in output:
                run.text = output["text"]
            run.annotations.extend(annotations)
        if "status" in body:
            run.status = str(body["status"])
        if body.get("conclusion") is not None:
            run.conclusion = str(body["conclusion"])
            run.status = "completed"
        if run.status == "completed" and run.conclusion is None:
            raise _HTTPError(422, "Invalid request.\n\nNo conclusion given for a completed check run.")

    def _post_check_run(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        actor = _require_actor(req)
        body = req.body if isinstance(req.body, dict) else {}
        if not body.get("name") or not body.get("head_sha"):
            raise _HTTPError(422, 'Invalid request.\n\n"name", "head_sha" weren\'t supplied.')
        if actor.app is None:
            raise _HTTPError(403, "You must authenticate via a GitHub App.")
        run = FakeCheckRun(
            self._next_id(),
            str(body["name"]),
            str(body["head_sha"]),
            "queued",
            None,
            body.get("external_id"),
            actor.app,
        )
        self._apply_check_run(run, body)
        repo.check_runs[run.id] = run
        return JSONResponse(self._check_run_json(repo, run), 201)

    def _get_check_run(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        run = repo.check_runs.get(int(p["id"]))
        if run is None:
            raise _HTTPError(404, "Not Found")
        return JSONResponse(self._check_run_json(repo, run))

    def _patch_check_run(self, req: _Req, p: dict[str, str]) -> Response:
        repo = self._repo_of(p)
        run = repo.check_runs.get(int(p["id"]))
        if run is None:
            raise _HTTPError(404, "Not Found")
        self._apply_check_run(run, req.body if isinstance(req.body, dict) else {})
        run.requests += 1
        return JSONResponse(self._check_run_json(repo, run))

    # ------------------------------------------------------------------ GraphQL

    def _post_graphql(self, req: _Req, p: dict[str, str]) -> Response:
        actor = _require_actor(req)
        body = req.body if isinstance(req.body, dict) else {}
        query = body.get("query")
        if not isinstance(query, str):
            return JSONResponse({"errors": [{"message": "A query attribute must be specified and must be a string."}]})
        root = {
            "id": "Q",
            "repository": lambda info, owner, name, followRenames=True: self._gql_repository(owner, name, actor),
            "resolveReviewThread": lambda info, input: self._gql_resolve(input, actor),
        }
        result = graphql_sync(
            self._schema,
            query,
            root_value=root,
            variable_values=body.get("variables") or {},
            operation_name=body.get("operationName"),
        )
        payload: dict[str, Any] = {}
        if result.errors:
            payload["errors"] = [_github_graphql_error(e) for e in result.errors]
        if result.data is not None or not result.errors:
            payload["data"] = result.data
        return JSONResponse(payload)

    def _gql_actor(self, actor: FakeActor) -> dict[str, Any]:
        is_bot = actor.type == "Bot"
        login = actor.login.removesuffix("[bot]") if is_bot else actor.login
        return {
            "__typename": "Bot" if is_bot else "User",
            "id": f"{'BOT' if is_bot else 'U'}_{actor.id}",
            "login": login,
            "avatarUrl": lambda info, size=None: f"https://avatars.githubusercontent.com/u/{actor.id}",
            "resourcePath": f"/apps/{login}" if is_bot else f"/{login}",
            "url": f"https://github.com/{'apps/' if is_bot else ''}{login}",
        }

    def _gql_blob(self, path: str, text: str) -> dict[str, Any]:
        data = text.encode()
        binary = "\0" in text
        truncated = len(data) > self.blob_truncate_bytes
        oid = _sha(path, text)
        return {
            "__typename": "Blob",
            "id": f"B_{oid}",
            "oid": oid,
            "abbreviatedOid": oid[:7],
            "byteSize": len(data),
            "isBinary": binary,
            "isTruncated": truncated,
            "text": None if binary else data[: self.blob_truncate_bytes].decode(errors="ignore"),
        }

    def _gql_commit(self, repo: FakeRepo, ref: str) -> dict[str, Any]:
        key = repo.resolve_ref(ref)
        oid = repo.branch_sha if key == repo.default_branch else ref

        def file(info: Any, path: str) -> dict[str, Any] | None:
            files = repo.files.get(key, {})
            if path not in files:
                return None
            return {
                "name": path.rsplit("/", maxsplit=1)[-1],
                "path": path,
                "type": "blob",
                "object": self._gql_blob(path, files[path]),
            }

        def check_suites(info: Any, filterBy: Mapping[str, Any] | None = None, **args: Any) -> dict[str, Any]:
            suites = self._gql_check_suites(repo, oid)
            app_id = (filterBy or {}).get("appId")
            if app_id is not None:
                suites = [suite for suite in suites if (suite["app"] or {}).get("databaseId") == app_id]
            return _connection(suites, "checkSuites", **args)

        return {
            "__typename": "Commit",
            "id": f"C_{oid}",
            "oid": oid,
            "abbreviatedOid": oid[:7],
            "message": "A commit",
            "file": file,
            "checkSuites": check_suites,
        }

    def _gql_check_suites(self, repo: FakeRepo, oid: str) -> list[dict[str, Any]]:
        """One check suite per App that created check runs on ``oid`` (as GitHub does by default)."""
        by_app: dict[int | None, list[FakeCheckRun]] = {}
        for run in repo.check_runs.values():
            if run.head_sha == oid:
                by_app.setdefault((run.app or {}).get("id"), []).append(run)
        return [self._gql_check_suite(repo, oid, app_id, runs) for app_id, runs in by_app.items()]

    def _gql_check_suite(
        self, repo: FakeRepo, oid: str, app_id: int | None, runs: list[FakeCheckRun]
    ) -> dict[str, Any]:
        app = runs[0].app
        nodes = [
            {
                "__typename": "CheckRun",
                "id": f"CR_kwDOfake{run.id}",
                "databaseId": run.id,
                "name": run.name,
                "status": run.status.upper(),
            }
            for run in runs
        ]

        def check_runs(info: Any, filterBy: Mapping[str, Any] | None = None, **args: Any) -> dict[str, Any]:
            wanted = filterBy or {}
            chosen = [
                n
                for n in nodes
                if wanted.get("checkName") in (None, n["name"]) and wanted.get("appId") in (None, app_id)
            ]
            return _connection(chosen, "checkRuns", **args)

        return {
            "__typename": "CheckSuite",
            "id": f"CS_kwDOfake{_stable_id(f'{repo.full_name}:{oid}:{app_id}')}",
            "app": None
            if app is None
            else {
                "__typename": "App",
                "id": f"A_{app['id']}",
                "databaseId": app["id"],
                "name": app.get("name") or "",
                "slug": app.get("slug") or "",
            },
            "checkRuns": check_runs,
        }

    def _gql_object(self, repo: FakeRepo, expression: str | None, oid: str | None) -> dict[str, Any] | None:
        if expression is None:
            return self._gql_commit(repo, oid) if oid in repo.commits else None
        rev, sep, path = expression.partition(":")
        key = repo.resolve_ref(rev)
        if key not in repo.files and key not in repo.commits:
            return None
        if not sep:
            return self._gql_commit(repo, rev)
        files = repo.files.get(key, {})
        if path in files:
            return self._gql_blob(path, files[path])
        if any(k.startswith(path.rstrip("/") + "/") for k in files):
            tree = _sha(key, path)
            return {"__typename": "Tree", "id": f"T_{tree}", "oid": tree, "abbreviatedOid": tree[:7]}
        return None

    def _gql_repository(self, owner: str, name: str, actor: FakeActor) -> dict[str, Any]:
        repo = self.repos.get(f"{owner}/{name}")
        if repo is None:
            raise GraphQLError(
                f"Could not resolve to a Repository with the name '{owner}/{name}'.", extensions={"type": "NOT_FOUND"}
            )
        owner_type = "Organization" if repo.is_org else "User"
        return {
            "__typename": "Repository",
            "id": f"R_kgDOfake{repo.id}",
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "url": f"https://github.com/{repo.full_name}",
            "owner": {
                "__typename": owner_type,
                "id": f"O_{_stable_id(repo.owner)}",
                "login": repo.owner,
                "avatarUrl": lambda info, size=None: "https://avatars.githubusercontent.com/u/1",
                "resourcePath": f"/{repo.owner}",
                "url": f"https://github.com/{repo.owner}",
            },
            "defaultBranchRef": {
                "__typename": "Ref",
                "id": f"REF_{repo.id}",
                "name": repo.default_branch,
                "prefix": "refs/heads/",
                "target": self._gql_commit(repo, repo.default_branch),
            },
            "object": lambda info, expression=None, oid=None: self._gql_object(repo, expression, oid),
            "pullRequest": lambda info, number: self._gql_pull(repo, number, actor),
        }

    def _gql_pull(self, repo: FakeRepo, number: int, actor: FakeActor) -> dict[str, Any]:
        issue = repo.issues.get(number)
        if issue is None or issue.pull is None:
            raise GraphQLError(
                f"Could not resolve to a PullRequest with the number of {number}.", extensions={"type": "NOT_FOUND"}
            )
        pull = issue.pull
        state = "MERGED" if pull.merged else issue.state.upper()
        comments = [self._gql_issue_comment(repo, c, actor) for c in issue.comments]
        threads = [self._gql_thread(t) for t in pull.threads]
        reviews = [self._gql_review(repo, r) for r in pull.reviews]
        commits = [
            {"__typename": "PullRequestCommit", "id": f"PRC_{sha}", "commit": self._gql_commit(repo, sha)}
            for sha in pull.history
        ]

        def reviews_field(info: Any, author: str | None = None, states: list[str] | None = None, **args: Any) -> Any:
            chosen = [
                r
                for r, raw in zip(reviews, pull.reviews, strict=True)
                if (author is None or raw.author.login.removesuffix("[bot]") == author)
                and (states is None or raw.state in states)
            ]
            return _connection(chosen, "reviews", **args)

        return {
            "__typename": "PullRequest",
            "id": f"PR_kwDOfake{repo.id}n{number}",
            "number": number,
            "title": issue.title,
            "body": issue.body,
            "state": state,
            "isDraft": pull.draft,
            "isCrossRepository": pull.fork,
            "headRefOid": pull.head_sha,
            "headRefName": pull.head_ref,
            "baseRefOid": pull.base_sha,
            "baseRefName": pull.base_ref,
            "url": f"https://github.com/{repo.full_name}/pull/{number}",
            "author": self._gql_actor(issue.author),
            "headRepository": None if pull.head_repo is None else {"nameWithOwner": pull.head_repo},
            "comments": lambda info, **args: _connection(comments, "comments", **args),
            "reviewThreads": lambda info, **args: _connection(threads, "reviewThreads", **args),
            "reviews": reviews_field,
            "commits": lambda info, **args: _connection(commits, "commits", **args),
        }

    def _gql_issue_comment(self, repo: FakeRepo, c: FakeComment, actor: FakeActor) -> dict[str, Any]:
        return {
            "__typename": "IssueComment",
            "id": c.node_id,
            "databaseId": c.id if c.id <= INT32_MAX else None,
            "fullDatabaseId": str(c.id),
            "author": self._gql_actor(c.author),
            "body": c.body,
            "createdAt": c.created_at,
            "url": f"https://github.com/{repo.full_name}#issuecomment-{c.id}",
            "viewerDidAuthor": c.author.login == actor.login,
        }

    def _gql_thread(self, thread: FakeThread) -> dict[str, Any]:
        comments = [
            {
                "__typename": "PullRequestReviewComment",
                "id": f"PRRC_kwDOfake{c.id}",
                "databaseId": c.id if c.id <= INT32_MAX else None,
                "fullDatabaseId": str(c.id),
                "author": self._gql_actor(c.author),
                "body": c.body,
                "path": c.path,
                "line": thread.line,
                "originalLine": c.original_line,
                "createdAt": c.created_at,
            }
            for c in thread.comments
        ]
        return {
            "__typename": "PullRequestReviewThread",
            "id": thread.id,
            "isResolved": thread.is_resolved,
            "isOutdated": thread.is_outdated,
            "path": thread.path,
            "line": thread.line,
            "comments": lambda info, skip=None, **args: _connection(comments[skip or 0 :], "comments", **args),
        }

    def _gql_review(self, repo: FakeRepo, review: FakeReview) -> dict[str, Any]:
        return {
            "__typename": "PullRequestReview",
            "id": f"PRR_kwDOfake{review.id}",
            "databaseId": review.id if review.id <= INT32_MAX else None,
            "fullDatabaseId": str(review.id),
            "author": self._gql_actor(review.author),
            "body": review.body,
            "state": review.state,
            "commit": self._gql_commit(repo, review.commit_id),
            "createdAt": review.submitted_at,
        }

    def _gql_resolve(self, input: Mapping[str, Any], actor: FakeActor) -> dict[str, Any]:
        thread_id = str(input.get("threadId"))
        for repo in self.repos.values():
            for issue in repo.issues.values():
                for thread in issue.pull.threads if issue.pull else []:
                    if thread.id == thread_id:
                        thread.is_resolved = True
                        thread.resolved_by = actor.login
                        return {"clientMutationId": input.get("clientMutationId"), "thread": self._gql_thread(thread)}
        raise GraphQLError(
            f"Could not resolve to a node with the global id of '{thread_id}'", extensions={"type": "NOT_FOUND"}
        )

    # ------------------------------------------------------------------ App manifest flow (web + API)

    def become(self, created: ManifestApp) -> None:
        """Act as the App registered from a manifest: its id, slug and key answer ``/app`` and tokens."""
        with self._lock:
            self.app_id, self.slug, self._private_key = created.id, created.slug, created.pem
            self.bot = FakeActor(
                f"{created.slug}[bot]",
                "Bot",
                100_000 + created.id,
                {"id": created.id, "slug": created.slug, "name": created.name},
            )

    def _web_page(self, request: Request, method: str, full_path: str, raw: bytes) -> Response | None:
        """GitHub's web pages of the manifest flow (outside the API prefix); None for any other path."""
        new_app = re.fullmatch(r"(?:/organizations/(?P<org>[A-Za-z0-9-]+))?/settings/apps/new", full_path)
        if new_app and method == "GET":
            return _html(200, "Register new GitHub App", "<p id='no-manifest'>No manifest: fill in the form.</p>")
        if new_app and method == "POST":
            return self._new_app_from_manifest(request, raw, new_app.group("org"))
        if full_path == "/settings/apps/new/confirm" and method == "POST":
            return self._confirm_new_app(request, raw)
        install = re.fullmatch(r"/apps/(?P<slug>[a-z0-9-]+)/installations/new", full_path)
        if install and method == "GET":
            known = any(a.slug == install.group("slug") for a in self.manifest_apps)
            if not known:
                return _html(404, "Not Found", "<p>No such App.</p>")
            return _html(200, "Install App", f"<p id='install-page'>Install {install.group('slug')}</p>")
        return None

    def _new_app_from_manifest(self, request: Request, raw: bytes, org: str | None) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return _html(422, "Invalid GitHub App configuration", "<p class='error'>Error: no manifest form</p>")
        form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"))
        texts = form.get("manifest", [])
        try:
            if len(texts) != 1:
                raise ValueError("the form needs exactly one manifest field")
            document = json.loads(texts[0])
            _check_manifest(document)
        except ValueError as exc:
            message = html.escape(str(exc))
            return _html(422, "Invalid GitHub App configuration", f"<p class='error'>Error: {message}</p>")
        token = hashlib.sha256(raw + str(self._next_id()).encode()).hexdigest()[:32]
        self._manifests[token] = {
            "manifest": document,
            "state": request.query_params.get("state"),
            "org": org,
        }
        name = html.escape(str(document.get("name") or ""), quote=True)
        body = (
            "<form id='create-app' method='post' action='/settings/apps/new/confirm'>"
            f"<input type='hidden' name='token' value='{token}'>"
            f"<label>GitHub App name <input id='app-name' name='name' value='{name}'></label>"
            "<button id='create' type='submit'>Create GitHub App</button></form>"
        )
        return _html(200, "Create GitHub App", body)

    def _confirm_new_app(self, request: Request, raw: bytes) -> Response:
        form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"))
        pending = self._manifests.pop((form.get("token") or [""])[0], None)
        name = (form.get("name") or [""])[0].strip()
        if pending is None:
            return _html(422, "Invalid GitHub App configuration", "<p class='error'>Error: expired form</p>")
        if not name or any(a.name.lower() == name.lower() for a in self.manifest_apps):
            return _html(422, "Invalid GitHub App configuration", "<p class='error'>Error: Name is already in use</p>")
        document = pending["manifest"]
        app_id = 900_000 + len(self.manifest_apps) + 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        web = f"{request.url.scheme}://{request.url.netloc}"
        created = ManifestApp(
            id=app_id,
            slug=slug,
            name=name,
            owner=pending["org"] or "octocat",
            html_url=f"{web}/apps/{slug}",
            pem=app_private_key(),
            webhook_secret=hashlib.sha256(f"secret{app_id}{time.time_ns()}".encode()).hexdigest(),
            client_secret=hashlib.sha256(f"client{app_id}{time.time_ns()}".encode()).hexdigest(),
            manifest=document,
        )
        self.manifest_apps.append(created)
        code = hashlib.sha256(f"code{app_id}{time.time_ns()}".encode()).hexdigest()[:20]
        self._manifest_codes[code] = (created, self.clock() + self.manifest_code_ttl)
        query = {"code": code} | ({"state": pending["state"]} if pending["state"] is not None else {})
        location = f"{document['redirect_url']}?{urllib.parse.urlencode(query)}"
        return Response(status_code=302, headers={"location": location})

    def _post_manifest_conversion(self, req: _Req, p: dict[str, str]) -> Response:
        entry = self._manifest_codes.pop(p["code"], None)  # once: a replayed code is unknown
        if entry is None or self.clock() >= entry[1]:
            raise _HTTPError(404, "Not Found")
        created = entry[0]
        document = created.manifest
        return JSONResponse(
            {
                "id": created.id,
                "slug": created.slug,
                "node_id": f"A_{created.id}",
                "name": created.name,
                "owner": {"login": created.owner, "id": _stable_id(created.owner), "type": "User"},
                "description": document.get("description"),
                "external_url": document["url"],
                "html_url": created.html_url,
                "created_at": _now_iso(),
                "updated_at": _now_iso(),
                "permissions": document.get("default_permissions") or {},
                "events": document.get("default_events") or [],
                "client_id": f"Iv1.{created.id:016x}",
                "client_secret": created.client_secret,
                "webhook_secret": created.webhook_secret,
                "pem": created.pem,
            },
            201,
        )


# --------------------------------------------------------------------------- module helpers


def _stable_id(text: str) -> int:
    return int(_sha(text)[:7], 16) + 1000


def _error(status: int, message: str, errors: list[Any] | None = None) -> JSONResponse:
    payload: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors is not None:
        payload["errors"] = errors
    return JSONResponse(payload, status)


def _default_failure_body(status: int) -> dict[str, Any]:
    if status in (403, 429):
        return {"message": SECONDARY_MESSAGE, "documentation_url": DOCS}
    if status == 401:
        return {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}
    if status >= 500:
        return {"message": "Server Error"}
    return {"message": "Error", "status": str(status)}


def _require_actor(req: _Req) -> FakeActor:
    if req.actor is None:
        raise _HTTPError(401, "Requires authentication")
    return req.actor


def _paginated(req: _Req, rows: list[dict[str, Any]]) -> Response:
    """A page of ``rows`` with GitHub's ``Link`` header (``per_page`` default 30, at most 100)."""
    try:
        per_page = max(1, min(int(req.params.get("per_page", 30)), 100))
        page = max(1, int(req.params.get("page", 1)))
    except ValueError as exc:
        raise _HTTPError(422, "Invalid pagination parameters") from exc
    last = max(1, -(-len(rows) // per_page))
    chunk = rows[(page - 1) * per_page : page * per_page]
    url = req.request.url
    links = []
    if page < last:
        links.append(f'<{url.include_query_params(per_page=per_page, page=page + 1)}>; rel="next"')
        links.append(f'<{url.include_query_params(per_page=per_page, page=last)}>; rel="last"')
    if page > 1:
        links.append(f'<{url.include_query_params(per_page=per_page, page=page - 1)}>; rel="prev"')
        links.append(f'<{url.include_query_params(per_page=per_page, page=1)}>; rel="first"')
    headers = {"link": ", ".join(links)} if links else {}
    return JSONResponse(chunk, headers=headers)


def _check_review_comment(pull: FakePull, comment: Mapping[str, Any]) -> None:
    """GitHub rejects the WHOLE review when one comment is not on a commentable line."""
    path = comment.get("path")
    changed = pull.file(str(path)) if path is not None else None
    if changed is None or changed.patch is None:
        raise _HTTPError(422, "Unprocessable Entity", ["Path could not be resolved"])
    outside = ["Pull request review thread line must be part of the diff"]
    if comment.get("line") is None:
        position = comment.get("position")
        if not isinstance(position, int) or not 1 <= position < changed.patch_lines:
            raise _HTTPError(422, "Unprocessable Entity", ["Pull request review thread position is invalid"])
        return
    side = str(comment.get("side") or "RIGHT")
    lines = changed.right if side == "RIGHT" else changed.left
    if side not in ("RIGHT", "LEFT") or comment["line"] not in lines:
        raise _HTTPError(422, "Unprocessable Entity", outside)
    start = comment.get("start_line")
    if start is not None:
        start_side = str(comment.get("start_side") or side)
        start_lines = changed.right if start_side == "RIGHT" else changed.left
        if start not in start_lines or (start_side == side and start >= comment["line"]):
            raise _HTTPError(
                422, "Unprocessable Entity", ["Pull request review thread start line must be part of the diff"]
            )


def _connection(
    items: list[Any],
    name: str,
    *,
    first: int | None = None,
    last: int | None = None,
    after: str | None = None,
    before: str | None = None,
) -> dict[str, Any]:
    """A GitHub-style connection: ``first`` or ``last`` required, at most 100."""
    if first is None and last is None:
        raise GraphQLError(f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.")
    for arg, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= 100:
            raise GraphQLError(
                f"Requesting {value} records on the `{name}` connection exceeds the `{arg}` limit of 100 records."
            )
    start = _decode_cursor(after) + 1 if after else 0
    end = _decode_cursor(before) if before else len(items)
    indexes = list(range(start, min(end, len(items))))
    if first is not None:
        indexes = indexes[:first]
    if last is not None:
        indexes = indexes[-last:] if last else []
    return {
        "nodes": [items[i] for i in indexes],
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": bool(indexes) and indexes[-1] < min(end, len(items)) - 1,
            "hasPreviousPage": bool(indexes) and indexes[0] > start,
            "startCursor": _cursor(indexes[0]) if indexes else None,
            "endCursor": _cursor(indexes[-1]) if indexes else None,
        },
    }


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor).decode().rsplit(":", 1)[1])
    except (ValueError, IndexError) as exc:
        raise GraphQLError(f"`{cursor}` does not appear to be a valid cursor.") from exc


_UNDEFINED_FIELD = re.compile(r"Cannot query field '(?P<field>[^']+)' on type '(?P<type>[^']+)'\.")


def _github_graphql_error(error: GraphQLError) -> dict[str, Any]:
    """graphql-core's error in GitHub's shape (``type`` on top; GitHub's wording for unknown fields)."""
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.pop("extensions", None) or {})
    if "type" in extensions:
        formatted["type"] = extensions.pop("type")
    match = _UNDEFINED_FIELD.match(error.message)
    if match:
        formatted["message"] = f"Field '{match['field']}' doesn't exist on type '{match['type']}'"
        extensions = {"code": "undefinedField", "typeName": match["type"], "fieldName": match["field"]}
    if extensions:
        formatted["extensions"] = extensions
    return formatted


def _graphql_sent(raw: bytes) -> tuple[str, dict[str, Any]]:
    """The document and variables of a GraphQL request (empty when the body is not JSON)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return "", {}
    if not isinstance(body, dict):
        return "", {}
    variables = body.get("variables")
    return str(body.get("query") or ""), dict(variables) if isinstance(variables, dict) else {}


def _graphql_operation(raw: bytes) -> str | None:
    try:
        query = json.loads(raw).get("query", "")
    except (ValueError, AttributeError):
        return None
    match = re.search(r"\b(query|mutation)\s*(\w*)", query)
    if match is None:
        return "query"
    return f"{match.group(1)} {match.group(2)}".strip()


def _html(status: int, title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>{body}", status
    )


def _check_manifest(document: Any) -> None:
    """GitHub's checks of a manifest that archbot could get wrong (ValueError: GitHub's message)."""
    if not isinstance(document, dict):
        raise ValueError("The configuration does not appear to be a valid GitHub App manifest.")
    unknown = set(document) - MANIFEST_KEYS
    if unknown:
        raise ValueError(f"Unknown manifest keys: {', '.join(sorted(unknown))}")
    if not isinstance(document.get("url"), str) or not document["url"].startswith(("http://", "https://")):
        raise ValueError("Url is not a valid URL")
    hook = document.get("hook_attributes")
    if hook is not None and (
        not isinstance(hook, dict) or not str(hook.get("url", "")).startswith(("http://", "https://"))
    ):
        raise ValueError("Hook url is not a valid URL")
    if not isinstance(document.get("redirect_url"), str) or not document["redirect_url"].startswith(
        ("http://", "https://")
    ):
        raise ValueError("Redirect url is not a valid URL")
    permissions = document.get("default_permissions") or {}
    if not isinstance(permissions, dict) or any(v not in ("read", "write") for v in permissions.values()):
        raise ValueError("Default permissions are invalid")
    events = document.get("default_events") or []
    unsupported = [e for e in events if e in ("installation", "installation_repositories") or e not in MANIFEST_EVENTS]
    if unsupported:
        raise ValueError(f"Default events unsupported: {' and '.join(unsupported)}")
    uncovered = [e for e in events if not any(p in permissions for p in MANIFEST_EVENTS[e])]
    if uncovered:
        raise ValueError(f"Default events are not supported by permissions: {' and '.join(uncovered)}")


@contextlib.contextmanager
def serve_fake(fake: FakeGitHub, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``fake`` with uvicorn on a free port in a background thread; yields the API base URL
    (``http://127.0.0.1:<port><prefix>``) for subprocesses (``GITHUB_API_URL``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(fake, log_level="warning", lifespan="off", ws="none", http="h11", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="fakegithub")
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake GitHub server did not start")
            time.sleep(0.01)
        try:
            yield f"http://{host}:{port}{fake.prefix}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)


__all__ = [
    "ACTIONS_LOGIN",
    "ACTIONS_TOKEN",
    "FakeGitHub",
    "LoggedRequest",
    "ManifestApp",
    "app_private_key",
    "parse_diff",
    "serve_fake",
]
