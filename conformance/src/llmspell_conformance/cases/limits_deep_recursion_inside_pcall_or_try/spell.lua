Tool.call("record", {value = "before"})
local function down(n) return 1 + down(n + 1) end
local ok = pcall(down, 1)
Tool.call("record", {value = "caught"})
return "survived"
