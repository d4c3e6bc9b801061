-- hello.lua: ask the default model for a greeting and print it.
local agent = Agent.create{
  name = "greeter",
  instructions = "You are a friendly assistant. Answer in one short sentence.",
}
local result = agent:run("Say hello to a new llmspell user.")
print(result.text)
