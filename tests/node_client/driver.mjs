// Drive a running server with @jupyterlab/services, the client library JupyterLab uses.
//
// Usage: node driver.mjs BASE_URL TOKEN
//
// Prints one JSON object per line: {"step": name, "ok": true|false, ...}. Exits 0 when
// every step passed, 1 otherwise. Each step has its own time limit, and the whole run
// stops after RUN_LIMIT_MS, so a hung server cannot hang the test.

import coreutils from "@jupyterlab/coreutils";
import services from "@jupyterlab/services";
import WebSocket from "ws";

const {
  ContentsManager,
  KernelManager,
  KernelSpecManager,
  NbConvertManager,
  ServerConnection,
  SessionManager,
  TerminalManager,
} = services;

const { PageConfig } = coreutils;
const [baseUrl, token] = process.argv.slice(2);
if (!baseUrl || !token) {
  console.error("usage: node driver.mjs BASE_URL TOKEN");
  process.exit(2);
}

const STEP_LIMIT_MS = 60_000;
const RUN_LIMIT_MS = 240_000;
setTimeout(() => {
  report("run", false, { error: `whole run exceeded ${RUN_LIMIT_MS} ms` });
  process.exit(1);
}, RUN_LIMIT_MS).unref();

// JupyterLab's page tells its client that the server has terminals; a Node client says it itself.
PageConfig.setOption("terminalsAvailable", "true");

const serverSettings = ServerConnection.makeSettings({
  baseUrl,
  wsUrl: baseUrl.replace(/^http/, "ws"),
  token,
  appendToken: true,
  WebSocket,
});

let failures = 0;

function report(step, ok, details = {}) {
  console.log(JSON.stringify({ step, ok, ...details }));
}

function withLimit(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

async function step(name, body) {
  try {
    const details = await withLimit(body(), STEP_LIMIT_MS, name);
    report(name, true, details ?? {});
  } catch (error) {
    failures += 1;
    report(name, false, { error: String(error?.stack ?? error) });
  }
}

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

// Run code on a kernel connection; collect stdout and the reply.
async function execute(kernel, code, { onStdin } = {}) {
  const future = kernel.requestExecute({ code, stop_on_error: true });
  let stdout = "";
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === "stream" && msg.content.name === "stdout") {
      stdout += msg.content.text;
    }
  };
  if (onStdin) {
    future.onStdin = (msg) => onStdin(msg);
  }
  const reply = await future.done;
  return { stdout, reply: reply.content };
}

function waitForStatus(kernel, wanted, ms, what) {
  return withLimit(
    new Promise((resolve) => {
      if (wanted.includes(kernel.status)) {
        resolve(kernel.status);
        return;
      }
      const listener = (_, status) => {
        if (wanted.includes(status)) {
          kernel.statusChanged.disconnect(listener);
          resolve(status);
        }
      };
      kernel.statusChanged.connect(listener);
    }),
    ms,
    what,
  );
}

const kernelManager = new KernelManager({ serverSettings });
const kernelSpecs = new KernelSpecManager({ serverSettings });
const sessionManager = new SessionManager({ kernelManager, serverSettings });
const contents = new ContentsManager({ serverSettings });
const terminals = new TerminalManager({ serverSettings });
const nbconvert = new NbConvertManager({ serverSettings });

await step("kernelspecs", async () => {
  await kernelSpecs.ready;
  await kernelSpecs.refreshSpecs();
  const specs = kernelSpecs.specs;
  check(specs && specs.kernelspecs.python3, `python3 not listed: ${JSON.stringify(specs)}`);
  return { default: specs.default };
});

let kernel;
await step("kernel execute", async () => {
  kernel = await kernelManager.startNew({ name: "python3" });
  const info = await kernel.info;
  check(info.protocol_version.startsWith("5."), `protocol ${info.protocol_version}`);
  const { stdout, reply } = await execute(kernel, "print(6 * 7)");
  check(reply.status === "ok" && stdout === "42\n", `reply ${reply.status}, stdout ${JSON.stringify(stdout)}`);
  // The wire protocol the server picked from those the client offered (no public accessor).
  return { subprotocol: kernel._selectedProtocol ?? "", stdout };
});

await step("kernel stdin", async () => {
  const { stdout, reply } = await execute(kernel, "print(input('name? ').upper())", {
    onStdin: (msg) => kernel.sendInputReply({ status: "ok", value: "ada" }, msg.header),
  });
  check(reply.status === "ok" && stdout === "ADA\n", `stdout ${JSON.stringify(stdout)}`);
});

await step("kernel interrupt", async () => {
  const future = kernel.requestExecute({ code: "import time\nfor _ in range(600): time.sleep(0.1)" });
  await waitForStatus(kernel, ["busy"], 20_000, "busy before interrupt");
  // Give the loop a moment to be inside time.sleep, then interrupt.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await kernel.interrupt();
  const reply = await withLimit(future.done.catch((error) => error), 20_000, "reply after interrupt");
  const content = reply.content ?? {};
  check(content.status === "error" && content.ename === "KeyboardInterrupt", `reply ${JSON.stringify(content)}`);
  const after = await execute(kernel, "print('alive')");
  check(after.stdout === "alive\n", "kernel did not answer after the interrupt");
});

await step("kernel restart", async () => {
  await execute(kernel, "marker = 1");
  await kernel.restart();
  await waitForStatus(kernel, ["idle"], 30_000, "idle after restart");
  const { stdout } = await execute(kernel, "print('marker' in globals())");
  check(stdout === "False\n", `state survived the restart: ${JSON.stringify(stdout)}`);
});

await step("kernel list and shutdown", async () => {
  await kernelManager.refreshRunning();
  const ids = [...kernelManager.running()].map((model) => model.id);
  check(ids.includes(kernel.id), `kernel ${kernel.id} not in ${ids}`);
  await kernel.shutdown();
  await kernelManager.refreshRunning();
  const left = [...kernelManager.running()].map((model) => model.id);
  check(!left.includes(kernel.id), "kernel still listed after shutdown");
});

await step("contents", async () => {
  const folder = await contents.newUntitled({ path: "", type: "directory" });
  const model = await contents.newUntitled({ path: folder.path, type: "notebook" });
  check(model.type === "notebook", `type ${model.type}`);
  const notebook = {
    cells: [{ cell_type: "code", source: "print(1)", metadata: {}, outputs: [], execution_count: null }],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  };
  await contents.save(model.path, { type: "notebook", format: "json", content: notebook });
  const checkpoint = await contents.createCheckpoint(model.path);
  await contents.save(model.path, { type: "notebook", format: "json", content: { ...notebook, cells: [] } });
  const checkpoints = await contents.listCheckpoints(model.path);
  check(checkpoints.some((c) => c.id === checkpoint.id), "checkpoint not listed");
  await contents.restoreCheckpoint(model.path, checkpoint.id);
  const restored = await contents.get(model.path, { content: true });
  check(restored.content.cells.length === 1, `restored ${restored.content.cells.length} cells`);
  const renamed = await contents.rename(model.path, `${folder.path}/renamed.ipynb`);
  const copy = await contents.copy(renamed.path, folder.path);
  const listing = await contents.get(folder.path, { content: true });
  const names = listing.content.map((entry) => entry.name).sort();
  check(names.includes("renamed.ipynb") && names.includes(copy.name), `listing ${names}`);
  await contents.save(`${folder.path}/notes.txt`, { type: "file", format: "text", content: "héllo\n" });
  const text = await contents.get(`${folder.path}/notes.txt`, { content: true });
  check(text.content === "héllo\n", `text ${JSON.stringify(text.content)}`);
  await contents.delete(`${folder.path}/notes.txt`);
  return { folder: folder.path, files: names };
});

await step("contents errors", async () => {
  let status = 0;
  try {
    await contents.get("no/such/file.txt");
  } catch (error) {
    status = error.response?.status ?? -1;
  }
  check(status === 404, `missing file gave ${status}`);
});

await step("session", async () => {
  await contents.save("work", { type: "directory" });
  const session = await sessionManager.startNew({
    path: "work/analysis.ipynb",
    name: "analysis.ipynb",
    type: "notebook",
    kernel: { name: "python3" },
  });
  const { stdout } = await execute(session.kernel, "import os; print(os.path.basename(os.getcwd()))");
  check(stdout === "work\n", `kernel cwd ${JSON.stringify(stdout)}`);
  await session.setPath("work/renamed.ipynb");
  await sessionManager.refreshRunning();
  const models = [...sessionManager.running()];
  check(models.some((m) => m.id === session.id && m.path === "work/renamed.ipynb"), JSON.stringify(models));
  const found = await sessionManager.findByPath("work/renamed.ipynb");
  check(found && found.id === session.id, "findByPath did not find the session");
  await session.shutdown();
  await sessionManager.refreshRunning();
  check(![...sessionManager.running()].some((m) => m.id === session.id), "session still listed");
});

await step("terminal", async () => {
  check(terminals.isAvailable(), "terminals reported unavailable");
  const terminal = await terminals.startNew();
  let seen = "";
  let prompted;
  const prompt = new Promise((resolve) => {
    prompted = resolve;
  });
  const echoed = new Promise((resolve) => {
    terminal.messageReceived.connect((_, msg) => {
      if (msg.type === "stdout") {
        prompted();
        seen += msg.content[0];
        if (seen.includes("node-client-6")) {
          resolve();
        }
      }
    });
  });
  await withLimit(
    new Promise((resolve) => {
      if (terminal.connectionStatus === "connected") {
        resolve();
      } else {
        terminal.connectionStatusChanged.connect((_, status) => status === "connected" && resolve());
      }
    }),
    20_000,
    "terminal connection",
  );
  await withLimit(prompt, 20_000, "terminal prompt"); // type once the shell shows its prompt, as a person would
  terminal.send({ type: "stdin", content: ["echo node-client-$((2 * 3))\r"] });
  await withLimit(echoed, 20_000, "terminal echo");
  const name = terminal.name;
  await terminal.shutdown();
  await terminals.refreshRunning();
  check(![...terminals.running()].some((m) => m.name === name), "terminal still listed");
  return { name };
});

await step("nbconvert formats", async () => {
  const formats = await nbconvert.getExportFormats(false);
  check("html" in formats && "script" in formats, `formats ${Object.keys(formats)}`);
  return { count: Object.keys(formats).length };
});

for (const manager of [sessionManager, kernelManager, kernelSpecs, contents, terminals]) {
  manager.dispose();
}
report("done", failures === 0, { failures });
process.exit(failures === 0 ? 0 : 1);
