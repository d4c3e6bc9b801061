local _, e1 = pcall(Tool.info, "no_such_tool")
local _, e2 = pcall(Tool.call, "no_such_tool", {})
return {e1.code, e2.code}
