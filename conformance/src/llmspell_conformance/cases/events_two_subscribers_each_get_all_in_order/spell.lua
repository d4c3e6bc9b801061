local function subscriber(name)
  local seen = {name}
  return function(event)
    seen[#seen + 1] = event.data.n
    Tool.call("record", {value = seen})
  end
end
Event.on("step.*", subscriber("a"))
Event.on("step.**", subscriber("b"))
for n = 1, 3 do Event.emit("step.done", {n = n}) end
return "emitted"
