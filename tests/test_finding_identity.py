"""Finding identity: rule + path + enclosing scope + normalised code + occurrence, never a line number;
markers written by the version without scopes (legacy fingerprints) are still recognised on re-review."""

from __future__ import annotations

import ast
from pathlib import Path

from app.review.fingerprint import fingerprint, recognised
from app.review.markers import parse_marker, render_marker
from app.review.models import Category, Finding, Placement, Severity, Source
from app.static.engine import ChangedPython, analyse
from app.static.scopes import ScopeIndex
from tests.e2e import BASE, REPO, SHA1, SHA3, Harness, make_harness, pr_payload

PATH = "svc/loader.py"
SOURCE = """import pickle


def first(blob: bytes) -> object:
    return pickle.loads(blob)


class Service:
    def handle(self, blob: bytes) -> object:
        def inner() -> object:
            return pickle.loads(blob)

        inner()
        return pickle.loads(blob)
"""


def findings(source: str, path: str = PATH, changed: set[int] | None = None) -> list[Finding]:
    lines = frozenset(changed if changed is not None else range(1, source.count("\n") + 2))
    return [f for f in analyse([ChangedPython(path, source, lines)], run_ruff=False).findings if f.rule_id]


def pickle_fps(source: str, changed: set[int] | None = None) -> list[str]:
    return [f.fingerprint for f in findings(source, changed=changed)]


def test_scope_index_uses_qualified_names() -> None:
    lines = SOURCE.split("\n")
    index = ScopeIndex(ast.parse(SOURCE), lines)
    assert index.scope(1) == "<module>"
    assert index.scope(5) == "first"
    assert index.scope(9) == "Service.handle"
    assert index.scope(11) == "Service.handle.<locals>.inner"
    assert index.scope(14) == "Service.handle"
    assert ScopeIndex(None, lines).scope(5) == "<module>"  # a file that does not parse


def test_identical_calls_in_different_scopes_are_different_findings() -> None:
    found = findings(SOURCE)
    assert len(found) == 3 and len({f.rule_id for f in found}) == 1
    assert len({f.fingerprint for f in found}) == 3
    assert len({f.legacy_fingerprint for f in found}) == 1  # what the old identity merged into one


def test_identical_calls_in_one_scope_differ_by_occurrence_whatever_the_diff_changed() -> None:
    source = "import pickle\n\n\ndef load(a: bytes, b: bytes) -> object:\n    pickle.loads(a)\n    pickle.loads(a)\n"
    both = findings(source)
    assert len({f.fingerprint for f in both}) == 2
    only_second = findings(source, changed={6})
    assert [f.fingerprint for f in only_second] == [both[1].fingerprint]


def test_moving_code_down_or_reordering_functions_keeps_the_fingerprints() -> None:
    before = {f.fingerprint for f in findings(SOURCE)}
    shifted = SOURCE.replace("import pickle\n", "import pickle\n" + "# padding\n" * 5 + "X = 1\n" * 5, 1)
    assert {f.fingerprint for f in findings(shifted)} == before
    head, _, rest = SOURCE.partition("\n\n\ndef first")
    first_fn, _, service = rest.partition("\n\n\nclass Service")
    reordered = head + "\n\n\nclass Service" + service + "\n\ndef first" + first_fn + "\n"
    assert {f.fingerprint for f in findings(reordered)} == before


def test_renaming_the_enclosing_function_changes_the_fingerprint() -> None:
    before = {f.fingerprint for f in findings(SOURCE)}
    after = {f.fingerprint for f in findings(SOURCE.replace("def first(", "def renamed("))}
    assert len(after - before) == 1 and len(before & after) == 2


def _finding(fp: str, legacy: str | None) -> Finding:
    return Finding(
        path=PATH,
        line=1,
        severity=Severity.HIGH,
        category=Category.SECURITY,
        title="t",
        rationale="r",
        placement=Placement.INLINE,
        source=Source.STATIC,
        fingerprint=fp,
        legacy_fingerprint=legacy,
    )


def test_recognised_accepts_either_form_and_gives_a_legacy_fingerprint_to_one_place_only() -> None:
    a, b, c = _finding("new-a", "old"), _finding("new-b", "old"), _finding("new-c", None)
    assert recognised([a, b, c], {"old"}) == {"new-a"}
    assert recognised([a, b, c], {"new-b", "new-c"}) == {"new-b", "new-c"}
    assert recognised([a, b, c], {"new-a", "old"}) == {"new-a"}
    assert fingerprint("R", PATH, "x()") != fingerprint("R", PATH, "x()", scope="<module>")


# -- end to end: the posted review ---------------------------------------------------------------------


def new_file_diff(path: str, text: str) -> str:
    lines = text.split("\n")[:-1]
    body = "".join(f"+{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n"
        f"+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


async def harness(tmp_path: Path) -> Harness:
    h = await make_harness(tmp_path, with_model=False)
    h.fake.add_pr(REPO, 7, diff=new_file_diff(PATH, SOURCE), head_sha=SHA1, base_sha=BASE, head_files={PATH: SOURCE})
    return h


def posted_lines(h: Harness) -> list[int]:
    return sorted(c["line"] for r in h.reviews() for c in r.comments if c["path"] == PATH)


async def test_both_places_reach_the_posted_review(tmp_path: Path) -> None:
    h = await harness(tmp_path)
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    assert posted_lines(h) == [5, 11, 14]
    await h.close()


async def test_old_form_marker_is_recognised_on_re_review(tmp_path: Path) -> None:
    """A thread posted by the version without scopes names the first place by its legacy fingerprint:
    that place is not posted again, its thread is not resolved, and the places it never reported are."""
    h = await harness(tmp_path)
    [first, *_] = findings(SOURCE)
    bot = h.deps.identity.bot_login
    assert bot is not None
    marker = render_marker("finding", {"fps": [first.legacy_fingerprint], "srcs": ["static"], "sha": SHA3})
    h.fake.add_review_comment(REPO, 7, path=PATH, line=5, body="old finding\n" + marker, author=bot, author_type="Bot")
    await h.deliver("pull_request", pr_payload("opened"))
    await h.drain()
    assert posted_lines(h) == [11, 14]  # line 5 was already posted under its legacy fingerprint
    threads = h.fake.threads(REPO, 7)
    old = next(t for t in threads if t.comments[0].body.startswith("old finding"))
    assert old.is_resolved is False
    summary = next(c for c in h.comments() if parse_marker(c.body, "summary"))
    data = parse_marker(summary.body, "summary")
    assert data is not None and first.fingerprint in data["inline"]  # migrated: the next run matches it directly
    await h.close()
