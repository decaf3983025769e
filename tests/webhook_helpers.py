"""Test helpers: load the real webhook fixtures and sign deliveries like GitHub does."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from app.webhooks import sign

FIXTURES = Path(__file__).parent / "fixtures" / "github-webhooks"
SECRET = "test-webhook-secret"


def load_payload(event: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / event / name).read_text(encoding="utf-8"))
    return data


def all_fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.json"))


def signed_headers(body: bytes, event: str, *, secret: str = SECRET, delivery: str | None = None) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery or str(uuid.uuid4()),
        "x-hub-signature-256": sign(body, secret),
    }
