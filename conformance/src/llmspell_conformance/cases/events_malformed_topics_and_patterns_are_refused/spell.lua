local codes = {}
for _, topic in ipairs({"bad topic", "a..b", "a.*", ""}) do
  local ok, err = pcall(Event.emit, topic, {})
  codes[#codes + 1] = ok and "accepted" or err.code
end
for _, pattern in ipairs({"a**", "a.b c", "a..b"}) do
  local ok, err = pcall(Event.on, pattern, function() end)
  codes[#codes + 1] = ok and "accepted" or err.code
end
local ok, err = pcall(Event.wait, "x.**.y**", 1)
codes[#codes + 1] = ok and "accepted" or err.code
return codes
