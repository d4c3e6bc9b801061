Event.on("order.**", (event) => Tool.call("record", {value: event.topic}));
for (const topic of ["order", "order.created", "order.line.added", "orders.created", "x.order.y", "order.a.b.c.d"]) {
  await Event.emit(topic, {});
}
export default "emitted";
