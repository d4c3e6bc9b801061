export default await Promise.all([
  Tool.call("wait", {seconds: 0.5, label: "slow", value: "slow"}),
  Tool.call("wait", {seconds: 0.45, label: "fast", value: "fast"}),
]);
