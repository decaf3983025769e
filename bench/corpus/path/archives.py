"""Bundle uploads: plugin archives (tarfile), dataset zips (zipfile), model bundles from a queue."""

import os
import shutil
import tarfile
import zipfile
from pathlib import Path

from celery import shared_task
from fastapi import FastAPI, UploadFile

app = FastAPI()
PLUGINS = Path("/srv/plugins")
DATASETS = Path("/srv/datasets")


@app.post("/plugins")
def install_plugin(bundle: UploadFile) -> dict[str, str]:
    with tarfile.open(fileobj=bundle.file, mode="r:gz") as tar:
        tar.extractall(PLUGINS)  # expect: path-traversal
    return {"ok": "installed"}


@app.post("/plugins/filtered")
def install_plugin_filtered(bundle: UploadFile) -> dict[str, str]:
    with tarfile.open(fileobj=bundle.file, mode="r:gz") as tar:
        tar.extractall(PLUGINS, filter="data")  # ok: path-traversal
    return {"ok": "installed"}


@app.post("/plugins/checked")
def install_plugin_checked(bundle: UploadFile) -> dict[str, str]:
    root = PLUGINS.resolve()
    with tarfile.open(fileobj=bundle.file, mode="r:gz") as tar:
        for member in tar.getmembers():
            if not (root / member.name).resolve().is_relative_to(root) or member.issym() or member.islnk():
                raise ValueError(f"unsafe member {member.name}")
        tar.extractall(root)  # ok: path-traversal
    return {"ok": "installed"}


@app.post("/datasets")
def upload_dataset(archive: UploadFile) -> dict[str, int]:
    with zipfile.ZipFile(archive.file) as zf:
        for member in zf.infolist():
            with zf.open(member) as src, open(os.path.join(DATASETS, member.filename), "wb") as dst:  # expect: path-traversal
                shutil.copyfileobj(src, dst)
    return {"files": len(zf.infolist())}


@app.post("/datasets/extract")
def upload_dataset_extract(archive: UploadFile) -> dict[str, int]:
    with zipfile.ZipFile(archive.file) as zf:
        zf.extractall(DATASETS)  # ok: path-traversal
        return {"files": len(zf.namelist())}


@shared_task
def unpack_model(bundle_path: str, model_name: str) -> str:
    target = Path("/srv/models") / model_name
    with tarfile.open(bundle_path) as tar:
        tar.extractall(target)  # expect: path-traversal
    return str(target)


@shared_task
def unpack_model_safe(bundle_path: str, model_name: str) -> str:
    if not model_name.isidentifier():
        raise ValueError("bad model name")
    target = Path("/srv/models") / model_name
    with tarfile.open(bundle_path) as tar:
        tar.extractall(target, filter="data")  # ok: path-traversal
    return str(target)
