const h = Task.spawn(async (a, b, c, d, ...rest) => {
  const got = await Tool.call("record", {value: a});
  return {count: 4 + rest.length, sum: got + b.length, text: b, list: c, obj: d};
}, 40, "two", [3, 4], {k: "v"});
export default await h;
