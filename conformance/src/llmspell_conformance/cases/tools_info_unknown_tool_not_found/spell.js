const codes = [];
try { await Tool.info("no_such_tool"); } catch (e) { codes.push(e.code); }
try { await Tool.call("no_such_tool", {}); } catch (e) { codes.push(e.code); }
export default codes;
