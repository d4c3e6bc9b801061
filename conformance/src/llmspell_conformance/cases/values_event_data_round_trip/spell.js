const data = {id: 9007199254740991, meta: {}, path: ["a", null, "ü"], ratio: 0.75, tags: []};
Event.on("data.sent", async (event) => {
  await Tool.call("record", {value: event.data});
});
Task.spawn(async () => { await Task.sleep(0.01); await Event.emit("data.sent", data); });
const event = await Event.wait("data.sent", 5);
export default {data: event.data, same: JSON.stringify(event.data) === JSON.stringify(data), path_len: event.data.path.length};
