local agent = Agent.create{name = "talker", model = "scripted/x"}
local _, e1 = pcall(function()
  return agent:stream("go", function(piece)
    if piece == "two " then error({code = "not_found", message = "no such piece"}) end
  end)
end)
local _, e2 = pcall(function()
  return agent:stream("go", function(piece) Tool.call("fail", {code = "timeout"}) end)
end)
return {e1.code, e2.code}
