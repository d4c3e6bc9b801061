Event.emit("ping", {})
local first = 1
local event = Event.wait("pong", 0.05)
return event.topic
