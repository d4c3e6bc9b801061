await Task.all([
  () => Tool.call("wait", {seconds: 5, label: "long"}),
  async () => {
    await Task.sleep(0.05);
    await Tool.call("fail", {code: "provider_error", message: "the model is down"});
  },
]);
await Tool.call("record", {value: "after Task.all"});
