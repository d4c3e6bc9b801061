"""Artifacts: the SQLite store (versions, names, media types, limits, persistence, concurrency),
the run's ``artifact_*`` operations and events, Python tools saving through their context,
``Artifact`` in real Lua and JavaScript spells, and ``llmspell artifacts``."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from llmspell.agents import LLMAgent
from llmspell.artifacts import (
    DEFAULT_MAX_BYTES,
    Artifact,
    ArtifactStore,
    check_media_type,
    check_name,
    default_artifacts_path,
    is_textual,
)
from llmspell.cli import cli
from llmspell.cli.app import CliState
from llmspell.errors import LlmspellError
from llmspell.kernel import Kernel
from llmspell.lifecycle import hookimpl
from llmspell.runtime import SpellRun
from llmspell.testing import Reply, ScriptedProvider, make_kernel
from llmspell.tools import Tool, ToolContext, ToolRegistry

ENGINES = ("lua", "js")


def error_of(info: pytest.ExceptionInfo[LlmspellError]) -> LlmspellError:
    return info.value


# --- names and media types ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "a", "report.md", "a/b.txt", "reports/2024/q1 summary.md", "x" * 256, "名前/ünïcode.txt",
    "a..b/c...d", ".hidden", "a:b:c", "-dash_and.dot",
])
def test_good_names_are_kept(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(("name", "problem"), [
    ("", "1-256 characters"),
    ("x" * 257, "1-256 characters"),
    ("/etc/passwd", "absolute"),
    ("C:/evil", "absolute"),
    ("c:", "absolute"),
    ("..", "'..' segment"),
    ("a/../b", "'..' segment"),
    ("./a", "'.' or '..' segment"),
    ("a//b", "empty"),
    ("a/", "empty"),
    ("a\x00b", "control character"),
    ("line\nbreak", "control character"),
    ("del\x7f", "control character"),
    ("c1\x85", "control character"),
    ("back\\slash", "backslash"),
    ("\ud800", "lone surrogate"),
])
def test_bad_names_are_invalid_value_naming_the_argument(name: str, problem: str) -> None:
    with pytest.raises(LlmspellError) as info:
        check_name(name)
    err = error_of(info)
    assert err.code == "invalid_value"
    assert err.details["argument"] == "name"
    assert problem in err.message and err.message.startswith("artifact name ")


def test_a_name_must_be_a_string() -> None:
    with pytest.raises(LlmspellError, match="must be a string, got int") as info:
        check_name(3)
    assert error_of(info).details == {"argument": "name"}


@pytest.mark.parametrize(("given_", "normal"), [
    ("text/markdown", "text/markdown"),
    ("Image/PNG", "image/png"),
    ("text/plain; charset=UTF-8", "text/plain; charset=UTF-8"),
    ("text/plain;Charset=utf-8 ; format=flowed", "text/plain; charset=utf-8; format=flowed"),
    ('multipart/form-data; boundary="a b"', 'multipart/form-data; boundary="a b"'),
    ("application/vnd.api+json", "application/vnd.api+json"),
])
def test_media_types_are_normalized(given_: str, normal: str) -> None:
    assert check_media_type(given_) == normal


@pytest.mark.parametrize("bad", [
    "text", "text/", "/plain", "text/plain/x", "te xt/plain", "text/plain; charset", "",
    "text/" + "x" * 300, "tëxt/plain",
])
def test_bad_media_types_are_invalid_value(bad: str) -> None:
    with pytest.raises(LlmspellError, match="is not a media type") as info:
        check_media_type(bad)
    assert error_of(info).details["argument"] == "media_type"


@pytest.mark.parametrize(("media", "textual"), [
    ("text/plain", True), ("text/csv; charset=utf-8", True), ("application/json", True),
    ("application/ld+json", True), ("image/svg+xml", True), ("application/yaml", True),
    ("image/png", False), ("application/octet-stream", False), ("application/pdf", False),
])
def test_textual_media_types(media: str, textual: bool) -> None:
    assert is_textual(media) is textual


# --- the store ----------------------------------------------------------------------------------


async def test_each_save_adds_the_next_version_and_load_gets_any() -> None:
    async with ArtifactStore() as store:
        first = await store.save("notes/a.txt", "one", metadata={"by": "test", "n": [1, 2]})
        second = await store.save("notes/a.txt", "two!")
        other = await store.save("notes/b.txt", "b")
        assert (first.version, second.version, other.version) == (1, 2, 1)
        assert first.media_type == "text/plain" and first.size == 3
        assert first.sha256 == hashlib.sha256(b"one").hexdigest()
        assert first.metadata == {"by": "test", "n": [1, 2]} and second.metadata == {}
        assert first.run_id is None and first.session is None and first.is_text

        latest = await store.load("notes/a.txt")
        assert isinstance(latest, Artifact)
        assert (latest.version, latest.content, latest.data) == (2, "two!", b"two!")
        old = await store.load("notes/a.txt", 1)
        assert (old.content, old.metadata, old.created_at) == ("one", first.metadata,
                                                               first.created_at)
        assert [i.version for i in await store.versions("notes/a.txt")] == [1, 2]


async def test_list_latest_all_versions_prefix_and_run() -> None:
    async with ArtifactStore() as store:
        await store.save("b/report.md", "r1", run_id="run1")
        await store.save("b/report.md", "r2", run_id="run2")
        await store.save("a.txt", "a", run_id="run1")
        await store.save("b/zeta", b"z", run_id="run2")

        def names(infos: list[Any]) -> list[str]:
            return [f"{i.name}@{i.version}" for i in infos]

        assert names(await store.list()) == ["a.txt@1", "b/report.md@2", "b/zeta@1"]
        assert names(await store.list(all_versions=True)) == [
            "a.txt@1", "b/report.md@1", "b/report.md@2", "b/zeta@1"]
        assert names(await store.list("b/")) == ["b/report.md@2", "b/zeta@1"]
        assert names(await store.list("b/report")) == ["b/report.md@2"]
        assert names(await store.list("nothing")) == []
        # "latest" among that run's versions
        assert names(await store.list(run_id="run1")) == ["a.txt@1", "b/report.md@1"]
        assert names(await store.list("b/", run_id="run2", all_versions=True)) == [
            "b/report.md@2", "b/zeta@1"]
        listed = (await store.list("b/zeta"))[0]
        assert not isinstance(listed, Artifact)  # listings never carry the content


async def test_prefix_with_like_wildcards_is_taken_literally() -> None:
    async with ArtifactStore() as store:
        for name in ("100%/a", "100x/b", "a_b", "axb"):
            await store.save(name, "x")
        assert [i.name for i in await store.list("100%")] == ["100%/a"]
        assert [i.name for i in await store.list("a_")] == ["a_b"]


async def test_text_and_bytes_keep_their_kind_and_encoding() -> None:
    async with ArtifactStore() as store:
        await store.save("t", "héllo")
        await store.save("b", b"\x00\xffraw")
        await store.save("png", b"plain ascii", media_type="image/png")
        await store.save("json", b'{"a": 1}', media_type="application/json")
        await store.save("bad-utf8", b"\xff\xfe", media_type="text/plain")
        await store.save("mem", memoryview(b"view"))
        text, raw = await store.load("t"), await store.load("b")
        assert text.content == "héllo" and text.data == "héllo".encode() and text.size == 6
        assert raw.content == b"\x00\xffraw" and raw.media_type == "application/octet-stream"
        assert text.encoding == "text" and text.text() == "héllo"
        assert raw.encoding == "base64" and raw.text() is None
        assert raw.to_dict()["content"] == base64.b64encode(b"\x00\xffraw").decode()
        # bytes: text only for a textual media type and valid UTF-8
        assert (await store.load("png")).encoding == "base64"
        assert (await store.load("json")).to_dict()["content"] == '{"a": 1}'
        assert (await store.load("bad-utf8")).encoding == "base64"
        assert (await store.load("mem")).content == b"view"


@pytest.mark.parametrize(("content", "fragment"), [
    (42, "must be text or bytes, got int"),
    (None, "must be text or bytes, got NoneType"),
    ("\ud800", "not valid Unicode"),
])
async def test_bad_content_is_invalid_value(content: Any, fragment: str) -> None:
    async with ArtifactStore() as store:
        with pytest.raises(LlmspellError, match=fragment) as info:
            await store.save("x", content)
        assert error_of(info).code == "invalid_value"
        assert error_of(info).details["argument"] == "content"
        assert await store.list() == []


@pytest.mark.parametrize(("metadata", "code", "fragment"), [
    ([1], "invalid_value", "must be an object, got list"),
    ({"s": {1, 2}}, "invalid_value", "not JSON data"),
    ({"nan": float("nan")}, "invalid_value", "not JSON data"),
    ({"big": "x" * 70_000}, "limit", "over the limit"),
])
async def test_bad_metadata(metadata: Any, code: str, fragment: str) -> None:
    async with ArtifactStore() as store:
        with pytest.raises(LlmspellError, match=fragment) as info:
            await store.save("x", "y", metadata=metadata)
        assert error_of(info).code == code


async def test_size_limit_is_a_clear_limit_error() -> None:
    assert ArtifactStore().max_bytes == DEFAULT_MAX_BYTES == 64 * 1024 * 1024
    async with ArtifactStore(max_bytes=10) as store:
        assert (await store.save("fits", b"x" * 10)).size == 10
        with pytest.raises(LlmspellError) as info:
            await store.save("big", "é" * 6)  # 12 bytes of UTF-8
        err = error_of(info)
        assert err.code == "limit"
        assert err.message == "artifact 'big' is 12 bytes, over the limit of 10 bytes"
        assert err.details == {"limit": "artifact_bytes", "value": 10, "size": 12, "name": "big"}
        assert err.hint
        assert [i.name for i in await store.list()] == ["fits"]


async def test_the_default_limit_refuses_64_mib_plus_one() -> None:
    async with ArtifactStore() as store:
        with pytest.raises(LlmspellError, match="over the limit of 67108864 bytes"):
            await store.save("huge", bytes(DEFAULT_MAX_BYTES + 1))


async def test_missing_artifacts_and_versions_are_not_found() -> None:
    async with ArtifactStore() as store:
        with pytest.raises(LlmspellError, match="no artifact 'x'; no artifacts are stored"):
            await store.load("x")
        await store.save("report.md", "1")
        await store.save("report.md", "2")
        with pytest.raises(LlmspellError) as info:
            await store.load("report.mdx")
        err = error_of(info)
        assert err.code == "not_found"
        assert err.message == "no artifact 'report.mdx'; did you mean 'report.md'?"
        assert err.details == {"kind": "artifact", "name": "report.mdx"}
        with pytest.raises(LlmspellError) as info:
            await store.load("report.md", 5)
        err = error_of(info)
        assert err.message == "artifact 'report.md' has no version 5; it has version(s) 1, 2"
        assert err.details["version"] == 5 and err.details["versions"] == [1, 2]
        for call in (store.versions("nope"), store.delete("nope"), store.delete("report.md", 9)):
            with pytest.raises(LlmspellError) as info:
                await call
            assert error_of(info).code == "not_found"
        with pytest.raises(LlmspellError, match="integer >= 1") as info:
            await store.load("report.md", 0)
        assert error_of(info).details["argument"] == "version"


async def test_delete_one_version_or_all_and_versions_are_never_reused() -> None:
    async with ArtifactStore() as store:
        for text in ("1", "2", "3"):
            await store.save("doc", text)
        assert await store.delete("doc", 3) == 1
        assert (await store.load("doc")).version == 2
        assert (await store.save("doc", "4")).version == 4  # not 3 again
        assert await store.delete("doc") == 3
        assert await store.list() == []
        assert (await store.save("doc", "5")).version == 5


async def test_persistence_across_reopen_of_a_real_file(tmp_path: Path) -> None:
    path = default_artifacts_path(tmp_path / "project")
    assert path == tmp_path / "project" / ".llmspell" / "artifacts.db"
    async with ArtifactStore(path) as store:
        assert store.where == str(path)
        await store.save("keep/me.txt", "kept", metadata={"k": True}, run_id="r1", session="s")
        await store.save("keep/blob", bytes(range(256)))
    assert path.is_file()  # parent folders were created
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM llmspell_artifacts").fetchone() == (2,)
    async with ArtifactStore(path) as again:
        kept = await again.load("keep/me.txt")
        assert (kept.content, kept.metadata, kept.run_id, kept.session) == (
            "kept", {"k": True}, "r1", "s")
        assert (await again.load("keep/blob")).content == bytes(range(256))
        assert (await again.save("keep/me.txt", "next")).version == 2


async def test_in_memory_stores_are_private() -> None:
    a, b = ArtifactStore(), ArtifactStore(":memory:")
    assert a.path is None and b.path is None and a.where == ":memory:"
    await a.save("x", "a")
    assert await b.list() == []
    await a.aclose()
    await b.aclose()


async def test_concurrent_saves_of_one_name_get_distinct_versions(tmp_path: Path) -> None:
    path = tmp_path / "artifacts.db"
    stores = [ArtifactStore(path), ArtifactStore(path)]  # two connections to one file
    got: list[int] = []

    async def saver(store: ArtifactStore, who: int) -> None:
        for i in range(10):
            got.append((await store.save("shared", f"{who}-{i}")).version)

    async with trio.open_nursery() as nursery:
        for who, store in enumerate(stores):
            nursery.start_soon(saver, store, who)
    assert sorted(got) == list(range(1, 21))
    infos = await stores[0].versions("shared")
    assert [i.version for i in infos] == list(range(1, 21))
    for store in stores:
        await store.aclose()


def test_concurrent_saves_from_two_processes_get_distinct_versions(tmp_path: Path) -> None:
    path = tmp_path / "artifacts.db"
    code = (
        "import sys, trio\n"
        "from llmspell.artifacts import ArtifactStore\n"
        "async def main():\n"
        "    async with ArtifactStore(sys.argv[1]) as s:\n"
        "        for i in range(25):\n"
        "            print((await s.save('shared', sys.argv[2] + str(i))).version)\n"
        "trio.run(main)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path), tag], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for tag in ("a", "b")
    ]
    versions: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        versions += [int(line) for line in out.split()]
    assert sorted(versions) == list(range(1, 51))


async def test_a_closed_store_and_a_corrupt_file_are_state_errors(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "a.db")
    await store.save("x", "y")
    await store.aclose()
    await store.aclose()  # idempotent
    with pytest.raises(LlmspellError, match="is closed") as info:
        await store.load("x")
    assert error_of(info).code == "state_error"

    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LlmspellError) as info:
        async with ArtifactStore(bad):
            pass
    err = error_of(info)
    assert err.code == "state_error" and str(bad) in err.message
    assert err.hint and "not a usable SQLite database" in err.hint


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.binary(max_size=4096), st.text(max_size=2048)),
       media=st.sampled_from([None, "text/plain", "image/png", "application/json"]))
@example(content=b"", media=None)
@example(content="", media=None)
@example(content="\x00 nul and 🎉", media="text/plain")
async def test_any_bytes_or_text_round_trip(content: str | bytes, media: str | None) -> None:
    async with ArtifactStore() as store:
        info = await store.save("round/trip", content, media_type=media)
        loaded = await store.load("round/trip")
        raw = content.encode("utf-8") if isinstance(content, str) else content
        assert loaded.content == content and type(loaded.content) is type(content)
        assert loaded.data == raw and loaded.size == info.size == len(raw)
        assert loaded.sha256 == hashlib.sha256(raw).hexdigest()
        view = loaded.to_dict()
        back = (view["content"].encode("utf-8") if view["encoding"] == "text"
                else base64.b64decode(view["content"]))
        assert back == raw


# --- the run ------------------------------------------------------------------------------------


async def test_run_saves_with_its_id_and_session_and_emits_artifact_saved() -> None:
    kernel = make_kernel()
    async with SpellRun.open(kernel, session="s1") as run:
        seen: list[Any] = []
        remove = run.events.tap(lambda event: seen.append((event.topic, event.data)))
        info = await run.artifact_save("out/a.bin", b"\x01\x02", media_type="application/x-y")
        await run.artifact_load("out/a.bin")
        await run.artifact_list()
        remove()
        assert info.run_id == run.run_id and info.session == "s1"
        assert seen == [("artifact.saved", {"name": "out/a.bin", "version": 1,
                                            "media_type": "application/x-y", "size": 2})]
        assert [i.name for i in await run.artifact_list(run_id=run.run_id)] == ["out/a.bin"]
        assert await run.artifact_list(run_id="other") == []


async def test_open_uses_the_given_store_and_each_run_has_its_own_by_default(
    tmp_path: Path,
) -> None:
    kernel = make_kernel()
    async with ArtifactStore(tmp_path / "a.db") as store:
        async with SpellRun.open(kernel, artifacts=store) as run:
            assert run.artifacts is store
            await run.artifact_save("x", "1")
        async with SpellRun.open(kernel, artifacts=store) as run:
            assert (await run.artifact_save("x", "2")).version == 2
    async with SpellRun.open(kernel) as first, SpellRun.open(kernel) as second:
        await first.artifact_save("x", "1")
        assert await second.artifact_list() == []


@pytest.fixture
def note_tool() -> Tool:
    async def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        info = await ctx.run.artifact_save(
            args["name"], args["text"], media_type="text/markdown",
            metadata={"tool": ctx.tool.name, "call_id": ctx.call_id},
        )
        return {"artifact": info.name, "version": info.version}

    return Tool(
        name="save_note", description="Save a note as an artifact.", run=run,
        parameters={"type": "object", "properties": {"name": {"type": "string"},
                                                     "text": {"type": "string"}},
                    "required": ["name", "text"]},
    )


async def test_a_python_tool_saves_through_its_context_and_an_agent_reports_it(
    note_tool: Tool,
) -> None:
    provider = ScriptedProvider([
        Reply(tool_calls=[{"name": "save_note",
                           "arguments": {"name": "notes/plan.md", "text": "# Plan"}}]),
        "Saved the plan as notes/plan.md.",
    ])
    kernel = make_kernel(provider=provider)
    agent = LLMAgent(name="writer", model="scripted/m", tools=[note_tool])
    async with SpellRun.open(kernel) as run:
        direct = await run.call_tool(note_tool, {"name": "notes/plan.md", "text": "draft"})
        assert direct == {"artifact": "notes/plan.md", "version": 1}
        result = await run.run_agent(agent, "Write a plan.")
        assert result.tool_calls[0]["result"] == {"artifact": "notes/plan.md", "version": 2}
        assert "notes/plan.md" in result.text
        saved = await run.artifact_load("notes/plan.md")
        assert (saved.content, saved.media_type, saved.run_id) == (
            "# Plan", "text/markdown", run.run_id)
        assert saved.metadata["tool"] == "save_note"


# --- spells in the real engines -----------------------------------------------------------------

SPELLS = {
    "lua": """
local text = Artifact.save("notes/hi.md", "# Hi", {media_type = "text/markdown",
                                                    metadata = {by = "lua"}})
local bytes = Artifact.save("bin/raw", "AP8BAg==", {encoding = "base64"})
local from_host = Artifact.load("host/blob")
local again = Artifact.save("host/copy", from_host.content, {encoding = from_host.encoding,
                                                            media_type = from_host.media_type})
local ok, err = pcall(Artifact.load, "notes/hi.md", {version = 9})
local ok2, err2 = pcall(Artifact.save, "../escape", "x")
local listed = {}
for i, a in ipairs(Artifact.list({prefix = "notes/"})) do listed[i] = a.name end
return {text = text, bytes = bytes, loaded = Artifact.load("notes/hi.md"), again = again,
        host = {from_host.encoding, from_host.content},
        errors = {{ok, err.code, err.message, err.details}, {ok2, err2.code, err2.details}},
        listed = listed}
""",
    "js": """
const text = await Artifact.save("notes/hi.md", "# Hi", {mediaType: "text/markdown",
                                                          metadata: {by: "js"}});
const bytes = await Artifact.save("bin/raw", "AP8BAg==", {encoding: "base64"});
const fromHost = await Artifact.load("host/blob");
const again = await Artifact.save("host/copy", fromHost.content,
                                  {encoding: fromHost.encoding, mediaType: fromHost.media_type});
const caught = async (f) => { try { await f(); return "accepted"; } catch (e) { return e; } };
const err = await caught(() => Artifact.load("notes/hi.md", {version: 9}));
const err2 = await caught(() => Artifact.save("../escape", "x"));
export default {text, bytes, loaded: await Artifact.load("notes/hi.md"), again,
                host: [fromHost.encoding, fromHost.content],
                errors: [[false, err.code, err.message, err.details],
                         [false, err2.code, err2.details]],
                listed: (await Artifact.list({prefix: "notes/"})).map((a) => a.name)};
""",
}


@pytest.fixture(scope="module")
def engine_kernel() -> Kernel:
    return make_kernel(entry_points=True)


@pytest.mark.parametrize("engine", [*ENGINES, "lua51"])
async def test_spells_save_load_and_list_text_and_bytes(
    engine_kernel: Kernel, engine: str, tmp_path: Path
) -> None:
    if engine not in engine_kernel.engines:
        pytest.skip(f"engine {engine} is not installed")
    source = SPELLS["lua" if engine == "lua51" else engine]
    blob = bytes(range(250, 256)) + b"\x00binary"
    async with ArtifactStore(tmp_path / "artifacts.db") as store:
        await store.save("host/blob", blob, media_type="image/png")
        async with SpellRun.open(engine_kernel, artifacts=store) as run:
            out = await engine_kernel.engines.get(engine).run(source, f"s.{engine}", run)
        assert out["text"]["version"] == 1 and out["text"]["media_type"] == "text/markdown"
        assert out["text"]["run_id"] == run.run_id and "content" not in out["text"]
        assert out["bytes"]["size"] == 4 and out["bytes"]["media_type"] == (
            "application/octet-stream")
        loaded = out["loaded"]
        assert (loaded["content"], loaded["encoding"], loaded["metadata"]) == (
            "# Hi", "text", {"by": engine.rstrip("51")})
        assert loaded["sha256"] == hashlib.sha256(b"# Hi").hexdigest()
        assert out["host"] == ["base64", base64.b64encode(blob).decode()]
        assert out["listed"] == ["notes/hi.md"]
        not_found, bad_name = out["errors"]
        assert not_found[:2] == [False, "not_found"]
        assert "has no version 9" in not_found[2] and not_found[3]["versions"] == [1]
        assert bad_name[1:] == ["invalid_value", {"argument": "name", "name": "../escape"}]
        # what the spell saved is in the store, bytes exact
        assert (await store.load("bin/raw")).content == b"\x00\xff\x01\x02"
        copy = await store.load("host/copy")
        assert copy.content == blob and copy.media_type == "image/png"


@pytest.mark.parametrize("engine", ENGINES)
async def test_an_uncaught_artifact_error_fails_the_spell_with_its_code(
    engine_kernel: Kernel, engine: str
) -> None:
    source = {"lua": 'return Artifact.load("missing.txt")',
              "js": 'export default await Artifact.load("missing.txt");'}[engine]
    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(engine_kernel) as run:
            await engine_kernel.engines.get(engine).run(source, f"s.{engine}", run)
    assert error_of(info).code == "not_found"
    assert "no artifact 'missing.txt'" in error_of(info).message


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=600), text=st.text(max_size=200))
async def test_random_bytes_and_text_round_trip_through_a_spell(
    engine_kernel: Kernel, engine: str, blob: bytes, text: str
) -> None:
    # the spell copies what the host saved: bytes go out and come back as base64
    source = {
        "lua": """
for _, name in ipairs({"blob", "text"}) do
  local a = Artifact.load(name)
  Artifact.save(name .. ".copy", a.content, {encoding = a.encoding, media_type = a.media_type})
end""",
        "js": """
for (const name of ["blob", "text"]) {
  const a = await Artifact.load(name);
  await Artifact.save(name + ".copy", a.content, {encoding: a.encoding, mediaType: a.media_type});
}""",
    }[engine]
    async with SpellRun.open(engine_kernel) as run:
        await run.artifact_save("blob", blob)
        await run.artifact_save("text", text)
        await engine_kernel.engines.get(engine).run(source, f"s.{engine}", run)
        assert (await run.artifact_load("blob.copy")).data == blob
        assert (await run.artifact_load("text.copy")).data == text.encode("utf-8")


# --- the command line ---------------------------------------------------------------------------


class NotePlugin:
    def __init__(self, tool: Tool) -> None:
        self.tool = tool

    @hookimpl
    def llmspell_register_tools(self, registry: ToolRegistry) -> None:
        registry.register(self.tool)


@pytest.fixture
def cli_kernel(note_tool: Tool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Kernel:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # a command missing --project writes nothing into the checkout
    monkeypatch.delenv("LLMSPELL_PROJECT", raising=False)
    return make_kernel(entry_points=True, plugins=[("notes", NotePlugin(note_tool))])


def invoke(kernel: Kernel, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj=CliState(kernel))


def test_a_spell_run_saves_artifacts_that_the_cli_lists_shows_and_deletes(
    cli_kernel: Kernel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = str(tmp_path)
    spell = tmp_path / "make.js"
    spell.write_text(
        'await Artifact.save("report.md", "# Report\\n\\nAll good.\\n",'
        ' {mediaType: "text/markdown"});\n'
        'await Artifact.save("report.md", "# Report v2\\n");\n'
        'const img = await Artifact.save("img/dot.png", "iVBORw0KGgo=", {encoding: "base64",'
        ' mediaType: "image/png"});\n'
        "export default img.version;\n"
    )
    ran = invoke(cli_kernel, "run", "--project", project, str(spell))
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == "1\n"
    assert (tmp_path / ".llmspell" / "artifacts.db").is_file()

    listed = invoke(cli_kernel, "artifacts", "list", "--json", "--project", project)
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["version"], r["media_type"]) for r in rows] == [
        ("img/dot.png", 1, "image/png"), ("report.md", 2, "text/plain")]
    assert rows[0]["size"] == 8 and rows[0]["run_id"]
    every = json.loads(invoke(cli_kernel, "artifacts", "list", "--json", "--all-versions",
                              "--prefix", "report", "--project", project).stdout)
    assert [r["version"] for r in every] == [1, 2]
    plain = invoke(cli_kernel, "artifacts", "list", "--project", project)
    assert plain.stdout.splitlines()[1].startswith("report.md\t2\ttext/plain\t12\t")

    shown = invoke(cli_kernel, "artifacts", "show", "report.md", "--project", project)
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout == "# Report v2\n"
    old = invoke(cli_kernel, "artifacts", "show", "report.md", "--version", "1", "--project",
                 project)
    assert old.stdout == "# Report\n\nAll good.\n"
    as_json = json.loads(invoke(cli_kernel, "artifacts", "show", "img/dot.png", "--json",
                                "--project", project).stdout)
    assert (as_json["encoding"], as_json["content"]) == ("base64", "iVBORw0KGgo=")

    # bytes: written when stdout is not a terminal, or to -o FILE; refused on a terminal
    png = base64.b64decode("iVBORw0KGgo=")
    piped = invoke(cli_kernel, "artifacts", "show", "img/dot.png", "--project", project)
    assert piped.exit_code == 0 and piped.stdout_bytes == png
    target = tmp_path / "out.png"
    saved = invoke(cli_kernel, "artifacts", "show", "img/dot.png", "-o", str(target),
                   "--project", project)
    assert saved.exit_code == 0 and target.read_bytes() == png
    assert "wrote 8 bytes" in saved.stderr
    monkeypatch.setattr("llmspell.cli.artifacts_cmd.stdout_is_terminal", lambda: True)
    refused = invoke(cli_kernel, "artifacts", "show", "img/dot.png", "--project", project)
    assert refused.exit_code == 1 and refused.stdout_bytes == b""
    assert "is binary (image/png, 8 bytes)" in refused.stderr and "-o FILE" in refused.stderr
    table = invoke(cli_kernel, "artifacts", "list", "--project", project)
    assert "llmspell artifacts" in table.stdout and "img/dot.png" in table.stdout
    assert "8 B" in table.stdout

    deleted = invoke(cli_kernel, "artifacts", "delete", "report.md", "--version", "1",
                     "--project", project)
    assert deleted.exit_code == 0 and "deleted version 1 of 'report.md'" in deleted.stderr
    gone = invoke(cli_kernel, "artifacts", "show", "report.md", "--version", "1", "--project",
                  project)
    assert gone.exit_code == 1
    assert "error: artifact 'report.md' has no version 1; it has version(s) 2" in gone.stderr
    assert "Traceback" not in gone.stderr
    assert invoke(cli_kernel, "artifacts", "delete", "report.md", "--project",
                  project).exit_code == 0
    missing = invoke(cli_kernel, "artifacts", "show", "report.md", "--project", project)
    assert missing.exit_code == 1 and "error: no artifact 'report.md'" in missing.stderr


def test_a_project_without_artifacts_lists_none_and_creates_nothing(
    cli_kernel: Kernel, tmp_path: Path
) -> None:
    project = str(tmp_path / "empty")
    listed = invoke(cli_kernel, "artifacts", "list", "--json", "--project", project)
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    shown = invoke(cli_kernel, "artifacts", "show", "x", "--project", project)
    assert shown.exit_code == 1 and "error: no artifact 'x'" in shown.stderr
    assert not (tmp_path / "empty").exists()


def test_exec_and_workflow_files_use_the_project_store(
    cli_kernel: Kernel, tmp_path: Path
) -> None:
    project = str(tmp_path)
    done = invoke(cli_kernel, "exec", "--engine", "lua", "--project", project, "-e",
                  'return Artifact.save("from/exec.txt", "exec").version')
    assert done.exit_code == 0, done.stderr
    flow = tmp_path / "notes.toml"
    flow.write_text(
        'kind = "sequential"\nname = "notes"\n'
        '[[steps]]\ntool = "save_note"\nargs = { name = "from/workflow.md", text = "wf" }\n'
    )
    ran = invoke(cli_kernel, "run", "--project", project, str(flow))
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout) == {"artifact": "from/workflow.md", "version": 1}
    rows = json.loads(invoke(cli_kernel, "artifacts", "list", "--json", "--prefix", "from/",
                             "--project", project).stdout)
    assert [r["name"] for r in rows] == ["from/exec.txt", "from/workflow.md"]
    assert rows[1]["metadata"]["tool"] == "save_note"


def test_api_lists_the_artifact_operations(cli_kernel: Kernel) -> None:
    out = invoke(cli_kernel, "api", "--json")
    assert out.exit_code == 0, out.stderr
    ops = {op["name"]: op for op in json.loads(out.stdout)}
    params = {name: [(p["name"], p["optional"]) for p in ops[name]["params"]]
              for name in ("artifact.save", "artifact.load", "artifact.list")}
    assert params == {
        "artifact.save": [("name", False), ("content", False), ("opts", True)],
        "artifact.load": [("name", False), ("opts", True)],
        "artifact.list": [("opts", True)],
    }
    assert all(ops[name]["waits"] for name in params)


def test_cli_errors_are_clean(cli_kernel: Kernel, tmp_path: Path) -> None:
    bad = invoke(cli_kernel, "artifacts", "show", "../x", "--project", str(tmp_path))
    assert bad.exit_code == 1 and "error: artifact name '../x'" in bad.stderr
    zero = invoke(cli_kernel, "artifacts", "delete", "x", "--version", "0", "--project",
                  str(tmp_path))
    assert zero.exit_code == 2  # click's usage error
    help_ = invoke(cli_kernel, "artifacts", "--help")
    for name in ("list", "show", "delete"):
        assert f"  {name} " in help_.stdout


def test_the_console_script_runs_a_spell_then_shows_its_artifact(tmp_path: Path) -> None:
    llmspell = Path(sys.executable).with_name("llmspell")
    if not llmspell.exists():
        pytest.skip("the llmspell console script is not installed next to this interpreter")
    spell = tmp_path / "save.lua"
    spell.write_text('Artifact.save("greeting.txt", "hello from a spell\\n")\nreturn "saved"\n')
    env = {k: v for k, v in os.environ.items() if k != "LLMSPELL_PROJECT"}
    ran = subprocess.run([str(llmspell), "run", "--project", str(tmp_path), str(spell)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "saved\n"
    shown = subprocess.run([str(llmspell), "artifacts", "show", "greeting.txt", "--project",
                            str(tmp_path)], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "hello from a spell\n"
