await Tool.define({name: "flaky", description: "Always fails.", run: (args) =>
  Tool.call("fail", {code: "timeout", message: "too slow"})});
const agent = await Agent.create({name: "retrier", model: "scripted/x", tools: ["flaky"]});
const result = await agent.run("try it");
export default [result.text, result.tool_calls[0].result.error.code];
