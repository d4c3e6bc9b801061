return Task.timeout(2, function()
  return Tool.call("wait", {seconds = 0.05, label = "quick", value = {n = 7, list = {1, 2}}})
end)
