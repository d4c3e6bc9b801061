Tool.call("record", {value = "before"})
local ok = pcall(function()
  local parts = {}
  local i = 0
  while true do
    i = i + 1
    parts[i] = string.rep("x", 1000000) .. i
  end
end)
Tool.call("record", {value = "caught"})
return "survived"
