Event.on("job.step", function(event)
  Tool.call("fail", {message = "handler broke on " .. event.data.n})
end)
Event.emit("job.step", {n = 1})
return "main finished"
