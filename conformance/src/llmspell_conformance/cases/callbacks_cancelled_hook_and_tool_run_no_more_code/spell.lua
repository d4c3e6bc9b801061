Hook.on("before_tool_call", function(ctx)
  if ctx.name == "echo" then
    pcall(Tool.call, "wait", {seconds = 5, label = "hook"})
    Tool.call("record", {value = "hook went on"})
  end
end)
Tool.define{name = "slowtool", description = "s", run = function(args)
  pcall(Tool.call, "wait", {seconds = 5, label = "tool"})
  Tool.call("record", {value = "tool went on"})
end}
local _, e1 = pcall(Task.timeout, 0.05, function() return Tool.call("echo", {text = "x"}) end)
local _, e2 = pcall(Task.timeout, 0.05, function() return Tool.call("slowtool", {}) end)
Tool.call("record", {value = "main"})
return {e1.code, e2.code}
