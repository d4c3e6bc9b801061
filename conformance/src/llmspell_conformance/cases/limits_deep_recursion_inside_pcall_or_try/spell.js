await Tool.call("record", {value: "before"});
const down = (n) => 1 + down(n + 1);
try {
  down(1);
} catch (err) {
  await Tool.call("record", {value: "caught"});
}
export default "survived";
