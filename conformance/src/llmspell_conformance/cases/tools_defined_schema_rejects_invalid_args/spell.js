await Tool.define({
  name: "triple",
  description: "Triple an integer.",
  parameters: {type: "object", properties: {n: {type: "integer"}}, required: ["n"]},
  run: async (args) => (await Tool.call("record", {value: args.n})) * 3,
});
const codes = [];
try { await Tool.call("triple", {}); } catch (e) { codes.push(e.code); }
try { await Tool.call("triple", {n: "two"}); } catch (e) { codes.push(e.code); }
export default [...codes, await Tool.call("triple", {n: 2})];
