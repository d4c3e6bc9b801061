const h = Task.spawn(async () => {
  try {
    await Tool.call("wait", {seconds: 5, label: "long"});
  } catch (e) {
    // must not run
  }
  await Tool.call("record", {value: "task went on"});
});
await Task.sleep(0.05);
h.cancel();
await Task.sleep(0.1);
export default await Tool.call("record", {value: "main done"});
