"""The issue-15 families owned by app/static/crypto_checks.py and app/static/redos.py: insecure randomness
(ARCH140), weak hard-coded secrets (ARCH141), JWT without verification (ARCH110, ARCH143) and ReDoS (ARCH142,
ARCH144). Each case fires on its pattern and stays quiet on the look-alike that is fine."""

from __future__ import annotations

import ast
import textwrap

import pytest

from app.static.crypto_checks import check_crypto, is_test_path, secret_name, token_name, weak_secret_value
from app.static.engine import ChangedPython, analyse
from app.static.module_view import ModuleView
from app.static.redos import check_redos, nested_quantifier


def hits(source: str, path: str = "service/app.py") -> set[tuple[str, int]]:
    text = textwrap.dedent(source)
    view = ModuleView(ast.parse(text), path, text.split("\n"), frozenset())
    return {(f.rule_id, f.line) for f in check_crypto(view) + check_redos(view)}


def rules(source: str, path: str = "service/app.py") -> set[str]:
    return {rule for rule, _ in hits(source, path)}


# ------------------------------------------------------------------------------------ ARCH140

RANDOM_FLAGGED = [
    "import random\ndef make_reset_token():\n    return ''.join(random.choice('abc') for _ in range(20))\n",
    "import random\ndef f(user):\n    user.otp = random.randint(100000, 999999)\n",
    "import random\ndef f(session):\n    session['csrf_token'] = str(random.random())\n",
    "import numpy as np\ndef f():\n    api_key = np.random.bytes(16).hex()\n    return api_key\n",
    "import random\nrng = random.Random()\ndef f():\n    nonce = rng.getrandbits(96)\n    return nonce\n",
    "import uuid\ndef f(u):\n    u.password_reset_token = uuid.uuid1().hex\n",
    "import hashlib, time\ndef session_key():\n    return hashlib.sha1(str(time.time()).encode()).hexdigest()\n",
    "import random\ndef f(resp):\n    resp.set_cookie('session_id', str(random.getrandbits(64)))\n",
    "from random import choices\ndef f(make):\n    return make(invite_code=''.join(choices('ABC', k=8)))\n",
]
RANDOM_QUIET = [
    "import secrets\ndef make_reset_token():\n    return secrets.token_urlsafe(32)\n",
    "import random\ndef make_reset_token():\n"
    "    return ''.join(random.SystemRandom().choice('ab') for _ in range(9))\n",
    "import random\ndef backoff(n):\n    return 2**n * random.uniform(0.5, 1.5)\n",
    "import random\ndef f(vocab):\n    tokens = random.choices(vocab, k=10)\n    return tokens\n",
    "import random\ndef f():\n    max_new_tokens = random.randint(1, 512)\n    return max_new_tokens\n",
    "import random\ndef pick_session_host(hosts):\n    return random.choice(hosts)\n",
    "import uuid\ndef f():\n    token = uuid.uuid1().hex\n    return token\n",  # a lock owner id, not a secret
    "import uuid\ndef session_id():\n    return uuid.uuid4().hex\n",
    "import random\ndef should_sample_token(rate):\n    return random.random() < rate\n",
]


@pytest.mark.parametrize("source", RANDOM_FLAGGED)
def test_insecure_random_is_flagged_where_it_becomes_a_secret(source: str) -> None:
    assert "ARCH140" in rules(source)


@pytest.mark.parametrize("source", RANDOM_QUIET)
def test_random_for_sampling_jitter_and_ids_is_not_flagged(source: str) -> None:
    assert "ARCH140" not in rules(source)


def test_token_names() -> None:
    assert token_name("password_reset_token") and token_name("sessionId") and token_name("loginCode")
    assert not token_name("num_tokens") and not token_name("token_count") and not token_name("session")
    assert not token_name("reset_delay") and not token_name("code")


# ------------------------------------------------------------------------------------ ARCH141

SECRET_FLAGGED = [
    ("SECRET_KEY = 'changeme'\n", 1),
    ("app.secret_key = 'dev'\n", 1),
    ("app.config['SECRET_KEY'] = 'dev-secret-key'\n", 1),
    ("import psycopg\ndef f():\n    return psycopg.connect(host='db', password='Wq7vR2nXk9')\n", 3),
    ("def f(smtp):\n    smtp.login('me@corp', 'M4il-S3nd3r!')\n", 2),
    ("def connect(user='admin', password='admin'):\n    pass\n", 1),
    ("import jwt\ndef f(p):\n    return jwt.encode(p, 'secret', algorithm='HS256')\n", 3),
    ("import requests\ndef f():\n    return requests.get('u', auth=('svc', 'svc-pass'), timeout=5)\n", 3),
    ("import hmac\ndef f(b):\n    return hmac.new(b'webhook-key', b, 'sha256')\n", 3),
    ("import psycopg2\ndef f():\n    return psycopg2.connect('host=db user=app password=app123')\n", 3),
    ("def f(conn):\n    conn.simple_bind_s('cn=svc', 'ldap-pass')\n", 2),
    ("H = {'Authorization': 'Bearer 0123456789abcdef'}\n", 1),
]
SECRET_QUIET = [
    "import os\nSECRET_KEY = os.environ['SECRET_KEY']\n",
    "import os\nSECRET_KEY = os.environ.get('SECRET_KEY', 'dev')\n",  # env default: left alone, by decision
    "PASSWORD = ''\n",
    "PASSWORD_FIELD = 'password'\n",
    "TOKEN_TYPE = 'bearer'\n",
    "API_KEY_HEADER = 'X-API-Key'\n",
    "API_TOKEN = 'api_token'\n",
    "API_KEY = '<your-api-key>'\n",
    "PASSWORD = '${APP_PASSWORD}'\n",
    "DSN = 'user=%(user)s password=%(password)s'\n",
    "SECRET_NAME = 'prod/orders/db-password'\n",
    "def f(token):\n    return token == 'changeme'\n",
    "FIELDS = {'password': 'password', 'username': 'username'}\n",
    "SCHEMA = {'password': 'string'}\n",
    "PROMPTS = {'password': 'Enter your password'}\n",
    "MASKED = {'password': '********'}\n",
    "from pydantic_settings import BaseSettings\nclass Settings(BaseSettings):\n    secret_key: str = 'dev'\n",
    "EXPORTS = {'ApiToken': '._internal.cloud.api_token:ApiToken'}\n",
]


@pytest.mark.parametrize(("source", "line"), SECRET_FLAGGED)
def test_weak_hardcoded_secret_is_flagged(source: str, line: int) -> None:
    assert ("ARCH141", line) in hits(source)


@pytest.mark.parametrize("source", SECRET_QUIET)
def test_names_placeholders_env_reads_and_comparisons_are_not_flagged(source: str) -> None:
    assert "ARCH141" not in rules(source)


def test_secret_names_and_values() -> None:
    assert secret_name("ADMIN_PASSWORD") and secret_name("jwtSecret") and secret_name("aws_secret_access_key")
    assert not secret_name("PASSWORD_RESET_PATH") and not secret_name("password_hash") and not secret_name("key")
    assert weak_secret_value("hunter2") and weak_secret_value(b"dev-key")
    assert not weak_secret_value("{password}") and not weak_secret_value("xxxx") and not weak_secret_value("ab")


def test_test_and_docs_paths_are_quiet() -> None:
    source = "PASSWORD = 'hunter22'\n"
    assert rules(source, "service/settings.py") == {"ARCH141"}
    for path in ("tests/test_login.py", "conftest.py", "docs/samples/auth.py", "examples/quickstart.py"):
        assert is_test_path(path) and not rules(source, path)


def test_engine_reports_a_credential_once() -> None:
    """A line ARCH112's detectors already report gets no ARCH141 on top."""
    source = 'API_KEY = "abcd1234efgh5678"\nDB_PASSWORD = "hunter22"\n'
    report = analyse([ChangedPython("svc/settings.py", source, frozenset({1, 2}))], run_ruff=False)
    found = {(f.rule_id, f.line) for f in report.findings}
    assert ("ARCH112", 1) in found and ("ARCH141", 1) not in found
    assert ("ARCH141", 2) in found


# -------------------------------------------------------------------------------- ARCH110 / 143

JWT_FLAGGED = [
    ("import jwt\ndef f(t):\n    return jwt.decode(t, options={'verify_signature': False})\n", "ARCH110"),
    (
        "import jwt\nOPTS = {'verify_signature': False}\ndef f(t, k):\n    return jwt.decode(t, k, options=OPTS)\n",
        "ARCH110",
    ),
    ("import jwt\ndef f(t, k):\n    return jwt.decode(t, k, verify=False)\n", "ARCH110"),
    ("import jwt\ndef f(t):\n    return jwt.decode(t, '', algorithms=['HS256'])\n", "ARCH110"),
    ("import jwt\ndef f(p):\n    return jwt.encode(p, None, algorithm='none')\n", "ARCH110"),
    ("from jose import jwt\ndef f(t):\n    return jwt.get_unverified_claims(t)\n", "ARCH110"),
    ("from jose import jws\ndef f(t):\n    return jws.get_unverified_claims(t)\n", "ARCH110"),
    ("import python_jwt as pj\ndef f(t):\n    h, c = pj.process_jwt(t)\n    return c\n", "ARCH110"),
    ("from authlib.jose import JsonWebToken\nJ = JsonWebToken(['HS256', 'none'])\n", "ARCH110"),
    ("from authlib.jose import jwt\ndef f(t, k):\n    c = jwt.decode(t, k)\n    return c['sub']\n", "ARCH143"),
    (
        "from authlib.jose import JsonWebToken\nJ = JsonWebToken(['RS256'])\ndef f(t, k):\n    return J.decode(t, k)\n",
        "ARCH143",
    ),
]
JWT_QUIET = [
    "import jwt\ndef f(t, k):\n    return jwt.decode(t, k, algorithms=['RS256'], audience='a')\n",
    "import jwt\ndef f(t):\n    return jwt.decode(t, options={'verify_signature': False})['iss']\n",
    "import jwt\ndef f(t, keys):\n    u = jwt.decode(t, options={'verify_signature': False})\n"
    "    return jwt.decode(t, keys[u['kid']], algorithms=['RS256'])\n",
    "import jwt\ndef f(t):\n    return jwt.get_unverified_header(t)['kid']\n",
    "import python_jwt as pj\ndef f(t, k):\n    h, c = pj.process_jwt(t)\n"
    "    pj.verify_jwt(t, k, ['RS256'])\n    return c\n",
    "from authlib.jose import jwt\ndef f(t, k):\n    c = jwt.decode(t, k)\n    c.validate()\n    return c\n",
    "import jwt\ndef f(p, k):\n    return jwt.encode(p, k, algorithm='RS256')\n",
]


@pytest.mark.parametrize(("source", "rule"), JWT_FLAGGED)
def test_unverified_jwt_is_flagged_in_every_library(source: str, rule: str) -> None:
    assert rule in rules(source)


@pytest.mark.parametrize("source", JWT_QUIET)
def test_verified_and_key_selection_decodes_are_not_flagged(source: str) -> None:
    assert not rules(source) & {"ARCH110", "ARCH143"}


def test_unverified_decode_in_a_test_is_quiet() -> None:
    source = "import jwt\ndef test_claims(t):\n    assert jwt.decode(t, options={'verify_signature': False})\n"
    assert not rules(source, "tests/test_auth.py")


# -------------------------------------------------------------------------------- ARCH142 / 144

CATASTROPHIC = [
    r"^([a-zA-Z0-9_.+-]+)*@example\.com$",
    r"^(\w+\.?)+$",
    r"^(\w+\s?)*$",
    r"^(\d+,?)+$",
    r"(a+)+b",
    r"(.*a){20}",
    r"(\d+)*$",
    r"(.|\s)*END",
    r"(a|aa?)*b",
    r"(\d{1,3})+x",
    r"(\s*\w+\s*)+$",
]
LINEAR = [
    r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$",
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    r"\d+(\.\d+){0,3}",
    r"^(\d{1,3}\.){3}\d{1,3}$",
    r"(\w+\.)+com",
    r"(.|\n)*END",  # `.` does not match a newline: the alternatives never overlap
    r"^(\w+\s?)*",  # nothing after the repeat can fail, so it is never backtracked into
    r"([0-9a-f]{2}:?)+$",
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==)?$",
    r"(foo|bar)+$",
    r"\s+",
    r"(unclosed",
]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns(pattern: str) -> None:
    assert nested_quantifier(pattern)


@pytest.mark.parametrize("pattern", LINEAR)
def test_linear_patterns(pattern: str) -> None:
    assert not nested_quantifier(pattern)


def test_fullmatch_makes_the_end_fail() -> None:
    assert not nested_quantifier(r"(a+)+") and nested_quantifier(r"(a+)+", whole=True)
    assert rules("import re\ndef f(s):\n    return re.fullmatch(r'(a+)+', s)\n") == {"ARCH142"}
    assert not rules("import re\ndef f(s):\n    return re.match(r'(a+)+', s)\n")


def test_constant_patterns_through_names_and_verbose_flags() -> None:
    source = """\
    import re
    import regex
    NAME = r"^([a-z]+ ?)+$"
    VERBOSE = re.compile(r'''
        ^( [a-z]+ \\s* )+ $   # words
    ''', re.X)
    def f(s):
        return regex.search(NAME, s)
    """
    assert hits(source) == {("ARCH142", 4), ("ARCH142", 8)}


USER_PATTERN_FLAGGED = [
    "import re\nfrom flask import request\n@app.get('/g')\ndef g():\n    return re.search(request.args['p'], 'x')\n",
    "import re\nfrom flask import request\n@app.get('/g')\ndef g():\n    p = request.args.get('p')\n"
    "    return re.compile(p)\n",
    "import re\n@api.get('/t')\nasync def t(prefix: str):\n    return re.compile(prefix + '.*')\n",
    "import re\n@api.get('/h')\nasync def h(term: str, text: str):\n    return re.sub(f'({term})', 'x', text)\n",
    "import re\ndef view(request):\n    return re.findall(request.GET['q'], 'abc')\n",
    "import re\nfrom aiohttp import web\nasync def h(request: web.Request):\n"
    "    return re.match(request.query['m'], 'a')\n",
    "import re\n@app.post('/s')\nasync def s(req: StopRequest):\n    return re.split(req.stop, req.text)\n",
]
USER_PATTERN_QUIET = [
    "import re\nfrom flask import request\n@app.get('/g')\ndef g():\n"
    "    return re.search(re.escape(request.args['p']), 'x')\n",
    "import re\nP = {'a': r'\\d+'}\nfrom flask import request\n@app.get('/g')\ndef g():\n"
    "    return re.compile(P[request.args['k']])\n",
    "import re\n@api.get('/h')\nasync def h(term: str, text: str):\n    return re.sub('x', term, text)\n",
    "import re\ndef helper(pattern, text):\n    return re.search(pattern, text)\n",
    "import re\n@api.get('/t')\nasync def t(prefix: str):\n    return re.compile(re.escape(prefix) + '.*')\n",
]


@pytest.mark.parametrize("source", USER_PATTERN_FLAGGED)
def test_pattern_from_request_data_is_flagged(source: str) -> None:
    assert "ARCH144" in rules(source)


@pytest.mark.parametrize("source", USER_PATTERN_QUIET)
def test_escaped_or_table_patterns_are_not_flagged(source: str) -> None:
    assert "ARCH144" not in rules(source)


def test_a_module_without_re_is_skipped() -> None:
    assert not rules("def f(p):\n    return compile(p, 'x', 'exec')\n")


def test_a_bare_code_in_a_verification_function_is_a_secret() -> None:
    source = "import random\ndef send_verification_email(user):\n    code = random.randint(100000, 999999)\n"
    assert ("ARCH140", 3) in hits(source)
    assert not rules("import random\ndef render_page(user):\n    code = random.randint(1, 5)\n")


def test_options_built_with_dict_are_read() -> None:
    source = "import jwt\ndef f(t):\n    return jwt.decode(t, options=dict(verify_signature=False))\n"
    assert rules(source) == {"ARCH110"}


def test_a_password_equal_to_its_name_is_still_a_weak_password() -> None:
    assert rules("PASSWORD = 'password'\n") == {"ARCH141"}
    assert not rules("ATTRIBUTE_MAP = {'password': 'password'}\n")


def test_enum_members_and_camel_case_names_are_not_secrets() -> None:
    assert not rules("import enum\nclass Scheme(enum.Enum):\n    password = 'pw-flow'\n    apiKey = 'apiKey'\n")
    assert not rules("class Scheme:\n    apiKey = 'apiKey'\n")
