let ran = 0;
const h = Task.spawn(async () => {
  ran += 1;
  await Tool.call("record", {value: "task started"});
});
h.cancel();
await Tool.call("record", {value: "main"});
let code;
try { await h; } catch (err) { code = err.code; }
export default [code, ran];
