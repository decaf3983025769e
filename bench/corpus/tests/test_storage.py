"""Storage tests: a throwaway sqlite file, archive round-trips, files under tmp_path."""

import sqlite3
import tarfile
from pathlib import Path

TABLES = ("items", "orders")


def test_reset_tables(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db")
    for table in TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")  # ok: sql-injection
    conn.close()


def test_archive_round_trip(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    with tarfile.open(tmp_path / "a.tgz", "w:gz") as tar:
        tar.add(tmp_path / "a.txt", arcname="a.txt")
    with tarfile.open(tmp_path / "a.tgz") as tar:
        tar.extractall(tmp_path / "out")  # ok: path-traversal
    assert (tmp_path / "out" / "a.txt").read_text() == "a"


def test_reads_fixture(tmp_path: Path) -> None:
    name = "a.txt"
    (tmp_path / name).write_text("x")
    with open(tmp_path / name) as fh:  # ok: path-traversal
        assert fh.read() == "x"
