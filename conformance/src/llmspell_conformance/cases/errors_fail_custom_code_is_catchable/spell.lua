local ok, err = pcall(Tool.call, "fail", {code = "quota_exceeded", message = "no more quota"})
local ok2, err2 = pcall(Tool.call, "fail", {})
return {err.code, err.message, err2.code, err2.message}
