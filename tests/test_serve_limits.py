"""``archbot serve --help`` documents the limits ``archbot serve`` really sets (uvicorn's and the
receiver's), with the values the code uses."""

from __future__ import annotations

import subprocess
import sys

from app import serve, web
from app.settings import Settings


def test_serve_help_states_the_limits_serve_sets() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    text = " ".join(done.stdout.split())
    defaults = Settings.model_fields
    assert f"body size {defaults['archbot_max_body_bytes'].default // (1024 * 1024)} MiB" in text
    assert f"body time {defaults['archbot_body_timeout'].default:g} s" in text
    assert f"connections {defaults['archbot_max_connections'].default} open connections" in text
    assert f"keep-alive idle {serve.KEEP_ALIVE_SECONDS} s" in text
    assert f"request line+headers {serve.MAX_HEADER_BYTES // 1024} KiB" in text
    assert f"listen backlog {serve.BACKLOG}" in text
    assert f"store answer {web.STORE_TIMEOUT:g} s: 503" in text
