// internal: not exported. The notebook app, version 2 (see notes.ts), for the browser tests.
import { hostChronicle } from "../worker/host.ts";
import { notesV2 } from "./notes.ts";

hostChronicle({
  name: "notes-tests",
  deciders: [notesV2.notebook],
  projections: [notesV2.notes, notesV2.notebooks],
});
