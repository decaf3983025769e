"""The diff cap and the lazy diff index: app.review.diff_index, app.review.diff_caps, app.diff_input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app.diff_input import DiffTooLargeError, read_diff_bytes
from app.review.diff import DiffParseError, FileDiff, FileStatus, filter_files, parse_diff, parse_file_patch
from app.review.diff_caps import CappedDiff, DiffCaps, apply_caps
from app.review.diff_index import index_diff, index_file_rows
from app.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "diffs"
UNREAD = frozenset({FileStatus.REMOVED, FileStatus.BINARY, FileStatus.MODE_ONLY})


def file_section(path: str, added: int, *, start: int = 1) -> str:
    """A git diff section that adds ``added`` lines to ``path`` (``added + 6`` diff lines in all)."""
    body = "".join(f"+line {i} of {path}\n" for i in range(added))
    return (
        f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -{start},1 +{start},{added + 1} @@\n ctx\n{body}"
    )


def make_diff(*files: tuple[str, int]) -> str:
    return "".join(file_section(path, added) for path, added in files)


def identity(f: FileDiff) -> tuple[str, str | None, FileStatus, bool]:
    return f.path, f.old_path, f.status, f.is_binary


def reasons(capped: CappedDiff) -> dict[str, str]:
    return {n.path: n.reason for n in filter_files(capped.files)[1]}


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.diff")))
def test_under_the_cap_files_are_parsed_as_parse_diff_does(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    whole = parse_diff(raw.decode("utf-8"))
    capped = apply_caps(index_diff(raw), DiffCaps(10**9, 10**9))
    assert len(capped.files) == len(whole) and not capped.over
    for got, want in zip(capped.files, whole, strict=True):
        assert identity(got) == identity(want)
        if want.status not in UNREAD:  # deleted/binary/mode-only files are never parsed
            assert got == want


def test_a_broken_hunk_beyond_the_cap_is_never_parsed() -> None:
    broken = "diff --git a/docs/x.md b/docs/x.md\n--- a/docs/x.md\n+++ b/docs/x.md\n@@ -1,2 +1,2 @@\n a\n?b\n"
    text = make_diff(("app/auth.py", 2)) + broken
    capped = apply_caps(index_diff(text), DiffCaps(max_files=1))
    assert [f.path for f in capped.files if f.hunks] == ["app/auth.py"]
    with pytest.raises(DiffParseError, match="line 9"):
        apply_caps(index_diff(text), DiffCaps())


def test_files_list_rows_are_parsed_only_within_the_cap() -> None:
    rows = [
        {"filename": "README.md", "status": "modified", "patch": "@@ -1 +1 @@\n-a\n+b"},
        {"filename": "app/auth.py", "status": "modified", "patch": "@@ -1 +1,2 @@\n a\n+b"},
        {"filename": "big.bin", "status": "modified"},
    ]
    capped = apply_caps(index_file_rows(rows), DiffCaps(max_files=1))
    files = {f.path: f for f in capped.files}
    assert files["app/auth.py"] == parse_file_patch("app/auth.py", "modified", rows[1]["patch"])
    assert files["big.bin"].status is FileStatus.UNKNOWN
    assert not files["README.md"].hunks and capped.beyond == ("README.md",)
    assert "ARCHBOT_MAX_DIFF_FILES" in reasons(capped)["README.md"]


# ---------------------------------------------------------------------------------------------- the cap


def test_under_the_cap_nothing_is_named() -> None:
    capped = apply_caps(index_diff(make_diff(("a.py", 3), ("b.py", 3))), DiffCaps(max_lines=18, max_files=2))
    assert not capped.over and capped.note() == "" and all(f.hunks for f in capped.files)
    assert (capped.wanted_files, capped.wanted_lines) == (2, 18)


def test_file_cap_keeps_the_riskiest_files_and_names_the_rest() -> None:
    paths = ["docs/guide.md", "tests/test_x.py", "app/util.py", "app/auth.py", "web/app.js"]
    capped = apply_caps(index_diff(make_diff(*((p, 1) for p in paths))), DiffCaps(max_files=2))
    assert [f.path for f in capped.files] == paths  # diff order kept
    assert {f.path for f in capped.files if f.hunks} == {"app/auth.py", "app/util.py"}
    assert set(capped.beyond) == {"docs/guide.md", "tests/test_x.py", "web/app.js"}
    why = reasons(capped)
    assert set(why) == set(capped.beyond)
    assert all("at most 2 files" in r and "ARCHBOT_MAX_DIFF_FILES" in r for r in why.values())
    assert (capped.wanted_files, capped.reviewed_files) == (5, 2)
    note = capped.note()
    assert "5 files" in note and "the 2 highest-risk files" in note and "other 3 are listed" in note


def test_line_cap_skips_a_file_that_does_not_fit_and_takes_smaller_ones_after_it() -> None:
    # app/auth.py (rank 0) has 16 lines, app/big_api.py (0) 106, app/util.py (2) 8: cap 30 lines.
    text = make_diff(("app/util.py", 2), ("app/big_api.py", 100), ("app/auth.py", 10))
    capped = apply_caps(index_diff(text), DiffCaps(max_lines=30))
    assert {f.path for f in capped.files if f.hunks} == {"app/auth.py", "app/util.py"}
    assert capped.beyond == ("app/big_api.py",)
    reason = reasons(capped)["app/big_api.py"]
    assert "30 diff lines" in reason and "106" in reason and "ARCHBOT_MAX_DIFF_LINES" in reason
    assert capped.reviewed_lines == 24


def test_deleted_and_path_skipped_files_do_not_count_and_keep_their_own_reason() -> None:
    deleted = (
        "diff --git a/app/old.py b/app/old.py\ndeleted file mode 100644\n"
        "--- a/app/old.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n"
    )
    text = deleted + make_diff(("vendor/lib.py", 50), ("poetry.lock", 5), ("app/a.py", 1), ("app/b.py", 1))
    capped = apply_caps(index_diff(text), DiffCaps(max_files=2))
    why = reasons(capped)
    assert why == {"app/old.py": "deleted", "vendor/lib.py": "vendored", "poetry.lock": "lock file"}
    assert not capped.over and capped.wanted_files == 2


def test_a_forced_vendored_file_beyond_the_cap_says_the_cap() -> None:
    text = make_diff(("vendor/lib.py", 50), ("app/a.py", 1))
    capped = apply_caps(index_diff(text), DiffCaps(max_lines=20))
    kept, skipped = filter_files(capped.files, ["!vendor/**"])
    assert [f.path for f in kept] == ["app/a.py"]
    assert [n.path for n in skipped] == ["vendor/lib.py"] and "ARCHBOT_MAX_DIFF_LINES" in skipped[0].reason
    # with room left, the vendored file is parsed (last) and the config can bring it in
    roomy = apply_caps(index_diff(text), DiffCaps(max_lines=100))
    assert [f.path for f in filter_files(roomy.files, ["!vendor/**"])[0]] == ["vendor/lib.py", "app/a.py"]


def test_caps_must_be_positive_and_settings_defaults_match() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DiffCaps(max_lines=0)
    settings = Settings()
    caps = DiffCaps()
    assert (settings.archbot_max_diff_lines, settings.archbot_max_diff_files) == (caps.max_lines, caps.max_files)
    assert settings.archbot_max_diff_bytes == 64 * 1024 * 1024


def test_header_only_file_of_a_capped_diff_carries_the_note() -> None:
    capped = apply_caps(index_diff(make_diff(("a.py", 1), ("b.py", 1))), DiffCaps(max_files=1))
    (beyond,) = [f for f in capped.files if not f.hunks]
    assert isinstance(beyond, FileDiff) and beyond.skip_note is not None and beyond.status is FileStatus.MODIFIED


# ------------------------------------------------------------------------------------------ byte cap


def test_byte_cap_on_files_and_stdin(tmp_path: Path) -> None:
    diff = tmp_path / "big.diff"
    diff.write_bytes(b"x" * 101)
    assert read_diff_bytes(str(diff), io.StringIO(), 101) == b"x" * 101
    with pytest.raises(DiffTooLargeError, match=r"big\.diff .* more than archbot reads .*ARCHBOT_MAX_DIFF_BYTES"):
        read_diff_bytes(str(diff), io.StringIO(), 100)
    with pytest.raises(DiffTooLargeError, match="the diff on stdin"):
        read_diff_bytes("-", io.StringIO("y" * 11), 10)
    stdin = io.TextIOWrapper(io.BytesIO("é\n".encode()), encoding="utf-8")
    assert read_diff_bytes("-", stdin, 10) == "é\n".encode()
