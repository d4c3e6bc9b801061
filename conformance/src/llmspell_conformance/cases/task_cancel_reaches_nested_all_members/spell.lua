local h = Task.spawn(function()
  Task.all{
    function() Tool.call("wait", {seconds = 5, label = "m1"}) Tool.call("record", {value = "m1 went on"}) end,
    function() Tool.call("wait", {seconds = 5, label = "m2"}) Tool.call("record", {value = "m2 went on"}) end,
  }
  Tool.call("record", {value = "task went on"})
end)
Task.sleep(0.05)
h:cancel()
local ok, err = pcall(h.wait, h)
Tool.call("record", {value = "caught " .. err.code})
return err.code
