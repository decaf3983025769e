"""Check that a change to the static engine keeps its output identical (for speed work).

Usage: ``python bench/static_compare.py OUT.json`` writes the engine's full output (every finding's
JSON, the not-analysed list and the rule count) on three inputs; ``python bench/static_compare.py
OUT.json --against BEFORE.json`` also compares it with an earlier dump and lists the differences.

Inputs, every line changed: the labelled corpus (``bench/corpus``, paths relative to it, as
``bench/static_corpus.py`` gives them), the 200 library files of ``bench/static_speed.py``, and this
repository's own ``app/``, ``tests/`` and ``bench/`` Python files as committed at ``--rev`` (default
``HEAD``; give a fixed commit so that the input stays the same while those files change). Exit status
0 when written (and identical), 1 when the dumps differ.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from static_speed import collect  # noqa: E402

from app.static import ChangedPython, analyse  # noqa: E402


def _whole(rel: str, source: str) -> ChangedPython:
    return ChangedPython(rel, source, frozenset(range(1, source.count("\n") + 2)))


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout


def _own(rev: str) -> list[ChangedPython]:
    """This repository's Python files (not the corpus) as committed at ``rev``."""
    names = _git("ls-tree", "-r", "--name-only", rev, "--", "app", "tests", "bench").split("\n")
    wanted = sorted(n for n in names if n.endswith(".py") and not n.startswith("bench/corpus/"))
    return [_whole(name, _git("show", f"{rev}:{name}")) for name in wanted]


def inputs(rev: str) -> dict[str, list[ChangedPython]]:
    """The named input sets, in a stable order."""
    corpus = ROOT / "bench" / "corpus"
    return {
        "corpus": [
            _whole(p.relative_to(corpus).as_posix(), p.read_text(encoding="utf-8"))
            for p in sorted(corpus.rglob("*.py"))
        ],
        "speed": collect(200),
        "own": _own(rev),
    }


def dump(rev: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, files in inputs(rev).items():
        report = analyse(files)
        out[name] = {
            "findings": [f.model_dump(mode="json") for f in report.findings],
            "not_analysed": [n.model_dump(mode="json") for n in report.not_analysed],
            "rules_run": report.rules_run,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--against", type=Path)
    parser.add_argument("--rev", default="HEAD")
    args = parser.parse_args()
    now = dump(args.rev)
    args.out.write_text(json.dumps(now, indent=1, sort_keys=True), encoding="utf-8")
    for name, part in now.items():
        print(f"{name}: {len(part['findings'])} findings, {len(part['not_analysed'])} not analysed")
    if args.against is None:
        return 0
    before = json.loads(args.against.read_text(encoding="utf-8"))
    differ = False
    for name in sorted(set(before) | set(now)):
        old, new = before.get(name, {}), now.get(name, {})
        if old == new:
            continue
        differ = True
        for key in ("findings", "not_analysed"):
            gone = [x for x in old.get(key, []) if x not in new.get(key, [])]
            added = [x for x in new.get(key, []) if x not in old.get(key, [])]
            for row in gone:
                print(f"- {name} {key}: {json.dumps(row)[:300]}")
            for row in added:
                print(f"+ {name} {key}: {json.dumps(row)[:300]}")
        if old.get("rules_run") != new.get("rules_run"):
            print(f"{name} rules_run: {old.get('rules_run')} -> {new.get('rules_run')}")
        if old.get("findings") != new.get("findings") and not any(
            x not in new.get("findings", []) for x in old.get("findings", [])
        ):
            print(f"{name}: same findings, different order")
    print("identical" if not differ else "DIFFERENT")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
