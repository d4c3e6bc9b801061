local codes = {}
local function code_of(fn, ...)
  local ok, err = pcall(fn, ...)
  codes[#codes + 1] = ok and "ok" or err.code
end
code_of(Hook.on, "before_tool_kall", function(ctx) end)
local h = Hook.on("before_tool_call", function(ctx) return {action = "explode"} end)
code_of(Tool.call, "echo", {text = "x"})
Hook.off(h)
h = Hook.on("after_tool_call", function(ctx) return {action = "skip", result = 1} end)
code_of(Tool.call, "echo", {text = "x"})
Hook.off(h)
h = Hook.on("before_tool_call", function(ctx) return "skip" end)
code_of(Tool.call, "echo", {text = "x"})
Hook.off(h)
return codes
