const log = [];
async function chain(name) {
  await Task.sleep(0.05);
  for (let i = 1; i <= 4; i++) {
    log.push(name + i);
    await null;
  }
}
await Task.all([() => chain("a"), () => chain("b")]);
const got = log.join(",");
export default [got === "a1,a2,a3,a4,b1,b2,b3,b4" || got === "b1,b2,b3,b4,a1,a2,a3,a4", log.length];
