Event.on("log.line", async (event) => {
  await Tool.call("wait", {seconds: 0.02, label: event.data});
});
for (const text of ["one", "two", "three"]) await Event.emit("log.line", text);
export default "ended early";
