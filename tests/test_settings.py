"""Settings: the environment contract, secrets kept secret, clear errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings, SettingsError, load_settings
from tests.fakegithub import app_private_key

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
        load_settings().require_serve()
    message = str(info.value)
    for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET"):
        assert name in message


def test_worker_needs_the_app_credentials_and_not_the_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings().require_app_credentials()
    assert str(info.value) == "missing required setting: GITHUB_APP_ID, GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH"
    monkeypatch.setenv("GITHUB_APP_ID", "12")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", app_private_key())
    load_settings().require_app_credentials()  # no GITHUB_WEBHOOK_SECRET: fine for a worker
    with pytest.raises(SettingsError, match=r"^missing required setting: GITHUB_WEBHOOK_SECRET$"):
        load_settings().require_serve()


def test_private_key_from_path_and_unreadable_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text(app_private_key())
    monkeypatch.setenv("GITHUB_APP_ID", "12")
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key))
    s = load_settings()
    s.require_serve()
    assert s.private_key() == key.read_text()
    missing = tmp_path / "missing.pem"
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(missing))
    with pytest.raises(SettingsError) as info:
        load_settings().require_serve()
    assert (
        str(info.value) == f"cannot read the private key (GITHUB_PRIVATE_KEY_PATH={missing}): No such file or directory"
    )


JUNK_KINDS = ("text", "empty", "bad base64", "public key", "EC key")


def _junk(kind: str) -> str:
    """A key file's content that is not a GitHub App's private key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if kind == "public key":
        public = serialization.load_pem_private_key(app_private_key().encode(), None).public_key()
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    if kind == "EC key":
        return (
            ec.generate_private_key(ec.SECP256R1())
            .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            .decode()
        )
    return {"text": "not a key\n", "empty": "", "bad base64": "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END"}[kind]


@pytest.mark.parametrize("kind", JUNK_KINDS)
@pytest.mark.parametrize("source", ["path", "variable"])
def test_a_junk_key_is_named_with_the_variable_the_user_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str, source: str
) -> None:
    monkeypatch.setenv("GITHUB_APP_ID", "12")
    junk = _junk(kind)
    if source == "path":
        key = tmp_path / "app.pem"
        key.write_text(junk)
        monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key))
        named = f"GITHUB_PRIVATE_KEY_PATH={key}"
    else:
        if not junk:
            pytest.skip("an empty variable is unset (env_ignore_empty)")
        monkeypatch.setenv("GITHUB_PRIVATE_KEY", junk)
        named = "GITHUB_PRIVATE_KEY"
    with pytest.raises(SettingsError) as info:
        load_settings().require_app_credentials()
    message = str(info.value)
    assert message.startswith(f"cannot read the private key ({named}): ")
    expected = "not an RSA key" if kind == "EC key" else "not a PEM private key"
    assert expected in message
    assert "BEGIN" not in message  # never the key itself


def test_a_binary_key_file_is_not_a_crash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = tmp_path / "app.der"
    key.write_bytes(b"\x30\x82\xff\xfe")
    monkeypatch.setenv("GITHUB_APP_ID", "12")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key))
    with pytest.raises(SettingsError, match=r"^cannot read the private key \(GITHUB_PRIVATE_KEY_PATH=.*not a PEM"):
        load_settings().require_app_credentials()


def test_an_encrypted_key_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(app_private_key().encode(), None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()
    monkeypatch.setenv("GITHUB_APP_ID", "12")
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", encrypted)
    with pytest.raises(
        SettingsError, match=r"^cannot read the private key \(GITHUB_PRIVATE_KEY\): the key is encrypted"
    ):
        load_settings().require_app_credentials()


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
