await Tool.define({name: "greet", description: "Say hello.", run: (args) => "hello"});
const all = await Tool.list();
const names = (await Tool.list("script")).map((spec) => spec.name);
export default [all.some((s) => s.name === "greet"), all.some((s) => s.name === "record"), names];
