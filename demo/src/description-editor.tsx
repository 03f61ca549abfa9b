import { useCommand, useProjection } from "@chronicle/react";
import { useEffect, useRef } from "react";
import { STREAM } from "./board.ts";
import { description, descriptionView } from "./description.ts";
import { bindTextarea, type TextareaBinding } from "./textarea-binding.ts";

/**
 * A card's description as a collaborative textarea: typing writes `card.description.edited`
 * events (Yjs updates), and edits from other tabs and devices merge in under the caret.
 */
export function DescriptionEditor(props: { id: string; title: string }) {
  const state = useProjection(descriptionView, STREAM);
  const command = useCommand(description.decider);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const binding = useRef<TextareaBinding | undefined>(undefined);
  // The binding lives as long as the textarea; it reads these through refs, not as effect deps.
  const latest = useRef({ state, execute: command.execute });
  latest.current = { state, execute: command.execute };

  useEffect(() => {
    const bound = bindTextarea({
      textarea: textarea.current!,
      field: description,
      key: props.id,
      state: latest.current.state,
      send: async (data) => (await latest.current.execute(STREAM, data)) !== undefined,
    });
    binding.current = bound;
    return () => {
      bound.destroy();
      binding.current = undefined;
    };
  }, [props.id]);

  useEffect(() => {
    if (state) binding.current?.applyState(state);
  }, [state]);

  return (
    <div className="description-editor">
      <textarea
        ref={textarea}
        aria-label={`Description of ${props.title}`}
        placeholder="Add a description…"
        rows={3}
      />
      {command.error && <span role="alert">{command.error.message}</span>}
    </div>
  );
}
