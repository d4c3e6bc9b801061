local ok, err = pcall(Task.race, {
  function()
    Task.sleep(0.05)
    return Tool.call("wait", {seconds = 5, label = "slow", value = "slow"})
  end,
  function()
    Task.sleep(0.1)
    Tool.call("wait", {seconds = 0.1, label = "quick"})
    Tool.call("fail", {code = "not_found", message = "nothing here"})
  end,
})
Tool.call("record", {value = "caught " .. err.code})
return {err.code, err.message:find("nothing here", 1, true) ~= nil}
