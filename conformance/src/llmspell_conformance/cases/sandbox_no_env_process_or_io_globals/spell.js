export default [
  typeof process === "undefined",                       // environment variables (API keys)
  typeof std === "undefined" && typeof os === "undefined",  // processes and files
  typeof fetch === "undefined" && typeof XMLHttpRequest === "undefined",  // loading files/URLs
  typeof python === "undefined" && typeof setTimeout === "undefined",     // the host's objects, timers
  typeof require === "undefined" && typeof module === "undefined",        // module loading
  new Function("return typeof process === 'undefined' && typeof std === 'undefined'")(),
];
