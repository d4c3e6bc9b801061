const waiting = (label, seconds) => (x) =>
  Tool.call("wait", {seconds, label, value: `${label} done`});
const flow = await Workflow.parallel({name: "fan", onError: "continue", branches: {
  a: waiting("a", 0.2),
  b: waiting("b", 0.2),
  slow: {fn: waiting("slow", 5), timeout: 0.3},
}});
const data = (await flow.run("x")).data;
export default {a: data.a, b: data.b, slow: data.slow.error.code};
