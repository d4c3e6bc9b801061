local ok, err = pcall(Tool.call, "calculator", {expression = "2**53 + 1"})
local ok2, err2 = pcall(Tool.call, "calculator", {expression = "-(2**60)"})
local fine = Tool.call("calculator", {expression = "2**53 - 1"})
return {err.code, err2.code, fine}
