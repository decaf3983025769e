"""The ``archbot`` console script: serve, worker, review, plan, action, send-test-delivery."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydantic-settings costs ~0.1 s to import: not for --help (see bench/startup.py)
    from app.settings import Settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="archbot", description="An architect's review for PRs and design docs.")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the GitHub App: webhook receiver + worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    sub.add_parser("worker", help="run only the worker (jobs from ARCHBOT_DATABASE_URL)")

    review = sub.add_parser("review", help="review a unified diff locally and print the review")
    review.add_argument("--diff", required=True, help="diff file, or - for stdin")
    review.add_argument("--repo-dir", type=Path, help="checkout of the new revision (full files for checks)")
    review.add_argument("--format", choices=("markdown", "json", "sarif"), default="markdown")
    review.add_argument("--dry-run", action="store_true", help="show what would be sent; call no model")
    review.add_argument("--config", type=Path, help="a .github/archbot.yml to apply (default: none)")
    review.add_argument("--no-static", action="store_true", help="skip the deterministic checks")

    plan = sub.add_parser("plan", help="clarifying questions or an implementation plan for a design doc")
    plan.add_argument("file", help="Markdown file, or - for stdin")
    plan.add_argument("--now", action="store_true", help="plan now, even if key facts are missing")

    sub.add_parser("action", help="run inside a GitHub Actions workflow (reads GITHUB_EVENT_PATH)")

    send = sub.add_parser("send-test-delivery", help="send a signed test delivery to a running server")
    send.add_argument("--url", default="http://127.0.0.1:8000/webhook")
    send.add_argument("--event", default="ping", help="ping (default) or pull_request")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 1 findings gate or failure, 2 usage/settings)."""
    args = _parser().parse_args(argv)
    from app.settings import SettingsError, load_settings

    try:
        settings = load_settings()
        return asyncio.run(_run(args, settings)) if args.command != "serve" else _serve(args, settings)
    except SettingsError as exc:
        sys.stderr.write(f"archbot: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from app.serve import serve

    return serve(settings, host=args.host, port=args.port)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "review":
        from app.local import run_review

        return await run_review(
            settings,
            diff=args.diff,
            repo_dir=args.repo_dir,
            output_format=args.format,
            dry_run=args.dry_run,
            config_path=args.config,
            static=not args.no_static,
        )
    if args.command == "plan":
        from app.local_plan import run_plan

        return await run_plan(settings, source=args.file, now=args.now)
    if args.command == "worker":
        from app.serve import run_worker_only

        return await run_worker_only(settings)
    if args.command == "action":
        from app.action import run_action

        return await run_action(settings)
    from app.serve import send_test_delivery

    return await send_test_delivery(settings, url=args.url, event=args.event)


if __name__ == "__main__":
    raise SystemExit(main())
