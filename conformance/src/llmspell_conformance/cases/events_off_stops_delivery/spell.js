const sub = await Event.on("news", (event) => Tool.call("record", {value: event.data}));
const other = await Event.on("news", (event) => Tool.call("record", {value: "other " + event.data}));
await Event.emit("news", "first");
await Event.off(sub);
await Event.emit("news", "second");
await other.off();
await Event.emit("news", "third");
export default "done";
