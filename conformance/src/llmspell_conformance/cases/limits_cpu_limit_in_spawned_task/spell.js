const task = Task.spawn(async () => {
  let n = 0;
  while (true) n += 1;
});
try { await task; } catch (err) { /* a limit is not catchable */ }
await Tool.call("record", {value: "main went on"});
