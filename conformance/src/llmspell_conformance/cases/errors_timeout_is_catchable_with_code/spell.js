let ok = true, ok2 = true, err, err2;
try { await Task.timeout(0.05, () => Tool.call("wait", {seconds: 5, label: "slow"})); } catch (e) { ok = false; err = e; }
try { await Event.wait("never.happens", 0.05); } catch (e) { ok2 = false; err2 = e; }
await Tool.call("record", {value: [ok, err.code, ok2, err2.code, err2.details.pattern]});
export default "went on";
