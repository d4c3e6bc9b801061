Tool.call("record", {value = "before"})
local ok, err = pcall(function()
  local n = 0
  while true do n = n + 1 end
end)
Tool.call("record", {value = "caught"})
return "survived"
