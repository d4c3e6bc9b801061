await Tool.define({
  name: "slow",
  description: "Wait 0.3 s and return the label.",
  parameters: {type: "object", properties: {label: {type: "string"}}, required: ["label"]},
  run: (args) => Tool.call("wait", {seconds: 0.3, label: args.label, value: args.label}),
});
const agent = await Agent.create({name: "juggler", model: "scripted/x", tools: ["slow"]});
const result = await agent.run("do both");
export default [result.text, result.tool_calls[0].result, result.tool_calls[1].result];
