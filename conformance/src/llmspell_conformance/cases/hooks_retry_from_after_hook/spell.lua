local last_attempt = nil
Hook.on("after_tool_call", function(ctx)
  last_attempt = ctx.attempt
  if ctx.attempt == 0 then return {action = "retry", reason = "again"} end
end)
return {Tool.call("record", {value = "once more"}), last_attempt}
