"""Document conversion task, before the change: the name is quoted for the shell."""

import shlex
import subprocess

from celery import shared_task


@shared_task
def convert(name: str) -> int:
    return subprocess.call(f"libreoffice --headless --convert-to pdf {shlex.quote(name)}", shell=True)  # ok: command-injection
