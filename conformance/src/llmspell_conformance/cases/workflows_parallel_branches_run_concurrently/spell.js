const flow = await Workflow.parallel({name: "fan", branches: {
  left: (x) => Tool.call("wait", {seconds: 0.3, label: "left", value: x + "-left"}),
  right: (x) => Tool.call("wait", {seconds: 0.3, label: "right", value: x + "-right"}),
}});
export default (await flow.run("x")).data;
