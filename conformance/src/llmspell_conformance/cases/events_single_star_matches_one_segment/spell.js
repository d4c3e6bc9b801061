Event.on("order.*", (event) => Tool.call("record", {value: event.topic}));
for (const topic of ["order", "order.created", "order.line.added", "orders.created", "order.paid", "x.order.y"]) {
  await Event.emit(topic, {});
}
export default "emitted";
