local ok, err = pcall(Tool.call, "fail", {message = "broken on purpose"})
Tool.call("record", {value = "after the error"})
return {ok = ok, code = err.code, message = err.message, details = err.details, text = type(err.message)}
