const values = {
  null: null, yes: true, no: false, int: 42, neg: -7, zero: 0, float: 1.5,
  text: "plain", list: [1, "two", false], empty_list: [], empty_object: {},
  object: {a: 1, b: {c: "d"}},
};
const names = ["null", "yes", "no", "int", "neg", "zero", "float", "text", "list",
               "empty_list", "empty_object", "object"];
const back = {};
for (const name of names) {
  await State.set(name, values[name], "spell");
  back[name] = await State.get(name, "spell");
}
back.int_kind = Number.isInteger(back.int) ? "integer" : "float";
back.float_kind = Number.isInteger(back.float) ? "integer" : "float";
back.null_is_nil = back.null === null;
delete back.null;
await Tool.call("record", {value: [back.int, back.neg, back.zero, back.float]});
export default back;
