local got
local h = Task.spawn(function() got = Tool.call("record", {value = "from the task"}) end)
for _ = 1, 200 do
  if got ~= nil then break end
  Task.sleep(0)
end
local seen = got ~= nil
h:wait()
return {seen, got}
