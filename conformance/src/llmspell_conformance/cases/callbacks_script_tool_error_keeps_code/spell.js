await Tool.define({name: "guarded", description: "Fails through a host call.", run: async (args) => {
  await Tool.call("fail", {code: "permission_denied", message: "denied inside"});
  await Tool.call("record", {value: "never"});
}});
await Tool.define({name: "broken", description: "Raises a script error.", run: (args) => {
  throw new Error("broken on purpose");
}});
const codes = [];
try { await Tool.call("guarded", {}); } catch (e) { codes.push(e.code, e.message.endsWith("denied inside")); }
try { await Tool.call("broken", {}); } catch (e) { codes.push(e.code); }
export default codes;
