export default await Tool.call("wait", {seconds: 0.5, label: "long", value: "waited"});
