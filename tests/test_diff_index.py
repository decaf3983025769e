"""app.review.diff_index: a diff's files from their headers, each parsed on request as parse_diff would."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.review.diff import DiffParseError, FileStatus, parse_diff, parse_file_patch
from app.review.diff_index import index_diff, index_file_rows

FIXTURES = Path(__file__).parent / "fixtures" / "diffs"


def file_section(path: str, added: int) -> str:
    """A git diff section that adds ``added`` lines to ``path`` (``added + 6`` diff lines in all)."""
    body = "".join(f"+line {i} of {path}\n" for i in range(added))
    return (
        f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -1,1 +1,{added + 1} @@\n ctx\n{body}"
    )


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.diff")))
def test_each_file_parses_as_parse_diff_does_from_bytes_or_text(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    whole = parse_diff(raw.decode("utf-8"))
    for diff in (raw, raw.decode("utf-8")):
        index = index_diff(diff)
        assert [index.file(i) for i in range(len(index.entries))] == whole
        assert [(e.path, e.old_path, e.status, e.is_binary, e.has_hunks) for e in index.entries] == [
            (f.path, f.old_path, f.status, f.is_binary, bool(f.hunks)) for f in whole
        ]


def test_entries_count_section_lines_and_find_hunks() -> None:
    mode = "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
    text = "a cover letter\n\n" + file_section("a.py", 3) + file_section("b.py", 10) + mode
    index = index_diff(text)
    assert [(e.path, e.lines, e.has_hunks, e.status) for e in index.entries] == [
        ("a.py", 9, True, FileStatus.MODIFIED),
        ("b.py", 16, True, FileStatus.MODIFIED),
        ("run.sh", 3, False, FileStatus.MODE_ONLY),
    ]
    assert sum(e.lines for e in index.entries) == text.count("\n") - 2
    only = index.header_only(0, "why")
    assert (only.path, only.hunks, only.skip_note) == ("a.py", (), "why")


def test_a_broken_hunk_is_reported_when_parsed_with_its_line_in_the_whole_diff() -> None:
    broken = "diff --git a/docs/x.md b/docs/x.md\n--- a/docs/x.md\n+++ b/docs/x.md\n@@ -1,2 +1,2 @@\n a\n?b\n"
    text = file_section("app/auth.py", 2) + broken
    index = index_diff(text)  # headers only: no error yet
    with pytest.raises(DiffParseError) as lazily:
        index.file(1)
    with pytest.raises(DiffParseError) as eagerly:
        parse_diff(text)
    assert str(lazily.value) == str(eagerly.value)
    assert "line 9 (diff --git a/docs/x.md b/docs/x.md)" in str(lazily.value)


def test_header_errors_are_raised_while_indexing() -> None:
    with pytest.raises(DiffParseError, match="not followed by a"):
        index_diff("diff --git a/x.py b/x.py\n--- a/x.py\n@@ -1 +1 @@\n-a\n+b\n")
    with pytest.raises(DiffParseError, match="not a unified diff"):
        index_diff("hello\nthis is not a diff\n")
    assert index_diff("").entries == () and index_diff(b"\n\n").entries == ()


def test_invalid_utf8_is_replaced_as_a_whole_decode_would_be() -> None:
    raw = file_section("a.py", 1).encode() + b"+caf\xe9\n"
    raw = raw.replace(b"@@ -1,1 +1,2 @@", b"@@ -1,1 +1,3 @@")
    assert index_diff(raw).file(0) == parse_diff(raw.decode("utf-8", errors="replace"))[0]


def test_files_list_rows() -> None:
    rows = [
        {"filename": "app/auth.py", "status": "modified", "patch": "@@ -1 +1,2 @@\n a\n+b"},
        {"filename": "big.bin", "status": "modified"},
        {"filename": "new.py", "status": "renamed", "previous_filename": "old.py", "patch": "@@ -1 +1 @@\n-x\n+y"},
        {"filename": "gone.py", "status": "removed"},
    ]
    index = index_file_rows(rows)
    assert [(e.path, e.old_path, e.status, e.has_hunks, e.lines) for e in index.entries] == [
        ("app/auth.py", None, FileStatus.MODIFIED, True, 3),
        ("big.bin", None, FileStatus.UNKNOWN, False, 0),
        ("new.py", "old.py", FileStatus.RENAMED, True, 3),
        ("gone.py", None, FileStatus.REMOVED, False, 0),
    ]
    for i, row in enumerate(rows):
        assert index.file(i) == parse_file_patch(
            row["filename"], row["status"], row.get("patch"), row.get("previous_filename")
        )
