local ran = {}
local ok, err = pcall(Task.timeout, 0.05, function()
  xpcall(function()
    pcall(Task.sleep, 5)
    ran[#ran + 1] = "after the inner pcall"
  end, function(e)
    ran[#ran + 1] = "xpcall handler"
    return e
  end)
  ran[#ran + 1] = "after the xpcall"
end)
Task.sleep(0.2)
return {err.code, #ran}
