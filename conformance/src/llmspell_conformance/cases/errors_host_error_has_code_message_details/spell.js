let ok = true, caught;
try { await Tool.call("fail", {message: "broken on purpose"}); } catch (err) { ok = false; caught = err; }
await Tool.call("record", {value: "after the error"});
export default {ok, code: caught.code, message: caught.message, details: caught.details, text: typeof caught.message};
