const h1 = Task.spawn(() => Tool.call("wait", {seconds: 0.4, label: "h1", value: "h1"}));
const h2 = Task.spawn(() => Tool.call("wait", {seconds: 0.1, label: "h2", value: "h2"}));
export default await Task.all([
  () => Tool.call("wait", {seconds: 0.3, label: "f1", value: "f1"}),
  h1,
  () => Tool.call("record", {value: "f2"}),
  h2,
]);
