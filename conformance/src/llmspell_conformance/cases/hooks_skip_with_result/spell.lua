local skipped = nil
Hook.on("before_tool_call", function(ctx) return {action = "skip", result = "cached"} end)
Hook.on("after_tool_call", function(ctx) skipped = ctx.skipped end)
local out = Tool.call("record", {value = "fresh"})
return {out, skipped}
