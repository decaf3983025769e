"""Issue jobs: design reviews of labelled issues and the /plan, /review, /help comment commands."""

from __future__ import annotations

import structlog

from app.commands import KNOWN_COMMANDS
from app.design.engine import clarify, has_key_facts, make_plan, review_design
from app.design.render import render_design_review, render_plan, render_questions
from app.github.api import RepoAPI
from app.github.errors import GitHubError
from app.github.models import IssueComment, IssueInfo
from app.jobs import Job, JobKind
from app.pipeline.deps import Deps, daily_budget_spent, record_spend
from app.pipeline.ownership import is_ours, own_marked_comment
from app.pipeline.pr_review import review_pull_request
from app.repo_config import RepoConfig, parse_repo_config, permission_allows
from app.review.markers import render_marker
from app.review.model_api import LLMError, ReviewModel
from app.review.models import TokenUsage
from app.review.sanitize import sanitize_markdown

DAY = 86_400.0
HOUR = 3_600.0
MAX_DISCUSSION_CHARS = 40_000
NAMED_CODE_TOKENS = 6000  # tokens of a plan or design review prompt kept for the code the issue names

HELP = """**archbot** — commands (first line of a new comment; you need `{permission}` permission or more):

| command | where | what it does |
|---|---|---|
| `/review` | pull request | review the whole PR again (not only the new commits) |
| `/review` | issue | design review of the issue |
| `/plan` | issue | clarifying questions first, then an implementation plan in one sticky comment |
| `/plan --now` | issue | the plan now, with the facts at hand |
| `/help` | anywhere | this message |

Configuration lives in `.github/archbot.yml` on the default branch: `review.enabled`, `review.drafts`,
`review.ignore`, `review.max_files`, `review.max_inline_comments`, `review.severity_threshold`,
`review.instructions`, `design_docs.paths`, `design_docs.issue_labels`, `plan.enabled`,
`plan.ask_clarifying_questions`, `commands.allowed_permission`, `model`.
"""


def _issue_text(issue: IssueInfo) -> str:
    return f"# {issue.title}\n\n{issue.body or ''}"


def _discussion(comments: list[IssueComment], deps: Deps) -> str:
    """What humans said in the thread (archbot's own comments and bots left out), newest last."""
    said = [
        f"@{c.author or 'someone'}:\n{c.body}"
        for c in comments
        if not is_ours(c.author, deps.identity) and not c.author_is_bot
    ]
    text = "\n\n---\n\n".join(said)
    return text[-MAX_DISCUSSION_CHARS:] or "(no comments yet)"


class IssueWork:
    """Shared plumbing of the issue jobs: the API, the config, quotas and sticky comments."""

    def __init__(self, deps: Deps, job: Job) -> None:
        self.deps = deps
        self.job = job
        owner, _, repo = job.repo.partition("/")
        self.api: RepoAPI = deps.factory.repo_api(owner, repo, installation_id=job.installation_id)
        self.log = structlog.get_logger("archbot.issue").bind(repo=job.repo, issue=job.number)

    async def config(self) -> RepoConfig:
        return parse_repo_config(await self.api.file_text(self.deps.settings.archbot_config_path)).config

    def model(self, config: RepoConfig) -> ReviewModel | None:
        return self.deps.models.model(config.model) if self.deps.models is not None else None

    async def over_daily_budget(self) -> bool:
        return await daily_budget_spent(self.deps, self.job)

    async def spend(self, usage: TokenUsage) -> None:
        await record_spend(self.deps, self.job, usage)

    async def named_code(self, text: str) -> str:
        """The default branch's code that ``text`` names (its ``.py`` paths, and backticked symbols
        defined in them), rendered as context; one GraphQL read, none when no path is named."""
        from app.review.context import RepoIndex, build_named_context
        from app.review.context.builder import named_in

        paths = [p for p in named_in(text)[0] if p.endswith((".py", ".pyi"))]
        if not paths or not self.api.graphql_enabled:
            return ""
        settings = self.deps.settings
        try:
            texts = await self.api.context_blobs(
                "HEAD",
                paths,
                max_files=settings.archbot_context_max_files,
                max_bytes=settings.archbot_context_max_bytes,
            )
        except GitHubError as exc:
            self.log.warning("named_code_failed", error=exc.__class__.__name__, asked=len(paths))
            return ""
        context = build_named_context(text, RepoIndex(texts.get, list(texts)), NAMED_CODE_TOKENS)
        return context.render() if context.included else ""

    async def upsert(self, comments: list[IssueComment], kind: str, body: str, state: dict[str, object]) -> int:
        """Create archbot's sticky comment of ``kind`` once, then edit it in place."""
        text = body.rstrip() + "\n\n" + render_marker(kind, state)
        existing = own_marked_comment(comments, self.deps.identity, kind)
        if existing is not None:
            await self.api.update_comment(existing.comment.id, text)
            return existing.comment.id
        return await self.api.create_comment(self.job.number, text)


async def design_review(work: IssueWork, issue: IssueInfo, config: RepoConfig, comments: list[IssueComment]) -> None:
    model = work.model(config)
    if model is None:
        work.log.info("design_review_skipped", reason="no model credentials")
        return
    if await work.over_daily_budget():
        await work.upsert(
            comments,
            "design",
            "archbot skipped this design review: the daily token budget "
            "of this installation is spent. It will run on the next edit after midnight UTC.",
            {"state": "skipped: budget"},
        )
        return
    try:
        text = _issue_text(issue)
        code = await work.named_code(text)
        out, usage = await review_design(model, document=text, instructions=config.review.instructions, code=code)
    except LLMError as exc:
        await work.spend(exc.usage or TokenUsage())
        await work.upsert(
            comments,
            "design",
            f"archbot could not finish this design review ({exc.__class__.__name__}). Comment `/review` to try again.",
            {"state": "failed"},
        )
        return
    await work.spend(usage)
    await work.upsert(comments, "design", render_design_review(out), {"state": "reviewed"})


async def run_issue_review(deps: Deps, job: Job) -> None:
    """A labelled issue: design review when one of its labels is a configured design-doc label."""
    work = IssueWork(deps, job)
    issue = await work.api.issue(job.number)
    if issue.is_pr or issue.state != "open":
        return
    config = await work.config()
    wanted = {label.lower() for label in config.design_docs.issue_labels}
    if not wanted.intersection(label.lower() for label in issue.labels):
        work.log.info("not_a_design_issue")
        return
    await design_review(work, issue, config, await work.api.issue_comments(job.number))


async def run_command(deps: Deps, job: Job) -> None:
    """A slash command: permission from the API, quotas, a 👀, then the command itself."""
    work = IssueWork(deps, job)
    command = str(job.data.get("command", ""))
    login = str(job.data.get("login", ""))
    if not login or is_ours(login, deps.identity) or login.endswith("[bot]"):
        return
    config = await work.config()
    required = config.commands.allowed_permission
    if not permission_allows(await work.api.permission(login), required):
        await _deny(work, login, required)
        return
    if job.comment_id is not None:
        await work.api.add_reaction(job.comment_id, "eyes")
    if command == "help" or command not in KNOWN_COMMANDS:
        prefix = "" if command == "help" else f"`/{_safe(command)}` is not a command I know.\n\n"
        await work.api.create_comment(job.number, prefix + HELP.format(permission=required))
        return
    if await _rate_limited(work):
        return
    if command == "review":
        await _review_command(work, job, config)
    else:
        await _plan_command(work, job, config)


def _safe(text: str) -> str:
    return sanitize_markdown(text.replace("`", ""))[:40]


async def _deny(work: IssueWork, login: str, required: str) -> None:
    """No model call; at most one short reply per user per issue per day."""
    work.log.info("command_denied", reason="permission")
    ledger = work.deps.ledger
    key = f"deny:{work.job.repo}#{work.job.number}:{login}"
    if ledger is not None and not await ledger.try_record(key, since=work.deps.clock() - DAY, limit=1):
        return
    await work.api.create_comment(
        work.job.number, f"Sorry, archbot commands need `{required}` permission on this repository."
    )


async def _rate_limited(work: IssueWork) -> bool:
    ledger = work.deps.ledger
    if ledger is None:
        return False
    key = f"cmd:{work.job.repo}#{work.job.number}"
    limit = work.deps.settings.archbot_commands_per_issue_per_hour
    if not await ledger.try_record(key, since=work.deps.clock() - HOUR, limit=limit):
        await work.api.create_comment(
            work.job.number, f"archbot runs at most {limit} commands per issue per hour; try again later."
        )
        return True
    if await work.over_daily_budget():
        await work.api.create_comment(
            work.job.number, "archbot's daily token budget for this installation is spent; try again tomorrow (UTC)."
        )
        return True
    return False


async def _review_command(work: IssueWork, job: Job, config: RepoConfig) -> None:
    if bool(job.data.get("is_pr")):
        pr_job = Job(
            kind=JobKind.REVIEW_PR,
            repo=job.repo,
            number=job.number,
            installation_id=job.installation_id,
            full=True,
            delivery_id=job.delivery_id,
        )
        await review_pull_request(work.deps, pr_job)  # records its own token spend
        return
    issue = await work.api.issue(job.number)
    await design_review(work, issue, config, await work.api.issue_comments(job.number))


async def _plan_command(work: IssueWork, job: Job, config: RepoConfig) -> None:
    if bool(job.data.get("is_pr")):
        await work.api.create_comment(job.number, "`/plan` works on issues: describe the feature in an issue first.")
        return
    if not config.plan.enabled:
        await work.api.create_comment(job.number, "`/plan` is turned off in `.github/archbot.yml` (`plan.enabled`).")
        return
    model = work.model(config)
    issue = await work.api.issue(job.number)
    comments = await work.api.issue_comments(job.number)
    if model is None:
        await work.upsert(
            comments, "plan", "archbot has no model credentials configured, so it cannot plan.", {"state": "no-model"}
        )
        return
    now = "--now" in [str(a) for a in job.data.get("args", [])]
    discussion = _discussion(comments, work.deps)
    usage = TokenUsage()
    try:
        if not now and config.plan.ask_clarifying_questions:
            questions, usage = await clarify(model, issue=_issue_text(issue), discussion=discussion)
            if not has_key_facts(questions):
                await work.spend(usage)
                await work.upsert(comments, "plan", render_questions(questions), {"state": "questions"})
                return
        code = await work.named_code(_issue_text(issue))
        plan, plan_usage = await make_plan(
            model, issue=_issue_text(issue), discussion=discussion, instructions=config.review.instructions, code=code
        )
    except LLMError as exc:
        await work.spend(usage + (exc.usage or TokenUsage()))
        await work.upsert(
            comments,
            "plan",
            f"archbot could not finish the plan ({exc.__class__.__name__}). Comment `/plan` to try again.",
            {"state": "failed"},
        )
        return
    await work.spend(usage + plan_usage)
    await work.upsert(comments, "plan", render_plan(plan), {"state": "plan"})
