"""Document conversion task, after the change: a refactor lost the quoting."""

import subprocess

from celery import shared_task


@shared_task
def convert(name: str) -> int:
    return subprocess.call(f"libreoffice --headless --convert-to pdf {name}", shell=True)  # expect: command-injection
