let err; try { throw Object.assign(new Error("caught one"), {code: "timeout"}); } catch (e) { err = e; }
await Tool.call("record", {value: [err.code, err.message]});
throw Object.assign(new Error("the input is bad"), {code: "invalid_value"});
