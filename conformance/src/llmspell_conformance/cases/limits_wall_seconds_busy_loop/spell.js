await Tool.call("record", {value: "before"});
let n = 0;
while (true) n += 1;
