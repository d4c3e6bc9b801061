local ok, missing = pcall(Tool.call, "wait", {label = "x"})
local ok2, negative = pcall(Tool.call, "wait", {seconds = -1})
local ok3, wrong = pcall(Tool.call, "wait", {seconds = "soon"})
return {missing.code, missing.message, negative.code, negative.message:find("seconds", 1, true) ~= nil, wrong.code, wrong.message:find("seconds", 1, true) ~= nil}
