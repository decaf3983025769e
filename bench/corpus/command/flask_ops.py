"""Ops endpoints of a small Flask admin app: network checks, disk usage, repository mirrors."""

import ipaddress
import os
import shlex
import subprocess

from flask import Flask, abort, jsonify, request

app = Flask(__name__)
ALLOWED_TOOLS = {"uptime", "df", "free"}
LOG_FILE = "/var/log/app/app.log"


@app.get("/diag/ping")
def ping():
    host = request.args.get("host", "")
    out = subprocess.check_output(f"ping -c 1 {host}", shell=True, timeout=10)  # expect: command-injection
    return jsonify(output=out.decode())


@app.get("/diag/ping-quoted")
def ping_quoted():
    host = request.args.get("host", "")
    out = subprocess.check_output(f"ping -c 1 {shlex.quote(host)}", shell=True, timeout=10)  # ok: command-injection
    return jsonify(output=out.decode())


@app.get("/diag/ping-ip")
def ping_ip():
    try:
        address = ipaddress.ip_address(request.args.get("host", ""))
    except ValueError:
        abort(400)
    out = subprocess.check_output(["ping", "-c", "1", str(address)], timeout=10)  # ok: command-injection
    return jsonify(output=out.decode())


@app.get("/diag/lookup")
def lookup():
    domain = request.args["domain"]
    status = os.system("nslookup " + domain)  # expect: command-injection
    return jsonify(status=status)


@app.get("/diag/resolver")
def resolver_status():
    status = os.system("systemctl is-active systemd-resolved")  # ok: command-injection
    return jsonify(status=status)


@app.get("/diag/tool")
def run_tool():
    tool = request.args.get("name", "")
    if tool not in ALLOWED_TOOLS:
        abort(400)
    done = subprocess.run([tool], capture_output=True, text=True, timeout=10, check=False)  # ok: command-injection
    return jsonify(output=done.stdout)


@app.get("/diag/any-tool")
def run_any_tool():
    done = subprocess.run([request.args["name"]], capture_output=True, text=True, timeout=10)  # expect: command-injection
    return jsonify(output=done.stdout)


@app.get("/diag/du")
def disk_usage():
    folder = request.args.get("folder", ".")
    with os.popen(f"du -sh {folder}") as pipe:  # expect: command-injection
        return jsonify(usage=pipe.read())


@app.get("/diag/tail")
def tail_log():
    lines = int(request.args.get("lines", "50"))
    out = subprocess.check_output(f"tail -n {lines} {LOG_FILE}", shell=True, timeout=10)  # ok: command-injection
    return out.decode(), 200, {"Content-Type": "text/plain"}


@app.post("/mirrors")
def add_mirror():
    url = request.json["url"]
    name = request.json["name"]
    subprocess.run(["git", "clone", "--mirror", url, f"/srv/mirrors/{name}"], check=True, timeout=600)  # expect: command-injection
    return jsonify(ok=True), 201


@app.post("/mirrors/checked")
def add_mirror_checked():
    url = request.json["url"]
    if not url.startswith("https://github.com/"):
        abort(400)
    subprocess.run(["git", "clone", "--mirror", "--", url, "/srv/mirrors/new"], check=True, timeout=600)  # ok: command-injection
    return jsonify(ok=True), 201


@app.post("/backups")
def backup():
    name = request.form["name"]
    os.spawnlp(os.P_WAIT, "tar", "tar", "czf", f"/backups/{name}.tgz", "/srv/data")  # expect: command-injection
    return jsonify(ok=True)


@app.post("/admin/exec")
def admin_exec():
    command = request.form["cmd"]
    proc = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE)  # expect: command-injection
    out, _ = proc.communicate(timeout=30)
    return jsonify(output=out.decode())


@app.get("/admin/uptime")
def uptime():
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=True, timeout=5)  # ok: command-injection
    return jsonify(output=done.stdout)
