let code;
try {
  await Task.race([]);
} catch (err) {
  code = err.code;
}
export default code;
