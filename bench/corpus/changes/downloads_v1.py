"""Downloads, before the change: names are resolved and contained in the export folder."""

from pathlib import Path

from flask import Flask, abort, request, send_file

app = Flask(__name__)
EXPORTS = Path("/srv/exports").resolve()


@app.get("/exports")
def export_file():
    target = (EXPORTS / request.args["name"]).resolve()
    if not target.is_relative_to(EXPORTS):
        abort(404)
    return send_file(target)  # ok: path-traversal
