const agent = await Agent.create({name: "talker", model: "scripted/x"});
const codes = [];
try {
  await agent.stream("go", (piece) => {
    if (piece === "two ") throw Object.assign(new Error("no such piece"), {code: "not_found"});
  });
} catch (e) { codes.push(e.code); }
try {
  await agent.stream("go", (piece) => Tool.call("fail", {code: "timeout"}));
} catch (e) { codes.push(e.code); }
export default codes;
