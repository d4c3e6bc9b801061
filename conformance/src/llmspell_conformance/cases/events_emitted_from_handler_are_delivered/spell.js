Event.on("order.placed", async (event) => {
  await Tool.call("record", {value: "placed " + event.data.id});
  await Event.emit("order.billed." + event.data.id, {amount: event.data.id * 10});
});
Event.on("order.billed.*", async (event) => {
  await Tool.call("record", {value: [event.topic, event.data.amount]});
});
await Event.emit("order.placed", {id: 1});
await Event.emit("order.placed", {id: 2});
const last = await Event.wait("order.billed.2", 5);
export default last.data.amount;
