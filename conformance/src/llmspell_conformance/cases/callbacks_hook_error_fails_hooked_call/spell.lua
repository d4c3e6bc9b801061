Hook.on("before_tool_call", function(ctx)
  if ctx.name == "record" then Tool.call("fail", {code = "not_found", message = "hook refused"}) end
end)
local ok, err = pcall(Tool.call, "record", {value = "should not be recorded"})
return err.code
