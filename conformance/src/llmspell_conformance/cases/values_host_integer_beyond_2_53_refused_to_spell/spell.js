let err, err2;
try { await Tool.call("calculator", {expression: "2**53 + 1"}); } catch (e) { err = e; }
try { await Tool.call("calculator", {expression: "-(2**60)"}); } catch (e) { err2 = e; }
const fine = await Tool.call("calculator", {expression: "2**53 - 1"});
export default [err.code, err2.code, fine];
