Task.spawn(async () => { await Task.sleep(0.05); await Tool.call("record", {value: "other task ran"}); });
let code;
try {
  await Task.timeout(0.2, async () => { for (;;) await State.get("k", "spell"); });
} catch (err) {
  code = err.code;
}
export default code;
