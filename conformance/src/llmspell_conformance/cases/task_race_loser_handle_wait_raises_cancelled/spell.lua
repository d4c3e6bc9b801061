local slow = Task.spawn(function() return Tool.call("wait", {seconds = 5, label = "slow", value = "slow"}) end)
local quick = Task.spawn(function()
  Task.sleep(0.05)
  return Tool.call("wait", {seconds = 0.1, label = "quick", value = "quick"})
end)
local winner = Task.race{slow, quick}
local ok, err = pcall(slow.wait, slow)
Tool.call("record", {value = "loser " .. err.code})
return {winner, err.code}
