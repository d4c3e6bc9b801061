const refunds = await Agent.create({name: "refunds", model: "scripted/x"});
const billing = await Agent.create({name: "billing", model: "scripted/x",
                                    handoffs: [{agent: refunds, keepLast: 2}]});
const triage = await Agent.create({name: "triage", model: "scripted/x", handoffs: [billing]});
const pieces = [];
const r = await triage.stream("refund please", (p) => { pieces.push(p) });
export default [r.text, r.agents, pieces.join("|"), r.tool_calls.map((c) => c.name)];
