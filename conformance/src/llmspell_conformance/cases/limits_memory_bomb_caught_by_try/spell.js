await Tool.call("record", {value: "before"});
try {
  const parts = [];
  let i = 0;
  while (true) {
    i += 1;
    parts.push("x".repeat(1000000) + i);
  }
} catch (err) {
  await Tool.call("record", {value: "caught"});
}
export default "survived";
