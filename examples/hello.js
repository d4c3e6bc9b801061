// hello.js: ask the default model for a greeting and print it.
const agent = await Agent.create({
  name: "greeter",
  instructions: "You are a friendly assistant. Answer in one short sentence.",
});
const result = await agent.run("Say hello to a new llmspell user.");
print(result.text);
