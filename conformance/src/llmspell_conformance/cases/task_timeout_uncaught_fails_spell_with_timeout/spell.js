await Task.timeout(0.1, () => Tool.call("wait", {seconds: 5, label: "slow"}));
await Tool.call("record", {value: "after the timeout"});
