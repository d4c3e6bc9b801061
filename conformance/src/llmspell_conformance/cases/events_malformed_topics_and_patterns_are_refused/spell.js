const codes = [];
for (const topic of ["bad topic", "a..b", "a.*", ""]) {
  try { await Event.emit(topic, {}); codes.push("accepted"); } catch (err) { codes.push(err.code); }
}
for (const pattern of ["a**", "a.b c", "a..b"]) {
  try { await Event.on(pattern, () => {}); codes.push("accepted"); } catch (err) { codes.push(err.code); }
}
try { await Event.wait("x.**.y**", 1); codes.push("accepted"); } catch (err) { codes.push(err.code); }
export default codes;
