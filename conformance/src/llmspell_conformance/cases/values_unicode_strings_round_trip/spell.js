const texts = ["héllo", "日本語", "😀 grin", "𝄞 clef", "e\u0301", "tab\tnew\nline", "quote \" back \\", "\u{10FFFF}"];
const back = await Tool.call("record", {value: texts});
await State.set("texts", back, "spell");
const again = await State.get("texts", "spell");
const same = again.length === texts.length && texts.every((t, i) => again[i] === t);
export default {texts: again, same, emoji_units: [...again[2]].length};
