"""Secret redaction and the output sanitizer: what archbot sends, logs or posts never leaks or pings.

Two concerns live here, both pure:

* ``find_secrets`` / ``redact_secrets``: detectors for credentials (also used by the static engine to
  flag secrets committed in code) and their redaction.
* ``sanitize_markdown``: everything the model wrote passes through it before it is posted. Images,
  raw HTML, HTML comments (and so any forged ``<!-- archbot:… -->`` state marker), links to hosts
  outside an allow-list, @mentions and secrets are neutralised; code is left as written.

The sanitizer does not try to render Markdown. It decides what is code (fenced blocks that start in
column 0, and single-line code spans) and then *escapes every other backtick or fence* so that GitHub's
parser can only agree with that decision: text the sanitizer treated as prose can never turn into code
on github.com, nor the other way round. It then repeats its pass until the text no longer changes, so
that removals which join text back together (``<<b>!--``) cannot leave anything behind, and a second
call returns its input unchanged.
"""

from __future__ import annotations

import math
import re
import string
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

# --------------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretMatch:
    """One credential found in a text: its kind and the ``[start, end)`` offsets of the secret part."""

    kind: str
    start: int
    end: int


REDACTION_TEMPLATE = "[REDACTED:{kind}]"
_REDACTED_PREFIX = "[REDACTED:"
_MAX_REDACTION_ROUNDS = 4

# Minimum Shannon entropy (bits per character) of a value assigned to a secret-looking name.
GENERIC_SECRET_MIN_ENTROPY = 3.0
GENERIC_SECRET_MIN_LENGTH = 12
# Unquoted values (``.env`` files, YAML) are noisier: they must be longer.
GENERIC_UNQUOTED_MIN_LENGTH = 16

# Values that are obviously not real credentials: docs, templates and environment lookups.
_PLACEHOLDER_FRAGMENTS = (
    "changeme",
    "change_me",
    "change-me",
    "example",
    "placeholder",
    "your_",
    "your-",
    "yourtoken",
    "yoursecret",
    "yourpassword",
    "xxxx",
    "****",
    "...",
    "<",
    ">",
    "${",
    "{{",
    "}}",
    "%(",
    "$(",
    "dummy",
    "redacted",
    "sample",
    "fake",
    "replace",
    "insert",
    "todo",
    "fixme",
    "not_a_real",
    "not-a-real",
    "notreal",
    "secret_here",
    "token_here",
    "key_here",
    "os.environ",
    "getenv",
    "process.env",
    "env[",
    "env(",
    "123456789",
    "abcdefgh",
)
_URL_PASSWORD_PLACEHOLDERS = frozenset(
    {"password", "passwd", "pass", "pwd", "secret", "changeme", "x", "xx", "xxx", "user", "username"}
)

_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
# No END line (a truncated diff or a cut-off paste): the base64 lines that follow the header, also
# as diff lines ("+MIIE…") or inside "\n"-escaped JSON.
_PEM_BODY = re.compile(
    r"(?:(?:\\[rn]|[\r\n])+[ \t+\-\"']*(?:[A-Za-z0-9+/=]{4,}|(?:Proc-Type|DEK-Info|Comment):[^\r\n\\]*)"
    r"[ \t\"',]*(?=\\[rn]|[\r\n]|$))*"
)
# Distinctive prefixes need no word boundary: a key glued to other text is still a key. Where a
# boundary is needed, the look-behind follows the literal prefix (``sk-(?<![…]sk-)``), so that the
# regex engine can scan for the literal instead of trying the look-behind at every position.
_AWS_ACCESS_KEY_ID = re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}")
_AWS_SECRET_ACCESS_KEY = re.compile(
    r"(?i:(?<![A-Za-z0-9])(?:aws[_.\-]?secret[_.\-]?(?:access[_.\-]?)?key|secret[_.\-]?access[_.\-]?key)"
    r"(?![A-Za-z0-9]))[\"'\]]?[ \t]*(?:=|:=|=>|:)[ \t]*[\"']?(?P<v>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
)
_GITHUB_PAT = re.compile(r"github_pat_[A-Za-z0-9_]{22,}")
# Classic 40-character tokens and the stateless installation tokens (ghs_<app id>_<JWT>, ~520 chars),
# which contain dots: a dot is part of the token only when a token character follows it.
_GITHUB_TOKEN = re.compile(r"gh[pousr]_(?:[A-Za-z0-9_\-]|\.(?=[A-Za-z0-9_\-])){36,}")
_ANTHROPIC_KEY = re.compile(r"sk-ant-[A-Za-z0-9_\-]{20,}")
_OPENAI_KEY = re.compile(r"sk-(?<![A-Za-z0-9_\-]sk-)(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}|[A-Za-z0-9]{20,})")
_STRIPE_KEY = re.compile(r"[sr]k_live_(?<![A-Za-z0-9_][sr]k_live_)[A-Za-z0-9]{20,}")
_SLACK_TOKEN = re.compile(r"x(?<![A-Za-z0-9]x)(?:ox[abposre]-[A-Za-z0-9\-]{10,}|app-\d-[A-Za-z0-9\-]{10,})")
_SLACK_WEBHOOK = re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]+")
_GOOGLE_API_KEY = re.compile(r"AIza(?<![A-Za-z0-9_\-]AIza)[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")
_NPM_TOKEN = re.compile(r"npm_(?<![A-Za-z0-9_]npm_)[A-Za-z0-9]{36}(?![A-Za-z0-9])")
_PYPI_TOKEN = re.compile(r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}")
_JWT = re.compile(r"eyJ(?<![A-Za-z0-9_\-]eyJ)[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]*")
_URL_CREDENTIALS = re.compile(r"://[^\s:/?#@\"'<>\[\]]*:(?P<v>[^\s/?#@\"'<>\[\]]+)@")
_CREDENTIAL_WORDS = (
    r"passw(?:or)?d|passwd|passphrase|pwd|secret|token|apikey|bearer|credentials?"
    r"|(?:api|access|auth|private|secret|signing|encryption|client)[_.\-]?(?:key|secret)"
)
_GENERIC_ASSIGNMENT = re.compile(
    r"(?i)(?<![A-Za-z0-9_.\-])[A-Za-z0-9_.\-]*?(?:" + _CREDENTIAL_WORDS + r")(?![A-Za-z0-9])"
    r"[\"'\]]?[ \t]*"
    r"(?P<op>:[ \t]*[A-Za-z_][A-Za-z0-9_.\[\], |]*?[ \t]*=(?!=)|:=|=>|==|!=|=|:)"
    r"[ \t]*(?:[bru]{1,2}(?=[\"']))?"
    r"(?:(?P<q>[\"'`])(?P<qv>[^\"'`\r\n]{1,512})(?P=q)|(?P<uv>[^\s\"'`,;)}\]<>]{1,512}))"
)
_SNAKE_OR_CONSTANT = re.compile(r"[a-z]+(?:_[a-z0-9]+)+|[A-Z]+(?:_[A-Z0-9]+)+")
_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_TOKENISH = re.compile(r"[A-Za-z0-9+/=_\-.~]+")
_AUTH_SCHEME_PREFIX = re.compile(r"(?i)(?:bearer|basic|token)\s+(\S+)")


def shannon_entropy(value: str) -> float:
    """Bits of entropy per character of ``value`` (0.0 for an empty string)."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


def _plausible_secret(value: str, *, quoted: bool) -> bool:
    """Whether a value assigned to a secret-looking name looks like a real credential."""
    prefixed = _AUTH_SCHEME_PREFIX.fullmatch(value.strip())
    candidate = prefixed.group(1) if prefixed else value.strip()
    if len(candidate) < GENERIC_SECRET_MIN_LENGTH or any(ch.isspace() for ch in candidate):
        return False
    lowered = candidate.lower()
    if candidate.startswith(("$", "%")) or any(p in lowered for p in _PLACEHOLDER_FRAGMENTS):
        return False
    if "[redacted" in lowered or len(set(candidate)) < 5:
        return False
    if not quoted:
        # Unquoted values are code as often as configuration: identifiers, attribute paths, calls.
        if len(candidate) < GENERIC_UNQUOTED_MIN_LENGTH or not _TOKENISH.fullmatch(candidate):
            return False
        if _DOTTED_NAME.fullmatch(candidate) or _SNAKE_OR_CONSTANT.fullmatch(candidate):
            return False
        if not (any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate)):
            return False
    if candidate.isalpha() and len(candidate) < 20:
        return False  # a word ("Authorization"), not a key
    return shannon_entropy(candidate) >= GENERIC_SECRET_MIN_ENTROPY


def _generic_value(match: re.Match[str]) -> tuple[int, int] | None:
    quoted = match.group("qv") is not None
    if not quoted and match.group("op") in ("==", "!=", ":=", "=>"):
        return None  # comparisons and walrus assignments with a bare name are code, not config
    group = "qv" if quoted else "uv"
    if not _plausible_secret(match.group(group), quoted=quoted):
        return None
    return match.span(group)


def _url_password(match: re.Match[str]) -> tuple[int, int] | None:
    password = match.group("v")
    lowered = password.lower()
    if lowered in _URL_PASSWORD_PLACEHOLDERS or password.startswith(("$", "%", "{", "<", "*", "[")):
        return None
    if any(p in lowered for p in ("${", "{{", "%(", "xxx", "***", "changeme", "example")):
        return None
    return match.span("v")


def _find_private_keys(text: str) -> Iterator[tuple[int, int]]:
    """PEM private keys, the whole BEGIN…END block (or the header and its body when END is missing)."""
    position = 0
    while begin := _PEM_BEGIN.search(text, position):
        end = _PEM_END.search(text, begin.end())
        if end is None:
            body = _PEM_BODY.match(text, begin.end())
            stop = body.end() if body else begin.end()
            yield begin.start(), stop
            position = stop
        else:
            yield begin.start(), end.end()
            position = end.end()


def _regex_finder(
    pattern: re.Pattern[str], span_of: Callable[[re.Match[str]], tuple[int, int] | None]
) -> Callable[[str], Iterator[tuple[int, int]]]:
    def find(text: str) -> Iterator[tuple[int, int]]:
        for match in pattern.finditer(text):
            if text.endswith(_REDACTED_PREFIX, 0, match.start()):
                continue  # the kind inside "[REDACTED:github_token]" is not a name being assigned
            span = span_of(match)
            if span is not None:
                yield span

    return find


_CREDENTIAL_HINTS = ("pass", "pwd", "secret", "token", "key", "bearer", "credential")
"""Every word of ``_CREDENTIAL_WORDS`` contains one of these (lower case)."""


def _hint_pattern(hints: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(hint) for hint in hints))


def _lines_with_hints(text: str, hints: tuple[str, ...], found: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """The ``(start, end)`` offsets of the lines of ``text`` whose lower-case text contains one of
    ``hints`` (``found``: the same words as a pattern). The text is lower-cased and searched once
    when that keeps its offsets (every character lower-cases to one: the same length), else line by
    line."""
    lowered = text.lower()
    if len(lowered) == len(text):
        position = 0
        while match := found.search(lowered, position):
            start = lowered.rfind("\n", 0, match.start()) + 1
            end = lowered.find("\n", match.end())
            end = len(lowered) if end < 0 else end
            yield start, end
            position = end + 1
        return
    position = 0
    for line in text.split("\n"):
        end = position + len(line)
        lowered = line.lower()
        if any(hint in lowered for hint in hints):
            yield position, end
        position = end + 1


def _line_finder(
    pattern: re.Pattern[str],
    span_of: Callable[[re.Match[str]], tuple[int, int] | None],
    hints: tuple[str, ...] = _CREDENTIAL_HINTS,
    *,
    whole_unless_ascii: bool = False,
) -> Callable[[str], Iterator[tuple[int, int]]]:
    """Like :func:`_regex_finder` for a pattern that never spans lines and only matches where one of
    ``hints`` is (in any case): it runs only on the lines that contain one (five times faster on
    ordinary code, where a pattern with no literal prefix would otherwise be tried at every offset).
    With ``whole_unless_ascii``, a text that is not ASCII is searched whole (a case-insensitive
    pattern can match non-ASCII letters, the long s for an s, that ``str.lower`` keeps)."""
    found = _hint_pattern(hints)
    whole = _regex_finder(pattern, span_of)

    def find(text: str) -> Iterator[tuple[int, int]]:
        if whole_unless_ascii and not text.isascii():
            yield from whole(text)
            return
        for start, end in _lines_with_hints(text, hints, found):
            for match in pattern.finditer(text, start, end):
                if text.endswith(_REDACTED_PREFIX, 0, match.start()):
                    continue
                span = span_of(match)
                if span is not None:
                    yield span

    return find


def _named_group(name: str) -> Callable[[re.Match[str]], tuple[int, int] | None]:
    def span(match: re.Match[str]) -> tuple[int, int] | None:
        return match.span(name)

    return span


def _whole(match: re.Match[str]) -> tuple[int, int] | None:
    return match.span()


# Earlier detectors win when two find exactly the same span.
_DETECTORS: tuple[tuple[str, Callable[[str], Iterator[tuple[int, int]]]], ...] = (
    ("private_key", _find_private_keys),
    ("aws_access_key_id", _regex_finder(_AWS_ACCESS_KEY_ID, _whole)),
    (
        "aws_secret_access_key",
        _line_finder(_AWS_SECRET_ACCESS_KEY, _named_group("v"), ("secret",), whole_unless_ascii=True),
    ),
    ("github_pat", _regex_finder(_GITHUB_PAT, _whole)),
    ("github_token", _regex_finder(_GITHUB_TOKEN, _whole)),
    ("anthropic_api_key", _regex_finder(_ANTHROPIC_KEY, _whole)),
    ("openai_api_key", _regex_finder(_OPENAI_KEY, _whole)),
    ("stripe_key", _regex_finder(_STRIPE_KEY, _whole)),
    ("slack_token", _regex_finder(_SLACK_TOKEN, _whole)),
    ("slack_webhook", _regex_finder(_SLACK_WEBHOOK, _whole)),
    ("google_api_key", _regex_finder(_GOOGLE_API_KEY, _whole)),
    ("npm_token", _regex_finder(_NPM_TOKEN, _whole)),
    ("pypi_token", _regex_finder(_PYPI_TOKEN, _whole)),
    ("jwt", _regex_finder(_JWT, _whole)),
    ("url_credentials", _regex_finder(_URL_CREDENTIALS, _url_password)),
    ("secret_assignment", _line_finder(_GENERIC_ASSIGNMENT, _generic_value)),
)


def find_secrets(text: str) -> list[SecretMatch]:
    """Every credential in ``text``, sorted by offset and never overlapping.

    Overlapping hits are merged into one match (keeping the kind of the one that starts first, or of
    the higher-priority detector for the same start), so redacting the matches covers every secret
    character. For assignments (``password = "…"``) and URLs with credentials only the value is
    matched, so the name stays readable.
    """
    hits: list[tuple[int, int, int, str]] = []
    for priority, (kind, find) in enumerate(_DETECTORS):
        for start, end in find(text):
            if end > start:
                hits.append((start, -end, priority, kind))
    hits.sort()
    merged: list[SecretMatch] = []
    for start, neg_end, _priority, kind in hits:
        end = -neg_end
        if merged and start < merged[-1].end:
            last = merged[-1]
            if end > last.end:
                merged[-1] = SecretMatch(last.kind, last.start, end)
            continue
        merged.append(SecretMatch(kind, start, end))
    return merged


def redact_secrets(text: str) -> str:
    """``text`` with every secret replaced by ``[REDACTED:<kind>]``.

    Repeated until nothing more is found: a redaction can give a glued neighbour the word boundary
    its detector needs (``password = AKIA…password = "…"``).
    """
    for _ in range(_MAX_REDACTION_ROUNDS):
        redacted = _redact_once(text)
        if redacted == text:
            break
        text = redacted
    return text


def _redact_once(text: str) -> str:
    matches = find_secrets(text)
    if not matches:
        return text
    parts: list[str] = []
    cursor = 0
    for match in matches:
        parts.append(text[cursor : match.start])
        parts.append(REDACTION_TEMPLATE.format(kind=match.kind))
        cursor = match.end
    parts.append(text[cursor:])
    return "".join(parts)


# --------------------------------------------------------------------------------------------------
# Markers
# --------------------------------------------------------------------------------------------------

# Anything a marker parser could take for archbot's hidden state, in any case or spacing.
_MARKER_OPENER = re.compile(r"<!--\s*archbot", re.IGNORECASE)
_COMMENT_OPENER = re.compile(r"<!--")


def strip_markers(text: str) -> str:
    """Remove everything that looks like an archbot marker (``<!-- archbot…``), also inside code.

    Repeats until nothing is left, because a removal can join the pieces of another marker.
    """
    while True:
        cleaned = _MARKER_OPENER.sub("", _remove_comments(text, _MARKER_OPENER))
        if cleaned == text:
            return cleaned
        text = cleaned


def _remove_comments(text: str, opener: re.Pattern[str]) -> str:
    """Remove each ``opener … -->`` span; one ``find`` per opener keeps this linear on garbage."""
    parts: list[str] = []
    position = 0
    while found := opener.search(text, position):
        if text.startswith(("<!-->", "<!--->"), found.start()) and opener is _COMMENT_OPENER:
            close = found.start() + (5 if text.startswith("<!-->", found.start()) else 6)
        else:
            end = text.find("-->", found.end())
            if end < 0:
                break  # no comment closes after this one: none of the later openers can close either
            close = end + 3
        parts.append(text[position : found.start()])
        position = close
    parts.append(text[position:])
    return "".join(parts)


# --------------------------------------------------------------------------------------------------
# Markdown sanitizer
# --------------------------------------------------------------------------------------------------

DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ("github.com",)
DEFAULT_MAX_CHARS = 60_000
TRUNCATION_NOTE = "\n\n… (truncated)"
INLINE_TRUNCATION_NOTE = " … (truncated)"
# Inserted between "@" and a login: GitHub no longer sees a mention (the trick Renovate uses).
MENTION_BREAKER = "\u200b"

_MAX_PASSES = 6
_MAX_LINK_NESTING = 16
_MAX_DESTINATION_PARENS = 32  # cmark's limit on nested parentheses in a link destination
_MAX_LOOSE_LINK = 500
_SLOT_OPEN = "\ue000"
_SLOT_CLOSE = "\ue001"
_SLOT = re.compile(_SLOT_OPEN + r"(\d+)" + _SLOT_CLOSE)
_PUNCTUATION = frozenset(string.punctuation)

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f" + _SLOT_OPEN + _SLOT_CLOSE + "]")
_FENCE_OPEN = re.compile(r"(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_FENCE_CLOSE = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})[ \t]*")
# A fence-like run after indentation or container markers (">", "-", "1."): GitHub might open a
# fenced block there that this module does not track, so the run is escaped instead.
_FENCE_LIKE = re.compile(r"(?P<prefix>(?:[ \t]|>|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t]))*)(?P<run>`{3,}|~{3,})")
_TABLE_DELIMITER_ROW = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
# "[label]: destination" at the start of a line (inside containers too) defines a link target.
_LINK_DEFINITION = re.compile(
    r"^(?P<prefix>(?:[ \t]|>|[-+*][ \t]|\d{1,9}[.)][ \t])*)\[(?=(?:\\.|[^\\\[\]])+\]:)", re.MULTILINE
)
_AT_ENTITY = re.compile(r"&(?:#0*64|#[xX]0*40|commat);")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*)>")
_EMAIL_AUTOLINK = re.compile(r"<([^\s<>@]+@[^\s<>@]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9\-]*(?:\s[^<>]*)?/?>")
_HTML_OPENING = re.compile(r"<(?=[A-Za-z/!?])")
_IMAGE_OPENING = re.compile(r"!\[")
_MENTION = re.compile(r"(?<![A-Za-z0-9_])@(?=[A-Za-z0-9])")
# What GitHub's extended autolinks turn into a link without any markup: "https://host…", "www.host…".
_BARE_URL = re.compile(
    r"(?i)(?<![A-Za-z0-9_\-.])(?P<scheme>https?://)?(?P<rest>(?(scheme)|www\.)[^\s<>`\\|\[\]()"
    + _SLOT_OPEN
    + _SLOT_CLOSE
    + r"]+)"
)
_WWW = re.compile(r"(?i)www\.")
_HOSTNAME = re.compile(r"[a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?")
# Kept in link targets as is; "@", "[", "]" and the rest are percent-encoded, so a URL can carry
# nothing that looks like a mention or an image.
_URL_SAFE = "-._~:/?#!$&'*+,;=%"


def sanitize_markdown(
    text: str,
    *,
    allowed_hosts: Sequence[str] = DEFAULT_ALLOWED_HOSTS,
    max_chars: int = DEFAULT_MAX_CHARS,
    inline: bool = False,
) -> str:
    """Make untrusted Markdown (model output) safe to post on GitHub.

    Outside code: images become their alt text, raw HTML tags are removed (their text kept),
    HTML comments are removed, links to hosts other than ``allowed_hosts`` (or their subdomains,
    https/http only) become their label, link reference definitions are disarmed, and @mentions get
    a zero-width space after the ``@`` so nobody is notified (e-mail addresses are left alone).
    Everywhere, code included: secrets are redacted and archbot markers removed. Fenced blocks left
    open are closed, so the text cannot swallow what follows it. Output longer than ``max_chars``
    is cut and ends with a "(truncated)" note.

    ``inline=True`` is for text that goes on one line after other text (titles): newlines become
    spaces and there are no fenced blocks. The result is idempotent: sanitizing it again changes nothing.
    """
    note = INLINE_TRUNCATION_NOTE if inline else TRUNCATION_NOTE
    if max_chars < len(note) + 1:
        raise ValueError(f"max_chars must be at least {len(note) + 1}")
    hosts = tuple(h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip())
    cleaned = _normalize(text, inline=inline)
    result = _to_fixpoint(cleaned, hosts, inline=inline)
    if len(result) <= max_chars:
        return result
    limit = max_chars - len(note)
    cut = limit
    while True:
        # Cutting can split a code span or fence: sanitize the cut text again, and cut shorter when
        # that grows it (a closing fence, escaped backticks).
        body = _to_fixpoint(result[:cut].rstrip(), hosts, inline=inline)
        if len(body) <= limit:
            return body + note
        cut = max(0, cut - max(1, len(body) - limit))


def _normalize(text: str, *, inline: bool) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_CHARS.sub("", text)
    if inline:
        text = " ".join(text.split())
    return text


def _to_fixpoint(text: str, hosts: tuple[str, ...], *, inline: bool) -> str:
    for _ in range(_MAX_PASSES):
        cleaned = _sanitize_pass(text, hosts, inline=inline, code_aware=True)
        if cleaned == text:
            return text
        text = cleaned
    # Adversarial input that keeps changing: give up on keeping code intact and treat it all as prose.
    for _ in range(_MAX_PASSES):
        cleaned = _sanitize_pass(text, hosts, inline=inline, code_aware=False)
        if cleaned == text:
            break
        text = cleaned
    return text


def _sanitize_pass(text: str, hosts: tuple[str, ...], *, inline: bool, code_aware: bool) -> str:
    text = redact_secrets(text)
    slots: list[str] = []
    if code_aware:
        masked = _mask_code(text, slots, fences=not inline)
    else:
        masked = _disarm_definitions(text.replace("`", "&#96;").replace("~", "&#126;"))
    prose = _sanitize_prose(masked, hosts, slots)
    restored = _SLOT.sub(lambda m: slots[int(m.group(1))], prose)
    restored = strip_markers(restored.replace(_SLOT_OPEN, "").replace(_SLOT_CLOSE, ""))
    return " ".join(restored.split()) if inline else restored


def _slot(slots: list[str], content: str) -> str:
    slots.append(content)
    return f"{_SLOT_OPEN}{len(slots) - 1}{_SLOT_CLOSE}"


# ---- code -------------------------------------------------------------------------------------------


def _mask_code(text: str, slots: list[str], *, fences: bool) -> str:
    """Replace code (fenced blocks, single-line code spans) by slot tokens; escape other backticks."""
    if fences:
        text = _mask_fences(text, slots)
    # Link reference definitions are block syntax: GitHub finds them before any code span.
    return _mask_code_spans(_disarm_definitions(text), slots)


def _disarm_definitions(text: str) -> str:
    """Escape the ``[`` of every ``[label]: …`` line so no link reference definition exists."""
    return _LINK_DEFINITION.sub(lambda m: m.group("prefix") + "\\[", text)


def _mask_fences(text: str, slots: list[str]) -> str:
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        opening = _FENCE_OPEN.fullmatch(line)
        if opening and not (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            fence = opening.group("fence")
            end = index + 1
            while end < len(lines) and not _closes(lines[end], fence):
                end += 1
            body = "\n".join(lines[index + 1 : end])
            closer = lines[end] if end < len(lines) else fence  # an open fence is closed here
            block = fence + strip_markers(opening.group("info")) + "\n"
            block += (strip_markers(body) + "\n" if end > index + 1 else "") + closer
            out.append(_slot(slots, block))
            index = end + 1
            continue
        out.append(_escape_fence_like(line))
        index += 1
    return "\n".join(out)


def _closes(line: str, fence: str) -> bool:
    closing = _FENCE_CLOSE.fullmatch(line)
    return bool(closing and closing.group("fence")[0] == fence[0] and len(closing.group("fence")) >= len(fence))


def _escape_fence_like(line: str) -> str:
    found = _FENCE_LIKE.match(line)
    if not found:
        return line
    run = found.group("run")
    if run[0] == "`" and "`" in line[found.end() :]:
        return line  # backticks in the info string: not a fence anywhere, only inline code
    escaped = "".join("\\" + ch for ch in run)
    return found.group("prefix") + escaped + line[found.end() :]


def _mask_code_spans(text: str, slots: list[str]) -> str:
    """Mask code spans paragraph by paragraph (blank lines and fenced blocks separate paragraphs)."""
    lines = text.split("\n")
    out: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(_mask_spans_in(("\n".join(paragraph)), slots))
            paragraph.clear()

    for line in lines:
        if not line.strip() or _SLOT.fullmatch(line):
            flush()
            out.append(line)
        else:
            paragraph.append(line)
    flush()
    return "\n".join(out)


def _mask_spans_in(paragraph: str, slots: list[str]) -> str:
    """CommonMark code-span pairing; only single-line spans are kept as code, other backticks escaped."""
    runs_by_length: dict[int, list[int]] = {}
    for run in re.finditer(r"`+", paragraph):
        runs_by_length.setdefault(len(run.group()), []).append(run.start())
    is_table = any("|" in line and _TABLE_DELIMITER_ROW.fullmatch(line) for line in paragraph.split("\n"))
    out: list[str] = []
    index = 0
    size = len(paragraph)
    while index < size:
        char = paragraph[index]
        if char == "\\" and index + 1 < size and paragraph[index + 1] in _PUNCTUATION:
            out.append(paragraph[index : index + 2])
            index += 2
            continue
        if char != "`":
            out.append(char)
            index += 1
            continue
        end = index
        while end < size and paragraph[end] == "`":
            end += 1
        length = end - index
        starts = runs_by_length.get(length, [])
        position = bisect_left(starts, end)
        if position < len(starts):
            close = starts[position]
            content = paragraph[end:close]
            if "\n" not in content and not (is_table and "|" in content):
                out.append(_slot(slots, "`" * length + strip_markers(content) + "`" * length))
                index = close + length
                continue
        # No closer, or a span that could be read differently (several lines, a table cell):
        # escape the run so GitHub, like this module, sees literal backticks.
        out.append("\\`" * length)
        index = end
    return "".join(out)


# ---- prose ------------------------------------------------------------------------------------------


def _sanitize_prose(text: str, hosts: tuple[str, ...], slots: list[str]) -> str:
    text = _AT_ENTITY.sub("@", text)
    text = _remove_comments(text, _COMMENT_OPENER)
    # Links first: "<…>" is also a link destination form, which an autolink rewrite would break.
    text = _rewrite_links(text, hosts, slots, depth=0)
    text = _AUTOLINK.sub(r"\1", text)
    text = _EMAIL_AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    text = _HTML_OPENING.sub("&lt;", text)
    text = _IMAGE_OPENING.sub("!\\\\[", text)
    text = _BARE_URL.sub(lambda m: _defang_bare_url(m, hosts), text)
    return _MENTION.sub("@" + MENTION_BREAKER, text)


def _defang_bare_url(match: re.Match[str], hosts: tuple[str, ...]) -> str:
    """A bare URL to another host loses what makes GitHub autolink it: its scheme, and the ``www.``.

    The address stays readable (``evil.example/login``) but is no longer a link.
    """
    url, rest = match.group(), match.group("rest")
    if _allowed_destination(url if match.group("scheme") else "https://" + url, hosts):
        return url
    return _WWW.sub("www" + MENTION_BREAKER + ".", rest, count=1) if _WWW.match(rest) else rest


def _bracket_pairs(text: str) -> dict[int, int]:
    """Index of each unescaped ``[`` mapped to the index of its matching ``]``."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in _PUNCTUATION:
            index += 2
            continue
        if char == "[":
            stack.append(index)
        elif char == "]" and stack:
            pairs[stack.pop()] = index
        index += 1
    return pairs


def _rewrite_links(text: str, hosts: tuple[str, ...], slots: list[str], *, depth: int) -> str:
    """Images become their alt text; links keep their label, and their target only on allowed hosts."""
    if depth > _MAX_LINK_NESTING:
        return re.sub(r"(?<!\\)([\[\]])", r"\\\1", text)
    pairs = _bracket_pairs(text)
    out: list[str] = []
    index = 0
    size = len(text)
    while index < size:
        char = text[index]
        if char == "\\" and index + 1 < size and text[index + 1] in _PUNCTUATION:
            out.append(text[index : index + 2])
            index += 2
            continue
        if char == "!" and index + 1 in pairs and text.startswith("[", index + 1):
            close = pairs[index + 1]
            out.append(_rewrite_links(text[index + 2 : close], hosts, slots, depth=depth + 1))
            index = _skip_link_tail(text, close + 1, pairs)
            continue
        if char == "[" and index in pairs and text.startswith("(", pairs[index] + 1):
            close = pairs[index]
            tail = _parse_link_tail(text, close + 1)
            if tail is not None:
                destination, after = tail
                label = _rewrite_links(text[index + 1 : close], hosts, slots, depth=depth + 1)
                target = _allowed_destination(destination, hosts)
                out.append(f"[{label}]({_slot(slots, target)})" if target else label)
                index = after
                continue
        out.append(char)
        index += 1
    return "".join(out)


def _skip_link_tail(text: str, index: int, pairs: dict[int, int]) -> int:
    """Index after an image's ``(destination)`` or ``[reference]``, if one follows at ``index``."""
    if text.startswith("(", index):
        tail = _parse_link_tail(text, index)
        if tail is not None:
            return tail[1]
    if text.startswith("[", index) and index in pairs:
        return pairs[index] + 1
    return index


def _skip_space(text: str, index: int) -> int:
    """Skip spaces and tabs with at most one line ending, as CommonMark allows inside ``(…)``."""
    newline_seen = False
    while index < len(text) and text[index] in " \t\n":
        if text[index] == "\n":
            if newline_seen:
                break
            newline_seen = True
        index += 1
    return index


def _parse_link_tail(text: str, index: int) -> tuple[str | None, int] | None:
    """Parse ``(destination "title")`` at ``index``: (destination, index after ``)``), else None.

    When the strict CommonMark form does not parse but a balanced ``)`` closes it on the same line,
    the link is still taken apart (destination ``None``): dropping link syntax is always safe.
    """
    size = len(text)
    cursor = _skip_space(text, index + 1)
    destination: str | None = None
    if cursor < size and text[cursor] == "<":
        end = cursor + 1
        while end < size and text[end] not in "<>\n":
            end += 2 if text[end] == "\\" else 1
        if end < size and text[end] == ">":
            destination, cursor = text[cursor + 1 : end], end + 1
    else:
        end, depth = cursor, 0
        while end < size and depth <= _MAX_DESTINATION_PARENS:
            char = text[end]
            if char == "\\" and end + 1 < size:
                end += 2
                continue
            if char.isspace() or ord(char) < 32 or (char == ")" and depth == 0):
                break
            depth += {"(": 1, ")": -1}.get(char, 0)
            end += 1
        if depth <= _MAX_DESTINATION_PARENS:
            destination, cursor = text[cursor:end], end
    if destination is not None:
        cursor = _skip_space(text, cursor)
        if cursor < size and text[cursor] in "\"'(":
            end = _title_end(text, cursor)
            cursor = _skip_space(text, end + 1) if end >= 0 else size
        if cursor < size and text[cursor] == ")":
            return destination, cursor + 1
    return _balanced_close(text, index)


def _title_end(text: str, start: int) -> int:
    """Index of the quote or parenthesis closing the link title opened at ``start``, or -1.

    ``str.find`` keeps this fast on garbage with thousands of unclosed titles.
    """
    closer = ")" if text[start] == "(" else text[start]
    position = start + 1
    while (found := text.find(closer, position)) >= 0:
        if text.find("\n\n", start, found) >= 0:
            return -1  # a title cannot span a blank line
        backslashes = len(text[start + 1 : found]) - len(text[start + 1 : found].rstrip("\\"))
        if backslashes % 2 == 0:
            return found
        position = found + 1
    return -1


def _balanced_close(text: str, index: int) -> tuple[str | None, int] | None:
    depth = 0
    for position in range(index, min(len(text), index + _MAX_LOOSE_LINK)):
        char = text[position]
        if char == "\n":
            return None
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return None, position + 1
    return None


def _allowed_destination(destination: str | None, hosts: tuple[str, ...]) -> str | None:
    """The destination, percent-encoded, when it is an absolute http(s) URL on an allowed host."""
    if not destination or any(ch in destination for ch in "\\" + _SLOT_OPEN + _SLOT_CLOSE):
        return None
    if any(ch.isspace() or ord(ch) < 32 for ch in destination):
        return None
    try:
        parts = urlsplit(destination)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    # No user info, no port, nothing a browser could read as another host ("github.com\\@evil").
    if parts.netloc.lower() != host or not _HOSTNAME.fullmatch(host):
        return None
    if not any(host == allowed or host.endswith("." + allowed) for allowed in hosts):
        return None
    return quote(destination, safe=_URL_SAFE)
