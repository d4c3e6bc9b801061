let err, err2;
try { await Tool.call("fail", {code: "quota_exceeded", message: "no more quota"}); } catch (e) { err = e; }
try { await Tool.call("fail", {}); } catch (e) { err2 = e; }
export default [err.code, err.message, err2.code, err2.message];
