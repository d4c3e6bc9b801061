function check(n) {
  if (n > 2) {
    throw new Error("n is too big: " + n);
  }
  return n;
}
check(1);
export default check(3);
