"""Lenient models of the webhook payload fields archbot reads; everything else is ignored.

githubkit's strict parser rejects 80 of the 273 real payloads in our fixtures, so routing never
depends on it: these models accept any shape GitHub sends and only require what a handler needs.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_Lenient):
    """A user, bot or organization."""

    login: str = ""
    id: int | None = None
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


class Installation(_Lenient):
    id: int


class RepositoryRef(_Lenient):
    full_name: str
    default_branch: str | None = None
    private: bool = False


class Label(_Lenient):
    name: str = ""


class GitRef(_Lenient):
    sha: str = ""
    ref: str = ""
    repo: RepositoryRef | None = None


class PullRequest(_Lenient):
    number: int
    title: str = ""
    state: str = "open"
    draft: bool = False
    user: Account = Field(default_factory=Account)
    head: GitRef = Field(default_factory=GitRef)
    base: GitRef = Field(default_factory=GitRef)


class Issue(_Lenient):
    number: int
    title: str = ""
    body: str | None = None
    state: str = "open"
    user: Account = Field(default_factory=Account)
    labels: list[Label] = Field(default_factory=list)
    pull_request: dict[str, Any] | None = None  # present when the issue is a pull request

    @property
    def is_pull_request(self) -> bool:
        return self.pull_request is not None


class Comment(_Lenient):
    id: int
    body: str | None = None
    user: Account = Field(default_factory=Account)
    performed_via_github_app: dict[str, Any] | None = None
    in_reply_to_id: int | None = None  # review comments: the thread's first comment, for a reply
    path: str | None = None  # review comments: the file the thread is on


class Event(_Lenient):
    """The common envelope: every handled event has these (all optional but ``name``)."""

    name: str
    action: str | None = None
    installation: Installation | None = None
    repository: RepositoryRef | None = None
    sender: Account | None = None
    pull_request: PullRequest | None = None
    issue: Issue | None = None
    comment: Comment | None = None
    label: Label | None = None


class EventParseError(ValueError):
    """The payload is not a JSON object of the expected shape."""


def parse_event(name: str, payload: Any) -> Event:
    """Build an :class:`Event` from a decoded payload; unknown parts are ignored, wrong parts dropped.

    A field whose shape is wrong (for example ``pull_request`` that is not an object) is dropped rather
    than failing the whole delivery: the handler then sees ``None`` and does nothing.
    """
    if not isinstance(payload, dict):
        raise EventParseError("payload is not a JSON object")
    data = {k: v for k, v in payload.items() if k in Event.model_fields}
    data["name"] = name
    try:
        return Event.model_validate(data)
    except ValidationError as exc:
        bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        cleaned = {k: v for k, v in data.items() if k not in bad or k == "name"}
        try:
            return Event.model_validate(cleaned)
        except ValidationError:
            raise EventParseError("payload has no usable fields") from None
