Event.on("state.changed", async (event) => {
  await Tool.call("record", {value: event.data});
});
await State.set("a", 1);
await State.set("b", {x: 1}, "session:s");
await State.delete("a");
await State.delete("missing", "spell");
await State.get("b", "session:s");
await State.keys("spell");
export default "done";
