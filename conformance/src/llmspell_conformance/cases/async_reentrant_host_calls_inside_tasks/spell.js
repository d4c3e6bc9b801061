await Tool.define({
  name: "relay",
  description: "Wait, record n and return twice n.",
  parameters: {type: "object", properties: {n: {type: "integer"}}, required: ["n"]},
  run: async (args) => {
    await Tool.call("wait", {seconds: 0.3, label: "relay " + Math.floor(args.n / 10)});
    return (await Tool.call("record", {value: args.n})) * 2;
  },
});
const viaRelay = (n) => () => Tool.call("relay", {n});
export default await Task.all([viaRelay(10), Task.spawn(() => Tool.call("relay", {n: 20})), viaRelay(30)]);
