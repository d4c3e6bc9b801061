Event.on("log.line", function(event)
  Tool.call("wait", {seconds = 0.02, label = event.data})
end)
for _, text in ipairs({"one", "two", "three"}) do Event.emit("log.line", text) end
return "ended early"
