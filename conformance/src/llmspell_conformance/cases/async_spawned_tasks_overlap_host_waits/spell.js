const a = Task.spawn(() => Tool.call("wait", {seconds: 0.5, label: "a", value: "a"}));
const b = Task.spawn(() => Tool.call("wait", {seconds: 0.5, label: "b", value: "b"}));
export default [await a, await b];
