Tool.call("record", {value = "before"})
local answer = 42
Tool.call("fail", {message = "tool broke"})
Tool.call("record", {value = "never"})
return answer
