local texts = {"héllo", "日本語", "😀 grin", "𝄞 clef", "e\u{301}", "tab\tnew\nline", "quote \" back \\", "\u{10FFFF}"}
local back = Tool.call("record", {value = texts})
State.set("texts", back, "spell")
local again = State.get("texts", "spell")
local same = #again == #texts
for i = 1, #texts do same = same and again[i] == texts[i] end
return {texts = again, same = same, emoji_units = utf8.len(again[3])}
