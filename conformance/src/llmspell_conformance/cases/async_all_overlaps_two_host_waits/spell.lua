return Task.all{
  function() return Tool.call("wait", {seconds = 0.5, label = "a", value = "a"}) end,
  function() return Tool.call("wait", {seconds = 0.5, label = "b", value = "b"}) end,
}
