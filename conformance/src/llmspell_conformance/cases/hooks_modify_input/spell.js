await Hook.on("beforeToolCall", (ctx) =>
  ctx.input.value === "original" ? {action: "modify", input: {value: "changed"}} : undefined);
export default await Tool.call("record", {value: "original"});
