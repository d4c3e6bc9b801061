local hook = Hook.on("before_tool_call", function(ctx)
  return {action = "modify", input = {value = ctx.input.value .. "!"}}
end)
local first = Tool.call("record", {value = "a"})
Hook.off(hook)
local second = Tool.call("record", {value = "b"})
return {first, second}
