await Tool.define({
  name: "mytool",
  description: "Record x and add ten.",
  parameters: {type: "object", properties: {x: {type: "integer"}}, required: ["x"]},
  run: async (args) => (await Tool.call("record", {value: args.x})) + 10,
});
const agent = await Agent.create({name: "caller", model: "scripted/x", tools: ["mytool"]});
const result = await agent.run("use the tool");
const call = result.tool_calls[0];
export default {text: result.text, calls: result.tool_calls.length, name: call.name, result: call.result};
