await Tool.call("record", {value: "before"});
try {
  let n = 0;
  while (true) n += 1;
} catch (err) {
  await Tool.call("record", {value: "caught"});
}
export default "survived";
