// The card description: a collaborative text field (Yjs updates carried by events), one field
// per card id in the board's stream. Concurrent edits from offline devices merge character-wise.
import { defineTextField } from "@chronicle/core/text";

export const description = defineTextField({ type: "card.description.edited" });

/** Every card's description in the board stream (read one with `description.read`). */
export const descriptionView = description.projection({ name: "card-descriptions" });
