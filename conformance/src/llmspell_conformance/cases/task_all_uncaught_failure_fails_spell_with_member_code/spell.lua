Task.all{
  function() Tool.call("wait", {seconds = 5, label = "long"}) end,
  function()
    Task.sleep(0.05)
    Tool.call("fail", {code = "provider_error", message = "the model is down"})
  end,
}
Tool.call("record", {value = "after Task.all"})
