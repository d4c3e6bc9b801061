local tasks = {}
for i = 1, 1000 do
  tasks[i] = Task.spawn(function() return Tool.call("wait", {seconds = 0.05, value = i}) end)
end
local results = Task.all(tasks)
local sum = 0
for _, v in ipairs(results) do sum = sum + v end
return {count = #results, sum = sum}
