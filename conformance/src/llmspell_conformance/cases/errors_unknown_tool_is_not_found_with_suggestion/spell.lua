local ok, err = pcall(Tool.call, "recrod", {value = 1})
return {code = err.code, message = err.message, kind = err.details.kind, name = err.details.name}
