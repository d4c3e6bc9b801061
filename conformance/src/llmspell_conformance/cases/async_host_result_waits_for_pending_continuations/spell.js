const log = [];
const h = Task.spawn(async () => {
  await Tool.call("record", {value: "host"});
  log.push("host");
});
// a chain of microtasks that never waits on the host
for (let i = 1; i <= 5; i++) {
  log.push("m" + i);
  await null;
}
await h;
export default log.join(",");
