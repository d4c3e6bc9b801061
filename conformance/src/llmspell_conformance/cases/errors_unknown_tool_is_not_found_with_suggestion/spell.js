let caught;
try { await Tool.call("recrod", {value: 1}); } catch (err) { caught = err; }
export default {code: caught.code, message: caught.message, kind: caught.details.kind, name: caught.details.name};
