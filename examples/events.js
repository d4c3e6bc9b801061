// events.js: event handlers and hooks run while the spell waits; needs no model.
//   llmspell run examples/events.js
const seen = [];
const sub = await Event.on("tool.*", (ev) => {
  seen.push(`${ev.topic}:${ev.data.tool}`);
});

// a hook that rewrites the arguments of every echo call
const hook = await Hook.on("beforeToolCall", (ctx) => {
  if (ctx.name === "echo") {
    return {action: "modify", input: {text: ctx.input.text.toUpperCase()}};
  }
});

const loud = await Tool.call("echo", {text: "hello events"});
await hook.off();
const quiet = await Tool.call("echo", {text: "hello again"});

// wait for an event emitted by another task
Task.spawn(async () => {
  await Task.sleep(0.05);
  await Event.emit("demo.ready", {answer: 42});
});
const ready = await Event.wait("demo.*", 5);

await Task.sleep(0); // let the handler see the last tool events
await sub.off();
print(loud);
print(quiet);
print(`ready: ${ready.data.answer}`);
export default {events: seen};
