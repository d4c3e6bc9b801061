// llmspell JavaScript prelude: the spell API globals and the JS half of the driver.
//
// JS never calls Python. A host operation pushes a request (one JSON text) into the outbox and
// returns a Promise; after every slice the Python driver takes the outbox as one JSON string,
// runs the operations as trio tasks and settles the promises by request id. Script functions
// handed to the host are kept in a table and invoked by id as new script tasks. The driver is
// this script's completion value (a lookup function only Python receives); the spell's global
// `__llmspell` is a frozen stand-in whose driver functions refuse to run.
//
// Python evaluates this file with many blank lines in front of it, so every stack frame of the
// prelude has a line number >= OFFSET and the frames of the spell (lines < OFFSET) can be told
// apart when an error names "file:line".
(function () {
  "use strict";
  const G = globalThis;
  // Sandbox: nothing beyond ECMAScript builtins (these are web extras of quickjs-ng).
  for (const name of ["performance", "DOMException", "atob", "btoa", "queueMicrotask"]) {
    delete G[name];
  }
  // Error.prepareStackTrace would hand the spell the stack frames' functions (CallSite
  // getFunction), including this prelude's internals (`request`, the driver's `invoke`): pin it
  // to undefined for good.
  Object.defineProperty(Error, "prepareStackTrace", {
    value: undefined, writable: false, enumerable: false, configurable: false,
  });

  const OFFSET = __OFFSET__;
  const FN = "__llmspell_fn";
  const TASK = "__llmspell_task";
  const MAX_INT = 2 ** 53;
  // Keep the builtins the driver relies on, in case a spell replaces them.
  const NativePromise = Promise;
  const promiseThen = Promise.prototype.then;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const freeze = Object.freeze;
  const defineProperty = Object.defineProperty;
  const isArray = Array.isArray;
  const globalEval = eval; // called indirectly: REPL input runs as a script in global scope
  const joinOutbox = Function.prototype.call.bind(Array.prototype.join);
  const captureStackTrace = Error.captureStackTrace;

  const getPrototypeOf = Object.getPrototypeOf;
  const RANGE_ERROR = RangeError.prototype;
  const INTERNAL_ERROR = typeof InternalError === "function" ? InternalError.prototype : null;

  const outbox = [];
  // a limit (stack overflow, out of memory) was reached: the spell is over, nothing of it may
  // reach the host any more (the driver ends the run when it takes the outbox)
  let stopped = false;
  // request id -> [resolve, reject, task id, call-site stack]. This table and `killed` are
  // objects without a prototype, not a Map and a Set: the driver settles a promise with a
  // plain value without a time limit, so nothing it does there may reach code a spell can
  // replace (such as Map.prototype.get).
  const pending = Object.create(null);
  const fns = new Map(); // callback id -> function
  const fnIds = new Map(); // function -> callback id
  // references to a callback id sent to the host; the entry is dropped when the host has
  // released them all (its Callback objects were garbage-collected)
  const fnRefs = new Map();
  const killed = Object.create(null); // cancelled script task id -> true: never resumed
  let current = 0; // the script task whose code is running (0 = the spell's module)
  let nextId = 0;
  let nextFn = 0;

  // --- errors ---------------------------------------------------------------------------------

  class LlmspellError extends Error {
    constructor(code, message, details) {
      super(message);
      this.code = code;
      this.details = details || {};
    }
  }
  defineProperty(LlmspellError.prototype, "name", { value: "LlmspellError", writable: true });

  function hostError(info, site) {
    const err = new LlmspellError(String(info.code), String(info.message), info.details);
    if (site !== undefined) {
      err.stack = site; // where the spell asked for the operation
    }
    return err;
  }

  function invalid(code, message) {
    return new LlmspellError(code, message, {});
  }

  function errorInfo(e) {
    if (e !== null && typeof e === "object" && (e instanceof Error || typeof e.message === "string")) {
      const info = {
        name: String(e.name === undefined ? "Error" : e.name),
        message: String(e.message === undefined ? "" : e.message),
        stack: typeof e.stack === "string" ? e.stack : "",
      };
      if (typeof e.code === "string") {
        info.code = e.code;
      }
      if (e.details !== null && typeof e.details === "object") {
        try {
          info.details = parse(encode(e.details));
        } catch (_) {
          info.details = {};
        }
      }
      return info;
    }
    let text;
    try {
      text = typeof e === "string" ? e : stringify(e) ?? String(e);
    } catch (_) {
      text = String(e);
    }
    return { name: "Error", message: text, stack: new Error().stack, thrown: String(e) };
  }

  // --- limits -------------------------------------------------------------------------------

  // The kind of limit an error caught by the spell stands for (or undefined).
  function limitKind(e) {
    if (e === null || typeof e !== "object") {
      return undefined;
    }
    const proto = getPrototypeOf(e);
    if (proto === RANGE_ERROR && e.message === "Maximum call stack size exceeded") {
      return "max_depth";
    }
    if (proto === INTERNAL_ERROR && INTERNAL_ERROR !== null && e.message === "out of memory") {
      return "memory_bytes";
    }
    return undefined;
  }

  // Called first in every catch clause of the spell (and before its promise rejection
  // handlers): a limit cannot be caught. The spell stops (no request reaches the host any
  // more), the driver is told, and the error is thrown on.
  function caught(e) {
    const kind = limitKind(e);
    if (kind !== undefined) {
      if (!stopped) {
        stopped = true;
        let stack = "";
        try {
          stack = typeof e.stack === "string" ? e.stack : "";
        } catch (_) {
          // out of memory even for that
        }
        outbox.push(`["limit",${stringify(kind)},${stringify(stack)}]`);
      }
      throw e;
    }
  }

  function guard(handler) {
    return typeof handler === "function" ? (e) => {
      caught(e);
      return handler(e);
    } : handler;
  }

  // --- values ---------------------------------------------------------------------------------

  // Objects that JSON.stringify would turn into something else without a word (a Map or a Set
  // into {}, a Uint8Array into {"0": ..}, a Promise into {}): refused instead. The checks are
  // brand checks -- the captured getters and methods throw for an object of another kind -- made
  // only for an object that is neither an array nor a plain object.
  const OBJECT_PROTO = Object.prototype;
  const isView = ArrayBuffer.isView;
  const uncurry = (fn) => Function.prototype.call.bind(fn);
  const getter = (proto, name) => uncurry(Object.getOwnPropertyDescriptor(proto, name).get);
  const BRANDS = [
    ["a Map", getter(Map.prototype, "size")],
    ["a Set", getter(Set.prototype, "size")],
    ["a WeakMap", uncurry(WeakMap.prototype.has)],
    ["a WeakSet", uncurry(WeakSet.prototype.has)],
    ["an ArrayBuffer", getter(ArrayBuffer.prototype, "byteLength")],
    ["a SharedArrayBuffer", getter(SharedArrayBuffer.prototype, "byteLength")],
  ];

  function notJson(value) {
    if (isView(value)) {
      return invalid("invalid_value", "binary data (a typed array or DataView) cannot cross " +
        "to the host: encode it as base64 text");
    }
    if (getPrototypeOf(value) === NativePromise.prototype) {
      return invalid("invalid_value", "a Promise cannot cross to the host: await it first");
    }
    // indexed, not for-of: no iterator a spell could replace runs here
    for (let i = 0; i < BRANDS.length; i++) {
      try {
        BRANDS[i][1](value, value);
      } catch (_) {
        continue; // not of this kind
      }
      return invalid("invalid_value", `${BRANDS[i][0]} cannot cross to the host: only JSON data can`);
    }
    return undefined;
  }

  function replacer(key, value) {
    if (value === undefined) {
      return null;
    }
    if (typeof value === "object" && value !== null && !isArray(value) &&
        getPrototypeOf(value) !== OBJECT_PROTO) {
      const refused = notJson(value);
      if (refused !== undefined) {
        throw refused;
      }
    }
    if (typeof value === "symbol") {
      throw invalid("invalid_value", `${String(value)} cannot cross to the host: only JSON data can`);
    }
    if (typeof value === "function") {
      let id = fnIds.get(value);
      if (id === undefined) {
        id = ++nextFn;
        fnIds.set(value, id);
        fns.set(id, value);
      }
      fnRefs.set(id, (fnRefs.get(id) || 0) + 1);
      return { [FN]: id, name: typeof value.name === "string" ? value.name : "" };
    }
    if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) > MAX_INT) {
      throw invalid("invalid_value",
        `integer ${value} is beyond +-2^53 and cannot cross to the host exactly`);
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
      // JSON.stringify would turn it into null: refuse it like the other engines do
      throw invalid("invalid_value", `${value} is not JSON data and cannot cross to the host`);
    }
    if (typeof value === "bigint") {
      throw invalid("invalid_value", `BigInt ${value} cannot cross to the host`);
    }
    return value;
  }

  function encode(value, plain) {
    try {
      // a value JSON cannot express at all (a toJSON returning undefined) is null
      return (plain ? stringify(value) : stringify(value, replacer)) ?? "null";
    } catch (e) {
      if (e instanceof LlmspellError) {
        throw e;
      }
      throw invalid("invalid_value", `value cannot cross to the host: ${e && e.message}`);
    }
  }

  // The arguments of a request as JSON. The common case -- nothing but strings, booleans, null,
  // undefined and numbers within +-2^53 -- needs no replacer (one JS call per value): for those
  // JSON.stringify alone gives the same text (undefined in an array is null either way). An
  // array toJSON (a spell may define one) or any other value takes the general path.
  function encodeArgs(args) {
    for (let i = 0; i < args.length; i++) {
      const v = args[i];
      const t = typeof v;
      if (t !== "string" && t !== "boolean" && v !== null && v !== undefined &&
          !(t === "number" && v >= -MAX_INT && v <= MAX_INT)) {
        return encode(args, false);
      }
    }
    return encode(args, args.toJSON === undefined);
  }

  const REF = Symbol("llmspell.ref");

  class Handle {
    constructor(ref) {
      defineProperty(this, REF, { value: ref });
      for (const key of Object.keys(ref)) {
        if (key !== "__handle") {
          defineProperty(this, key, { value: ref[key], enumerable: true });
        }
      }
    }
    toJSON() {
      return this[REF];
    }
  }

  class AgentHandle extends Handle {
    run(input, opts) {
      return request("agent.run", [this, input, opts]);
    }
    stream(input, onChunk) {
      return request("agent.stream", [this, input, onChunk]);
    }
    asTool(spec) {
      return request("agent.as_tool", [this, spec]);
    }
  }

  class WorkflowHandle extends Handle {
    run(input) {
      return request("workflow.run", [this, input]);
    }
    asTool(spec) {
      return request("agent.as_tool", [this, spec]);
    }
  }

  class SubscriptionHandle extends Handle {
    off() {
      return request("event.off", [this]);
    }
  }

  class HookHandle extends Handle {
    off() {
      return request("hook.off", [this]);
    }
  }

  const HANDLES = Object.assign(Object.create(null), {
    agent: AgentHandle, workflow: WorkflowHandle, subscription: SubscriptionHandle,
    hook: HookHandle,
  });

  function reviver(key, value) {
    if (value !== null && typeof value === "object" && !isArray(value) &&
        typeof value.__handle === "number" && typeof value.kind === "string") {
      const Kind = HANDLES[value.kind] || Handle;
      return new Kind(value);
    }
    return value;
  }

  function decode(text) {
    // the reviver (a JS call per value) is only needed when a handle may be inside
    return text.indexOf('"__handle"') < 0 ? parse(text) : parse(text, reviver);
  }

  // --- requests -------------------------------------------------------------------------------

  // The resolving functions of the promise just made (one executor for all of them).
  let resolvedBy;
  let rejectedBy;
  function captureResolvers(resolve, reject) {
    resolvedBy = resolve;
    rejectedBy = reject;
  }
  const SITE = {}; // captureStackTrace writes the call site's stack here

  // A host operation: a promise settled by the driver. `caller` is the API function that was
  // called (the spell's frames start below it): the call site kept for a host error's stack
  // (where the spell asked for the operation) has the spell's frames only, which is all that
  // locating the error needs, and costs a fraction of a full `new Error().stack`.
  function request(op, args, caller) {
    if (killed[current] === true || stopped) {
      return new NativePromise(() => {});
    }
    let body;
    try {
      body = encodeArgs(args);
    } catch (e) {
      return NativePromise.reject(e);
    }
    const rid = ++nextId;
    // op is one of this prelude's literal names (no quoting needed)
    outbox.push(`["call",${rid},${current},"${op}",${body}]`);
    captureStackTrace(SITE, caller === undefined ? request : caller);
    const promise = new NativePromise(captureResolvers);
    pending[rid] = [resolvedBy, rejectedBy, current, SITE.stack];
    return promise;
  }

  // A host operation nobody waits for (print, log).
  function send(op, args) {
    if (killed[current] === true || stopped) {
      return;
    }
    const body = encodeArgs(args);
    outbox.push(`["call",${++nextId},${current},"${op}",${body}]`);
  }

  // A spawned task: a Promise of its result that asks the host for the result only when
  // somebody waits on it (so an unobserved failure still fails the spell), with cancel().
  const TSTATE = Symbol("llmspell.task");

  class TaskPromise extends NativePromise {
    static get [Symbol.species]() {
      return NativePromise;
    }
    then(onFulfilled, onRejected) {
      const st = this[TSTATE];
      if (st !== undefined && !st.waiting) {
        st.waiting = true;
        promiseThen.call(request("task.wait", [this]), st.resolve, st.reject);
      }
      // the captured native then: a spell replacing Promise.prototype.then only hurts itself
      return promiseThen.call(this, onFulfilled, guard(onRejected));
    }
    cancel() {
      const st = this[TSTATE];
      if (!st.cancelled && killed[current] !== true && !stopped) {
        st.cancelled = true;
        outbox.push(`["cancel",${st.rid}]`);
      }
    }
    toJSON() {
      return { [TASK]: this[TSTATE].rid };
    }
  }

  function spawn(fn, args) {
    if (typeof fn !== "function") {
      throw invalid("invalid_args", `Task.spawn: expected a function, got ${typeof fn}`);
    }
    let body;
    body = encode(args);
    const fid = replacer("", fn)[FN];
    const rid = ++nextId;
    let resolve;
    let reject;
    const p = new TaskPromise((a, b) => {
      resolve = a;
      reject = b;
    });
    defineProperty(p, TSTATE, {
      value: { rid, resolve, reject, waiting: false, cancelled: false },
    });
    if (killed[current] !== true && !stopped) {
      outbox.push(`["spawn",${rid},${current},${fid},${stringify(fn.name || "task")},${body}]`);
    }
    return p;
  }

  function taskItem(item) {
    if (typeof item === "function" || item instanceof TaskPromise) {
      return item;
    }
    return () => item; // any promise (or value): a task that waits for it
  }

  // --- driver entry points (called by Python) --------------------------------------------------

  function done(tid, ok, value) {
    if (killed[tid] === true || stopped) {
      return;
    }
    let body;
    if (ok) {
      try {
        body = encode(value);
      } catch (e) {
        ok = false;
        value = e;
      }
    }
    if (!ok) {
      body = stringify(errorInfo(value));
    }
    outbox.push(`["done",${tid},${ok},${body}]`);
  }

  function watch(tid, promise) {
    promiseThen.call(NativePromise.resolve(promise), (v) => done(tid, true, v),
      (e) => done(tid, false, e));
  }

  const driver = {
    take() {
      if (outbox.length === 0) {
        return "";
      }
      // join() builds a flat string (the binding cannot return a rope to Python); the captured
      // one, so that no code of the spell runs here (the driver takes the outbox without a
      // time limit)
      const text = joinOutbox(outbox, ",");
      outbox.length = 0;
      return text;
    },
    // `plain`: the payload is a JSON number, string, boolean or null. The driver calls this
    // without a time limit then, so that case reaches no code the spell could have replaced:
    // the captured JSON.parse without reviver, and resolving with a primitive (no `then`).
    settle(rid, ok, payload, plain) {
      const entry = pending[rid];
      if (entry === undefined) {
        return;
      }
      delete pending[rid];
      current = entry[2];
      if (killed[current] === true) {
        return;
      }
      if (plain) {
        entry[0](parse(payload));
        return;
      }
      if (!ok) {
        entry[1](hostError(parse(payload), entry[3]));
        return;
      }
      let value;
      try {
        value = decode(payload);
      } catch (e) {
        entry[1](e);
        return;
      }
      entry[0](value);
    },
    invoke(fid, tid, payload) {
      current = tid;
      const fn = fns.get(fid);
      let result;
      try {
        if (fn === undefined) {
          throw invalid("engine_error", `script function ${fid} was released`);
        }
        result = fn(...decode(payload));
      } catch (e) {
        result = NativePromise.reject(e);
      }
      watch(tid, result);
    },
    main(promise) {
      current = 0;
      // no promise is returned from a handler (that would call its `then`, which a spell may
      // have replaced): the driver's own chain only uses the captured native then
      const failed = (e) => done(0, false, e);
      promiseThen.call(promise, () => {
        promiseThen.call(import("<input>"), (ns) => watch(0, ns.default), failed);
      }, failed);
    },
    evaluate(source, asyncSource, tid) {
      current = tid;
      let result;
      try {
        try {
          result = globalEval(source);
        } catch (e) {
          if (!(e instanceof SyntaxError) || !/\bawait\b/.test(source)) {
            throw e;
          }
          // top-level await: run the input in an async function (an expression keeps its
          // value; `let x = await ...` became a global assignment)
          try {
            result = globalEval(`(async () => (${source}\n))()`);
          } catch (_) {
            result = globalEval(`(async () => {${asyncSource}\n})()`);
          }
        }
      } catch (e) {
        result = NativePromise.reject(e);
      }
      watch(tid, result);
    },
    release(ids) {
      for (const id of parse(`[${ids}]`)) {
        const left = (fnRefs.get(id) || 0) - 1;
        if (left > 0) {
          fnRefs.set(id, left);
        } else {
          fnRefs.delete(id);
          fnIds.delete(fns.get(id));
          fns.delete(id);
        }
      }
    },
    kill(tid) {
      killed[tid] = true;
      for (const rid in pending) {
        if (pending[rid][2] === tid) {
          delete pending[rid];
        }
      }
    },
    stats() {
      let waiting = 0;
      for (const _ in pending) {
        waiting++;
      }
      let cancelled = 0;
      for (const _ in killed) {
        cancelled++;
      }
      return stringify({ callbacks: fns.size, pending: waiting, killed: cancelled });
    },
    init(argsPayload) {
      defineProperty(G, "args", { value: freeze(decode(argsPayload)), enumerable: false });
    },
  };
  // The spell sees only a frozen stand-in: its driver functions refuse to run, so a spell can
  // neither take the outbox nor forge a settlement, an invocation or a task's end. The driver
  // itself is this script's completion value, which only the Python side receives.
  const refuse = (name) => function () {
    throw new TypeError(`__llmspell.${name}: the driver belongs to the host; a spell cannot call it`);
  };
  const standIn = {};
  for (const name of Object.keys(driver)) {
    standIn[name] = name === "stats" ? driver.stats : refuse(name);
  }
  // the spell's catch clauses start with a call of this (see the engine's guard_catches)
  standIn.caught = caught;
  defineProperty(G, "__llmspell", { value: freeze(standIn) });

  // --- the spell API --------------------------------------------------------------------------

  const snake = (name) => String(name).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

  function snakeKeys(spec) {
    if (spec === null || typeof spec !== "object" || isArray(spec)) {
      return spec;
    }
    const out = {};
    for (const key of Object.keys(spec)) {
      out[snake(key)] = spec[key];
    }
    return out;
  }

  function format(value) {
    if (typeof value === "string") {
      return value;
    }
    if (value === undefined || typeof value === "function" || typeof value === "symbol") {
      return String(value);
    }
    if (value instanceof Error) {
      return String(value);
    }
    try {
      return stringify(value) ?? String(value);
    } catch (_) {
      return String(value);
    }
  }

  function print(...values) {
    send("print", [values.map(format).join(" ")]);
  }

  function logAt(level) {
    return (message, data) => {
      send("log", [level, format(message), data === undefined ? null : data]);
    };
  }

  const Log = freeze({
    debug: logAt("debug"), info: logAt("info"), warn: logAt("warn"), error: logAt("error"),
  });

  const consoleLog = (...values) => print(...values);
  const logJoined = (level) => (...values) => Log[level](values.map(format).join(" "));
  const console = freeze({
    log: consoleLog, info: logJoined("info"), debug: logJoined("debug"),
    warn: logJoined("warn"), error: logJoined("error"),
  });

  const Tool = freeze({
    call(name, args) {
      return request("tool.call", [name, args], Tool.call);
    },
    list(filter) {
      return request("tool.list", [filter], Tool.list);
    },
    info(name) {
      return request("tool.info", [name], Tool.info);
    },
    define(spec) {
      if (spec === null || typeof spec !== "object" || typeof spec.run !== "function") {
        return NativePromise.reject(invalid("invalid_args",
          "Tool.define needs {name, description, parameters, run: function}"));
      }
      const { run, ...rest } = spec;
      return request("tool.define", [rest, run], Tool.define);
    },
  });

  const Agent = freeze({
    create(spec) {
      const out = snakeKeys(spec);
      if (out !== null && typeof out === "object" && isArray(out.tools)) {
        // a tool spec (from Tool.define or Tool.info) stands for the tool of that name
        out.tools = out.tools.map((t) => t !== null && typeof t === "object" &&
          !(t instanceof Handle) && typeof t.name === "string" ? t.name : t);
      }
      return request("agent.create", [out], Agent.create);
    },
    get(name) {
      return request("agent.get", [name], Agent.get);
    },
    list() {
      return request("agent.list", [], Agent.list);
    },
  });

  const Workflow = freeze({
    sequential(spec) {
      return request("workflow.sequential", [snakeKeys(spec)], Workflow.sequential);
    },
    parallel(spec) {
      return request("workflow.parallel", [snakeKeys(spec)], Workflow.parallel);
    },
    conditional(spec) {
      return request("workflow.conditional", [snakeKeys(spec)], Workflow.conditional);
    },
    loop(spec) {
      return request("workflow.loop", [snakeKeys(spec)], Workflow.loop);
    },
  });

  const State = freeze({
    get(key, scope) {
      return request("state.get", [key, scope], State.get);
    },
    set(key, value, scope) {
      return request("state.set", [key, value, scope], State.set);
    },
    delete(key, scope) {
      return request("state.delete", [key, scope], State.delete);
    },
    keys(scope) {
      return request("state.keys", [scope], State.keys);
    },
  });

  // options may be camelCase (mediaType, allVersions, runId, currentRun)
  const Artifact = freeze({
    save(name, content, opts) {
      return request("artifact.save", [name, content, snakeKeys(opts)], Artifact.save);
    },
    load(name, opts) {
      return request("artifact.load", [name, snakeKeys(opts)], Artifact.load);
    },
    list(opts) {
      return request("artifact.list", [snakeKeys(opts)], Artifact.list);
    },
  });

  const Event = freeze({
    emit(topic, data) {
      return request("event.emit", [topic, data], Event.emit);
    },
    on(pattern, fn) {
      return request("event.on", [pattern, fn], Event.on);
    },
    off(handle) {
      return request("event.off", [handle], Event.off);
    },
    wait(pattern, timeout) {
      return request("event.wait", [pattern, timeout], Event.wait);
    },
  });

  const Hook = freeze({
    on(point, fn, opts) {
      return request("hook.on", [snake(point), fn, opts], Hook.on);
    },
    off(handle) {
      return request("hook.off", [handle], Hook.off);
    },
  });

  const Task = freeze({
    spawn: (fn, ...args) => spawn(fn, args),
    sleep(seconds) {
      return request("task.sleep", [seconds], Task.sleep);
    },
    all(items) {
      return request("task.all", [isArray(items) ? items.map(taskItem) : items], Task.all);
    },
    race(items) {
      return request("task.race", [isArray(items) ? items.map(taskItem) : items], Task.race);
    },
    timeout(seconds, fn) {
      return request("task.timeout", [seconds, fn], Task.timeout);
    },
    cancel(handle) {
      if (!(handle instanceof TaskPromise)) {
        throw invalid("invalid_args", "Task.cancel: expected the result of Task.spawn");
      }
      handle.cancel();
    },
  });

  // A rejection handler of the spell does not catch a limit either.
  defineProperty(Promise.prototype, "then", {
    value: function then(onFulfilled, onRejected) {
      return promiseThen.call(this, onFulfilled, guard(onRejected));
    },
    writable: true, configurable: true,
  });

  const globals = {
    Tool, Agent, Workflow, State, Artifact, Event, Hook, Task, Log, print, console,
  };
  for (const name of Object.keys(globals)) {
    defineProperty(G, name, { value: globals[name], writable: true, configurable: true });
  }
  return (name) => driver[name];
})();
