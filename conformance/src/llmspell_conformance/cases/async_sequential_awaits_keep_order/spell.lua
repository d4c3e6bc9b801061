local a = Tool.call("wait", {seconds = 0.08, label = "first", value = 1})
local b = Tool.call("record", {value = a + 1})
local c = Tool.call("wait", {seconds = 0.02, label = "third", value = b + 1})
return {a, b, c}
