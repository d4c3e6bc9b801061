local h1 = Task.spawn(function() return Tool.call("wait", {seconds = 0.4, label = "h1", value = "h1"}) end)
local h2 = Task.spawn(function() return Tool.call("wait", {seconds = 0.1, label = "h2", value = "h2"}) end)
return Task.all{
  function() return Tool.call("wait", {seconds = 0.3, label = "f1", value = "f1"}) end,
  h1,
  function() return Tool.call("record", {value = "f2"}) end,
  h2,
}
