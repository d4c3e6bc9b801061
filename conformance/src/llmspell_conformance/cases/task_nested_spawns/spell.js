const outer = Task.spawn(async () => {
  const middle = Task.spawn(async () => {
    Task.spawn(async () => {
      await Task.sleep(0.1);
      await Tool.call("record", {value: "orphan"});
    });
    const inner = Task.spawn((name) => Tool.call("record", {value: name}), "inner");
    const got = await inner;
    await Tool.call("record", {value: "middle"});
    return `middle(${got})`;
  });
  const got = await middle;
  await Tool.call("record", {value: "outer"});
  return `outer(${got})`;
});
const result = await outer;
await Tool.call("record", {value: "main end"});
export default result;
