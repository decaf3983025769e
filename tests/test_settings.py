"""Settings: the environment contract, secrets kept secret, clear errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings, SettingsError, load_settings

CLEAN = ("GITHUB_", "ANTHROPIC_", "ARCHBOT_")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(CLEAN):
            monkeypatch.delenv(name)


def test_defaults_need_nothing() -> None:
    s = load_settings()
    assert s.github_api_url == "https://api.github.com"
    assert s.archbot_model == "claude-sonnet-4-6"
    assert s.archbot_database_url == "sqlite:///./archbot.db"
    assert s.archbot_fail_on == "none"


def test_serve_names_every_missing_variable() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings().require_app()
    message = str(info.value)
    for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET"):
        assert name in message


def test_private_key_from_path_and_unreadable_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n")
    monkeypatch.setenv("GITHUB_APP_ID", "12")
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key))
    s = load_settings()
    s.require_app()
    assert s.private_key() == key.read_text()
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(tmp_path / "missing.pem"))
    with pytest.raises(SettingsError, match="GITHUB_PRIVATE_KEY_PATH"):
        load_settings().require_app()


def test_both_key_sources_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", "x")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", "/tmp/x.pem")
    with pytest.raises(SettingsError, match="not both"):
        load_settings()


def test_escaped_newlines_in_the_key_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", "-----BEGIN KEY-----\\nabc\\n-----END KEY-----")
    assert load_settings().private_key() == "-----BEGIN KEY-----\nabc\n-----END KEY-----"


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "hunter2-webhook")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-value-0000000000")
    s = load_settings()
    assert "hunter2" not in repr(s) and "sk-ant" not in repr(s)
    assert s.webhook_secrets() == ["hunter2-webhook"] and s.has_model_credentials()


def test_rotation_keeps_both_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "new")
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET_PREVIOUS", "old")
    assert load_settings().webhook_secrets() == ["new", "old"]


def test_empty_action_inputs_are_unset_and_bad_values_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHBOT_SEVERITY_THRESHOLD", "")  # an empty composite-action input
    monkeypatch.setenv("ARCHBOT_SARIF_FILE", "")
    s = load_settings()
    assert s.archbot_severity_threshold is None and s.archbot_sarif_file is None
    monkeypatch.setenv("ARCHBOT_FAIL_ON", "sometimes")
    with pytest.raises(SettingsError, match="ARCHBOT_FAIL_ON"):
        load_settings()


def test_settings_are_built_not_global() -> None:
    import app.settings

    # importing the module builds nothing: there is no module-level Settings instance to share
    assert not any(isinstance(value, Settings) for value in vars(app.settings).values())
