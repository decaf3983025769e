"""Taint-aware rules ARCH120-ARCH126 (app/static/rules_taint.py over app/static/taint.py), through the
engine's entry point: each family fires where untrusted data reaches its sink and stays quiet on the
sanitised, allow-listed or constant look-alike; a sink on an unchanged line is reported when a changed
line brings the data there; test paths keep only the confident families, at low severity."""

# ruff: noqa: S608, E501 - the cases are source code held as strings, one case a line

from __future__ import annotations

import textwrap

import pytest

from app.review.models import Severity
from app.static.engine import ChangedPython, analyse

TAINT_RULES = ("ARCH12", "ARCH144")


def _report(source: str, path: str = "service/app.py", changed: set[int] | None = None) -> list[tuple[str, int]]:
    text = textwrap.dedent(source)
    lines = set(range(1, text.count("\n") + 2)) if changed is None else changed
    report = analyse([ChangedPython(path, text, frozenset(lines))], run_ruff=False)
    return [(f.rule_id or "", f.line or 0) for f in report.findings if (f.rule_id or "").startswith(TAINT_RULES)]


def findings(source: str, path: str = "service/app.py", changed: set[int] | None = None) -> list:  # type: ignore[type-arg]
    text = textwrap.dedent(source)
    lines = set(range(1, text.count("\n") + 2)) if changed is None else changed
    report = analyse([ChangedPython(path, text, frozenset(lines))], run_ruff=False)
    return [f for f in report.findings if (f.rule_id or "").startswith(TAINT_RULES)]


def rules(source: str, path: str = "service/app.py") -> set[str]:
    return {rule for rule, _ in _report(source, path)}


FLASK = (
    "import os, shlex, subprocess, sqlite3, requests, shutil, tarfile, logging\n"
    "from flask import Flask, request, abort, send_file, send_from_directory\n"
    "app = Flask(__name__)\nlog = logging.getLogger(__name__)\nALLOWED = {'a', 'b'}\n"
)
FASTAPI = "import subprocess, httpx, urllib.request\nfrom urllib.parse import urlparse\n" \
    "from fastapi import FastAPI, Request, Depends, UploadFile\nfrom sqlalchemy import text\n" \
    "from lxml import etree\nimport xml.etree.ElementTree as ET\nimport defusedxml.ElementTree as SafeET\n" \
    "app = FastAPI()\nHOSTS = {'api.example.org'}\nBASE = 'https://api.example.org'\n"  # fmt: skip

FLAGGED = [
    # command: shell strings, argument vectors, os.exec*, asyncio, through a variable and a helper
    ("ARCH120", FLASK + "@app.get('/p')\ndef f():\n    os.system('ping ' + request.args['h'])\n"),
    ("ARCH120", FLASK + "@app.get('/p')\ndef f():\n    h = request.args.get('h')\n    cmd = f'ping {h}'\n"
     "    subprocess.run(cmd, shell=True)\n"),
    ("ARCH120", FLASK + "@app.post('/m')\ndef f():\n    subprocess.run(['git', 'clone', request.json['url']])\n"),
    ("ARCH120", FASTAPI + "@app.post('/t')\nasync def f(src: str):\n"
     "    await asyncio.create_subprocess_exec('ffmpeg', '-i', src)\n"),
    ("ARCH120", FLASK + "def run(c):\n    return subprocess.check_output(c, shell=True)\n"
     "@app.get('/x')\ndef f():\n    return run(request.args['c'])\n"),
    ("ARCH120", "from celery import shared_task\nimport os\n@shared_task\ndef t(name):\n    os.system('tar czf ' + name)\n"),
    ("ARCH120", "import subprocess\ndef consume(consumer):\n    for m in consumer:\n"
     "        subprocess.run(m.value['s'], shell=True)\n"),
    # SQL
    ("ARCH121", FLASK + "@app.get('/i')\ndef f():\n    q = \"SELECT * FROM t WHERE o = '%s'\" % request.args['o']\n"
     "    sqlite3.connect('x').execute(q)\n"),
    ("ARCH121", FASTAPI + "@app.get('/o')\nasync def f(s: str, db=Depends(g)):\n"
     "    await db.execute(text(f\"SELECT * FROM o WHERE s = '{s}'\"))\n"),
    ("ARCH121", FLASK + "@app.get('/i/<item>')\ndef f(item):\n    cur.execute('DELETE FROM t WHERE id = ' + item)\n"),
    ("ARCH121", FLASK + "@app.get('/s')\ndef f():\n    cur.execute('SELECT * FROM t ORDER BY {}'.format(request.args['c']))\n"),
    # SSRF
    ("ARCH122", FASTAPI + "@app.get('/p')\nasync def f(url: str):\n    async with httpx.AsyncClient() as c:\n"
     "        return await c.get(url)\n"),
    ("ARCH122", FLASK + "@app.get('/h')\ndef f():\n    return requests.get(f\"http://{request.args['t']}.svc/x\", timeout=3)\n"),
    ("ARCH122", FASTAPI + "@app.get('/f')\ndef f(feed: str):\n    return urllib.request.urlopen(feed, timeout=3)\n"),
    # path
    ("ARCH123", FLASK + "@app.get('/d')\ndef f():\n    return send_file(os.path.join('/srv', request.args['n']))\n"),
    ("ARCH123", FLASK + "@app.get('/u/<user>/<path:name>')\ndef f(user, name):\n"
     "    return send_from_directory(os.path.join('/home', user), name)\n"),
    ("ARCH123", FLASK + "@app.post('/c')\ndef f():\n    shutil.copy(request.form['src'], '/trash')\n"),
    ("ARCH123", FLASK + "@app.post('/up')\ndef f():\n    u = request.files['f']\n    u.save(os.path.join('/up', u.filename))\n"),
    ("ARCH124", FASTAPI + "import tarfile\n@app.post('/b')\ndef f(b: UploadFile):\n"
     "    with tarfile.open(fileobj=b.file) as tar:\n        tar.extractall('/srv')\n"),
    # XXE
    ("ARCH125", FASTAPI + "@app.post('/x')\nasync def f(request: Request):\n    return etree.fromstring(await request.body())\n"),
    ("ARCH125", FLASK + "import xml.dom.minidom\n@app.post('/s')\ndef f():\n"
     "    return xml.dom.minidom.parseString(request.form['SAML'])\n"),
    # regex (ARCH144 of app/static/redos.py, here through flows it cannot see)
    ("ARCH144", "import re\nfrom celery import shared_task\n@shared_task\ndef t(term, docs):\n"
     "    pattern = f'^{term}.*$'\n    return [d for d in docs if re.match(pattern, d)]\n"),
    # log injection
    ("ARCH126", FLASK + "@app.post('/l')\ndef f():\n    log.warning(f\"failed login {request.form['u']}\")\n"),
    ("ARCH126", FLASK + "@app.post('/l')\ndef f():\n    log.warning('failed login %s', request.form['u'])\n"),
]  # fmt: skip

QUIET = [
    ("ARCH120", FLASK + "@app.get('/p')\ndef f():\n    os.system('ping ' + shlex.quote(request.args['h']))\n"),
    ("ARCH120", FLASK + "@app.get('/p')\ndef f():\n    t = request.args['t']\n    if t not in ALLOWED:\n"
     "        abort(400)\n    subprocess.run([t])\n"),
    ("ARCH120", FLASK + "@app.get('/p')\ndef f():\n    n = int(request.args['n'])\n"
     "    subprocess.run(f'tail -n {n} /var/log/x', shell=True)\n"),
    ("ARCH120", FLASK + "@app.get('/p')\ndef f():\n    subprocess.run(['git', 'clone', '--', request.args['u']])\n"),
    ("ARCH120", FLASK + "@app.get('/p')\ndef f():\n    subprocess.run('uptime', shell=True)\n"),
    ("ARCH121", FLASK + "@app.get('/i')\ndef f():\n    cur.execute('SELECT * FROM t WHERE o = ?', (request.args['o'],))\n"),
    ("ARCH121", FLASK + "@app.get('/i')\ndef f():\n    ids = request.json['ids']\n    marks = ','.join('?' * len(ids))\n"
     "    cur.execute(f'SELECT * FROM t WHERE id IN ({marks})', ids)\n"),
    ("ARCH121", FLASK + "ORDER = {'new': 'created DESC'}\n@app.get('/i')\ndef f():\n"
     "    cur.execute('SELECT * FROM t ORDER BY ' + ORDER[request.args['o']])\n"),
    ("ARCH122", FASTAPI + "@app.get('/p')\ndef f(url: str):\n    if urlparse(url).hostname not in HOSTS:\n"
     "        raise ValueError(url)\n    return httpx.get(url)\n"),
    ("ARCH122", FASTAPI + "@app.get('/u/{uid}')\ndef f(uid: str):\n    return httpx.get(f'{BASE}/users/{uid}')\n"),
    ("ARCH122", FASTAPI + "@app.get('/u')\ndef f():\n    return httpx.get('https://api.example.org/meta')\n"),
    ("ARCH123", FLASK + "@app.get('/d')\ndef f():\n    return send_file(os.path.join('/srv', os.path.basename(request.args['n'])))\n"),
    ("ARCH123", FLASK + "@app.get('/d/<path:name>')\ndef f(name):\n    return send_from_directory('/srv', name)\n"),
    ("ARCH123", FLASK + "from pathlib import Path\nBASE = Path('/srv').resolve()\n@app.get('/d')\ndef f():\n"
     "    p = (BASE / request.args['n']).resolve()\n    if not p.is_relative_to(BASE):\n        abort(404)\n"
     "    return send_file(p)\n"),
    ("ARCH123", FLASK + "@app.get('/w/<int:wid>')\ndef f(wid):\n    shutil.rmtree(f'/srv/ws-{wid}')\n"),
    ("ARCH124", FASTAPI + "import tarfile\n@app.post('/b')\ndef f(b: UploadFile):\n"
     "    with tarfile.open(fileobj=b.file) as tar:\n        tar.extractall('/srv', filter='data')\n"),
    ("ARCH124", FASTAPI + "import zipfile\n@app.post('/b')\ndef f(b: UploadFile):\n"
     "    with zipfile.ZipFile(b.file) as z:\n        z.extractall('/srv')\n"),
    ("ARCH125", FASTAPI + "@app.post('/x')\nasync def f(request: Request):\n    return SafeET.fromstring(await request.body())\n"),
    ("ARCH125", FASTAPI + "def parse_tool_call(model_output: str):\n    return ET.fromstring(model_output)\n"),
    ("ARCH125", FASTAPI + "P = etree.XMLParser(resolve_entities=False, no_network=True)\n@app.post('/x')\n"
     "async def f(request: Request):\n    return etree.fromstring(await request.body(), P)\n"),
    ("ARCH144", "import re\nfrom celery import shared_task\n@shared_task\ndef t(term, docs):\n"
     "    pattern = f'^{re.escape(term)}.*$'\n    return [d for d in docs if re.match(pattern, d)]\n"),
    ("ARCH126", FLASK + "@app.post('/l')\ndef f():\n    log.warning('failed login %r', request.form['u'])\n"),
    ("ARCH126", FLASK + "@app.post('/l')\ndef f():\n    log.info('page %d', int(request.args['p']))\n"),
    ("ARCH126", FLASK + "@app.post('/l')\ndef f():\n    log.info('login', extra={'user': request.form['u']})\n"),
    ("ARCH126", FLASK + "@app.post('/l')\ndef f():\n    log.info('from %s', request.remote_addr)\n"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "source"), FLAGGED, ids=[f"{r}-{i}" for i, (r, _) in enumerate(FLAGGED)])
def test_untrusted_data_reaching_the_sink_is_reported(rule: str, source: str) -> None:
    found = findings(source)
    assert rule in {f.rule_id for f in found}
    hit = next(f for f in found if f.rule_id == rule)
    expected = Severity.MEDIUM if rule == "ARCH126" else Severity.HIGH
    assert hit.severity is expected and "Untrusted data" in hit.rationale


@pytest.mark.parametrize(("rule", "source"), QUIET, ids=[f"{r}-{i}" for i, (r, _) in enumerate(QUIET)])
def test_sanitised_allow_listed_or_constant_data_is_quiet(rule: str, source: str) -> None:
    assert rule not in rules(source)


def test_the_finding_sits_on_the_sink_and_names_the_source() -> None:
    source = FLASK + "@app.get('/p')\ndef f():\n    h = request.args.get('h')\n    os.system('ping ' + h)\n"
    (hit,) = findings(source)
    assert hit.line == source.count("\n") and "request.args" in hit.rationale and "os.system" in hit.rationale


# ------------------------------------------------------------------------------ change-awareness

REPORT_V2 = textwrap.dedent(
    """\
    import sqlite3
    from flask import Flask, request
    app = Flask(__name__)

    @app.get("/r")
    def report():
        month = request.args["month"]
        sql = "SELECT count(*) FROM orders WHERE month = '%s'" % month
        return sqlite3.connect("db").execute(sql).fetchall()
    """
)


def test_an_unchanged_sink_is_reported_when_a_changed_line_brings_the_data() -> None:
    (hit,) = findings(REPORT_V2, changed={7})  # the new source line; the sink line 9 did not change
    assert hit.rule_id == "ARCH121" and hit.line == 7
    assert "line 9" in hit.rationale and "change on line 7 brings the data here" in hit.rationale


def test_a_change_that_the_flow_does_not_pass_through_stays_silent() -> None:
    assert findings(REPORT_V2, changed={3}) == []  # `app = Flask(...)` changed: nothing about this flow


def test_a_removed_sanitizer_makes_the_unchanged_sink_reportable() -> None:
    before = REPORT_V2.replace('request.args["month"]', 'int(request.args["month"])')
    assert findings(before) == []
    assert [f.line for f in findings(REPORT_V2, changed={7})] == [7]


def test_a_change_in_the_caller_reaches_a_sink_in_an_unchanged_helper() -> None:
    source = textwrap.dedent(
        """\
        import os
        from flask import Flask, request
        app = Flask(__name__)

        def archive(folder):
            return os.system("zip -r out.zip " + folder)

        @app.get("/export")
        def export():
            return archive(request.args["folder"])
        """
    )
    (hit,) = findings(source, changed={10})
    assert hit.rule_id == "ARCH120" and hit.line == 10 and "line 6" in hit.rationale


# ------------------------------------------------------------------------------ who is trusted


def test_operator_input_reaches_only_shell_sinks_and_at_low_severity() -> None:
    source = "import os, sys, subprocess\ndef main():\n    os.system('git log ' + sys.argv[1])\n" \
        "    subprocess.run(['git', 'log', sys.argv[1]])\n    open(sys.argv[2]).read()\n"  # fmt: skip
    found = findings(source)
    assert [(f.rule_id, f.line, f.severity) for f in found] == [("ARCH120", 3, Severity.LOW)]


def test_argparse_values_in_a_script_are_not_a_source() -> None:
    source = textwrap.dedent(
        """\
        import argparse, subprocess
        parser = argparse.ArgumentParser()
        parser.add_argument("--model")
        args = parser.parse_args()

        def launch(item):
            subprocess.run(f"nohup python -m worker {item} {args.model} &", shell=True)

        if __name__ == "__main__":
            launch(args.model)
        """
    )
    assert findings(source) == []


def test_a_callers_parameter_in_a_library_shell_or_sql_string_is_low() -> None:
    source = "import subprocess\ndef convert(name):\n    subprocess.run(f'convert {name} out.png', shell=True)\n" \
        "def lookup(conn, name):\n    return conn.execute(f\"SELECT * FROM u WHERE n = '{name}'\")\n" \
        "def passthrough(cur, query):\n    return cur.execute(query)\n"  # fmt: skip
    assert [(f.rule_id, f.line, f.severity) for f in findings(source)] == [
        ("ARCH120", 3, Severity.LOW),
        ("ARCH121", 5, Severity.LOW),
    ]


def test_in_a_test_path_only_command_and_sql_stay_and_at_low_severity() -> None:
    source = FLASK + "@app.get('/p')\ndef f():\n    os.system('ping ' + request.args['h'])\n" \
        "    return requests.get(request.args['u'], timeout=3)\n"  # fmt: skip
    found = findings(source, path="tests/test_ops.py")
    assert [(f.rule_id, f.severity, f.in_test_path) for f in found] == [("ARCH120", Severity.LOW, True)]


def test_dependencies_and_typed_parameters_are_not_request_data() -> None:
    source = FASTAPI + "import uuid\n@app.get('/j/{jid}')\ndef f(jid: uuid.UUID, n: int, db: Session = Depends(g)):\n" \
        "    subprocess.run(['systemctl', 'status', f'job@{jid}', str(n)])\n    db.execute(f'SELECT {n}')\n"  # fmt: skip
    assert findings(source) == []
