"""Tests of secret detection/redaction and of the Markdown sanitizer applied to all model output."""

from __future__ import annotations

import itertools
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.review.markers import parse_marker, render_marker
from app.review.sanitize import (
    MENTION_BREAKER,
    SecretMatch,
    find_secrets,
    redact_secrets,
    sanitize_markdown,
    shannon_entropy,
    strip_markers,
)

ZW = MENTION_BREAKER
# An @ that GitHub would turn into a notification: not preceded by a word character, followed by a login.
RAW_MENTION = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z0-9]")
MARKER_LIKE = re.compile(r"<!--\s*archbot", re.IGNORECASE)
MARKER_KINDS = ("summary", "review", "plan", "design", "finding")

GITHUB_CLASSIC = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
RSA_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA1c7+9z5Pad7OejecsQ0bu3aozN3tihPmljnnudb9G3HECdnH\n"
    "lWu2/a1gB9JW5TBQ+AVpum9Okx7KfqkfBKL9mcHgSL0yWMdjMfNOqNtrQqKlN4kE\n"
    "-----END RSA PRIVATE KEY-----"
)


def kinds(text: str) -> list[str]:
    return [match.kind for match in find_secrets(text)]


def secret_texts(text: str) -> list[str]:
    return [text[match.start : match.end] for match in find_secrets(text)]


# --------------------------------------------------------------------------------------------------
# find_secrets: one positive case per detector, with the exact span
# --------------------------------------------------------------------------------------------------

POSITIVE = [
    ("aws_access_key_id", "key = AKIAQWERTYUIOPASDFGH here", "AKIAQWERTYUIOPASDFGH"),
    ("aws_access_key_id", "ASIAQWERTYUIOPASDFGH", "ASIAQWERTYUIOPASDFGH"),
    (
        "aws_secret_access_key",
        'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzXaMpLeKeY"',
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzXaMpLeKeY",
    ),
    (
        "aws_secret_access_key",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzXaMpLeKeY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzXaMpLeKeY",
    ),
    ("github_token", f"token {GITHUB_CLASSIC}.", GITHUB_CLASSIC),
    ("github_token", "gho_" + "x" * 36, "gho_" + "x" * 36),
    ("github_token", "ghu_" + "Y" * 36, "ghu_" + "Y" * 36),
    ("github_token", "ghs_" + "z9" * 18, "ghs_" + "z9" * 18),
    ("github_token", "ghr_" + "Q" * 40, "ghr_" + "Q" * 40),
    (
        "github_token",
        "Authorization: token ghs_123456_eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJnaXRodWIiLCJpbnN0In0.c2ln_-Zz9 end",
        "ghs_123456_eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJnaXRodWIiLCJpbnN0In0.c2ln_-Zz9",
    ),
    (
        "github_pat",
        "github_pat_11ABCDEFG0123456789abc_" + "a1B2c3D4" * 7 + "xyz",
        "github_pat_11ABCDEFG0123456789abc_" + "a1B2c3D4" * 7 + "xyz",
    ),
    (
        "anthropic_api_key",
        "ANTHROPIC_API_KEY sk-ant-api03-" + "Ab1_-" * 10,
        "sk-ant-api03-" + "Ab1_-" * 10,
    ),
    ("openai_api_key", "sk-proj-" + "Zx9_-" * 8, "sk-proj-" + "Zx9_-" * 8),
    ("openai_api_key", "legacy sk-" + "a1B2" * 12 + " key", "sk-" + "a1B2" * 12),
    (
        "slack_token",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
    ),
    (
        "slack_webhook",
        "post to https://hooks.slack.com/services/T0000/B0000/XXXXabcd1234 now",
        "https://hooks.slack.com/services/T0000/B0000/XXXXabcd1234",
    ),
    ("google_api_key", "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
    ("private_key", f"before\n{RSA_KEY}\nafter", RSA_KEY),
    (
        "jwt",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("url_credentials", "DATABASE_URL=postgres://admin:S3cr3tP4ss@db.internal:5432/app", "S3cr3tP4ss"),
    ("secret_assignment", 'password = "hX9#kL2$mQ7!vB4"', "hX9#kL2$mQ7!vB4"),
    ("secret_assignment", "api_key: 'a8f5f167f44f4964e6c998dee827110c'", "a8f5f167f44f4964e6c998dee827110c"),
    ("secret_assignment", "SECRET_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    ("secret_assignment", '{"client_secret": "Zq8Lp2Rt6Wy1Xv4Nb7"}', "Zq8Lp2Rt6Wy1Xv4Nb7"),
    ("secret_assignment", 'DB_PASSWORD: str = "Tr0ub4dor&3xyzQ"', "Tr0ub4dor&3xyzQ"),
    ("secret_assignment", 'if token == "k3Jd8sLq0Pw2mZx7":', "k3Jd8sLq0Pw2mZx7"),
]


@pytest.mark.parametrize(("kind", "text", "secret"), POSITIVE)
def test_find_secrets_detects_each_kind_with_exact_span(kind: str, text: str, secret: str) -> None:
    assert kinds(text) == [kind]
    assert secret_texts(text) == [secret]


@pytest.mark.parametrize(
    "header",
    ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"],
)
def test_pem_blocks_of_every_flavour_are_matched_whole(header: str) -> None:
    block = f"-----BEGIN {header}-----\nAAAAB3NzaC1yc2EAAAADAQABAAABAQC7\nvb3RkZWZhdWx0\n-----END {header}-----"
    text = f'key = """\n{block}\n"""'
    assert secret_texts(text) == [block]


def test_pem_in_a_diff_and_in_json_and_without_end_line() -> None:
    diff = "+-----BEGIN PRIVATE KEY-----\n+MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n+-----END PRIVATE KEY-----\n+x = 1"
    assert secret_texts(diff) == [diff[1 : diff.index("\n+x")]]
    escaped = '{"key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkq\\n-----END PRIVATE KEY-----\\n"}'
    assert kinds(escaped) == ["private_key"]
    assert "MIIE" not in redact_secrets(escaped)
    truncated = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1c7\nlWu2/a1gB9JW5TBQ\n\nThis line is prose."
    redacted = redact_secrets(truncated)
    assert "MIIE" not in redacted and "lWu2" not in redacted
    assert redacted.endswith("This line is prose.")


NEGATIVE = [
    'password = "changeme"',
    'password = "changeme-please-123"',
    'token = "${GITHUB_TOKEN}"',
    'api_key = os.environ["API_KEY"]',
    "api_key = os.environ.get('API_KEY')",
    'secret = "<your-secret-here>"',
    'password = "xxxxxxxxxxxxxxxx"',
    'password = "************"',
    "token = get_token(user_id=123456789)",
    "max_tokens = 4096",
    'tokenizer = "bert-base-uncased-v2"',
    'password_hash = "pbkdf2_sha256$a8f5f167f44f"',
    'token_url = "https://example.org/oauth/token"',
    'TOKEN_HEADER = "Authorization"',
    "password = settings.database_password",
    "SECRET_KEY = DJANGO_SECRET_KEY_FROM_ENV",
    'secret = "short"',
    "postgres://user:password@localhost:5432/db",
    "redis://:${REDIS_PASSWORD}@cache:6379",
    "send mail to someone@example.org",
    "git@github.com:org/repo.git",
    "sha 0123456789abcdef0123456789abcdef01234567",
    "the word token appears in prose: a token is a string",
    "if token == expected_token_value1:",
    'api_key = "[REDACTED:openai_api_key]"',
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_find_secrets_ignores_placeholders_lookups_and_code(text: str) -> None:
    assert find_secrets(text) == []


def test_matches_are_sorted_and_overlaps_merged_to_cover_every_secret_character() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    text = f"a {GITHUB_CLASSIC} b token = '{jwt}' c AKIAQWERTYUIOPASDFGH"
    found = find_secrets(text)
    assert [m.kind for m in found] == ["github_token", "jwt", "aws_access_key_id"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    # A new-format installation token contains a JWT: one match, the GitHub one, covering both.
    ghs = "ghs_42_eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJnaXRodWIifQ.c2lnbmF0dXJl"
    assert find_secrets(ghs) == [SecretMatch("github_token", 0, len(ghs))]


@pytest.mark.parametrize(
    "prefix",
    ["", "x = 1\n", "naïve = 'Σ café'\n", "dotted = 'İ'\n"],  # ASCII; non-ASCII, same length lowered; longer
)
def test_line_prefiltered_detectors_find_the_same_spans_in_any_text(prefix: str) -> None:
    aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzXaMpLeKeY"
    text = f'{prefix}first = 1\nAWS_Secret_Access_Key = "{aws}"\nPassword = "Zq8v!rT2#mWp"\nlast = 2'
    found = find_secrets(text)
    assert [(m.kind, text[m.start : m.end]) for m in found] == [
        ("aws_secret_access_key", aws),
        ("secret_assignment", "Zq8v!rT2#mWp"),
    ]


def test_a_case_insensitive_detector_still_matches_a_non_ascii_letter_in_its_name() -> None:
    # ``(?i)`` lets the long s (U+017F) match an "s", which ``str.lower`` keeps: not skipped as a line
    # without the word "secret".
    aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzXaMpLeKeY"
    text = f'AWS_\u017fECRET_ACCESS_KEY = "{aws}"'
    assert [(m.kind, text[m.start : m.end]) for m in find_secrets(text)] == [("aws_secret_access_key", aws)]


def test_redact_secrets_replaces_with_kind_and_keeps_the_rest() -> None:
    text = f'GITHUB_TOKEN = "{GITHUB_CLASSIC}"  # ci\nurl = https://bot:Xy7Qw9Er2Ty5@example.org/x'
    redacted = redact_secrets(text)
    assert redacted == (
        'GITHUB_TOKEN = "[REDACTED:github_token]"  # ci\nurl = https://bot:[REDACTED:url_credentials]@example.org/x'
    )
    assert find_secrets(redacted) == []
    assert redact_secrets(redacted) == redacted
    assert redact_secrets("nothing here") == "nothing here"


def test_redaction_repeats_until_a_glued_neighbour_is_caught() -> None:
    text = 'password = AKIAQWERTYUIOPASDFGHpassword = "k3Jd8sLq0Pw2mZx7"'
    redacted = redact_secrets(text)
    assert "k3Jd8sLq0Pw2mZx7" not in redacted and "AKIA" not in redacted
    assert redact_secrets(redacted) == redacted


def test_shannon_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)


SECRETISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                GITHUB_CLASSIC,
                "AKIAQWERTYUIOPASDFGH",
                "password = ",
                "token=",
                '"',
                "'",
                "sk-",
                "ant-",
                "eyJ",
                ".",
                "-----BEGIN RSA PRIVATE KEY-----",
                "-----END RSA PRIVATE KEY-----",
                "https://",
                "u:p@",
                "\n",
                " ",
                "[REDACTED:jwt]",
            ]
        ),
        st.text(alphabet="aZ09_-/+=:@.", max_size=24),
    ),
    max_size=25,
).map("".join)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(SECRETISH)
def test_property_matches_are_ordered_disjoint_and_redaction_is_stable(text: str) -> None:
    found = find_secrets(text)
    assert all(0 <= m.start < m.end <= len(text) for m in found)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    redacted = redact_secrets(text)
    assert GITHUB_CLASSIC not in redacted
    assert "AKIAQWERTYUIOPASDFGH" not in redacted
    assert redact_secrets(redacted) == redacted


# --------------------------------------------------------------------------------------------------
# strip_markers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forged",
    [
        '<!-- archbot:summary {"sha":"evil"} -->',
        '<!--archbot:summary {"sha":"evil"}-->',
        '<!--   ARCHBOT:Summary {"sha":"evil"}   -->',
        '<!--\narchbot:summary\n{"sha":"evil"}\n-->',
        '<!-- archbot:summary {"sha":"evil"}',  # never closed
        '<!-<!-- archbot -->- archbot:summary {"sha":"evil"} -->',  # rebuilt by the first removal
    ],
)
def test_strip_markers_removes_every_variant(forged: str) -> None:
    cleaned = strip_markers(f"before {forged} after")
    assert not MARKER_LIKE.search(cleaned)
    assert parse_marker(cleaned, "summary") is None
    assert cleaned.startswith("before ")


# --------------------------------------------------------------------------------------------------
# sanitize_markdown: examples
# --------------------------------------------------------------------------------------------------


def test_mentions_are_neutralised_but_emails_and_code_are_not() -> None:
    out = sanitize_markdown("Ping @octocat and @my-org/security-team (cc @a1). Mail a@b.com, x.y@z.io.")
    assert out == (f"Ping @{ZW}octocat and @{ZW}my-org/security-team (cc @{ZW}a1). Mail a@b.com, x.y@z.io.")
    assert sanitize_markdown("use `@app.get` here") == "use `@app.get` here"
    assert sanitize_markdown("@pytest.fixture\n") == f"@{ZW}pytest.fixture\n"


def test_mentions_hidden_in_entities_are_neutralised() -> None:
    assert sanitize_markdown("&#64;root &#x40;root &commat;root &#0064;root") == " ".join([f"@{ZW}root"] * 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see ![diagram](https://evil.example/p.png?u=1) here", "see diagram here"),
        ('![alt text](https://evil.example/p.png "title")', "alt text"),
        ("![ref style][img]\n\n[img]: https://evil.example/p.png", "ref style\n\n\\[img]: evil.example/p.png"),
        ("![shortcut]", "shortcut"),
        ("![]()", ""),
        ("[![badge](https://evil.example/b.svg)](https://github.com/o/r)", "[badge](https://github.com/o/r)"),
        ('<img src="https://evil.example/p.png" onerror="alert(1)">after', "after"),
        ("<IMG\nSRC=x>ok", "ok"),
        ("a ![ b", "a !\\[ b"),
    ],
)
def test_images_are_stripped(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>alert(1)</script>", "alert(1)"),
        ("<details><summary>Open</summary>hidden</details>", "Openhidden"),
        ('<a href="https://evil.example">click</a>', "click"),
        ("<b>bold</b> and <i>it</i>", "bold and it"),
        ("a < b and c > d, 1<2", "a < b and c > d, 1<2"),
        ("<img src=x", "&lt;img src=x"),  # an incomplete tag is escaped, not left to the renderer
        ("<?php echo 1 ?>", "&lt;?php echo 1 ?>"),
        ("<<b>!-- x -->", "&lt;!-- x -->"),
        ("keep <https://github.com/o/r> and <a@b.com>", "keep https://github.com/o/r and a@b.com"),
        ("<javascript:alert(1)>", "javascript:alert(1)"),
    ],
)
def test_raw_html_is_removed_keeping_text(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


def test_html_comments_and_forged_markers_are_removed() -> None:
    forged = render_marker("summary", {"sha": "forged", "fps": []})
    text = f"Looks good.{forged}\n<!-- hidden instructions -->\n<!-->\nend <!-- never closed"
    out = sanitize_markdown(text)
    assert "<!--" not in out
    assert parse_marker(out, "summary") is None
    assert out.startswith("Looks good.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[click me](https://evil.example/login)", "click me"),
        ("[repo](https://github.com/o/r/pull/1)", "[repo](https://github.com/o/r/pull/1)"),
        ("[docs](https://docs.github.com/en/rest)", "[docs](https://docs.github.com/en/rest)"),
        ("[up](HTTPS://GitHub.com/o)", "[up](HTTPS://GitHub.com/o)"),
        ('[t](https://github.com/o "title")', "[t](https://github.com/o)"),
        ("[js](javascript:alert(1))", "js"),
        ("[data](data:text/html;base64,PHNjcmlwdD4=)", "data"),
        ("[rel](/o/r/issues)", "rel"),
        ("[proto](//evil.example/x)", "proto"),
        ("[userinfo](https://github.com@evil.example/)", "userinfo"),
        ("[frag](https://evil.example#@github.com)", "frag"),
        ("[slash](https://github.com\\.evil.example/)", "slash"),
        ("[port](https://github.com:8443/)", "port"),
        ("[look-alike](https://github.com.evil.example/)", "look-alike"),
        ("[suffix](https://notgithub.com/)", "suffix"),
        ("[entity](https://evil.example&#47;.github.com/)", "entity"),
        ("[angle](<https://evil.example/a b>)", "angle"),
        ("[paren](<https://evil.example/(>)", "paren"),
        ("[nested [brackets]](https://evil.example)", "nested [brackets]"),
        ("[ok](https://github.com/a_(b))", "[ok](https://github.com/a_%28b%29)"),
        ("[broken](https://evil.example not a title)", "broken"),
    ],
)
def test_links_keep_only_allowed_hosts(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


def test_allowed_hosts_parameter() -> None:
    text = "[a](https://docs.python.org/3/) [b](https://github.com/x)"
    assert sanitize_markdown(text, allowed_hosts=("docs.python.org",)) == "[a](https://docs.python.org/3/) b"
    assert sanitize_markdown(text, allowed_hosts=()) == "a b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("log in at https://evil.example/login now", "log in at evil.example/login now"),
        ("www.evil.example/x", "www\u200b.evil.example/x"),
        ("https://www.evil.example/x", "www\u200b.evil.example/x"),
        ("HTTP://EVIL.EXAMPLE/", "EVIL.EXAMPLE/"),
        ("[https://evil.example](https://github.com/o)", "[evil.example](https://github.com/o)"),
        ("a | https://evil.example | b", "a | evil.example | b"),
        ("see https://github.com/o/r/pull/1.", "see https://github.com/o/r/pull/1."),
        ("`https://evil.example` in code stays", "`https://evil.example` in code stays"),
    ],
)
def test_bare_urls_to_other_hosts_are_no_longer_autolinked(text: str, expected: str) -> None:
    """GitHub autolinks a bare ``https://…`` or ``www.…``: outside code, only allowed hosts keep that form."""
    out = sanitize_markdown(text)
    assert out == expected
    assert sanitize_markdown(out) == out


def test_link_reference_definitions_are_disarmed() -> None:
    text = "[click][x]\n\n[x]: https://evil.example\n> [y]: https://evil.example\n- [z]:\n  https://evil.example"
    out = sanitize_markdown(text)
    assert "\n[x]:" not in out and "\\[x]:" in out
    assert "> \\[y]:" in out and "- \\[z]:" in out


def test_code_is_left_intact_except_secrets_and_markers() -> None:
    code = (
        "```python\n"
        "@app.get('/')  # @mention-looking decorator\n"
        "html = '<img src=x> ![i](https://evil.example/i.png) <!-- comment -->'\n"
        '<!-- archbot:summary {"sha":"evil"} -->\n'
        f"token = '{GITHUB_CLASSIC}'\n"
        "```"
    )
    out = sanitize_markdown(f"Before @bob\n\n{code}\n\nAfter `<b>@carol</b>` done")
    assert "@app.get('/')  # @mention-looking decorator" in out
    assert "html = '<img src=x> ![i](https://evil.example/i.png) <!-- comment -->'" in out
    assert "archbot" not in out
    assert GITHUB_CLASSIC not in out and "token = '[REDACTED:github_token]'" in out
    assert out.startswith(f"Before @{ZW}bob\n\n```python\n")
    assert out.endswith("After `<b>@carol</b>` done")


def test_fences_tilde_long_and_unclosed() -> None:
    assert sanitize_markdown("~~~\n<b>@x</b>\n~~~") == "~~~\n<b>@x</b>\n~~~"
    assert sanitize_markdown("````\n```\n@x\n```\n````\n@y") == f"````\n```\n@x\n```\n````\n@{ZW}y"
    # An open fence is closed, so the text cannot swallow what a renderer appends after it.
    assert sanitize_markdown("```\n@x <img src=y>") == "```\n@x <img src=y>\n```"
    assert sanitize_markdown("text\n```") == "text\n```\n```"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # GitHub pairs backticks across the lines of a paragraph: "@user" is prose there.
        ("`x\n`@user`", "\\`x\n`@user`"),
        # A heading ends the inline content, so the second line's backticks are a code span.
        ("# `a\n`@user`", "# \\`a\n`@user`"),
        ("- `a\n- `@user`", "- \\`a\n- `@user`"),
        # A table cell boundary splits "`x | @user`": escape, then it is prose everywhere.
        ("| a | b |\n|---|---|\n| `x | @user` |", f"| a | b |\n|---|---|\n| \\`x | @{ZW}user\\` |"),
        # An indented fence (list item, quote) is not tracked: it is escaped and its body is prose.
        ("- item\n  ```\n  @user\n  ```", f"- item\n  \\`\\`\\`\n  @{ZW}user\n  \\`\\`\\`"),
        ("> ```\n> @user\n> ```", f"> \\`\\`\\`\n> @{ZW}user\n> \\`\\`\\`"),
        ("  ~~~\n```\n~~~\n@user\n```", "  \\~\\~\\~\n```\n~~~\n@user\n```"),
        ("\\`@user`", f"\\`@{ZW}user\\`"),
        ("``a ` b``", "``a ` b``"),
    ],
)
def test_code_boundaries_follow_github_or_are_escaped(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


def test_secrets_are_redacted_in_prose() -> None:
    out = sanitize_markdown(f"Your key {GITHUB_CLASSIC} leaked; also AKIAQWERTYUIOPASDFGH.")
    assert out == "Your key [REDACTED:github_token] leaked; also [REDACTED:aws_access_key_id]."


def test_secret_split_by_a_tag_is_caught_after_the_tag_is_removed() -> None:
    out = sanitize_markdown(f"{GITHUB_CLASSIC[:10]}<b>{GITHUB_CLASSIC[10:]}")
    assert out == "[REDACTED:github_token]"


def test_truncation_caps_length_and_is_stable() -> None:
    out = sanitize_markdown("word " * 5000, max_chars=1000)
    assert len(out) <= 1000
    assert out.endswith("… (truncated)")
    assert sanitize_markdown(out, max_chars=1000) == out


def test_truncation_inside_a_fence_closes_it() -> None:
    text = "intro\n\n```python\n" + "x = 1\n" * 2000 + "```\n\n@after"
    out = sanitize_markdown(text, max_chars=500)
    assert len(out) <= 500
    body = out.removesuffix("\n\n… (truncated)")
    assert body.endswith("```") and body.count("```") == 2
    assert sanitize_markdown(out, max_chars=500) == out


def test_truncation_that_splits_a_code_span_does_not_leak_a_mention() -> None:
    text = "a" * 80 + " `@user " + "b" * 200 + "`"
    out = sanitize_markdown(text, max_chars=100)
    assert len(out) <= 100
    assert not RAW_MENTION.search(out)


def test_inline_mode_is_one_line_without_fences() -> None:
    out = sanitize_markdown("```python\nTitle @bob\n\n<b>x</b>  ", inline=True)
    assert "\n" not in out
    assert out == f"\\`\\`\\`python Title @{ZW}bob x"
    assert sanitize_markdown("~~~ @bob", inline=True) == f"~~~ @{ZW}bob"
    long = sanitize_markdown("t " * 500, inline=True, max_chars=50)
    assert len(long) <= 50 and long.endswith("… (truncated)") and "\n" not in long


def test_max_chars_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        sanitize_markdown("x", max_chars=5)


def test_control_characters_and_carriage_returns_are_normalised() -> None:
    assert sanitize_markdown("a\r\nb\rc\x00d\x1b[31m") == "a\nb\ncd[31m"


@pytest.mark.parametrize(
    "garbage",
    [
        "<!--" * 15_000,
        "[" * 60_000,
        "](" * 30_000,
        "`" * 60_000,
        "` " * 30_000,
        "_" * 60_000,
        "-" * 60_000,
        "-----BEGIN RSA PRIVATE KEY-----" * 2_000,
        "<a " * 20_000,
        "![" * 30_000,
        "[a](" * 15_000,
        '[a](b "' * 8_000,
        "@a " * 20_000,
        "```\n" * 15_000,
        "password = 'x" * 5_000,
    ],
)
def test_adversarial_input_is_handled_quickly(garbage: str) -> None:
    started = time.monotonic()
    out = sanitize_markdown(garbage)
    assert time.monotonic() - started < 10
    assert len(out) <= 60_000
    assert not MARKER_LIKE.search(out)


# --------------------------------------------------------------------------------------------------
# sanitize_markdown: properties
# --------------------------------------------------------------------------------------------------

HOSTILE_FRAGMENTS = [
    "@",
    "@user",
    "@org/team",
    "a@b.com",
    "<",
    ">",
    "<!--",
    "-->",
    "-",
    '<!-- archbot:summary {"sha":"x"} -->',
    "<!--ARCHBOT:review",
    "archbot:",
    "!",
    "[",
    "]",
    "(",
    ")",
    "![x](https://evil.example/i.png)",
    "![",
    "[l](https://evil.example)",
    "[g](https://github.com/x)",
    "](",
    "<img src=x>",
    "<b>",
    "</b>",
    "<script>",
    "&#64;",
    "&lt;",
    "\\",
    "\n",
    "\n\n",
    " ",
    "    ",
    "> ",
    "- ",
    "1. ",
    "# ",
    "|",
    "---",
    ":",
    "https://",
    "javascript:",
    GITHUB_CLASSIC,
    "\u200b",
    "*",
    "_",
    '"',
]
CODE_FRAGMENTS = ["`", "``", "```", "~~~", "\n```\n", "\n~~~\n", "```python\n"]

PROSE_TEXT = st.lists(
    st.one_of(st.sampled_from(HOSTILE_FRAGMENTS), st.text(alphabet="abcXYZ019 .,@<>![]()-\n", max_size=8)),
    max_size=40,
).map("".join)
ANY_TEXT = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE_FRAGMENTS + CODE_FRAGMENTS),
        st.text(max_size=8),
    ),
    max_size=40,
).map("".join)

PROPERTY_SETTINGS = settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(PROSE_TEXT)
def test_property_prose_output_has_no_comment_image_or_mention(text: str) -> None:
    out = sanitize_markdown(text)
    assert "<!--" not in out
    assert "![" not in out
    assert not RAW_MENTION.search(out), out
    assert "<img" not in out.lower() and "<script" not in out.lower()
    assert GITHUB_CLASSIC not in out


@PROPERTY_SETTINGS
@given(ANY_TEXT)
def test_property_sanitize_is_idempotent_and_leaves_no_marker(text: str) -> None:
    out = sanitize_markdown(text)
    assert sanitize_markdown(out) == out
    assert not MARKER_LIKE.search(out)
    for kind in MARKER_KINDS:
        assert parse_marker(out, kind) is None
    assert GITHUB_CLASSIC not in out
    assert find_secrets(out) == []


@PROPERTY_SETTINGS
@given(ANY_TEXT, st.integers(min_value=20, max_value=200))
def test_property_truncated_output_is_capped_and_idempotent(text: str, max_chars: int) -> None:
    out = sanitize_markdown(text, max_chars=max_chars)
    assert len(out) <= max_chars
    assert sanitize_markdown(out, max_chars=max_chars) == out


@PROPERTY_SETTINGS
@given(ANY_TEXT)
def test_property_inline_mode_is_single_line_and_idempotent(text: str) -> None:
    out = sanitize_markdown(text, inline=True)
    assert "\n" not in out
    assert sanitize_markdown(out, inline=True) == out
    if "`" not in out:
        assert not RAW_MENTION.search(out)
