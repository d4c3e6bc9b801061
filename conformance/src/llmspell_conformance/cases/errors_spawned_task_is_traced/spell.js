const task = Task.spawn(async () => {
  await Tool.call("fail", {message: "the task broke"});
});
let code; try { await task; } catch (err) { code = err.code; }
export default code;
