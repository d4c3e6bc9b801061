return Task.all{
  function() return Tool.call("wait", {seconds = 0.3, label = "a", value = "a"}) end,
  function() return Tool.call("wait", {seconds = 0.2, label = "b", value = "b"}) end,
  function() return Tool.call("wait", {seconds = 0.1, label = "c", value = "c"}) end,
}
