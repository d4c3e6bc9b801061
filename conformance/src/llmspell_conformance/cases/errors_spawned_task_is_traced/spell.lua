local task = Task.spawn(function()
  Tool.call("fail", {message = "the task broke"})
end)
local ok, err = pcall(task.wait, task)
return err.code
