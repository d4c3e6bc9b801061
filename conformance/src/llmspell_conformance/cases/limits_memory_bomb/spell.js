await Tool.call("record", {value: "before"});
const parts = [];
let i = 0;
while (true) {
  i += 1;
  parts.push("x".repeat(1000000) + i);
}
await Tool.call("record", {value: "after"});
