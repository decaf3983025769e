"""Background jobs: a Django export view, Celery render tasks, a Kafka consumer and a small CLI."""

import os
import shlex
import subprocess
import sys

from celery import shared_task
from django.http import HttpRequest, JsonResponse
from kafka import KafkaConsumer

ACTIONS = {"reindex": ["/opt/app/bin/reindex", "--all"], "vacuum": ["/opt/app/bin/vacuum"]}


def export_folder(request: HttpRequest) -> JsonResponse:
    status = os.system("zip -r /srv/exports/export.zip " + request.GET["folder"])  # expect: command-injection
    return JsonResponse({"status": status})


def export_all(request: HttpRequest) -> JsonResponse:
    status = os.system("zip -r /srv/exports/all.zip /srv/data")  # ok: command-injection
    return JsonResponse({"status": status})


@shared_task
def render_document(doc_name: str) -> int:
    return subprocess.call("pandoc %s -o /srv/out/doc.pdf" % doc_name, shell=True)  # expect: command-injection


@shared_task
def render_document_quoted(doc_name: str) -> int:
    return subprocess.call("pandoc %s -o /srv/out/doc.pdf" % shlex.quote(doc_name), shell=True)  # ok: command-injection


@shared_task
def build_site(branch: str) -> int:
    return subprocess.call("make -C /srv/site BRANCH={} html".format(branch), shell=True)  # expect: command-injection


@shared_task
def build_docs() -> int:
    return subprocess.call("make -C /srv/docs html", shell=True)  # ok: command-injection


def consume_scripts(consumer: KafkaConsumer) -> None:
    for message in consumer:
        script = message.value["script"]
        subprocess.run(script, shell=True, check=False, timeout=60)  # expect: command-injection


def consume_actions(consumer: KafkaConsumer) -> None:
    for message in consumer:
        action = message.value.get("action")
        if action in ACTIONS:
            subprocess.run(ACTIONS[action], check=False, timeout=600)  # ok: command-injection


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "log":
        os.system("git log --oneline " + sys.argv[2])  # expect: command-injection
    elif len(sys.argv) > 1 and sys.argv[1] == "search":
        subprocess.run("grep -rn " + input("search for: ") + " /srv/docs", shell=True, check=False)  # expect: command-injection
    else:
        subprocess.run(["git", "status", "--short"], check=True)  # ok: command-injection


if __name__ == "__main__":
    main()
