async function* producer() {
  await Tool.call("record", {value: "gen start"});
  yield "x1";
  await Tool.call("wait", {seconds: 0.02, label: "gen mid"});
  yield "x2";
  await Tool.call("record", {value: "gen end"});
  return "done";
}
const gen = producer();
const got = [];
for (let i = 0; i < 3; i++) {
  const {value} = await gen.next();
  await Tool.call("record", {value: "got " + value});
  got.push(value);
}
export default got.join("+");
