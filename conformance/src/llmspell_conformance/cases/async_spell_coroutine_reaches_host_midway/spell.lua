local gen = coroutine.wrap(function()
  Tool.call("record", {value = "gen start"})
  coroutine.yield("x1")
  Tool.call("wait", {seconds = 0.02, label = "gen mid"})
  coroutine.yield("x2")
  Tool.call("record", {value = "gen end"})
  return "done"
end)
local got = {}
for _ = 1, 3 do
  local v = gen()
  Tool.call("record", {value = "got " .. v})
  got[#got + 1] = v
end
return table.concat(got, "+")
