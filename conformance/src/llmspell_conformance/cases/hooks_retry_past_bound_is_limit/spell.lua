Hook.on("after_tool_call", function(ctx) return {action = "retry", reason = "never happy"} end)
local ok, err = pcall(Tool.call, "record", {value = 1})
return err.code
