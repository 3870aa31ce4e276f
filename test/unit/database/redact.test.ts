/**
 * Error messages of PostgreSQL may quote a secret whole or in part; none of it may reach
 * a caller, a log or an audit record.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MIN_REDACTED_FRAGMENT, redact } from "../../../shared/engines/database/database-errors.ts";
import { generatePassword } from "../../../shared/engines/database/password.ts";

const PASSWORD = "Xq7sLy3dfkdurjfibssaanc6xatya3ck";

describe("redact", () => {
  it("hides a secret quoted whole", () => {
    expect(redact(`invalid input syntax for type timestamp with time zone: "${PASSWORD}"`, [PASSWORD])).toBe(
      'invalid input syntax for type timestamp with time zone: "[redacted]"',
    );
  });

  it("hides a part of a secret that PostgreSQL quotes on its own", () => {
    expect(redact(`time zone "${PASSWORD.slice(5)}" not recognized`, [PASSWORD])).toBe(
      'time zone "[redacted]" not recognized',
    );
    expect(redact(`at or near "${PASSWORD.slice(9, 9 + MIN_REDACTED_FRAGMENT)}"`, [PASSWORD])).toBe(
      'at or near "[redacted]"',
    );
    expect(redact(`at or near "'${PASSWORD.slice(0, 12)}';"`, [PASSWORD])).toBe(`at or near "'[redacted]';"`);
  });

  it("hides a whole secret anywhere, every secret and every occurrence, one marker per run", () => {
    const other = "correct-horse-battery";
    const text = `a ${PASSWORD}${other} b "${PASSWORD.slice(0, 8)}" c`;
    expect(redact(text, [PASSWORD, other])).toBe('a [redacted] b "[redacted]" c');
    expect(redact("user pass1 refused, pass1", ["pass1"])).toBe("user [redacted] refused, [redacted]");
  });

  it("leaves words outside quotes, short fragments and secrets under four characters", () => {
    const message = 'password authentication failed for user "postgres"';
    expect(redact(message, ["my-password-1"])).toBe(message);
    const short = `role "${PASSWORD.slice(0, MIN_REDACTED_FRAGMENT - 1)}" exists`;
    expect(redact(short, [PASSWORD])).toBe(short);
    expect(redact("user pass refused", ["pas"])).toBe("user pass refused");
    expect(redact("nothing to hide", [])).toBe("nothing to hide");
  });

  it("never leaves a fragment of a generated password quoted, whatever surrounds it", () => {
    const noQuote = fc.string().map((text) => text.replaceAll('"', ""));
    fc.assert(
      fc.property(noQuote, noQuote, fc.nat(31), fc.nat(32), (before, after, from, length) => {
        const password = generatePassword();
        const part = password.slice(from, from + Math.max(MIN_REDACTED_FRAGMENT, length));
        fc.pre(part.length >= MIN_REDACTED_FRAGMENT);
        const scrubbed = redact(`message: "${before}${part}${after}"`, [password]);
        for (let start = 0; start + MIN_REDACTED_FRAGMENT <= password.length; start++) {
          expect(scrubbed).not.toContain(password.slice(start, start + MIN_REDACTED_FRAGMENT));
        }
      }),
    );
  });
});
