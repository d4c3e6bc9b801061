Hook.on("before_tool_call", function(ctx)
  if ctx.input.value == "original" then return {action = "modify", input = {value = "changed"}} end
end)
return Tool.call("record", {value = "original"})
