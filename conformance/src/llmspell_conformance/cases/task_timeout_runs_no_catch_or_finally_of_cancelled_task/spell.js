const ran = [];
let code;
try {
  await Task.timeout(0.05, async () => {
    try {
      try {
        await Task.sleep(5);
      } catch (e) {
        ran.push("catch");
      }
      ran.push("after the inner try");
    } finally {
      ran.push("finally");
    }
    ran.push("after the try");
  });
} catch (err) {
  code = err.code;
}
await Task.sleep(0.2);
export default [code, ran.length];
