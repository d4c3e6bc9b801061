export default await Task.timeout(2, () =>
  Tool.call("wait", {seconds: 0.05, label: "quick", value: {n: 7, list: [1, 2]}}));
