function subscriber(name) {
  const seen = [name];
  return async (event) => {
    seen.push(event.data.n);
    await Tool.call("record", {value: seen});
  };
}
Event.on("step.*", subscriber("a"));
Event.on("step.**", subscriber("b"));
for (let n = 1; n <= 3; n++) await Event.emit("step.done", {n});
export default "emitted";
