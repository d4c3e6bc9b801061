local codes = {}
for _, v in ipairs({0/0, math.huge, -math.huge}) do
  local ok, err = pcall(Tool.call, "record", {value = v})
  codes[#codes + 1] = ok and "accepted" or err.code
end
return codes
