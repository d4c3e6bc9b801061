Tool.call("record", {value = 1})
error("the spell gave up")
