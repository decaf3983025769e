"""app.review.diff: parsing real git diffs (fixtures made with git 2.39), GitHub file patches, filters."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.review.diff import (
    DiffLine,
    DiffParseError,
    FileDiff,
    FileStatus,
    Hunk,
    filter_files,
    match_glob,
    parse_diff,
    parse_file_patch,
    skip_reason,
)
from app.review.models import NotReviewed, Side

FIXTURES = Path(__file__).parent / "fixtures" / "diffs"


def load(name: str) -> str:
    # bytes, decoded: keeps CRLF exactly as it is in the file
    return (FIXTURES / name).read_bytes().decode("utf-8")


def by_path(files: list[FileDiff]) -> dict[str, FileDiff]:
    return {f.path: f for f in files}


def kinds(f: FileDiff) -> list[tuple[str, int | None, int | None, str]]:
    return [(ln.kind, ln.old_no, ln.new_no, ln.text) for h in f.hunks for ln in h.lines]


# ------------------------------------------------------------------------------------- the big fixture

EXPECTED_MIXED = [
    # path, old_path, status, is_binary, hunks
    ("app/auth.py", None, FileStatus.MODIFIED, False, 2),
    ("app/café.py", None, FileStatus.MODIFIED, False, 1),
    ("app/empty.py", None, FileStatus.ADDED, False, 0),
    ("app/gone.py", None, FileStatus.REMOVED, False, 1),
    ("app/moved_to.py", "app/moved.py", FileStatus.RENAMED, False, 0),
    ("app/new_file.py", None, FileStatus.ADDED, False, 1),
    ("app/renamed_new.py", "app/renamed_changed.py", FileStatus.RENAMED, False, 1),
    ("app/windows.py", None, FileStatus.MODIFIED, False, 1),
    ("docs/a b/c.md", None, FileStatus.MODIFIED, False, 1),
    ("img.png", None, FileStatus.BINARY, True, 0),
    ("mode_and_content.sh", None, FileStatus.MODIFIED, False, 1),
    ("my dir/file name.txt", None, FileStatus.MODIFIED, False, 1),
    ("nonl.txt", None, FileStatus.MODIFIED, False, 1),
    ("run.sh", None, FileStatus.MODE_ONLY, False, 0),
    ("trailing.txt", None, FileStatus.MODIFIED, False, 1),
]


@pytest.mark.parametrize("name", ["mixed.diff", "mixed_binary.diff", "crlf.diff"])
def test_mixed_fixture_files(name: str) -> None:
    files = parse_diff(load(name))
    got = [(f.path, f.old_path, f.status, f.is_binary, len(f.hunks)) for f in files]
    assert got == EXPECTED_MIXED


def test_crlf_and_git_binary_patch_parse_like_the_plain_diff() -> None:
    plain = parse_diff(load("mixed.diff"))
    assert "\r\n" in load("crlf.diff")
    assert parse_diff(load("crlf.diff")) == plain
    assert "GIT binary patch" in load("mixed_binary.diff")
    assert parse_diff(load("mixed_binary.diff")) == plain


def test_modified_file_lines_and_hunks() -> None:
    auth = by_path(parse_diff(load("mixed.diff")))["app/auth.py"]
    first, second = auth.hunks
    assert (first.old_start, first.old_len, first.new_start, first.new_len) == (2, 7, 2, 7)
    assert first.section == "import os"
    assert first.header() == "@@ -2,7 +2,7 @@ import os"
    assert second.header() == "@@ -16,4 +16,4 @@ def helper():"
    assert first.lines[3] == DiffLine("-", 5, None, "    if user.check(password):")
    assert first.lines[4] == DiffLine("+", None, 5, "    if user.check(password) or password == 'admin':")
    assert first.lines[0] == DiffLine(" ", 2, 2, "")
    assert first.right_lines == frozenset(range(2, 9))
    assert first.left_lines == frozenset(range(2, 9))
    assert first.added_lines == frozenset({5})
    assert auth.added_lines == frozenset({5, 19})
    assert auth.right_lines == frozenset(range(2, 9)) | frozenset(range(16, 20))
    assert auth.left_lines == auth.right_lines
    assert auth.hunk_for(Side.RIGHT, 5) is first
    assert auth.hunk_for(Side.LEFT, 19) is second
    assert auth.hunk_for(Side.RIGHT, 12) is None
    assert auth.new_text_of(4, 5) == "def login(user, password):\n    if user.check(password) or password == 'admin':"
    assert auth.new_text_of(5, 4) == auth.new_text_of(4, 5)
    assert auth.new_text_of(8, 17) == "\n\n"  # 8, 16 and 17 are blank; 9..15 are not shown
    assert auth.new_text_of(10, 12) == ""


def test_added_deleted_and_empty_files() -> None:
    files = by_path(parse_diff(load("mixed.diff")))
    new = files["app/new_file.py"]
    assert kinds(new) == [("+", None, 1, "new")]
    assert new.right_lines == new.added_lines == frozenset({1}) and new.left_lines == frozenset()
    gone = files["app/gone.py"]
    assert kinds(gone) == [("-", 1, None, "old content"), ("-", 2, None, "line 2")]
    assert gone.right_lines == frozenset() and gone.left_lines == frozenset({1, 2})
    assert gone.hunks[0].header() == "@@ -1,2 +0,0 @@"
    assert files["app/empty.py"].hunks == ()


def test_renames_pure_and_with_changes() -> None:
    files = by_path(parse_diff(load("mixed.diff")))
    changed = files["app/renamed_new.py"]
    assert changed.old_path == "app/renamed_changed.py"
    assert kinds(changed)[2:4] == [("-", 3, None, "z = 3"), ("+", None, 3, "z = 30")]
    assert files["app/moved_to.py"].hunks == ()


def test_paths_with_spaces_quotes_and_b_slash_inside() -> None:
    files = by_path(parse_diff(load("mixed.diff")))
    # "diff --git a/docs/a b/c.md b/docs/a b/c.md": unidiff alone reads this header wrongly
    assert kinds(files["docs/a b/c.md"]) == [(" ", 1, 1, "doc"), ("+", None, 2, "more")]
    assert files["my dir/file name.txt"].added_lines == frozenset({2})
    assert kinds(files["app/café.py"]) == [("-", 1, None, "caf"), ("+", None, 1, "café")]


def test_crlf_content_and_no_newline_marker_and_trailing_blank_context() -> None:
    files = by_path(parse_diff(load("mixed.diff")))
    assert kinds(files["app/windows.py"]) == [
        (" ", 1, 1, "line1"),
        ("-", 2, None, "line2"),
        ("+", None, 2, "line2 changed"),
        (" ", 3, 3, "line3"),
    ]
    assert kinds(files["nonl.txt"]) == [
        (" ", 1, 1, "a"),
        (" ", 2, 2, "b"),
        ("-", 3, None, "c"),
        ("+", None, 3, "C"),
    ]
    trailing = files["trailing.txt"]
    assert kinds(trailing)[-1] == (" ", 3, 3, "")
    assert trailing.right_lines == frozenset({1, 2, 3})


def test_copy_is_a_new_file_with_its_origin() -> None:
    (copy,) = parse_diff(load("copy.diff"))
    assert (copy.path, copy.old_path, copy.status) == ("app/auth_copy.py", "app/auth.py", FileStatus.ADDED)
    assert copy.added_lines == frozenset({20})


def test_plain_unified_diff_without_git_headers() -> None:
    (f,) = parse_diff(load("plain.diff"))
    assert (f.path, f.old_path, f.status) == ("n.txt", "o.txt", FileStatus.RENAMED)
    text = (
        "--- a/src/x.py\t2024-01-01 00:00:00\n+++ b/src/x.py\t2024-01-02 00:00:00\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
        "--- /dev/null\n+++ b/src/new.py\n@@ -0,0 +1 @@\n+n\n"
        "--- a/src/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-o\n"
        "Binary files a/logo.png and b/logo.png differ\n"
    )
    got = [(f.path, f.old_path, f.status, f.is_binary) for f in parse_diff(text)]
    assert got == [
        ("src/x.py", None, FileStatus.MODIFIED, False),
        ("src/new.py", None, FileStatus.ADDED, False),
        ("src/old.py", None, FileStatus.REMOVED, False),
        ("logo.png", None, FileStatus.BINARY, True),
    ]


def test_preamble_of_a_format_patch_is_ignored() -> None:
    text = (
        "From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n\n---\n x.py | 2 +-\n\n"
        "diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
        "-- \n2.39.5\n\n"
    )
    (f,) = parse_diff(text)
    assert kinds(f) == [("-", 1, None, "a"), ("+", None, 1, "b")]


def test_quoted_rename_and_no_prefix_diff() -> None:
    text = (
        'diff --git "a/old na\\"me.py" "b/new\\tname.py"\nsimilarity index 100%\n'
        'rename from "old na\\"me.py"\nrename to "new\\tname.py"\n'
        "diff --git x.py x.py\nindex 1..2 100644\n--- x.py\n+++ x.py\n@@ -1 +1 @@\n-a\n+b\n"
    )
    renamed, plain = parse_diff(text)
    assert (renamed.path, renamed.old_path, renamed.status) == ("new\tname.py", 'old na"me.py', FileStatus.RENAMED)
    assert (plain.path, plain.status) == ("x.py", FileStatus.MODIFIED)


def test_lone_cr_and_form_feed_stay_inside_a_line() -> None:
    text = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1,2 @@\n-a\r\n+b\rc\n+d\x0ce\n"
    (f,) = parse_diff(text)
    assert kinds(f) == [("-", 1, None, "a"), ("+", None, 1, "b\rc"), ("+", None, 2, "d\x0ce")]


def test_blank_line_without_its_space_is_an_empty_context_line() -> None:
    text = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n"
    (f,) = parse_diff(text)
    assert kinds(f) == [(" ", 1, 1, "a"), (" ", 2, 2, ""), ("-", 3, None, "b"), ("+", None, 3, "c")]


def test_no_newline_markers_between_files_and_hunks() -> None:
    text = (
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
        "@@ -9 +9 @@\n-c\n+d\n\\ No newline at end of file\n"
        "diff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-e\n+f\n"
    )
    x, y = parse_diff(text)
    assert kinds(x) == [("-", 1, None, "a"), ("+", None, 1, "b"), ("-", 9, None, "c"), ("+", None, 9, "d")]
    assert kinds(y) == [("-", 1, None, "e"), ("+", None, 1, "f")]


def test_garbage_inside_a_hunk_raises() -> None:
    with pytest.raises(
        DiffParseError, match=r"line 6 is not a diff line of the hunk `@@ -1,2 \+1,2 @@` \(line 4\): '\?b'"
    ):
        parse_diff("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n?b\n")


@pytest.mark.parametrize("text", ["", "\n", "\n\n  \n", "\r\n"])
def test_empty_diff_is_an_empty_list(text: str) -> None:
    assert parse_diff(text) == []


def test_not_a_diff_raises_with_a_reason() -> None:
    with pytest.raises(DiffParseError, match="not a unified diff"):
        parse_diff("hello\nthis is not a diff\n")


def test_malformed_hunk_names_the_file() -> None:
    text = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n"
    with pytest.raises(
        DiffParseError,
        match=r"line 1 \(diff --git a/x.py b/x.py\): the diff breaks off in the hunk `@@ -1,3 \+1,3 @@` at line 4",
    ):
        parse_diff(text)


def test_hunk_without_file_header_raises() -> None:
    with pytest.raises(DiffParseError, match="hunk found before"):
        parse_diff("diff --git a/x.py b/x.py\n@@ -1 +1 @@\n-a\n+b\n")
    with pytest.raises(DiffParseError):
        parse_diff("@@ -1 +1 @@\n-a\n+b\n")


def test_a_stripped_diff_is_not_needed() -> None:
    """The input is never stripped: a hunk ending in a blank context line keeps it."""
    text = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n \n"
    (f,) = parse_diff(text)
    assert kinds(f)[-1] == (" ", 2, 2, "")


# -------------------------------------------------------------------------------- GitHub files API rows


def test_file_patch_modified_added_renamed() -> None:
    patch = "@@ -1,2 +1,3 @@ def f():\n a\n+b\n c"  # GitHub's patch has no trailing newline
    f = parse_file_patch("src/x.py", "modified", patch)
    assert (f.path, f.old_path, f.status) == ("src/x.py", None, FileStatus.MODIFIED)
    assert kinds(f) == [(" ", 1, 1, "a"), ("+", None, 2, "b"), (" ", 2, 3, "c")]
    assert f.hunks[0].section == "def f():"
    added = parse_file_patch("n.py", "added", "@@ -0,0 +1,2 @@\n+x\n+y\n")
    assert added.status is FileStatus.ADDED and added.added_lines == frozenset({1, 2})
    renamed = parse_file_patch("new dir/y.py", "renamed", "@@ -1 +1 @@\n-a\n+b", previous_filename="old/y.py")
    assert (renamed.path, renamed.old_path, renamed.status) == ("new dir/y.py", "old/y.py", FileStatus.RENAMED)
    copied = parse_file_patch("c.py", "copied", "@@ -1 +1,2 @@\n a\n+b", previous_filename="a.py")
    assert (copied.status, copied.old_path) == (FileStatus.ADDED, "a.py")
    crlf = parse_file_patch("w.py", "modified", "@@ -1 +1 @@\r\n-a\r\n+b\r\n\\ No newline at end of file\r\n")
    assert kinds(crlf) == [("-", 1, None, "a"), ("+", None, 1, "b")]


@pytest.mark.parametrize(
    ("status", "previous", "expected", "reason"),
    [
        ("modified", None, FileStatus.UNKNOWN, "no patch from GitHub (binary or too large)"),
        ("added", None, FileStatus.UNKNOWN, "no patch from GitHub (binary or too large)"),
        ("removed", None, FileStatus.REMOVED, "deleted"),
        ("renamed", "old.bin", FileStatus.RENAMED, "renamed without changes"),
        ("changed", None, FileStatus.MODE_ONLY, "mode change only"),
        ("unchanged", None, FileStatus.MODIFIED, "no changes to review"),
    ],
)
def test_file_patch_missing_is_unknown_not_unchanged(
    status: str, previous: str | None, expected: FileStatus, reason: str
) -> None:
    for patch in (None, ""):
        f = parse_file_patch("data.json", status, patch, previous)
        assert f.status is expected and f.hunks == ()
        assert filter_files([f]) == ([], [NotReviewed(path="data.json", reason=reason)])


def test_file_patch_errors() -> None:
    with pytest.raises(DiffParseError, match=r"x\.py"):
        parse_file_patch("x.py", "modified", "@@ -1,3 +1,3 @@\n a\n")
    with pytest.raises(DiffParseError, match="must start with"):
        parse_file_patch("x.py", "modified", "not a patch")


def test_file_patch_agrees_with_the_full_diff() -> None:
    full = by_path(parse_diff(load("mixed.diff")))["app/auth.py"]
    patch = load("mixed.diff").split("+++ b/app/auth.py\n", 1)[1].split("diff --git", 1)[0]
    assert parse_file_patch("app/auth.py", "modified", patch) == full


# -------------------------------------------------------------------------------------------- filters


def fd(path: str, status: FileStatus = FileStatus.MODIFIED, *, hunks: int = 1, binary: bool = False) -> FileDiff:
    hunk = Hunk(1, 1, 1, 1, "", (DiffLine("-", 1, None, "a"), DiffLine("+", None, 1, "b")))
    return FileDiff(path, None, status, (hunk,) * hunks, binary)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("poetry.lock", "lock file"),
        ("sub/uv.lock", "lock file"),
        ("web/package-lock.json", "lock file"),
        ("yarn.lock", "lock file"),
        ("pnpm-lock.yaml", "lock file"),
        ("Cargo.lock", "lock file"),
        ("go.sum", "lock file"),
        ("Pipfile.lock", "lock file"),
        ("composer.lock", "lock file"),
        ("Gemfile.lock", "lock file"),
        ("api/v1/service_pb2.py", "generated file"),
        ("api/v1/service_pb2_grpc.py", "generated file"),
        ("client/schema.generated.ts", "generated file"),
        ("vendor/lib/x.go", "vendored"),
        ("src/pip/_vendor/rich/x.py", "vendored"),
        ("web/node_modules/left-pad/index.js", "vendored"),
        ("third_party/z.c", "vendored"),
        ("lib/python3.11/site-packages/a.py", "vendored"),
        ("static/app.min.js", "minified"),
        ("static/app.min.css", "minified"),
        ("static/app.js.map", "minified"),
        ("assets/logo.PNG", "binary"),
        ("dist/pkg.whl", "binary"),
        ("models/w.safetensors", "binary"),
        ("archive.tar.gz", "binary"),
    ],
)
def test_path_filters(path: str, reason: str) -> None:
    assert skip_reason(fd(path)) == reason


@pytest.mark.parametrize(
    "path",
    ["requirements.txt", "requirements-dev.txt", "app/migrations/0001_initial.py", "app/lockfile.py", "x.py"],
)
def test_reviewable_paths(path: str) -> None:
    assert skip_reason(fd(path)) is None


def test_status_filters_come_first() -> None:
    assert skip_reason(fd("a.py", FileStatus.REMOVED)) == "deleted"
    assert skip_reason(fd("poetry.lock", FileStatus.REMOVED)) == "deleted"
    assert skip_reason(fd("a.dat", FileStatus.BINARY, hunks=0, binary=True)) == "binary"
    assert skip_reason(fd("run.sh", FileStatus.MODE_ONLY, hunks=0)) == "mode change only"
    assert skip_reason(fd("e.py", FileStatus.ADDED, hunks=0)) == "empty file"
    assert skip_reason(fd("m.py", FileStatus.RENAMED, hunks=0)) == "renamed without changes"
    assert skip_reason(fd("m.py", FileStatus.MODIFIED, hunks=0)) == "no changes to review"


def test_filter_files_on_the_fixture_keeps_order_and_names_everything() -> None:
    files = parse_diff(load("mixed.diff"))
    kept, skipped = filter_files(files, ["*.md", "my dir/"])
    assert [f.path for f in kept] == [
        "app/auth.py",
        "app/café.py",
        "app/new_file.py",
        "app/renamed_new.py",
        "app/windows.py",
        "mode_and_content.sh",
        "nonl.txt",
        "trailing.txt",
    ]
    assert skipped == [
        NotReviewed(path="app/empty.py", reason="empty file"),
        NotReviewed(path="app/gone.py", reason="deleted"),
        NotReviewed(path="app/moved_to.py", reason="renamed without changes"),
        NotReviewed(path="docs/a b/c.md", reason="ignored by config: *.md"),
        NotReviewed(path="img.png", reason="binary"),
        NotReviewed(path="my dir/file name.txt", reason="ignored by config: my dir/"),
        NotReviewed(path="run.sh", reason="mode change only"),
    ]
    assert len(kept) + len(skipped) == len(files)


def test_ignore_globs_last_match_wins_and_negation_forces_review() -> None:
    globs = ["tests/**", "!tests/security/**", "# a comment", ""]
    assert skip_reason(fd("tests/unit/test_a.py"), globs) == "ignored by config: tests/**"
    assert skip_reason(fd("tests/security/test_b.py"), globs) is None
    assert skip_reason(fd("vendor/patched.py"), ["!vendor/patched.py"]) is None
    assert skip_reason(fd("vendor/other.py"), ["!vendor/patched.py"]) == "vendored"
    assert skip_reason(fd("vendor/patched.py", FileStatus.REMOVED), ["!vendor/patched.py"]) == "deleted"


def test_a_broken_glob_matches_literally_instead_of_failing() -> None:
    assert skip_reason(fd("[z-a].py"), ["[z-a].py"]) == "ignored by config: [z-a].py"
    assert skip_reason(fd("b.py"), ["[z-a].py"]) is None


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/deep/x.md", True),  # no slash: basename anywhere
        ("*.md", "docs/x.mdx", False),
        ("docs/*.md", "docs/x.md", True),
        ("docs/*.md", "docs/sub/x.md", False),  # * stays within a segment
        ("docs/**/*.md", "docs/x.md", True),  # ** matches zero directories
        ("docs/**/*.md", "docs/a/b/x.md", True),
        ("**/fixtures/*.json", "fixtures/a.json", True),
        ("**/fixtures/*.json", "tests/deep/fixtures/a.json", True),
        ("**/fixtures/*.json", "tests/fixtures/sub/a.json", False),
        ("/build", "build/out.js", True),  # leading slash anchors at the root
        ("/build", "src/build/out.js", False),
        ("build/", "src/build/out.js", True),  # trailing slash: a directory, anywhere
        ("build/", "build", False),
        ("migrations", "app/migrations/0001.py", True),  # a bare name also matches directories
        ("src/gen/**", "src/gen/a/b.py", True),
        ("src/gen/**", "src/general.py", False),
        ("?.py", "a.py", True),
        ("?.py", "ab.py", False),
        ("[ab].py", "b.py", True),
        ("[!ab].py", "c.py", True),
        ("[!ab].py", "a.py", False),
        ("file name.txt", "my dir/file name.txt", True),
        ("a+b(1).py", "x/a+b(1).py", True),  # regex metacharacters are literal
        ("\\*.py", "*.py", True),
        ("\\*.py", "x.py", False),
    ],
)
def test_match_glob(glob: str, path: str, hit: bool) -> None:
    assert match_glob(glob, path) is hit


# ------------------------------------------------------------------------------------------ properties

line_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
    max_size=12,
)
texts = st.lists(
    st.sampled_from(["a", "b", "c", "", " x", "+y", "-z", "\\ q", "@@ w", "--- v", "diff --git"]), max_size=30
)


def git_diff(path: str, old: list[str], new: list[str], context: int) -> str:
    body = "".join(
        difflib.unified_diff([f"{s}\n" for s in old], [f"{s}\n" for s in new], f"a/{path}", f"b/{path}", n=context)
    )
    return f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n{body}" if body else ""


@settings(max_examples=300, deadline=None)
@given(
    old=texts,
    new=texts,
    extra=st.lists(line_text, max_size=5),
    context=st.integers(0, 4),
    crlf=st.booleans(),
)
def test_parse_matches_difflib(old: list[str], new: list[str], extra: list[str], context: int, crlf: bool) -> None:
    """Every line's numbers and text agree with the two files the diff was made from."""
    old = old + extra
    text = git_diff("dir with space/f.py", old, new, context)
    if crlf:
        text = text.replace("\n", "\r\n")
    files = parse_diff(text)
    if old == new:
        assert files == []
        return
    (f,) = files
    assert f.path == "dir with space/f.py"
    for hunk in f.hunks:
        for ln in hunk.lines:
            if ln.kind != "+":
                assert ln.old_no is not None and old[ln.old_no - 1] == ln.text
            if ln.kind != "-":
                assert ln.new_no is not None and new[ln.new_no - 1] == ln.text
        assert hunk.right_lines == frozenset(range(hunk.new_start, hunk.new_start + hunk.new_len)) or (
            hunk.new_len == 0 and not hunk.right_lines
        )
        assert len(hunk.left_lines) == hunk.old_len
    # applying the hunks to the old file gives the new file
    rebuilt: list[str] = []
    pos = 0
    for hunk in f.hunks:
        first_old = min((ln.old_no for ln in hunk.lines if ln.old_no is not None), default=hunk.old_start + 1)
        rebuilt += old[pos : first_old - 1]
        rebuilt += [ln.text for ln in hunk.lines if ln.kind != "-"]
        pos = first_old - 1 + hunk.old_len
    rebuilt += old[pos:]
    assert rebuilt == new
    assert f.added_lines <= f.right_lines
    # the same file without its "diff --git" line goes through unidiff's full parse: same hunks
    (plain,) = parse_diff(text.split("\n", 2)[2])
    assert plain.hunks == f.hunks
