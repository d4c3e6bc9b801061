const flow = await Workflow.sequential({name: "pipeline", steps: [
  (x) => `A(${x})`,
  {name: "a", tool: "record", inputArg: "value"},
  {name: "noise", fn: (x) => "ignored"},
  {name: "b", fn: (x) => `B(${x})`, input: "original"},
  {name: "both", fn: (x) => x,
   input: (v) => `${v.input}|${v.outputs.a}|${v.outputs.a}+${v.previous}`},
]});
const pick = await Workflow.sequential({name: "pick", steps: [
  {name: "first", fn: (x) => `first(${x})`},
  (x) => "other",
  {fn: (x) => x, input: {step: "first"}},
]});
if ((await pick.run("y")).data !== "first(y)") throw new Error("input = {step} failed");
export default (await flow.run("topic")).data;
