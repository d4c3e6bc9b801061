Tool.call("wait", {seconds = 10, label = "long"})
Tool.call("record", {value = "after"})
