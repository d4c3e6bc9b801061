local log = {}
local h = Task.spawn(function()
  Tool.call("record", {value = "host"})
  log[#log + 1] = "host"
end)
-- a chain of resumptions that never waits on the host
local step = coroutine.wrap(function()
  for i = 1, 5 do
    log[#log + 1] = "m" .. i
    coroutine.yield()
  end
end)
for _ = 1, 5 do step() end
h:wait()
return table.concat(log, ",")
