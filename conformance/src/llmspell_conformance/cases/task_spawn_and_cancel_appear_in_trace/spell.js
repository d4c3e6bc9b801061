const h = Task.spawn(() => Task.sleep(5));
h.cancel();
export default await Tool.call("record", {value: "done"});
