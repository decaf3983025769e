"""archbot's App manifest and the GitHub URLs of the manifest flow (pure: no I/O).

GitHub docs, "Registering a GitHub App from a manifest": the manifest is POSTed as the form field
``manifest`` to ``<github>/settings/apps/new?state=…`` (an organization's App:
``<github>/organizations/<org>/settings/apps/new``); GitHub redirects to ``redirect_url`` with
``code`` and ``state``; ``POST <api>/app-manifests/<code>/conversions`` turns the code (valid one
hour, once) into the App's id, private key and webhook secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

HOMEPAGE = "https://github.com/archbot/archbot"
GITHUB_COM = "https://github.com"
GITHUB_COM_API = "https://api.github.com"
DEFAULT_NAME = "archbot"

# README "Install as a GitHub App": what each permission is for.
PERMISSIONS: dict[str, str] = {
    "contents": "read",
    "metadata": "read",
    "pull_requests": "write",
    "issues": "write",
    "checks": "write",
}
# installation and installation_repositories are delivered to every App without a subscription, and
# GitHub refuses them in a manifest ("Default events unsupported: installation").
EVENTS: tuple[str, ...] = ("pull_request", "pull_request_review_comment", "issues", "issue_comment")
ALWAYS_DELIVERED: tuple[str, ...] = ("installation", "installation_repositories")

_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,33}")


class SetupInputError(ValueError):
    """An option of ``archbot setup`` is not usable; the message names it."""


def base_url(value: str, option: str) -> str:
    """``value`` as an http(s) origin-plus-path without a trailing slash, query, fragment or user info."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SetupInputError(f"{option}: {value!r} is not an http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SetupInputError(f"{option}: {value!r} must not carry a query, fragment or user name")
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def api_url_for(github_url: str) -> str:
    """The REST API base of a GitHub: api.github.com for github.com, ``<url>/api/v3`` for Enterprise Server."""
    return GITHUB_COM_API if github_url == GITHUB_COM else f"{github_url}/api/v3"


def check_org(org: str | None) -> str | None:
    if org is not None and not _LOGIN.fullmatch(org):
        raise SetupInputError(f"--org: {org!r} is not a GitHub organization login")
    return org


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise SetupInputError(f"--name: {name!r} is not a usable App name (1-34 letters, digits, spaces, . _ -)")
    return name


@dataclass(frozen=True)
class SetupTarget:
    """Where the App is registered and where GitHub will deliver its webhooks."""

    github_url: str = GITHUB_COM
    public_url: str | None = None  # None: archbot cannot say where GitHub reaches it; no form is offered
    org: str | None = None
    name: str = DEFAULT_NAME

    @property
    def api_url(self) -> str:
        return api_url_for(self.github_url)

    @property
    def webhook_url(self) -> str | None:
        return None if self.public_url is None else f"{self.public_url}/webhook"

    def new_app_url(self, state: str) -> str:
        """GitHub's "new App" page the manifest form posts to, for the user or the organization."""
        where = f"/organizations/{quote(self.org)}" if self.org else ""
        return f"{self.github_url}{where}/settings/apps/new?state={quote(state, safe='')}"


def build_target(
    *, github_url: str | None, public_url: str | None, org: str | None, name: str | None = None
) -> SetupTarget:
    """Validated setup options (``SetupInputError`` names the bad one)."""
    return SetupTarget(
        github_url=base_url(github_url, "--github-url") if github_url else GITHUB_COM,
        public_url=base_url(public_url, "--public-url") if public_url else None,
        org=check_org(org),
        name=check_name(name) if name else (f"{DEFAULT_NAME}-{org}"[:34] if org else DEFAULT_NAME),
    )


def manifest(target: SetupTarget, *, redirect_url: str) -> dict[str, Any]:
    """The manifest GitHub registers the App from: archbot's permissions, events and webhook URL."""
    if target.webhook_url is None:
        raise SetupInputError("--public-url is needed: it is where GitHub delivers the App's webhooks")
    return {
        "name": target.name,
        "url": HOMEPAGE,
        "description": "Reviews pull requests like a senior architect, with a focus on security and concurrency.",
        "hook_attributes": {"url": target.webhook_url, "active": True},
        "redirect_url": redirect_url,
        "public": False,
        "default_permissions": dict(PERMISSIONS),
        "default_events": list(EVENTS),
    }
