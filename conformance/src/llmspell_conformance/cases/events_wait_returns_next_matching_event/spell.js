Task.spawn(async () => {
  await Task.sleep(0.02);
  await Event.emit("job.started", {id: 7});
  await Event.emit("other.done", {id: 8});
  await Event.emit("job.done", {id: 7, ok: true});
  await Event.emit("job.done", {id: 9});
});
const event = await Event.wait("job.done", 5);
export default {topic: event.topic, data: event.data, has_seq: Number.isInteger(event.seq)};
