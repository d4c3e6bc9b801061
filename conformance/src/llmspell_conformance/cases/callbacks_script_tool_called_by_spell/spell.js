await Tool.define({
  name: "double",
  description: "Record a number and return it doubled.",
  parameters: {type: "object", properties: {x: {type: "integer"}}, required: ["x"]},
  run: async (args) => (await Tool.call("record", {value: args.x})) * 2,
});
export default await Tool.call("double", {x: 7});
