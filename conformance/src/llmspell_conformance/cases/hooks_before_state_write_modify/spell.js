let seen = null;
await Hook.on("beforeStateWrite", (ctx) => {
  seen = ctx.name;
  return {action: "modify", input: ctx.input * 2};
});
await State.set("color", 10, "spell");
export default [seen, await State.get("color", "spell")];
