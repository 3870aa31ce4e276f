import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COFFER_SCRIPT } from "../support/coffer-command.ts";
import { type DevCommand, startDevCommand } from "../support/dev-server.ts";
import { cliEnv, runProcess } from "./cli-harness.ts";

const ROOT_DIR = new URL("../..", import.meta.url).pathname;
const BIN = COFFER_SCRIPT;
const DOCUMENTED_ADDRESS = "http://127.0.0.1:8200";
const BLOCK_TIMEOUT_MS = 180_000;

interface Block {
  document: string;
  /** The line of the opening fence, 1-based. */
  line: number;
  script: string;
  skip?: string;
  files: string[];
}

/** The ```sh blocks of one markdown file, with their marks. */
function shellBlocks(document: string, text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^(\s*)```sh\s*$/.exec(lines[index] as string);
    if (!fence) continue;
    const indent = fence[1]?.length ?? 0;
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length && !/^\s*```\s*$/.test(lines[end] as string); end++) {
      body.push((lines[end] as string).slice(indent));
    }
    const block: Block = { document, line: index + 1, script: body.join("\n"), files: [] };
    for (let mark = index - 1; mark >= 0; mark--) {
      const comment = /^\s*<!-- docs-test: (skip|files):(.*)-->\s*$/.exec(lines[mark] as string);
      if (!comment) break;
      const value = (comment[2] as string).trim();
      if (value === "")
        throw new Error(`${document}:${mark + 1}: a docs-test mark without its ${comment[1]}`);
      if (comment[1] === "skip") block.skip = value;
      else block.files.push(...value.split(/\s+/));
    }
    blocks.push(block);
    index = end;
  }
  return blocks;
}

/** Commands that reach beyond this machine: a block running one must be marked. */
const LEAVES_THE_MACHINE = [
  /(?:^\s*|[;&|]\s*|\$\(\s*)(?:kubectl|aws|az|gcloud|sst|npm|npx|git|helm|docker|podman|wget)\b/m,
  /\bcurl\b.*https?:\/\/(?!127\.0\.0\.1|localhost)/,
  /\b(?:VAULT|COFFER)_ADDR=(?!http:\/\/127\.0\.0\.1)/,
  /--address[= ](?!http:\/\/127\.0\.0\.1)/,
];

function leavesTheMachine(block: Block): boolean {
  return LEAVES_THE_MACHINE.some((pattern) => pattern.test(block.script));
}

async function documents(): Promise<{ name: string; blocks: Block[] }[]> {
  const names = [
    "README.md",
    ...(await readdir(join(ROOT_DIR, "docs")))
      .filter((name) => name.endsWith(".md"))
      .sort()
      .map((name) => `docs/${name}`),
  ];
  return Promise.all(
    names.map(async (name) => ({
      name,
      blocks: shellBlocks(name, await readFile(join(ROOT_DIR, name), "utf8")),
    })),
  );
}

const all = await documents();
const skipped = all.flatMap(({ blocks }) => blocks.filter((block) => block.skip));

describe("the documentation's shell blocks", () => {
  afterAll(() => {
    console.info(
      `Shell blocks not run (${skipped.length}):\n${skipped.map((block) => `  ${block.document}:${block.line}: ${block.skip}`).join("\n")}`,
    );
  });

  it("marks every block that would leave this machine", () => {
    const unmarked = all
      .flatMap(({ blocks }) => blocks)
      .filter((block) => !block.skip && leavesTheMachine(block))
      .map((block) => `${block.document}:${block.line}`);
    expect(unmarked).toEqual([]);
  });

  for (const { name, blocks } of all.filter(({ blocks }) => blocks.some((block) => !block.skip))) {
    describe(name, () => {
      let base: string;
      let env: NodeJS.ProcessEnv;
      let dev: DevCommand | undefined;
      let address: string;
      let failedAt: string | undefined;

      beforeAll(async () => {
        base = await mkdtemp(join(tmpdir(), "coffer-docs-"));
        const bin = join(base, "bin");
        const work = join(base, "work");
        const home = join(base, "home");
        await Promise.all([mkdir(bin), mkdir(work), mkdir(home)]);
        await writeFile(join(bin, "coffer"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
        await chmod(join(bin, "coffer"), 0o755);
        env = cliEnv({ HOME: home, PATH: `${bin}:${process.env.PATH}` });
        // As the README starts it, on a free port, its data in `<work>/.coffer`.
        dev = await startDevCommand({ dataDir: join(work, ".coffer"), env, cwd: work });
        address = dev.url;
        const rootToken = (await readFile(join(work, ".coffer", "root-token"), "utf8")).trim();
        // What the README exports; the first block's `cd` and exports carry on from here.
        await writeFile(join(base, "cwd"), work);
        await writeFile(
          join(base, "env"),
          `export VAULT_ADDR=${address}\nexport VAULT_TOKEN=${rootToken}\nexport PATH="${bin}:$PATH"\n`,
        );
      }, 120_000);

      afterAll(async () => {
        await dev?.stop();
        if (base) await rm(base, { recursive: true, force: true });
      });

      for (const block of blocks) {
        const title = `${block.document}:${block.line}`;
        if (block.skip) {
          it.skip(`${title} (${block.skip})`, () => {});
          continue;
        }
        it(
          title,
          async () => {
            if (failedAt) throw new Error(`not run: the block at ${failedAt} failed`);
            if (leavesTheMachine(block)) throw new Error("not run: it would leave this machine; mark it");
            const cwd = (await readFile(join(base, "cwd"), "utf8")).trim();
            for (const file of block.files) await writeFile(join(cwd, file), `example ${file}\n`);
            const script = [
              "set -eo pipefail",
              `. "${join(base, "env")}"`,
              `trap 'export -p > "${join(base, "env")}"; pwd > "${join(base, "cwd")}"' EXIT`,
              block.script.replaceAll(DOCUMENTED_ADDRESS, address),
            ].join("\n");
            const result = await runProcess("bash", ["-c", script], {
              env,
              cwd,
              timeoutMs: BLOCK_TIMEOUT_MS - 5_000,
            });
            if (result.code !== 0) failedAt = title;
            expect(
              result.code,
              `${title} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
            ).toBe(0);
          },
          BLOCK_TIMEOUT_MS,
        );
      }
    });
  }
});
