/**
 * Debian's Chromium, driven by playwright-core (which downloads no browser of its own).
 * .ci/run installs it with apt; where it is missing the browser suites skip loudly, and
 * fail under CI.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is not installed; CI requires the browser suites to run`);
  console.warn(
    `\n*** ${CHROMIUM} not found: SKIPPING the browser suites (apt-get install -y chromium) ***\n`,
  );
  return false;
}

/**
 * One headless browser. Playwright gives it a fresh profile (its own --user-data-dir in a
 * temporary directory, and it refuses one passed in args). The flags keep Chromium from
 * calling home (updates, sync, QUIC probes): the machines the tests run on reach loopback
 * only, and any such connection would be noise at best.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
