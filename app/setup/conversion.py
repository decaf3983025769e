"""``POST {api}/app-manifests/{code}/conversions``: GitHub's one-time code for the new App's credentials.

GitHub answers 201 with the App (``id``, ``slug``, ``html_url``, ``pem``, ``webhook_secret``, ...),
404 for a code that is unknown, already used or older than an hour, 422 when it refuses the request.
Everything in the answer is untrusted: it is validated here, and the secrets stay ``SecretStr``.
"""

from __future__ import annotations

import re
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

CONVERSION_TIMEOUT = 10.0
_CODE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
ConversionProblem = Literal["bad_code", "expired", "refused", "github_error", "unreachable", "bad_answer"]


class ConversionError(Exception):
    """The code could not be exchanged; ``problem`` says which page to show, the message is safe to show."""

    def __init__(self, problem: ConversionProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


class NewApp(BaseModel):
    """The part of GitHub's answer archbot keeps."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int = Field(gt=0)
    slug: str = Field(pattern=_SLUG.pattern)
    name: str = Field(min_length=1, max_length=100)
    html_url: str = Field(pattern=r"^https?://[^\s\"'<>]+$", max_length=500)
    pem: SecretStr
    webhook_secret: SecretStr


def valid_code(code: str) -> bool:
    return bool(_CODE.fullmatch(code))


async def convert(
    api_url: str,
    code: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    http_timeout: float = CONVERSION_TIMEOUT,
) -> NewApp:
    """Exchange ``code`` (checked with ``valid_code`` first) for the App; a ``ConversionError`` otherwise."""
    if not valid_code(code):
        raise ConversionError("bad_code", "the code in the address is not one GitHub issues")
    url = f"{api_url.rstrip('/')}/app-manifests/{code}/conversions"
    headers = {"accept": "application/vnd.github+json", "x-github-api-version": "2022-11-28", "user-agent": "archbot"}
    try:
        async with httpx.AsyncClient(timeout=http_timeout, transport=transport, follow_redirects=False) as client:
            response = await client.post(url, headers=headers)
    except httpx.HTTPError as exc:
        raise ConversionError("unreachable", f"could not reach {api_url} ({type(exc).__name__})") from None
    if response.status_code == 404:
        raise ConversionError("expired", "GitHub does not know this code: it was used already or is over an hour old")
    if response.status_code == 422:
        raise ConversionError("refused", f"GitHub refused the code (HTTP 422): {_message(response)}")
    if response.status_code != 201:
        raise ConversionError("github_error", f"GitHub answered HTTP {response.status_code}: {_message(response)}")
    try:
        return NewApp.model_validate_json(response.content)
    except ValidationError:
        raise ConversionError("bad_answer", "GitHub's answer did not describe a new App") from None


def _message(response: httpx.Response) -> str:
    """GitHub's ``message``, shortened to one plain line (shown on the page, autoescaped)."""
    try:
        body = response.json()
    except ValueError:
        return "no message"
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str):
        return "no message"
    return " ".join(message.split())[:200] or "no message"
