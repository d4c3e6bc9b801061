await Tool.call("record", {value: "before"});
const osModule = await import("os");
await Tool.call("record", {value: "loaded"});
export default osModule !== undefined;
