// agent_tools.js: an agent that uses a tool written in JavaScript.
//   llmspell run examples/agent_tools.js -- --city Paris
await Tool.define({
  name: "weather",
  description: "The current weather of a city (canned data for this example).",
  parameters: {
    type: "object",
    properties: {city: {type: "string", description: "City name"}},
    required: ["city"],
  },
  run: ({city}) => {
    const canned = {Paris: "sunny, 21 C", Oslo: "snow, -3 C"};
    return {city, weather: canned[city] ?? "unknown"};
  },
});

const agent = await Agent.create({
  name: "forecaster",
  instructions: "Answer with the weather tool. Reply in one sentence.",
  tools: ["weather"],
});
const result = await agent.run(`What is the weather in ${args.city ?? "Paris"}?`);
print(result.text);
export default {tool_calls: result.tool_calls.length};
