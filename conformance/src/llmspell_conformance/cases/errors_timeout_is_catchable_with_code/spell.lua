local ok, err = pcall(Task.timeout, 0.05, function()
  return Tool.call("wait", {seconds = 5, label = "slow"})
end)
local ok2, err2 = pcall(Event.wait, "never.happens", 0.05)
Tool.call("record", {value = {ok, err.code, ok2, err2.code, err2.details.pattern}})
return "went on"
