local outer = Task.spawn(function()
  local middle = Task.spawn(function()
    Task.spawn(function()
      Task.sleep(0.1)
      Tool.call("record", {value = "orphan"})
    end)
    local inner = Task.spawn(function(name) return Tool.call("record", {value = name}) end, "inner")
    local got = inner:wait()
    Tool.call("record", {value = "middle"})
    return "middle(" .. got .. ")"
  end)
  local got = middle:wait()
  Tool.call("record", {value = "outer"})
  return "outer(" .. got .. ")"
end)
local result = outer:wait()
Tool.call("record", {value = "main end"})
return result
