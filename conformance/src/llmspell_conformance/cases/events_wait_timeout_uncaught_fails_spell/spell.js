await Event.emit("ping", {});
const first = 1;
const event = await Event.wait("pong", 0.05);
export default event.topic;
