const events = [];
const sub = await Event.on("workflow.step.*", (e) => {
  if (e.data.workflow === "flaky") {
    const seen = {topic: e.topic, attempt: e.data.attempt};
    if (e.data.delay !== undefined) seen.delay = e.data.delay;
    if (e.data.error) seen.code = e.data.error.code;
    events.push(seen);
  }
});
let n = 0;
const flaky = await Workflow.sequential({name: "flaky", steps: [{
  fn: async (x) => {
    n += 1;
    await Tool.call("record", {value: `attempt ${n}`});
    if (n < 3) await Tool.call("fail", {code: "tool_error"});
    return `ok on ${n}`;
  },
  retry: {attempts: 3, backoff: 0.05, multiplier: 2},
}]});
const data = (await flaky.run("x")).data;
let m = 0;
const hopeless = await Workflow.sequential({name: "hopeless", steps: [{
  fn: async (x) => {
    m += 1;
    await Tool.call("record", {value: `give up ${m}`});
    await Tool.call("fail", {code: "not_found"});
  },
  retry: {attempts: 2},
}]});
let exhausted;
try { await hopeless.run("x"); } catch (e) { exhausted = [e.code, e.details.attempts]; }
await Task.sleep(0.05);
await sub.off();
export default {data, exhausted, events};
