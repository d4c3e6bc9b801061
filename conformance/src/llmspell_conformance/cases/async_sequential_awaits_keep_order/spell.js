const a = await Tool.call("wait", {seconds: 0.08, label: "first", value: 1});
const b = await Tool.call("record", {value: a + 1});
const c = await Tool.call("wait", {seconds: 0.02, label: "third", value: b + 1});
export default [a, b, c];
