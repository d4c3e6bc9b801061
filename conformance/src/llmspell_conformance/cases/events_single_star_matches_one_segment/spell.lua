Event.on("order.*", function(event) Tool.call("record", {value = event.topic}) end)
for _, topic in ipairs({"order", "order.created", "order.line.added", "orders.created", "order.paid", "x.order.y"}) do
  Event.emit(topic, {})
end
return "emitted"
