"""app.review.import_paths: which modules a review reads as context, derived from the imports alone."""

from __future__ import annotations

from app.review.import_paths import context_paths, imports_of


def test_absolute_imports_of_a_local_package_give_its_module_files() -> None:
    changed = {"app/pipeline/run.py": "from app.review.engine import review\nimport app.jobs\n"}
    paths = context_paths(changed)
    assert paths[:2] == ["app/review/engine.py", "app/review/engine/__init__.py"]
    assert "app/jobs.py" in paths
    assert "app/review/engine/review.py" in paths  # ``review`` may be a submodule


def test_settings_and_config_modules_come_first_then_the_most_imported() -> None:
    changed = {
        "svc/a.py": "from svc import db\nfrom svc.util import helper\nfrom svc.settings import Settings\n",
        "svc/b.py": "from svc.util import other\n",
    }
    paths = context_paths(changed)
    assert paths[0] == "svc/settings.py"
    assert paths.index("svc/util.py") < paths.index("svc/db.py")  # two importers before one


def test_relative_imports_resolve_from_the_files_package() -> None:
    changed = {"pkg/sub/mod.py": "from . import sibling\nfrom ..core import thing\nfrom .x import Y\n"}
    paths = context_paths(changed)
    assert {"pkg/sub/sibling.py", "pkg/core.py", "pkg/core/thing.py", "pkg/sub/x.py"} <= set(paths)
    assert "pkg/sub/x/Y.py" not in paths  # a CamelCase name is a class, not a module


def test_a_relative_import_above_the_root_is_ignored() -> None:
    assert context_paths({"mod.py": "from .. import up\n"}) == []


def test_src_layout_and_nested_roots_follow_the_changed_files() -> None:
    changed = {"services/api/app/main.py": "from app.deps import db\n", "src/lib/x.py": "from lib.core import c\n"}
    paths = context_paths(changed)
    assert "services/api/app/deps.py" in paths
    assert "src/lib/core.py" in paths
    assert "app/deps.py" not in paths


def test_stdlib_is_never_asked_and_unknown_packages_come_last() -> None:
    changed = {"app/x.py": "import os, json\nimport fastapi\nfrom app.db import s\n"}
    paths = context_paths(changed)
    assert not any(p.startswith(("os", "json")) for p in paths)
    assert paths.index("app/db.py") < paths.index("fastapi.py")


def test_changed_files_unsafe_names_and_unknown_paths_are_left_out() -> None:
    changed = {"app/x.py": "from app.y import z\n", "app/y.py": "from app.x import w\n"}
    assert "app/y.py" not in context_paths(changed)
    known = ["app/y.py", "app/z.py", "README.md"]
    assert context_paths({"app/x.py": "from app import z\n"}, known=known) == ["app/z.py"]


def test_limit_and_unparsable_files() -> None:
    many = "".join(f"from app.m{i} import f\n" for i in range(50))
    assert len(context_paths({"app/x.py": many}, limit=7)) == 7
    assert imports_of("app/x.py", "def (:\n") == []
    assert context_paths({"README.md": "import app.x\n"}) == []


def test_imports_under_type_checking_and_functions_count() -> None:
    text = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.a import A\ndef f():\n    import app.b\n"
    assert {r.module for r in imports_of("app/x.py", text)} == {"typing", "app.a", "app.b"}
