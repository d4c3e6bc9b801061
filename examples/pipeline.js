// pipeline.js: a workflow of two agents and a script step, on whatever model is the default
// (the embedded local model when nothing is configured).
//   llmspell run examples/pipeline.js -- --city Oslo
let weatherCalls = 0;
await Tool.define({
  name: "weather",
  description: "The current weather of a city (canned data for this example).",
  parameters: {
    type: "object",
    properties: {city: {type: "string", description: "City name"}},
    required: ["city"],
  },
  run: ({city}) => {
    weatherCalls += 1;
    const canned = {Paris: "sunny, 21 C", Oslo: "snow, -3 C"};
    return {city, weather: canned[city] ?? "unknown"};
  },
});

const reporter = await Agent.create({
  name: "reporter",
  instructions: "Find the weather with the weather tool and state it in one sentence.",
  tools: ["weather"],
  temperature: 0,
});
const advisor = await Agent.create({
  name: "advisor",
  instructions: "Answer in one short sentence: what should the user wear?",
  temperature: 0,
});
const checked = {};

const pipeline = await Workflow.sequential({name: "trip", steps: [
  reporter,
  (report) => {  // a script step between the two agents
    checked.report = report;
    return `The weather report says: ${report} What should I wear?`;
  },
  advisor,
]});

const city = args.city ?? "Oslo";
const result = await pipeline.run(`What is the weather in ${city}?`);
print(`report: ${checked.report}`);
print(`advice: ${result.text}`);
export default {agents: result.agents, weather_calls: weatherCalls};
