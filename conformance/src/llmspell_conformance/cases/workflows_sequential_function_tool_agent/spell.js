const agent = await Agent.create({name: "agent", model: "scripted/x"});
let seen = null;
const flow = await Workflow.sequential({name: "pipeline", steps: [
  (input) => Tool.call("record", {value: input}),
  {tool: "record", args: {value: "fixed"}},
  async (input) => { seen = await Tool.call("record", {value: input + "!"}); return seen; },
  agent,
]});
const result = await flow.run("go");
export default [result.data, result.agents, seen];
