local winner = Task.race{
  function()
    Task.sleep(0.05)
    pcall(Tool.call, "wait", {seconds = 5, label = "slow"})
    Tool.call("record", {value = "slow went on"})
    return "slow"
  end,
  function() return Tool.call("wait", {seconds = 0.2, label = "fast", value = "fast"}) end,
  function()
    Task.sleep(5)
    Tool.call("record", {value = "sleeper went on"})
    return "sleeper"
  end,
}
Task.sleep(0.1)
Tool.call("record", {value = "winner " .. winner})
return winner
