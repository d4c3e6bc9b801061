Hook.on("before_tool_call", function(ctx)
  if ctx.name == "wait" then Tool.call("record", {value = "before " .. ctx.name}) end
end)
return Tool.call("wait", {seconds = 0.05, label = "w", value = "slept"})
