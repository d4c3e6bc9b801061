let got;
const h = Task.spawn(async () => { got = await Tool.call("record", {value: "from the task"}); });
for (let i = 0; i < 200; i++) {
  if (got !== undefined) break;
  await Task.sleep(0);
}
const seen = got !== undefined;
await h;
export default [seen, got];
