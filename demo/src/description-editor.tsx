import { useChronicle } from "@chronicle/react";
import { useEffect, useRef, useState } from "react";
import { description, descriptionView } from "./description.ts";
import { bindTextarea } from "./textarea-binding.ts";

/**
 * A card's description as a collaborative textarea: typing writes `card.description.edited`
 * events (Yjs updates), and edits from other tabs and devices merge in under the caret.
 */
export function DescriptionEditor(props: { stream: string; id: string; title: string }) {
  const chronicle = useChronicle();
  const textarea = useRef<HTMLTextAreaElement>(null);
  const [refusal, setRefusal] = useState<string | undefined>(undefined);

  useEffect(() => {
    const binding = bindTextarea(chronicle, {
      textarea: textarea.current!,
      field: description,
      projection: descriptionView,
      stream: props.stream,
      key: props.id,
      onError: (error) => setRefusal(error.message),
    });
    return () => binding.destroy();
  }, [chronicle, props.stream, props.id]);

  return (
    <div className="description-editor">
      <textarea
        ref={textarea}
        aria-label={`Description of ${props.title}`}
        placeholder="Add a description…"
        rows={3}
        onInput={() => setRefusal(undefined)}
      />
      {refusal && <span role="alert">{refusal}</span>}
    </div>
  );
}
