Hook.on("before_tool_call", function(ctx)
  return {action = "cancel", reason = "not today"}
end)
Tool.call("record", {value = "never"})
return "unreachable"
