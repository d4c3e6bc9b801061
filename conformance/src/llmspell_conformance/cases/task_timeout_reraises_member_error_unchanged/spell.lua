local ok, err = pcall(Task.timeout, 5, function()
  Tool.call("wait", {seconds = 0.02, label = "first"})
  Tool.call("fail", {code = "invalid_args", message = "bad input on purpose"})
end)
return {err.code, err.details.tool, err.message:find("bad input on purpose", 1, true) ~= nil}
