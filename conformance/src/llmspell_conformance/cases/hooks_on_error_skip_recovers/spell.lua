local seen_code, after_output = nil, nil
Hook.on("on_error", function(ctx)
  seen_code = ctx.error.code
  return {action = "skip", result = "fallback"}
end)
Hook.on("after_tool_call", function(ctx) after_output = ctx.output end)
local out = Tool.call("fail", {code = "tool_error"})
return {out, seen_code, after_output}
