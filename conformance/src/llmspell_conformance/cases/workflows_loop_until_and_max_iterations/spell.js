const doubling = await Workflow.loop({
  name: "doubling",
  body: (n) => Tool.call("record", {value: n * 2}),
  until: (n) => n >= 20,
});
const counting = await Workflow.loop({
  name: "counting",
  body: (n) => Tool.call("record", {value: n + 1}),
  until: (n) => false,
  maxIterations: 3,
});
export default [(await doubling.run(3)).data, (await counting.run(1)).data];
