Task.timeout(0.1, function() Tool.call("wait", {seconds = 5, label = "slow"}) end)
Tool.call("record", {value = "after the timeout"})
