local ok, err = pcall(error, {code = "timeout", message = "caught one"})
Tool.call("record", {value = {err.code, err.message}})
error({code = "invalid_value", message = "the input is bad"})
