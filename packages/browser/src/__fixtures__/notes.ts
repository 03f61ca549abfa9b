// internal: not exported. A notebook app in two versions, for the upgrade tests: version 1 knows
// `note.added` v1; version 2 knows v2 (with tags) and reads v1 notes through an upcaster. Both
// have a projection over each notebook and one over every notebook (prefix "notebook:").
import { defineDecider, defineEvent, defineProjection } from "@chronicle/core";
import { z } from "zod";

export const noteAddedV1 = defineEvent({
  type: "note.added",
  schema: z.object({ text: z.string() }),
});

export const noteAddedV2 = defineEvent({
  type: "note.added",
  version: 2,
  schema: z.object({ text: z.string(), tags: z.array(z.string()) }),
  upcasters: { 1: (v1: { text: string }) => ({ ...v1, tags: [] }) },
});

type Count = { count: number };

function app(version: 1 | 2) {
  const noteAdded = version === 1 ? noteAddedV1 : noteAddedV2;
  const notebook = defineDecider({
    name: "notebook",
    events: [noteAdded],
    initialState: { count: 0 } as Count,
    snapshotEvery: 25,
    evolve: (state) => ({ count: state.count + 1 }),
    decide: (command: { text: string }) =>
      version === 1
        ? noteAddedV1.create({ text: command.text })
        : noteAddedV2.create({ text: command.text, tags: [] }),
  });
  // The same projection versions in both apps: nobody bumped them by hand.
  const notes = defineProjection({
    name: "notes",
    events: [noteAdded],
    initialState: { count: 0 } as Count,
    handlers: { "note.added": (state) => ({ count: state.count + 1 }) },
  });
  const notebooks = defineProjection({
    name: "notebooks",
    prefix: "notebook:",
    events: [noteAdded],
    initialState: {} as Record<string, number>,
    handlers: {
      "note.added": (state, event) => ({
        ...state,
        [event.stream]: (state[event.stream] ?? 0) + 1,
      }),
    },
  });
  return { noteAdded, notebook, notes, notebooks };
}

export const notesV1 = app(1);
export const notesV2 = app(2);
