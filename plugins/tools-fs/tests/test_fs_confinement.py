"""Property tests of path confinement: whatever path string a spell makes up from ``..``, ``.``,
names, symlinks leading out and absolute prefixes, the policy either refuses it or returns a
path inside the root, and the tools never hand out (or change) anything outside it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.runtime import SpellRun
from llmspell.security import SecurityPolicy

SECRET = "TOP SECRET"

SEGMENTS = ["..", ".", "a", "b", "f.txt", "link_out", "link_dir_out", "link_in", "secret.txt",
            "outside_dir", "root", "", "new"]


def _build(base: Path) -> Path:
    """base/{secret.txt, outside_dir/secret.txt} outside; base/root the only root."""
    if base.exists():
        shutil.rmtree(base)
    (base / "outside_dir").mkdir(parents=True)
    (base / "secret.txt").write_text(SECRET)
    (base / "outside_dir" / "secret.txt").write_text(SECRET + " 2")
    root = base / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "b").mkdir()
    for d in (root, root / "a", root / "a" / "b", root / "b"):
        (d / "f.txt").write_text("public")
    os.symlink(base / "secret.txt", root / "link_out")  # absolute, out
    os.symlink("../../secret.txt", root / "a" / "link_out")  # relative, out
    os.symlink(base / "outside_dir", root / "link_dir_out")  # a directory out
    os.symlink("../f.txt", root / "a" / "link_in")  # stays inside
    return root


def _outside_state(base: Path) -> dict[str, Any]:
    state: dict[str, Any] = {"top": sorted(os.listdir(base))}
    for dirpath, dirnames, filenames in os.walk(base / "outside_dir"):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            state[str(path)] = path.read_bytes() if path.is_file() else "dir"
    state["secret"] = (base / "secret.txt").read_bytes()
    return state


def _paths(base: Path, root: Path) -> st.SearchStrategy[str]:
    prefixes = st.sampled_from(["", "/", "./", "//", f"{base}/", f"{root}/", f"{root}/../"])
    segments = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=7)
    return st.builds(lambda p, s: p + "/".join(s), prefixes, segments).filter(bool)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("confine")
    return base, _build(base)


async def _call_all(kernel: Kernel, policy: SecurityPolicy,
                    calls: list[tuple[str, dict[str, Any]]], check: Any) -> None:
    async with SpellRun.open(kernel, policy=policy) as run:
        for name, args in calls:
            try:
                out = await run.call_tool(name, args)
            except LlmspellError as err:
                out = err
            check(name, out)


def _run(kernel: Kernel, policy: SecurityPolicy, calls: list[tuple[str, dict[str, Any]]],
         check: Any) -> None:
    """Call each tool in one run; ``check(name, result or LlmspellError)`` after each."""
    trio.run(_call_all, kernel, policy, calls, check)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_check_path_refuses_or_stays_inside(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    base, root = tree
    monkeypatch.chdir(root / "a")
    path = data.draw(_paths(base, root), label="path")
    policy = SecurityPolicy(write_roots=[root])
    for write in (False, True):
        try:
            resolved = policy.check_path(path, write=write)
        except LlmspellError as err:
            assert err.code == "permission_denied"
            assert not Path(os.path.realpath(path)).is_relative_to(root)
        else:
            assert resolved == root or resolved.is_relative_to(root), (path, resolved)
            assert resolved == Path(os.path.realpath(path))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_reading_tools_never_return_the_secret(
    kernel: Kernel, tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
    data: st.DataObject
) -> None:
    base, root = tree
    monkeypatch.chdir(root / "a")
    path = data.draw(_paths(base, root), label="path")
    policy = SecurityPolicy(read_roots=[root])
    calls: list[tuple[str, dict[str, Any]]] = [
        ("file_read", {"path": path}),
        ("file_read", {"path": path, "binary": True}),
        ("file_stat", {"path": path, "sha256": True}),
        ("file_list", {"path": path, "recursive": True, "include_hidden": True}),
        ("file_search", {"pattern": "SECRET", "path": path, "include_hidden": True}),
        ("file_diff", {"old_path": "f.txt", "new_path": path}),
    ]

    def check(name: str, out: Any) -> None:
        if isinstance(out, LlmspellError):
            assert out.code in ("permission_denied", "not_found", "tool_error"), (name, out)
            return
        text = repr(out)
        assert SECRET not in text, (name, path, out)
        assert "T1AgU0VDUkVU" not in text  # base64 of "OP SECRET"
        assert str(base / "secret.txt") not in text, (name, out)
        assert str(base / "outside_dir") not in text, (name, out)
        if name == "file_search":
            assert out["matches"] == []

    _run(kernel, policy, calls, check)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_writing_tools_never_touch_anything_outside(
    kernel: Kernel, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
    data: st.DataObject
) -> None:
    base = tmp_path_factory.getbasetemp() / "confine-write"
    root = _build(base)  # afresh for each example: writes change the tree
    monkeypatch.chdir(root / "a")
    path = data.draw(_paths(base, root), label="path")
    before = _outside_state(base)
    policy = SecurityPolicy(write_roots=[root], auto_approve=True)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("file_write", {"path": path, "content": "pwned", "parents": True}),
        ("file_write", {"path": path, "content": "pwned", "mode": "append"}),
        ("dir_create", {"path": path, "parents": True}),
        ("file_copy", {"source": "f.txt", "destination": path, "overwrite": True}),
        ("file_move", {"source": path, "destination": "moved", "overwrite": True}),
        ("file_delete", {"path": path, "recursive": True}),
        ("archive_create", {"path": path, "sources": ["."], "format": "zip",
                            "overwrite": True}),
    ]

    def check(name: str, out: Any) -> None:
        if isinstance(out, LlmspellError):
            assert out.code in ("permission_denied", "not_found", "tool_error",
                                "invalid_args"), (name, out)
        assert _outside_state(base) == before, (name, path)
        assert root.is_dir()

    _run(kernel, policy, calls, check)
