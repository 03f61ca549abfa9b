import { describe, expect, it } from "vitest";
import { cardAdded } from "../__fixtures__/board.ts";
import { ChronicleError, isChronicleError } from "../errors.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { createCommandHandler, decideEvents } from "./command-handler.ts";
import { defineDecider } from "./define-decider.ts";

type Command = { type: "add"; id: string } | { type: "forgotten"; note: string };

// A decide with a branch that returns nothing: what a missing `return` in a switch does.
const sloppy = defineDecider({
  name: "sloppy-board",
  events: [cardAdded],
  initialState: {},
  evolve: (state) => state,
  decide: ((command: Command) => {
    if (command.type === "add") {
      return cardAdded.create({ id: command.id, title: "A", column: "todo" });
    }
    return command.note === "null" ? null : undefined;
  }) as (command: Command) => ReturnType<typeof cardAdded.create>,
});

const refusal = (run: () => unknown): ChronicleError => {
  try {
    run();
  } catch (error) {
    if (error instanceof ChronicleError) return error;
    throw error;
  }
  throw new Error("expected decide to fail");
};

describe("a decide that returns nothing", () => {
  it("fails with an internal error naming the decider and the command", () => {
    const error = refusal(() => sloppy.decide({ type: "forgotten", note: "why" }, {}));
    expect(error.code).toBe("internal");
    expect(error.message).toContain('decider "sloppy-board" returned undefined');
    expect(error.message).toContain('{"type":"forgotten","note":"why"}');
    expect(error.details).toEqual({ decider: "sloppy-board" });
  });

  it("says null when it returned null", () => {
    const error = refusal(() => sloppy.decide({ type: "forgotten", note: "null" }, {}));
    expect(error.message).toContain("returned null");
  });

  it("cuts a large command short in the message", () => {
    const note = "x".repeat(10_000);
    const error = refusal(() => sloppy.decide({ type: "forgotten", note }, {}));
    expect(error.message).toContain('{"type":"forgotten","note":"xxx');
    expect(error.message).toContain("…");
    expect(error.message.length).toBeLessThan(500);
  });

  it("reaches decideEvents and the command handler as that error, storing nothing", async () => {
    expect(() =>
      decideEvents(sloppy, "board:1", { type: "forgotten", note: "why" }, {}),
    ).toThrowError(/sloppy-board.*forgotten/);
    const store = new MemoryEventStore();
    const handle = createCommandHandler(store, sloppy);
    const failure = await handle("board:1", { type: "forgotten", note: "why" }).catch(
      (error: unknown) => error,
    );
    expect(isChronicleError(failure, "internal")).toBe(true);
    expect(String((failure as Error).message)).toContain("sloppy-board");
    expect(await store.head("board:1")).toBe(0);
  });

  it("still accepts an empty array (decided nothing)", () => {
    const nothing = defineDecider({
      name: "nothing",
      events: [cardAdded],
      initialState: {},
      evolve: (state) => state,
      decide: () => [],
    });
    expect(nothing.decide({}, {})).toEqual([]);
  });
});
