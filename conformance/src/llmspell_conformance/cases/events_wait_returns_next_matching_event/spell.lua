Task.spawn(function()
  Task.sleep(0.02)
  Event.emit("job.started", {id = 7})
  Event.emit("other.done", {id = 8})
  Event.emit("job.done", {id = 7, ok = true})
  Event.emit("job.done", {id = 9})
end)
local event = Event.wait("job.done", 5)
return {topic = event.topic, data = event.data, has_seq = math.type(event.seq) == "integer"}
