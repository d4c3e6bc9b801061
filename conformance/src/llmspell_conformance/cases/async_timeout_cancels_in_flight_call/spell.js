let code;
try {
  await Task.timeout(0.05, async () => {
    try {
      await Tool.call("wait", {seconds: 5, label: "slow"});
    } finally {
      await Tool.call("record", {value: "after the wait"});  // must never run
    }
  });
} catch (err) {
  code = err.code;
}
export default code;
