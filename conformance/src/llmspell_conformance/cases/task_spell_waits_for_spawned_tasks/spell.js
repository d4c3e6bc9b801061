Task.spawn(async () => {
  await Task.sleep(0.05);
  await Tool.call("wait", {seconds: 0.1, label: "late"});
  await Tool.call("record", {value: "task end"});
});
await Tool.call("record", {value: "main end"});
export default "main result";
