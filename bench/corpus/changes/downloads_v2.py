"""Downloads, after the change: the containment check was dropped as "redundant"."""

from pathlib import Path

from flask import Flask, request, send_file

app = Flask(__name__)
EXPORTS = Path("/srv/exports").resolve()


@app.get("/exports")
def export_file():
    target = EXPORTS / request.args["name"]
    return send_file(target)  # expect: path-traversal
