const original = {list: [1, 2], inner: {n: 1}};
await State.set("v", original, "spell");
original.list.push(3);
original.inner.n = 99;
const got = await State.get("v", "spell");
got.list[0] = "changed";
got.inner.extra = true;
const again = await State.get("v", "spell");
export default again;
