const doubling = await Workflow.loop({
  name: "doubling",
  body: (n) => Tool.call("record", {value: n * 2}),
  while: (n) => n < 10,
});
const outer = await Workflow.sequential({name: "outer", steps: [
  doubling,
  (n) => `final:${n}`,
]});
export default (await outer.run(1)).data;
