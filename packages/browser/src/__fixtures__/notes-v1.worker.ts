// internal: not exported. The notebook app, version 1 (see notes.ts), for the browser tests.
import { hostChronicle } from "../worker/host.ts";
import { notesV1 } from "./notes.ts";

hostChronicle({
  name: "notes-tests",
  deciders: [notesV1.notebook],
  projections: [notesV1.notes, notesV1.notebooks],
});
