local data = {id = 9007199254740991, ratio = 0.75, tags = JSON.array{}, meta = {}, path = {"a", JSON.null, "ü"}}
Event.on("data.sent", function(event)
  Tool.call("record", {value = event.data})
end)
Task.spawn(function() Task.sleep(0.01) Event.emit("data.sent", data) end)
local event = Event.wait("data.sent", 5)
return {data = event.data, same = JSON.stringify(event.data) == JSON.stringify(data), path_len = #event.data.path}
