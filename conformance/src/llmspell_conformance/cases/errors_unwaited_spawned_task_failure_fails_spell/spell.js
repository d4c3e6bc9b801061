Task.spawn(async () => {
  await Task.sleep(0.01);
  await Tool.call("fail", {message: "the task broke"});
});
await Tool.call("record", {value: "main done"});
export default "unreachable result";
