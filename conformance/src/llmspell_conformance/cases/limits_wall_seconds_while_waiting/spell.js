await Tool.call("wait", {seconds: 10, label: "long"});
await Tool.call("record", {value: "after"});
