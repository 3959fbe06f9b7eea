// Proves that the workerd log filter of the workerd test run hides exactly the aborts a test
// injected (workerd's report of a broken output gate whose error carries the injected-fault
// marker) and lets every other uncaught exception through, after a banner, counted.
import { describe, expect, it } from "vitest";
import { injectedFaultMessage } from "../src/shared/injected-fault.ts";
import { classifyWorkerdMessage, filterWorkerdLog, unexpectedBanner, type WorkerdLogCounts } from "./support/workerd-log.ts";

const stack = "stack: /node_modules/workerd@3a4d6a0 /node_modules/workerd@3a4d9d0";
const aborted = (reason: string) => `uncaught exception; exception = workerd/api/actor-state.c++:1249: failed: broken.outputGateBroken; jsg.Error: ${reason}\n${stack}\n`;

describe("classifyWorkerdMessage", () => {
  it("recognises the crash of the fault routes and a sabotaged store as injected aborts", () => {
    expect(classifyWorkerdMessage(aborted(injectedFaultMessage("crash requested through the fault routes")))).toBe("injected-abort");
    expect(classifyWorkerdMessage(aborted(`a driver pass failed and was rolled back: ${injectedFaultMessage("the disk said no")}`))).toBe("injected-abort");
  });

  it("calls every other uncaught exception unexpected, also an abort whose message only mentions the words", () => {
    expect(classifyWorkerdMessage(aborted("a driver pass failed and was rolled back: SQLITE_FULL"))).toBe("unexpected-uncaught-exception");
    expect(classifyWorkerdMessage(aborted("crash requested through the fault routes"))).toBe("unexpected-uncaught-exception");
    expect(classifyWorkerdMessage(aborted("injected fault the disk said no"))).toBe("unexpected-uncaught-exception");
    expect(classifyWorkerdMessage("uncaught exception; source = Uncaught (in promise); stack = TypeError: x is undefined\n")).toBe("unexpected-uncaught-exception");
    // The marker outside a broken output gate (a thrown error that escaped) is not an expected abort.
    expect(classifyWorkerdMessage(`uncaught exception; source = Uncaught (in promise); stack = Error: ${injectedFaultMessage("x")}\n`)).toBe("unexpected-uncaught-exception");
  });

  it("leaves other log lines alone", () => {
    expect(classifyWorkerdMessage("Using secrets defined in .dev.vars\n")).toBe("other");
    expect(classifyWorkerdMessage("NOSENTRY SQLite alarm handler canceled with requestScheduledAlarm.\n")).toBe("other");
  });
});

describe("filterWorkerdLog", () => {
  it("drops injected aborts, marks unexpected exceptions, passes the rest, and restores the stream", () => {
    const written: string[] = [];
    const stream = { write: (chunk: string) => written.push(chunk) > 0 } as unknown as NodeJS.WriteStream;
    const originalWrite = stream.write;
    const counts: WorkerdLogCounts = { injectedAborts: 0, unexpected: 0 };
    const restore = filterWorkerdLog(stream, counts);
    stream.write(aborted(injectedFaultMessage("crash requested through the fault routes")));
    stream.write(Buffer.from(aborted(injectedFaultMessage("crash requested through the fault routes"))));
    stream.write(aborted("a real bug"));
    stream.write("Using secrets defined in .dev.vars\n");
    restore();
    expect(counts).toEqual({ injectedAborts: 2, unexpected: 1 });
    expect(written).toEqual([`${unexpectedBanner}\n${aborted("a real bug")}`, "Using secrets defined in .dev.vars\n"]);
    expect(stream.write).toBe(originalWrite);
  });
});
