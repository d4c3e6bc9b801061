Event.on("order.**", function(event) Tool.call("record", {value = event.topic}) end)
for _, topic in ipairs({"order", "order.created", "order.line.added", "orders.created", "x.order.y", "order.a.b.c.d"}) do
  Event.emit(topic, {})
end
return "emitted"
