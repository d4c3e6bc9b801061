const slow = Task.spawn(() => Tool.call("wait", {seconds: 5, label: "slow", value: "slow"}));
const quick = Task.spawn(async () => {
  await Task.sleep(0.05);
  return await Tool.call("wait", {seconds: 0.1, label: "quick", value: "quick"});
});
const winner = await Task.race([slow, quick]);
let code;
try {
  await slow;
} catch (err) {
  code = err.code;
}
await Tool.call("record", {value: "loser " + code});
export default [winner, code];
