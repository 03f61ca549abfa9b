// internal: test helper. Starts the sync node as a real `wrangler dev` process in its own
// process group, so a test can stop it politely or kill it (SIGKILL to the whole group).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const wrangler = join(
  dirname(createRequire(join(root, "package.json")).resolve("wrangler/package.json")),
  "bin/wrangler.js",
);

export interface RunningNode {
  url: string;
  port: number;
  wsUrl: string;
  /** Everything wrangler printed (for failure messages). */
  output(): string;
  /** Signals the whole process group and waits for wrangler to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

export interface StartOptions {
  persistTo: string;
  vars?: Record<string, string>;
  /** Listen here (to restart a node where its clients will reconnect). @default a free port */
  port?: number;
  /** The wrangler config (absolute path) of another entry. @default the repo's wrangler.toml */
  config?: string;
}

/**
 * Starts `wrangler dev` with the repo's wrangler.toml, persisting to `persistTo`. A port found
 * free can be taken by another process before wrangler binds it: then it starts again on new
 * ports (a few times), unless the caller chose the port.
 */
export async function startNode(options: StartOptions): Promise<RunningNode> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      const taken =
        error instanceof Error && /EADDRINUSE|address already in use/i.test(error.message);
      if (!taken || options.port !== undefined || attempt === 3) throw error;
    }
  }
}

async function startOnce(options: StartOptions): Promise<RunningNode> {
  const [port, inspectorPort] = [options.port ?? (await freePort()), await freePort()];
  const vars = Object.entries(options.vars ?? {}).flatMap(([key, value]) => [
    "--var",
    `${key}:${value}`,
  ]);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      wrangler,
      "dev",
      "--config",
      options.config ?? join(root, "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      options.persistTo,
      "--show-interactive-dev-session=false",
      ...vars,
    ],
    {
      cwd: root,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    },
  );
  let output = "";
  const exited = once(child, "exit");
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`Ready on http://127.0.0.1:${port}`)) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then(() => reject(new Error(`wrangler dev exited before ready:\n${output}`)));
  });
  await ready;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    output: () => output,
    async stop(signal = "SIGINT") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
      await exited;
      if (signal === "SIGKILL") await groupGone(child.pid!);
    },
  };
}

// After SIGKILL the leader is reaped first; wait until no process of the group remains, so a
// restart on the same state directory never races a dying workerd. A zombie counts as gone: it
// holds no port, file or lock any more, only its exit status, and the children of a killed
// wrangler (workerd, esbuild) are reparented to PID 1, which may reap them seconds later (this
// machine's init: ~2 s per kill). Where /proc is missing, wait until the group is reaped.
async function groupGone(pgid: number): Promise<void> {
  while (groupAlive(pgid)) await new Promise((resolve) => setTimeout(resolve, 10));
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (!existsSync("/proc/self/stat")) return true;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited (and reaped) while listing
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after it.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") return true;
  }
  return false;
}

/** A token from the node's dev route (CHRONICLE_DEV=1 comes from the committed .dev.vars). */
export async function devToken(
  node: RunningNode,
  sub: string,
  streams: Record<string, "read" | "write"> = { "*": "write" },
): Promise<string> {
  const response = await fetch(`${node.url}/v1/dev/token`, {
    method: "POST",
    body: JSON.stringify({ sub, streams }),
  });
  if (!response.ok) throw new Error(`dev token: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
