"""Every global of the spell API, from real Lua."""

from __future__ import annotations

import logging

from llmspell.lifecycle import HookPoint
from llmspell.testing import Reply


async def test_print_return_and_args(spell):
    result = await spell.run(
        'print("a", 1, 2.5, nil, true)\nreturn {topic = args.topic, n = #args._}',
        args={"topic": "rust", "_": ["x", "y"]},
    )
    assert spell.output == ["a\t1\t2.5\tnil\ttrue"]
    assert result == {"topic": "rust", "n": 2}


async def test_tool_call_list_info(spell):
    result = await spell.run(
        """
        local sum = Tool.call("add", {a = 2, b = 3})
        local names = {}
        for _, t in ipairs(Tool.list("math")) do names[#names + 1] = t.name end
        local info = Tool.info("add")
        return {sum = sum, names = names, required = info.parameters.required}
        """
    )
    assert result == {"sum": 5, "names": ["add"], "required": ["a", "b"]}


async def test_tool_define_called_by_an_agent(spell):
    spell.provider.add(
        Reply(tool_calls=[{"name": "shout", "arguments": {"text": "hi"}}]),
        "done",
    )
    result = await spell.run(
        """
        Tool.define{
          name = "shout", description = "Upper-case text.",
          parameters = {type = "object", properties = {text = {type = "string"}}},
          run = function(args)
            Task.sleep(0.01)            -- a callback may wait on the host
            return string.upper(args.text) .. "!"
          end,
        }
        local agent = Agent.create{name = "a", model = "scripted/x", tools = {"shout"}}
        local r = agent:run("go")
        return {text = r.text, direct = Tool.call("shout", {text = "x"})}
        """
    )
    assert result == {"text": "done", "direct": "X!"}
    tool_message = spell.provider.requests[1].messages[-1]
    assert "HI!" in tool_message.content


async def test_agent_create_run_get_list(spell):
    spell.provider.add("Hello there.")
    result = await spell.run(
        """
        local a = Agent.create{name = "greeter", model = "scripted/x", instructions = "Be nice."}
        local r = a:run("hi")
        local same = Agent.get("greeter")
        return {text = r.text, kind = same.kind, names = Agent.list(),
                tokens = r.usage.input_tokens > 0, s = tostring(a)}
        """
    )
    assert result == {
        "text": "Hello there.",
        "kind": "agent",
        "names": ["greeter"],
        "tokens": True,
        "s": "agent<greeter>",
    }


async def test_workflow_sequential_with_function_and_tool_steps(spell):
    spell.provider.add("from the agent")
    result = await spell.run(
        """
        local agent = Agent.create{name = "w", model = "scripted/x"}
        local flow = Workflow.sequential{name = "flow", steps = {
          function(x) return {value = x .. "-one"} end,
          {tool = "record"},
          function(x) Task.sleep(0) return x .. "-two" end,
          agent,
        }}
        local r = flow:run("start")
        return {text = r.text, kind = flow.kind}
        """
    )
    assert result == {"text": "from the agent", "kind": "workflow"}
    assert spell.recorder.calls == ["start-one"]
    assert spell.provider.requests[0].messages[-1].content == "start-one-two"


async def test_state_scopes(spell):
    result = await spell.run(
        """
        State.set("k", {1, 2}, "global")
        State.set("k", "spell value", "spell")
        State.set("a", true, "session:s1")
        State.set("b", 3.5, "session:s1")
        State.set("gone", 1)
        local existed = State.delete("gone")
        local keys = State.keys("session:s1")
        table.sort(keys)
        return {g = State.get("k"), s = State.get("k", "spell"), keys = keys,
                missing = State.get("nope", "agent:x"), existed = existed,
                default_scope = State.get("k", "global")[2]}
        """
    )
    assert result == {
        "g": [1, 2],
        "s": "spell value",
        "keys": ["a", "b"],
        "existed": True,
        "default_scope": 2,
    }


async def test_events_emit_on_wait_off(spell):
    result = await spell.run(
        """
        local seen = {}
        local sub = Event.on("demo.*", function(ev) seen[#seen + 1] = ev.data.n end)
        Event.emit("demo.a", {n = 1})
        Event.emit("other", {n = 99})
        Event.emit("demo.b", {n = 2})
        Task.spawn(function() Task.sleep(0.01) Event.emit("ping.x", {n = 3}) end)
        local ev = Event.wait("ping.*", 1)
        Task.sleep(0.01)
        sub:off()
        Event.emit("demo.c", {n = 4})
        Task.sleep(0.01)
        local ok, err = pcall(Event.wait, "never", 0.01)
        return {seen = seen, waited = ev.data.n, topic = ev.topic, code = err.code}
        """
    )
    assert result == {"seen": [1, 2], "waited": 3, "topic": "ping.x", "code": "timeout"}


async def test_hook_modifies_a_tool_call(spell):
    result = await spell.run(
        """
        local h = Hook.on("before_tool_call", function(ctx)
          if ctx.name == "add" then
            Task.sleep(0)
            return {action = "modify", input = {a = ctx.input.a * 10, b = ctx.input.b}}
          end
        end)
        local first = Tool.call("add", {a = 1, b = 2})
        h:off()
        local second = Tool.call("add", {a = 1, b = 2})
        local skip = Hook.on("before_tool_call", function(ctx)
          return {action = "skip", result = "skipped"}
        end)
        local third = Tool.call("add", {a = 1, b = 2})
        Hook.off(skip)
        return {first, second, third}
        """
    )
    assert result == [12, 3, "skipped"]
    assert not spell.kernel.hooks.has_hooks(HookPoint.BEFORE_TOOL_CALL.value.split("_", 1)[1])


async def test_hook_cancel_reaches_the_script_as_an_error(spell):
    result = await spell.run(
        """
        Hook.on("before_tool_call", function(ctx) return {action = "cancel", reason = "no"} end)
        local ok, err = pcall(Tool.call, "add", {a = 1, b = 2})
        return {ok = ok, code = err.code}
        """
    )
    assert result == {"ok": False, "code": "hook_cancelled"}


async def test_log_and_json(spell, caplog):
    caplog.set_level(logging.DEBUG, "llmspell.spell")
    result = await spell.run(
        """
        Log.info("hello from lua", {n = 1})
        Log.warn("careful")
        local v = JSON.parse('{"a": [1, 2.5, null, "x"], "e": [], "o": {}}')
        return {len = #v.a, null = JSON.is_null(v.a[3]), text = JSON.stringify(v),
                pretty = JSON.stringify({b = 1}, 2)}
        """
    )
    assert result["len"] == 4 and result["null"] is True
    assert result["text"] == '{"a":[1,2.5,null,"x"],"e":[],"o":{}}'
    assert result["pretty"] == '{\n  "b": 1\n}'
    assert "hello from lua" in caplog.text


async def test_agent_as_tool_and_agent_handles_in_tools(spell):
    spell.provider.add(
        Reply(tool_calls=[{"name": "helper_tool", "arguments": {"input": "sub question"}}]),
        "helper answer",
        "boss answer",
    )
    result = await spell.run(
        """
        local helper = Agent.create{name = "helper", model = "scripted/x"}
        local spec = helper:as_tool{name = "helper_tool", description = "Ask the helper."}
        local boss = Agent.create{name = "boss", model = "scripted/x", tools = {"helper_tool"}}
        return {spec = spec.name, text = boss:run("question").text}
        """
    )
    assert result == {"spec": "helper_tool", "text": "boss answer"}


async def test_hello_example_runs_on_the_default_model(spell, monkeypatch):
    from pathlib import Path

    monkeypatch.setenv("LLMSPELL_MODEL", "scripted/x")
    spell.provider.add("Hello, new llmspell user!")
    source = (Path(__file__).resolve().parents[3] / "examples" / "hello.lua").read_text()
    await spell.run(source, filename="examples/hello.lua")
    assert spell.output == ["Hello, new llmspell user!"]


async def test_parallel_conditional_and_loop_workflows(spell):
    result = await spell.run(
        """
        local fan = Workflow.parallel{
          name = "fan",
          branches = {
            a = function(x) Task.sleep(0.2) return x .. "-a" end,
            b = function(x) Task.sleep(0.2) return x .. "-b" end,
          },
        }
        local both = fan:run("in")
        local router = Workflow.conditional{
          branches = {
            {when = function(n) return n > 10 end, step = function(n) return "big" end},
          },
          default = function(n) return "small" end,
        }
        local doubled = Workflow.loop{
          body = function(n) return n * 2 end,
          ["until"] = function(n) return n >= 100 end,
        }
        return {
          both = both.data,
          big = router:run(20).data,
          small = router:run(1).data,
          doubled = doubled:run(3).data,
        }
        """
    )
    assert result == {
        "both": {"a": "in-a", "b": "in-b"},
        "big": "big",
        "small": "small",
        "doubled": 192,
    }


async def test_parallel_branches_overlap_in_time(spell):
    import trio

    start = trio.current_time()
    await spell.run(
        """
        Workflow.parallel{branches = {
          function() Task.sleep(0.2) end, function() Task.sleep(0.2) end,
        }}:run(nil)
        """
    )
    assert trio.current_time() - start < 0.35


async def test_agent_stream_calls_back_with_text_pieces(spell):
    spell.provider.add(Reply(text="one two three"))
    result = await spell.run(
        """
        local agent = Agent.create{name = "s", model = "scripted/x"}
        local pieces = {}
        local result = agent:stream("count", function(piece) pieces[#pieces + 1] = piece end)
        return {pieces = pieces, text = result.text}
        """
    )
    assert result == {"pieces": ["one ", "two ", "three"], "text": "one two three"}


async def test_events_still_buffered_at_the_end_reach_their_handler(spell):
    result = await spell.run(
        """
        Event.on("x.*", function(ev) Task.sleep(0.01) print("got " .. ev.data) end)
        for i = 1, 3 do Event.emit("x.a", i) end
        return "end"
        """
    )
    assert result == "end"
    assert spell.output == ["got 1", "got 2", "got 3"]
