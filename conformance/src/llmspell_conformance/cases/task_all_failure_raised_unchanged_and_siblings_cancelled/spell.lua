local ok, err = pcall(Task.all, {
  function()
    pcall(Tool.call, "wait", {seconds = 5, label = "s1"})
    Tool.call("record", {value = "s1 went on"})
  end,
  function()
    Tool.call("wait", {seconds = 0.05, label = "quick"})
    Tool.call("fail", {code = "permission_denied", message = "denied on purpose"})
  end,
  function()
    Tool.call("wait", {seconds = 5, label = "s2"})
    Tool.call("record", {value = "s2 went on"})
  end,
})
Tool.call("record", {value = "caught " .. err.code})
return {err.code, err.details.tool, err.message:find("denied on purpose", 1, true) ~= nil}
