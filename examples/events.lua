-- events.lua: event handlers and hooks run while the spell waits; needs no model.
--   llmspell run examples/events.lua
local seen = {}
local sub = Event.on("tool.*", function(ev)
  seen[#seen + 1] = ev.topic .. ":" .. ev.data.tool
end)

-- a hook that rewrites the arguments of every echo call
local hook = Hook.on("before_tool_call", function(ctx)
  if ctx.name == "echo" then
    return {action = "modify", input = {text = ctx.input.text:upper()}}
  end
end)

local loud = Tool.call("echo", {text = "hello events"})
hook:off()
local quiet = Tool.call("echo", {text = "hello again"})

-- wait for an event emitted by another task
Task.spawn(function()
  Task.sleep(0.05)
  Event.emit("demo.ready", {answer = 42})
end)
local ready = Event.wait("demo.*", 5)

Task.sleep(0)   -- let the handler see the last tool events
sub:off()
print(loud)
print(quiet)
print("ready: " .. ready.data.answer)
return {events = seen}
