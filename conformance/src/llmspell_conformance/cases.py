"""Conformance cases: a folder with a spell per language and an ``expect.toml``.

``expect.toml``::

    description = "what the case pins down"
    tags = ["async", "promise"]

    [setup]                          # all optional
    args = {n = 3}                   # the spell's args
    limits = {cpu_seconds = 0.5}     # SecurityPolicy limits (others keep their defaults)
    replies = [{text = "hi"}]        # scripted model replies (model "scripted/...")
    trace_ops = ["tool.call"]        # host operations kept in the trace (default: all but log)

    [expect]
    result = 42                      # the spell's result ... (or result_json = '[1, null]')
    error = "timeout"                # ... or the code of the error that ends it
    message = "text"                 # a substring of the error message
    line = 3                         # the spell line the error names (details.line)
    output = ["a", "b"]              # printed lines, in order
    trace = ["tool.call record", "record 1"]
    trace_ordered = true             # false: compare the trace as a multiset
    max_seconds = 0.35               # timing bounds of the whole spell
    min_seconds = 0.2

The trace is the ordered list of host operations the spell asked for, written
``"<operation> <first argument>"`` (the argument only when it is a string, number or boolean),
interleaved with what the suite's own tools record (``record <json>``, ``wait start <label>``,
``wait end <label>``, ``wait cancelled <label>``).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from llmspell.errors import LlmspellError

#: The tags a case may carry.
TAGS = frozenset({
    "async", "promise", "values", "errors", "callbacks", "limits", "sandbox", "state", "events",
    "hooks", "tools", "agents", "workflows", "artifacts",
})

_MISSING = object()


@attrs.define(frozen=True)
class Expectation:
    """What an engine must produce for a case (see the module docstring)."""

    result: Any = None
    has_result: bool = False
    error: str | None = None
    message: str | None = None
    line: int | None = None
    output: list[str] | None = None
    trace: list[str] | None = None
    trace_ordered: bool = True
    max_seconds: float | None = None
    min_seconds: float | None = None


@attrs.define(frozen=True)
class Setup:
    args: dict[str, Any] = attrs.field(factory=dict)
    limits: dict[str, Any] = attrs.field(factory=dict)
    replies: list[Any] = attrs.field(factory=list)
    trace_ops: list[str] | None = None


@attrs.define(frozen=True)
class Case:
    """One case: its name (the folder name), spells by file extension, setup and expectation."""

    name: str
    path: Path
    description: str
    tags: tuple[str, ...]
    spells: dict[str, Path]
    setup: Setup
    expect: Expectation

    def spell_for(self, extensions: Iterable[str]) -> Path | None:
        """The spell for an engine with these file extensions, if the case has one."""
        for ext in extensions:
            if ext in self.spells:
                return self.spells[ext]
        return None


def _bad(path: Path, message: str) -> LlmspellError:
    return LlmspellError("config_error", f"{path}: {message}", {"file": str(path)})


def load_case(folder: Path) -> Case:
    """Read one case folder; a malformed ``expect.toml`` is ``config_error`` naming the file and
    the key."""
    file = folder / "expect.toml"
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise _bad(file, f"cannot read the expectation: {exc}") from None
    known = {"description", "tags", "setup", "expect"}
    for key in sorted(set(data) - known):
        raise _bad(file, f"unknown key {key!r}; known: {sorted(known)}")
    tags = tuple(data.get("tags", ()))
    for tag in tags:
        if tag not in TAGS:
            raise _bad(file, f"unknown tag {tag!r}; known: {sorted(TAGS)}")
    setup_data = dict(data.get("setup", {}))
    setup_known = {"args", "limits", "replies", "trace_ops"}
    for key in sorted(set(setup_data) - setup_known):
        raise _bad(file, f"unknown key 'setup.{key}'; known: {sorted(setup_known)}")
    expect_data = dict(data.get("expect", {}))
    expect_known = {f.name for f in attrs.fields(Expectation)} - {"has_result"} | {"result_json"}
    for key in sorted(set(expect_data) - expect_known):
        raise _bad(file, f"unknown key 'expect.{key}'; known: {sorted(expect_known)}")
    has_result = "result" in expect_data or "result_json" in expect_data
    if "result_json" in expect_data:
        expect_data["result"] = json.loads(expect_data.pop("result_json"))
    if has_result and "error" in expect_data:
        raise _bad(file, "expect.result and expect.error exclude each other")
    spells = {
        p.suffix: p for p in sorted(folder.iterdir()) if p.stem == "spell" and p.suffix
    }
    return Case(
        name=folder.name,
        path=folder,
        description=str(data.get("description", "")),
        tags=tags,
        spells=spells,
        setup=Setup(**setup_data),
        expect=Expectation(has_result=has_result, **expect_data),
    )


def builtin_cases_dir() -> Path:
    return Path(str(resources.files("llmspell_conformance").joinpath("cases")))


def load_cases(
    root: Path | None = None, *, tags: Iterable[str] = (), names: Iterable[str] = ()
) -> list[Case]:
    """The cases under ``root`` (default: the suite's own), filtered by tag and name."""
    root = root or builtin_cases_dir()
    wanted_tags, wanted_names = set(tags), set(names)
    cases = []
    for folder in sorted(p for p in root.iterdir() if (p / "expect.toml").is_file()):
        case = load_case(folder)
        if wanted_tags and not wanted_tags & set(case.tags):
            continue
        if wanted_names and case.name not in wanted_names:
            continue
        cases.append(case)
    if wanted_names - {c.name for c in cases} and not wanted_tags:
        missing = sorted(wanted_names - {c.name for c in cases})
        from llmspell.errors import not_found

        raise not_found("conformance case", missing[0], [c.name for c in load_cases(root)])
    return cases
