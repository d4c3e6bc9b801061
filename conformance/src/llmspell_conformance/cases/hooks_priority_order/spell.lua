Hook.on("before_tool_call", function(ctx)
  return {action = "modify", input = {value = ctx.input.value .. "+low"}}
end, {priority = 1})
Hook.on("before_tool_call", function(ctx)
  return {action = "modify", input = {value = ctx.input.value .. "+high"}}
end, {priority = 10})
return Tool.call("record", {value = "x"})
