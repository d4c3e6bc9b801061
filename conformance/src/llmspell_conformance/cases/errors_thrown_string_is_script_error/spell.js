await Tool.call("record", {value: 1});
throw "the spell gave up";
