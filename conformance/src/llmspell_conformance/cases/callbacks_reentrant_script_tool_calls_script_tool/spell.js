await Tool.define({name: "inner", description: "Wrap in inner().", run: async (args) => {
  await Tool.call("record", {value: args.text});
  return `inner(${args.text})`;
}});
await Tool.define({name: "outer", description: "Call inner, wrap in outer().", run: async (args) => {
  await Tool.call("record", {value: "outer start"});
  const got = await Tool.call("inner", {text: args.text});
  await Tool.call("record", {value: "outer end"});
  return `outer(${got})`;
}});
export default await Tool.call("outer", {text: "hi"});
