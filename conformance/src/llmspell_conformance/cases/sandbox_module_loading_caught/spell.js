const results = [];
for (const name of ["os", "std", "./secret.js"]) {
  try {
    await import(name);
    results.push(true);
  } catch (err) {
    results.push(false);
  }
}
results.push(await Tool.call("echo", {text: "still here"}));
export default results;
