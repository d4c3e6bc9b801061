"""Sessions: ``llmspell run --session NAME`` continues a session's state and agent histories,
and ``llmspell session list|show|export|delete`` see the runs, state, histories and artifacts
the project's stores hold under its name."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from llmspell.agents import LLMAgent
from llmspell.cli import cli
from llmspell.cli.app import CliState
from llmspell.errors import LlmspellError
from llmspell.history import HistoryPolicy
from llmspell.providers import ChatRequest
from llmspell.runtime import SpellRun
from llmspell.sessions import Sessions
from llmspell.state import SqliteBackend
from llmspell.testing import Reply, ScriptedProvider, make_kernel

SPELLS = {
    "lua": """
        local n = (State.get("count", "session") or 0) + 1
        State.set("count", n, "session")
        local chat = Agent.create{name = "chat", model = "scripted/m", history = true}
        local reply = chat:run(args._[1]).text
        Artifact.save("notes/turn.txt", "turn " .. n)
        return {count = n, reply = reply}
    """,
    "js": """
        const n = ((await State.get("count", "session")) ?? 0) + 1;
        await State.set("count", n, "session");
        const chat = await Agent.create({name: "chat", model: "scripted/m", history: true});
        const reply = (await chat.run(args._[0])).text;
        await Artifact.save("notes/turn.txt", `turn ${n}`);
        export default {count: n, reply};
    """,
}


def echo_history(request: ChatRequest) -> Reply:
    """Answers with the user messages it was sent, so a reply shows the history it saw."""
    users = [m.content for m in request.messages if m.role == "user"]
    return Reply(text=" | ".join(users))


pytestmark = pytest.mark.usefixtures("isolated_cwd")


def invoke(*args: str, provider: ScriptedProvider | None = None) -> Result:
    kernel = make_kernel(entry_points=True,
                         provider=provider or ScriptedProvider(default=echo_history))
    return CliRunner().invoke(cli, list(args), obj=CliState(kernel))


def spell(tmp_path: Path, lang: str) -> Path:
    path = tmp_path / f"chat.{lang}"
    path.write_text(textwrap.dedent(SPELLS[lang]).lstrip(), encoding="utf-8")
    return path


def run_json(tmp_path: Path, path: Path, *args: str) -> dict[str, Any]:
    result = invoke("run", "--json", "--project", str(tmp_path), *args, str(path), "--",
                    "hello")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# --- the runtime --------------------------------------------------------------------------------


async def test_the_bare_session_scope_is_the_runs_session(tmp_path: Path) -> None:
    store = SqliteBackend(tmp_path / "state.db")
    try:
        async with SpellRun.open(make_kernel(), store=store, session="s1") as run:
            await run.state_set("k", 1, "session")
            assert await run.state_get("k", "session:s1") == 1
            assert await run.state_keys("session") == ["k"]
        async with SpellRun.open(make_kernel(), store=store) as run:
            assert await run.state_get("k", "session:s1") == 1
            with pytest.raises(LlmspellError) as info:
                await run.state_get("k", "session")
        assert info.value.code == "invalid_value"
        assert "needs a session" in info.value.message and "--session" in (info.value.hint or "")
    finally:
        await store.aclose()


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "x" * 129, 7])
async def test_a_malformed_session_name_is_refused_before_the_run(bad: Any) -> None:
    with pytest.raises(LlmspellError) as info:
        async with SpellRun.open(make_kernel(), session=bad):
            raise AssertionError("the run must not open")
    assert info.value.code == "invalid_value"
    assert "session name" in info.value.message


async def test_an_agent_keeps_its_history_in_the_runs_session() -> None:
    provider = ScriptedProvider(default=echo_history)
    kernel = make_kernel(provider=provider)
    agent = LLMAgent(name="chat", model="scripted/m", history=HistoryPolicy())
    store = None
    async with SpellRun.open(kernel, session="a") as run:
        store = run.store
        assert (await run.run_agent(agent, "one")).text == "one"
    async with SpellRun.open(kernel, session="a", store=store) as run:
        assert (await run.run_agent(agent, "two")).text == "one | two"
        stored = await run.state_get("history.chat", "session:a")
        assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    async with SpellRun.open(kernel, session="b", store=store) as run:
        assert (await run.run_agent(agent, "three")).text == "three"  # another session
    async with SpellRun.open(kernel, store=store) as run:  # no session: the agent's own scope
        assert (await run.run_agent(agent, "four")).text == "four"
        assert await run.state_get("history", "agent:chat") is not None
    # an agent that names its session keeps it whatever the run's session
    pinned = LLMAgent(name="pinned", model="scripted/m", history=HistoryPolicy(), session="p")
    async with SpellRun.open(kernel, session="a", store=store) as run:
        await run.run_agent(pinned, "x")
        assert await run.state_get("history.pinned", "session:p") is not None
        assert await run.state_get("history.pinned", "session:a") is None


# --- the CLI ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_run_with_a_session_continues_its_state_and_history(tmp_path: Path, lang: str) -> None:
    path = spell(tmp_path, lang)
    first = run_json(tmp_path, path, "--session", "s1")
    assert first["result"] == {"count": 1, "reply": "hello"}
    second = run_json(tmp_path, path, "--session", "s1")
    assert second["result"] == {"count": 2, "reply": "hello | hello"}
    other = run_json(tmp_path, path, "--session", "s2")
    assert other["result"] == {"count": 1, "reply": "hello"}

    listed = invoke("session", "list", "--json", "--project", str(tmp_path))
    assert listed.exit_code == 0, listed.output
    by_name = {item["name"]: item for item in json.loads(listed.stdout)}
    assert set(by_name) == {"s1", "s2"}
    assert by_name["s1"]["runs"] == 2 and by_name["s2"]["runs"] == 1
    assert by_name["s1"]["state_keys"] == 1 and by_name["s1"]["histories"] == 1
    assert by_name["s1"]["artifacts"] == 2
    assert by_name["s1"]["input_tokens"] > 0

    shown = invoke("session", "show", "s1", "--json", "--project", str(tmp_path))
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert [r["run_id"] for r in data["runs"]] == [second["run_id"], first["run_id"]]
    assert data["state"] == {"count": 2}
    assert [m["content"] for m in data["history"]["chat"]] == [
        "hello", "hello", "hello", "hello | hello"]
    assert [(a["name"], a["version"]) for a in data["artifacts"]] == [
        ("notes/turn.txt", 1), ("notes/turn.txt", 2)]

    text = invoke("session", "show", "s1", "--project", str(tmp_path))
    assert text.exit_code == 0, text.output
    assert "count = 2" in text.stdout and "chat: 4 messages" in text.stdout


def test_export_is_one_json_document_with_runs_events_and_artifact_content(
    tmp_path: Path,
) -> None:
    path = spell(tmp_path, "lua")
    done = run_json(tmp_path, path, "--session", "exp")
    out = tmp_path / "exp.json"
    result = invoke("session", "export", "exp", "-o", str(out), "--project", str(tmp_path))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["llmspell_session_export"] == 1 and data["name"] == "exp"
    (run,) = data["runs"]
    assert run["run_id"] == done["run_id"] and "State.set" in run["source"]
    topics = [e["topic"] for e in run["events"]]
    assert topics[0] == "spell.started" and "agent.started" in topics
    assert data["artifacts"][0]["content"] == "turn 1"
    assert data["artifacts"][0]["encoding"] == "text"
    stdout = invoke("session", "export", "exp", "--project", str(tmp_path))
    assert json.loads(stdout.stdout)["name"] == "exp"


def test_delete_removes_runs_state_history_and_artifacts_of_that_session_only(
    tmp_path: Path,
) -> None:
    path = spell(tmp_path, "lua")
    run_json(tmp_path, path, "--session", "gone")
    run_json(tmp_path, path, "--session", "kept")
    result = invoke("session", "delete", "gone", "--project", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "1 runs, 2 state keys, 1 artifact versions" in result.stdout

    missing = invoke("session", "show", "gone", "--project", str(tmp_path))
    assert missing.exit_code == 1
    assert "no session 'gone'" in missing.stderr
    runs = invoke("runs", "list", "--json", "--session", "gone", "--project", str(tmp_path))
    assert json.loads(runs.stdout) == []
    kept = invoke("session", "show", "kept", "--json", "--project", str(tmp_path))
    assert kept.exit_code == 0
    assert json.loads(kept.stdout)["state"] == {"count": 1}
    # a new run of the deleted session starts from nothing
    again = run_json(tmp_path, path, "--session", "gone")
    assert again["result"] == {"count": 1, "reply": "hello"}


def test_unknown_and_malformed_sessions_get_clear_errors(tmp_path: Path) -> None:
    path = spell(tmp_path, "lua")
    run_json(tmp_path, path, "--session", "alpha")
    unknown = invoke("session", "show", "alpah", "--project", str(tmp_path))
    assert unknown.exit_code == 1
    assert "no session 'alpah'" in unknown.stderr and "did you mean 'alpha'" in unknown.stderr
    bad = invoke("session", "delete", "no spaces", "--project", str(tmp_path))
    assert bad.exit_code == 1 and "invalid session name" in bad.stderr
    bad_run = invoke("run", "--project", str(tmp_path), "--session", "a b", str(path), "--", "x")
    assert bad_run.exit_code == 1 and "session name" in bad_run.stderr
    scope = tmp_path / "scope.lua"
    scope.write_text('return State.get("x", "session")', encoding="utf-8")
    no_session = invoke("run", "--project", str(tmp_path), str(scope))
    assert no_session.exit_code == 1
    assert "needs a session" in no_session.stderr and "scope.lua" in no_session.stderr


def test_listing_a_project_without_stores_creates_nothing(tmp_path: Path) -> None:
    result = invoke("session", "list", "--json", "--project", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert not (tmp_path / ".llmspell").exists()


async def test_sessions_api_lists_what_each_store_holds(tmp_path: Path) -> None:
    state = SqliteBackend(tmp_path / ".llmspell" / "state.db")
    await state.set("session:only-state", "k", 1)
    await state.aclose()
    async with Sessions.open(tmp_path) as sessions:
        (summary,) = await sessions.list()
        assert summary.name == "only-state" and summary.runs == 0 and summary.state_keys == 1
        shown = await sessions.show("only-state")
        assert shown["runs"] == [] and shown["state"] == {"k": 1}
