Hook.on("after_tool_call", function(ctx)
  return {action = "modify", output = ctx.output:upper() .. "!"}
end)
return Tool.call("record", {value = "raw"})
