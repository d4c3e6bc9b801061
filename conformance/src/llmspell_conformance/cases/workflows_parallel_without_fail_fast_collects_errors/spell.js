const flow = await Workflow.parallel({name: "fan", failFast: false, branches: {
  bad: (x) => Tool.call("fail", {code: "timeout"}),
  ok: (x) => Tool.call("wait", {seconds: 0.05, label: "ok", value: "done"}),
}});
const data = (await flow.run("x")).data;
export default [data.bad.error.code, data.ok];
