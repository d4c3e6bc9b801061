local a = 1
local b = 2
Tool.call("fail", {code = "quota_exceeded", message = "no more quota"})
return a + b
