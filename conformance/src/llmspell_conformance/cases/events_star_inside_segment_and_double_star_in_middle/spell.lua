Event.on("job*.**.done", function(event) Tool.call("record", {value = event.topic}) end)
for _, topic in ipairs({"job.done", "jobs.done", "job42.step.1.done", "ajob.done", "job.done.later", "job.failed"}) do
  Event.emit(topic, {})
end
return "emitted"
