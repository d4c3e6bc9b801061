await Tool.define({name: "launch", description: "Launch (records it).", run: (args) =>
  Tool.call("record", {value: "launched"})});
await Hook.on("before_tool_call", (ctx) =>
  ctx.name === "launch" ? {action: "cancel", reason: "no launches"} : undefined);
const agent = await Agent.create({name: "pilot", model: "scripted/x", tools: ["launch"]});
const result = await agent.run("launch it");
export default [result.text, result.tool_calls[0].result.error.code];
