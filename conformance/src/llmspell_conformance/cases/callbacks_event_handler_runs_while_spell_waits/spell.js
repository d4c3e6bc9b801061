let seen = 0;
await Event.on("ping", async (event) => { seen = await Tool.call("record", {value: event.data.n}); });
Task.spawn(async () => {
  await Task.sleep(0.05);
  await Event.emit("ping", {n: 5});
});
await Tool.call("wait", {seconds: 0.3, label: "main"});
export default seen;
