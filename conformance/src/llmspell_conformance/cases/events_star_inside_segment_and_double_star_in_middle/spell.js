Event.on("job*.**.done", (event) => Tool.call("record", {value: event.topic}));
for (const topic of ["job.done", "jobs.done", "job42.step.1.done", "ajob.done", "job.done.later", "job.failed"]) {
  await Event.emit(topic, {});
}
export default "emitted";
