"""The ``archbot`` console script: serve, setup, worker, db, review, plan, action, rules, schema, send-test-delivery.

Logging is configured here, once per process, on stderr (``app.logs``); stdout is for the document a
subcommand prints. Exit codes: 0 done, 1 a finding at ``--fail-on`` or a failed model call (or a
failed job), 2 usage, input or settings errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app import __version__
from app.setup import ENV_FILE

if TYPE_CHECKING:  # pydantic-settings costs ~0.1 s to import: not for --help (see bench/startup.py)
    from app.settings import Settings

SEVERITIES = ("none", "critical", "high", "medium", "low")

EXIT_CODES = """\
exit codes:
  0  done (and no finding at or above --fail-on)
  1  a finding at or above --fail-on, or a model call failed (the output says which files)
  2  usage or input error: a bad option, an unreadable diff or config, a missing setting"""

REVIEW_EPILOG = f"""\
examples:
  git diff main... | archbot review --diff - --format sarif > archbot.sarif
  archbot review --diff my.patch --repo-dir ../checkout --dry-run

The deterministic checks read whole files of the new revision: from --repo-dir, or from the current
directory when its files carry the diff's added lines. Set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN)
for the model's review; without one archbot prints the deterministic findings only.

{EXIT_CODES}"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's layout; wide enough for the option help."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=100)


# the values are app/serve.py's and app/settings.py's (tests/test_serve_limits.py checks they agree)
SERVE_LIMITS = """\
limits (slow or oversized clients cannot starve deliveries):
  body size             25 MiB (ARCHBOT_MAX_BODY_BYTES): 413, a chunked body cut at the cap
  body time             10 s for the whole body (ARCHBOT_BODY_TIMEOUT): 408
  connections           1000 open connections + requests (ARCHBOT_MAX_CONNECTIONS): 503 beyond
  keep-alive idle       5 s, then the connection is closed
  request line+headers  64 KiB: 400 before the app runs
  listen backlog        2048
  store answer          0.8 s: 503 and nothing recorded (GitHub redelivers)"""


def _review_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    review = sub.add_parser(
        "review",
        help="review a unified diff locally and print the review",
        description="Review a unified diff: deterministic security and concurrency checks, and with a model "
        "key the architect's review. stdout holds only the document; messages go to stderr.",
        epilog=REVIEW_EPILOG,
        formatter_class=_Formatter,
    )
    review.add_argument("--diff", required=True, metavar="FILE", help="the diff to review, or - for stdin (required)")
    review.add_argument(
        "--repo-dir",
        type=Path,
        metavar="DIR",
        help="checkout of the new revision; the static checks read whole files from it "
        "(default: the current directory, when its files match the diff)",
    )
    review.add_argument(
        "--format",
        choices=("markdown", "json", "sarif"),
        default="markdown",
        help="output document: markdown, json (schema: `archbot schema review-json`) or sarif 2.1.0 "
        "(default: %(default)s)",
    )
    review.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default="none",
        metavar="SEVERITY",
        help="exit 1 when a finding reaches this severity: none, critical, high, medium, low (default: %(default)s)",
    )
    review.add_argument(
        "--dry-run",
        action="store_true",
        help="call no model: show the deterministic findings and what would be sent, with token estimates",
    )
    review.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="a .github/archbot.yml to apply (default: the --repo-dir checkout's .github/archbot.yml if present, "
        "else the defaults)",
    )
    review.add_argument("--no-static", action="store_true", help="skip the deterministic checks")
    return review


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    p = argparse.ArgumentParser(
        prog="archbot",
        description="An architect's review for pull requests and design docs.",
        epilog=EXIT_CODES,
        formatter_class=_Formatter,
    )
    p.add_argument("--version", action="version", version=f"archbot {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the GitHub App: webhook receiver + worker",
        description="Run the GitHub App: POST /webhook, GET /healthz /readyz /metrics, and the worker. Needs "
        "GITHUB_APP_ID, GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH) and GITHUB_WEBHOOK_SECRET, from the "
        "environment or ./.env; with none of them it serves the setup page of `archbot setup` at GET / first.",
        epilog=SERVE_LIMITS,
        formatter_class=_Formatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: %(default)s)")
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="where GitHub reaches this server; without App credentials `serve` offers the setup page "
        "(see `archbot setup`), whose App gets URL/webhook as its webhook URL",
    )
    serve.add_argument(
        "--with-worker",
        action="store_true",
        help="on PostgreSQL, also run jobs in this process (by default it only receives; run `archbot worker`)",
    )

    setup = sub.add_parser(
        "setup",
        help="register archbot as a GitHub App in one click (GitHub's App manifest flow)",
        description="Serve a local page that registers archbot as a GitHub App from its manifest (permissions, "
        "events, webhook URL). GitHub sends you back to this page, which writes GITHUB_APP_ID, "
        "GITHUB_WEBHOOK_SECRET and GITHUB_PRIVATE_KEY_PATH to ./.env and the private key next to it "
        "(both mode 0600), then exits. `archbot serve` reads ./.env.",
        epilog="example:\n  archbot setup --public-url https://archbot.example.com --org my-org",
        formatter_class=_Formatter,
    )
    setup.add_argument(
        "--public-url",
        required=True,
        metavar="URL",
        help="where GitHub reaches archbot: the App's webhook URL is URL/webhook (required)",
    )
    setup.add_argument("--org", metavar="ORG", help="register the App for this organization (default: your account)")
    setup.add_argument(
        "--github-url",
        metavar="URL",
        help="GitHub Enterprise Server's address; its API is URL/api/v3 (default: https://github.com)",
    )
    setup.add_argument("--name", metavar="NAME", help="the App's name, editable on GitHub (default: archbot[-ORG])")
    setup.add_argument(
        "--force",
        action="store_true",
        help="replace the App settings ./.env holds already (its other settings are kept)",
    )
    setup.add_argument("--host", default="127.0.0.1", help="address the page listens on (default: %(default)s)")
    setup.add_argument("--port", type=int, default=8000, help="port the page listens on (default: %(default)s)")

    worker = sub.add_parser(
        "worker",
        help="run only the worker (jobs from ARCHBOT_DATABASE_URL)",
        description="Run jobs from the store in ARCHBOT_DATABASE_URL without receiving webhooks. Needs "
        "GITHUB_APP_ID and GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH). SIGTERM stops it gracefully: "
        "running jobs finish (or are handed back to the queue), none is lost.",
        formatter_class=_Formatter,
    )
    worker.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="jobs run at once by this process (default: ARCHBOT_WORKER_CONCURRENCY, 2)",
    )

    db = sub.add_parser(
        "db",
        help="manage the store: `archbot db migrate`",
        description="Manage the store in ARCHBOT_DATABASE_URL.",
        formatter_class=_Formatter,
    )
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_sub.add_parser(
        "migrate",
        help="create or update the schema (idempotent; safe to run from several processes at once)",
        description="Create or update the store's schema: on PostgreSQL procrastinate's schema and archbot's "
        "tables (under an advisory lock), on SQLite the file and its tables.",
        formatter_class=_Formatter,
    )

    review = _review_parser(sub)

    plan = sub.add_parser(
        "plan",
        help="clarifying questions or an implementation plan for a design doc",
        description="Ask the clarifying questions a design doc leaves open, or write its implementation "
        "plan. Needs model credentials: ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN).",
        epilog=EXIT_CODES.replace("a finding at or above --fail-on, or ", ""),
        formatter_class=_Formatter,
    )
    plan.add_argument("file", metavar="FILE", help="the design doc (Markdown), or - for stdin")
    plan.add_argument("--now", action="store_true", help="plan now, stating missing facts as assumptions")
    plan.add_argument(
        "--repo-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the checkout whose files and symbols the document names are shown to the model (default: .)",
    )

    sub.add_parser(
        "action",
        help="run inside a GitHub Actions workflow (reads GITHUB_EVENT_PATH)",
        description="Run inside a GitHub Actions workflow: reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH and "
        "GITHUB_TOKEN; see action.yml for the inputs.",
        formatter_class=_Formatter,
    )

    rules = sub.add_parser(
        "rules",
        help="list every rule archbot can report (own, ruff, model), or show one",
        description="List every rule archbot can report: its own deterministic rules (ARCH1xx), the ruff rules "
        "it runs (ruff:<code>) and the model's review categories (archbot/<category>), with family, severity "
        "and what each catches. Name rules (ARCH110, S608) to see their help and, for own rules, an unsafe and "
        "a safe example.",
        epilog="examples:\n  archbot rules\n  archbot rules ARCH110\n  archbot rules --format json > rules.json",
        formatter_class=_Formatter,
    )
    rules.add_argument("rule", nargs="*", metavar="RULE", help="rule ids to show in detail (default: all, as a table)")
    rules.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text (an aligned table; details for named rules), json, or markdown (the README's table) "
        "(default: %(default)s)",
    )
    rules.add_argument("--own", action="store_true", help="only archbot's own rules")

    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of an output format",
        description="Print the JSON Schema of an output format.",
        formatter_class=_Formatter,
    )
    schema.add_argument("name", choices=("review-json",), help="review-json: the document of `review --format json`")

    send = sub.add_parser(
        "send-test-delivery",
        help="send a signed test delivery to a running server",
        description="Sign a delivery with GITHUB_WEBHOOK_SECRET and POST it to a running `archbot serve`; print "
        "the answer (200 for ping, 202 and the jobs queued for pull_request).",
        formatter_class=_Formatter,
    )
    send.add_argument("--url", default="http://127.0.0.1:8000/webhook", help="the webhook URL (default: %(default)s)")
    send.add_argument(
        "--event",
        choices=("ping", "pull_request"),
        default="ping",
        help="ping, or pull_request: a pull_request.opened for --repo/--pr/--installation (default: %(default)s)",
    )
    send.add_argument("--repo", metavar="OWNER/NAME", help="pull_request: the repository")
    send.add_argument("--pr", type=int, metavar="NUMBER", help="pull_request: the pull request number")
    send.add_argument("--installation", type=int, metavar="ID", help="pull_request: the App's installation id")
    send.add_argument(
        "--head-sha",
        metavar="SHA",
        help="pull_request: the head commit named (default: 40 zeros, not the PR's head, so the worker posts "
        "nothing; give the PR's real head to have it reviewed)",
    )
    subparsers = {
        "serve": serve,
        "setup": setup,
        "review": review,
        "plan": plan,
        "rules": rules,
        "schema": schema,
        "send-test-delivery": send,
    }
    subparsers.update({name: sub.choices[name] for name in ("worker", "action", "db")})
    return p, subparsers


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse; an unknown option is reported with its subcommand's usage, not the top-level one."""
    parser, subparsers = _parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        subparsers[args.command].error(f"unrecognized arguments: {' '.join(extras)}")
    if args.command == "review" and args.repo_dir is not None and not args.repo_dir.is_dir():
        subparsers["review"].error(f"--repo-dir {args.repo_dir}: not a directory")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; the process exit code (see the module docstring)."""
    args = _parse(argv)
    if args.command == "rules":
        return _rules(args)
    if args.command == "schema":
        from app.review.report import review_json_schema

        sys.stdout.write(json.dumps(review_json_schema(), indent=2) + "\n")
        return 0
    from app.settings import SettingsError, load_settings

    try:
        # `archbot serve` reads ./.env (what `archbot setup` wrote); the environment wins over it
        settings = load_settings(_env_file=ENV_FILE) if args.command == "serve" else load_settings()
        if args.command != "action":  # the action logs inside its workflow-command guard (app.action)
            from app.logs import configure_logging

            configure_logging(settings.archbot_log_level, fmt=settings.archbot_log_format)
        if args.command == "setup":
            return _setup(args)
        return asyncio.run(_run(args, settings)) if args.command != "serve" else _serve(args, settings)
    except SettingsError as exc:
        sys.stderr.write(f"archbot: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


def _rules(args: argparse.Namespace) -> int:
    from app.static.rules_list import render, select

    try:
        docs = select(args.rule, own_only=args.own)
    except KeyError as exc:
        sys.stderr.write(f"archbot: no rule {exc.args[0]!r}; `archbot rules` lists them all\n")
        return 2
    sys.stdout.write(render(docs, args.format, details=bool(args.rule)))
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from app.serve import serve
    from app.settings import load_settings

    return serve(
        settings,
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        with_worker=bool(args.with_worker),
        reload_settings=lambda: load_settings(_env_file=ENV_FILE),
    )


def _setup(args: argparse.Namespace) -> int:
    from app.setup.cli import setup_command

    return setup_command(
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        github_url=args.github_url,
        org=args.org,
        name=args.name,
        force=args.force,
    )


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "review":
        from app.local import Options, run_review

        options = Options(
            diff=args.diff,
            repo_dir=args.repo_dir,
            output_format=args.format,
            dry_run=args.dry_run,
            config_path=args.config,
            static=not args.no_static,
            fail_on=args.fail_on,
        )
        return await run_review(settings, options)
    if args.command == "plan":
        from app.local_plan import run_plan

        return await run_plan(settings, source=args.file, now=args.now, repo_dir=args.repo_dir or Path.cwd())
    if args.command == "worker":
        from app.serve import run_worker_only

        if args.concurrency is not None:
            from app.settings import SettingsError

            if not 1 <= args.concurrency <= 32:
                raise SettingsError("worker --concurrency must be between 1 and 32")
            settings = settings.model_copy(update={"archbot_worker_concurrency": args.concurrency})
        return await run_worker_only(settings)
    if args.command == "db":
        from app.db_commands import migrate_database

        return await migrate_database(settings)
    if args.command == "action":
        from app.action import run_action

        return await run_action(settings)
    from app.serve import send_test_delivery

    return await send_test_delivery(
        settings,
        url=args.url,
        event=args.event,
        repo=args.repo,
        pr=args.pr,
        installation=args.installation,
        head_sha=args.head_sha,
    )


if __name__ == "__main__":
    raise SystemExit(main())
