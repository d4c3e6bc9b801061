local log = {}
local function chain(name)
  Task.sleep(0.05)
  local step = coroutine.wrap(function()
    for i = 1, 4 do
      log[#log + 1] = name .. i
      coroutine.yield()
    end
  end)
  for _ = 1, 4 do step() end
end
Task.all{function() chain("a") end, function() chain("b") end}
local got = table.concat(log, ",")
return {got == "a1,a2,a3,a4,b1,b2,b3,b4" or got == "b1,b2,b3,b4,a1,a2,a3,a4", #log}
