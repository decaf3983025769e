"""Write the new App's credentials: the private key to its own file and the settings to ``.env``,
both mode 0600, each replaced atomically; nothing here prints or logs a secret.

An existing ``.env`` keeps its other settings (``ANTHROPIC_API_KEY``...). One that already names a
GitHub App setting, or an existing key file, is left alone unless ``force`` is set; with ``force``
only archbot's App lines are replaced.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from dotenv.parser import parse_stream

from app.setup.conversion import NewApp
from app.setup.manifest import GITHUB_COM_API

# The variables app/settings.py reads for the App; any of them in .env means "already set up".
APP_SETTINGS = (
    "GITHUB_APP_ID",
    "GITHUB_PRIVATE_KEY",
    "GITHUB_PRIVATE_KEY_PATH",
    "GITHUB_WEBHOOK_SECRET",
    "GITHUB_WEBHOOK_SECRET_PREVIOUS",
    "GITHUB_API_URL",
)
SECRET_MODE = 0o600
_SAFE_SLUG = re.compile(r"[^a-z0-9-]")


class EnvFileError(Exception):
    """``.env`` or the key file cannot be written; the message names the file, never a value."""


@dataclass(frozen=True)
class Written:
    env_path: Path
    key_path: Path


def key_path_for(env_path: Path, slug: str) -> Path:
    """The key file next to ``.env``, named as GitHub names the downloads: ``<slug>.private-key.pem``."""
    return env_path.parent / f"{_SAFE_SLUG.sub('-', slug.lower())[:100] or 'archbot'}.private-key.pem"


def existing_app_settings(env_path: Path) -> list[str]:
    """The App settings ``env_path`` defines already (empty when it does not exist)."""
    try:
        text = env_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvFileError(f"cannot read {env_path}: {_reason(exc)}") from None
    return [b.key for b in parse_stream(io.StringIO(text)) if b.key is not None and b.key.upper() in APP_SETTINGS]


def refusal(env_path: Path, *, force: bool) -> str | None:
    """Why the credentials may not be written to ``env_path`` (None: they may)."""
    if force:
        return None
    present = existing_app_settings(env_path)
    if present:
        return (
            f"{env_path} already sets {', '.join(dict.fromkeys(present))}; "
            "run `archbot setup --force` to replace them (your other settings are kept)"
        )
    return None


def write_credentials(env_path: Path, app: NewApp, *, api_url: str, force: bool) -> Written:
    """Write the key file, then ``.env``; both 0600. ``EnvFileError`` on refusal or an I/O failure."""
    problem = refusal(env_path, force=force)
    if problem is not None:
        raise EnvFileError(problem)
    env_path = env_path.absolute()
    key_path = key_path_for(env_path, app.slug)
    if key_path.exists() and not force:
        raise EnvFileError(f"{key_path} exists already; run `archbot setup --force` to replace it")
    kept = _kept_lines(env_path)
    lines = [
        f"# GitHub App {app.slug} (id {app.id}), registered by `archbot setup`\n",
        f"GITHUB_APP_ID={app.id}\n",
        f"GITHUB_PRIVATE_KEY_PATH={_quote(str(key_path))}\n",
        f"GITHUB_WEBHOOK_SECRET={_quote(app.webhook_secret.get_secret_value())}\n",
    ]
    if api_url != GITHUB_COM_API:
        lines.append(f"GITHUB_API_URL={_quote(api_url)}\n")
    if kept and not kept.endswith("\n"):
        kept += "\n"
    _write_secret_file(key_path, app.pem.get_secret_value())
    _write_secret_file(env_path, kept + "".join(lines))
    return Written(env_path=env_path, key_path=key_path)


def _kept_lines(env_path: Path) -> str:
    """``env_path`` without its App settings (bindings may span lines: a quoted PEM)."""
    try:
        text = env_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvFileError(f"cannot read {env_path}: {_reason(exc)}") from None
    return "".join(
        b.original.string for b in parse_stream(io.StringIO(text)) if b.key is None or b.key.upper() not in APP_SETTINGS
    )


def _quote(value: str) -> str:
    """A double-quoted dotenv value (python-dotenv decodes these escapes). python-dotenv expands ``${NAME}``
    in every value, quoted or not, and has no escape for it: such a value is refused, not mangled."""
    if "${" in value:
        raise EnvFileError("a value to write contains '${', which .env would expand; write the settings by hand")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def _write_secret_file(path: Path, text: str) -> None:
    """Create a 0600 temporary file beside ``path``, write, fsync, rename over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), SECRET_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), SECRET_MODE)  # whatever the umask
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise EnvFileError(f"cannot write {path}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__
