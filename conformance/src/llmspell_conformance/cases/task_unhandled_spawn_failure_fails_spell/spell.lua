Task.spawn(function()
  Tool.call("wait", {seconds = 0.05, label = "t"})
  Tool.call("fail", {code = "permission_denied", message = "denied on purpose"})
end)
return "main done"
