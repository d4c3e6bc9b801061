return Task.all{
  function() return Tool.call("wait", {seconds = 0.5, label = "slow", value = "slow"}) end,
  function() return Tool.call("wait", {seconds = 0.45, label = "fast", value = "fast"}) end,
}
