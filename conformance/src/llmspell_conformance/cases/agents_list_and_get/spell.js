await Agent.create({name: "beta", model: "scripted/x"});
await Agent.create({name: "alpha", model: "scripted/x"});
const names = await Agent.list();
const b = await Agent.get("beta");
const text = (await b.run("go")).text;
let code;
try { await Agent.get("gamma"); } catch (e) { code = e.code; }
export default [names, b.name, text, code];
