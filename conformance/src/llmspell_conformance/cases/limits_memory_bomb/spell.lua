Tool.call("record", {value = "before"})
local parts = {}
local i = 0
while true do
  i = i + 1
  parts[i] = string.rep("x", 1000000) .. i
end
Tool.call("record", {value = "after"})
