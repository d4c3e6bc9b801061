export default await Task.all([
  () => Tool.call("wait", {seconds: 0.5, label: "a", value: "a"}),
  () => Tool.call("wait", {seconds: 0.5, label: "b", value: "b"}),
]);
