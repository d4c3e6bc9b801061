const h1 = Task.spawn(async () => {
  await Task.timeout(5, async () => {
    await Tool.call("wait", {seconds: 0.3, label: "in timeout"});
    await Tool.call("record", {value: "timeout member went on"});
  });
});
const h2 = Task.spawn(async () => {
  await Task.race([async () => {
    await Tool.call("wait", {seconds: 0.3, label: "in race"});
    await Tool.call("record", {value: "race member went on"});
  }]);
});
await Task.sleep(0.05);
h1.cancel();
h2.cancel();
await Task.sleep(0.05);
await Tool.call("record", {value: "main end"});
