await Tool.define({
  name: "shout",
  description: "Upper-case a text.",
  parameters: {type: "object", properties: {text: {type: "string"}}, required: ["text"]},
  run: (args) => args.text.toUpperCase(),
});
const info = await Tool.info("shout");
export default {name: info.name, description: info.description, category: info.category,
                parameters: info.parameters};
