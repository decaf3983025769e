"""File download and upload endpoints of a Flask document store."""

import os
import shutil
import uuid
from pathlib import Path

from flask import Flask, abort, request, send_file, send_from_directory
from werkzeug.utils import secure_filename

app = Flask(__name__)
UPLOAD_DIR = "/srv/docs/uploads"
BASE = Path("/srv/docs/files").resolve()
TRASH = "/srv/docs/trash"


@app.get("/docs/raw")
def raw_doc():
    name = request.args["name"]
    with open(os.path.join(UPLOAD_DIR, name), "rb") as fh:  # expect: path-traversal
        return fh.read()


@app.get("/docs/raw-basename")
def raw_doc_basename():
    name = os.path.basename(request.args["name"])
    with open(os.path.join(UPLOAD_DIR, name), "rb") as fh:  # ok: path-traversal
        return fh.read()


@app.get("/docs/download")
def download():
    return send_file(os.path.join(UPLOAD_DIR, request.args["name"]))  # expect: path-traversal


@app.get("/docs/download-checked")
def download_checked():
    target = (BASE / request.args["name"]).resolve()
    if not target.is_relative_to(BASE):
        abort(404)
    return send_file(target)  # ok: path-traversal


@app.get("/docs/download-realpath")
def download_realpath():
    target = os.path.realpath(os.path.join(BASE, request.args["name"]))
    if os.path.commonpath([target, str(BASE)]) != str(BASE):
        abort(404)
    return send_file(target)  # ok: path-traversal


@app.get("/docs/static/<path:name>")
def static_doc(name):
    return send_from_directory(UPLOAD_DIR, name)  # ok: path-traversal


@app.get("/users/<user>/files/<path:name>")
def user_file(user, name):
    return send_from_directory(os.path.join("/srv/home", user), name)  # expect: path-traversal


@app.post("/docs")
def upload():
    file = request.files["doc"]
    file.save(os.path.join(UPLOAD_DIR, file.filename))  # expect: path-traversal
    return {"ok": True}, 201


@app.post("/docs/secure")
def upload_secure():
    file = request.files["doc"]
    file.save(os.path.join(UPLOAD_DIR, secure_filename(file.filename)))  # ok: path-traversal
    return {"ok": True}, 201


@app.post("/docs/generated-name")
def upload_generated():
    file = request.files["doc"]
    name = f"{uuid.uuid4()}.bin"
    file.save(os.path.join(UPLOAD_DIR, name))  # ok: path-traversal
    return {"id": name}, 201


@app.post("/docs/copy")
def copy_doc():
    source = request.form["source"]
    shutil.copy(source, TRASH)  # expect: path-traversal
    return {"ok": True}


@app.delete("/docs")
def delete_doc():
    os.remove(os.path.join(UPLOAD_DIR, request.args["name"]))  # expect: path-traversal
    return {"ok": True}


@app.delete("/workspaces/<ws>")
def delete_workspace(ws):
    shutil.rmtree(Path("/srv/workspaces") / ws)  # expect: path-traversal
    return {"ok": True}


@app.delete("/workspaces/by-id/<int:ws_id>")
def delete_workspace_by_id(ws_id):
    shutil.rmtree(Path("/srv/workspaces") / f"ws-{ws_id}")  # ok: path-traversal
    return {"ok": True}


@app.get("/docs/readme")
def readme():
    with open(os.path.join(os.path.dirname(__file__), "README.md"), encoding="utf-8") as fh:  # ok: path-traversal
        return fh.read()
