export default await Task.all([
  () => Tool.call("wait", {seconds: 0.3, label: "a", value: "a"}),
  () => Tool.call("wait", {seconds: 0.2, label: "b", value: "b"}),
  () => Tool.call("wait", {seconds: 0.1, label: "c", value: "c"}),
]);
