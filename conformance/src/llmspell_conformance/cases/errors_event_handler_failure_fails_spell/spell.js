Event.on("job.step", async (event) => {
  await Tool.call("fail", {message: "handler broke on " + event.data.n});
});
await Event.emit("job.step", {n: 1});
export default "main finished";
