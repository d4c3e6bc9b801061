const expert = await Agent.create({name: "expert", model: "scripted/x"});
await expert.asTool({name: "ask_expert", description: "Ask the expert."});
const boss = await Agent.create({name: "boss", model: "scripted/x", tools: ["ask_expert"]});
const result = await boss.run("delegate");
export default [result.text, result.tool_calls[0].name, result.tool_calls[0].result];
