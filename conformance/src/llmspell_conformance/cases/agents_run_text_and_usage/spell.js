const agent = await Agent.create({name: "greeter", model: "scripted/x", instructions: "Greet."});
const result = await agent.run("hi");
export default {
  text: result.text,
  has_usage: result.usage.input_tokens > 0 && result.usage.output_tokens > 0,
  tool_calls: result.tool_calls.length,
  agents: result.agents,
  roles: result.messages.map((m) => m.role),
};
